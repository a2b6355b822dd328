using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Restart;

/// <summary>
/// A gateway that ended while it was started (the target of a HermesGatewayExitedOnStart error): how it ended, whether
/// starting it again could help (a crash) or not (a configuration error, a clean exit, a process the supervisor could
/// not set up), and its last log lines.
/// </summary>
public sealed record GatewayStartFailure(string Name, ProcessEnding Ending, bool Permanent, IReadOnlyList<string> Log);

/// <summary>One step of a restart and how long it took.</summary>
public sealed record RestartStep(string Name, TimeSpan Duration, string Detail);

/// <summary>Which way a restart went; <see cref="RestartResult.Strategy"/> has the steps in words.</summary>
public enum RestartKind
{
    /// <summary>The restart signal, the drain, the supervisor made to start it again, the new process healthy.</summary>
    Graceful,

    /// <summary>The graceful way did not end running (a hung drain, not back in time): the supervisor's restart or SIGKILL took over.</summary>
    Escalated,

    /// <summary>-Force: the supervisor's own restart as a planned stop, without a drain.</summary>
    Forced,

    /// <summary>It was not running: started.</summary>
    Start,

    /// <summary>Asked from inside the gateway's own process tree: handed to a transient job outside it.</summary>
    HandOff,
}

/// <summary>What Restart-HermesGateway did: where the time went, and how it ended.</summary>
public sealed record RestartResult
{
    public required string Name { get; init; }

    public required ServicePlatform Platform { get; init; }

    public int? OldPid { get; init; }

    public int? NewPid { get; init; }

    /// <summary>
    /// How it went, step by step: "signal, systemctl restart", "signal, kickstart", "signal, drain timeout, SIGKILL,
    /// systemctl restart", "forced: supervisor restart, systemd", "start", "handed off to &lt;unit&gt;", ...
    /// </summary>
    public required string Strategy { get; init; }

    /// <summary>Which way it went, as a value to test: the kind of <see cref="Strategy"/>.</summary>
    public RestartKind Kind { get; init; }

    public TimeSpan? Drain { get; init; }

    public TimeSpan? Supervisor { get; init; }

    public TimeSpan? Health { get; init; }

    /// <summary>From the old process' exit to the new one reporting itself running.</summary>
    public TimeSpan? Downtime { get; init; }

    public TimeSpan Total { get; init; }

    public int Attempts { get; init; }

    public required string FinalState { get; init; }

    public IReadOnlyList<RestartStep> Steps { get; init; } = [];

    /// <summary>This call waited for another call's restart and returns that restart's result (this call restarted nothing).</summary>
    public bool Joined { get; init; }

    /// <summary>
    /// This call waited for another call's restart, which left no running gateway of its own (it failed or was killed),
    /// and then restarted the gateway itself. Never true together with <see cref="Joined"/>.
    /// </summary>
    public bool Waited { get; init; }

    /// <summary>The restart was handed to a helper outside the gateway's process tree (<see cref="Kind"/> is HandOff).</summary>
    public bool HandedOff => Kind == RestartKind.HandOff;

    /// <summary>The transient job the restart was handed to (a systemd-run unit, a launchctl submit label).</summary>
    public string? HelperJob { get; init; }

    public string? HelperLog { get; init; }

    public DateTimeOffset FinishedAt { get; init; }
}

public sealed record RestartOptions
{
    /// <summary>How long the new gateway may take to report itself running.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the old gateway may drain; null takes the service's drain budget.</summary>
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>How long to wait for another restart of the same service to finish; null: that restart's whole budget.</summary>
    public TimeSpan? LockWait { get; init; }

    /// <summary>Skip the drain: the supervisor's own restart at once.</summary>
    public bool Force { get; init; }

    /// <summary>How long to wait for the supervisor's own revival (RestartSec=) before starting it ourselves.</summary>
    public TimeSpan SupervisorGrace { get; init; } = TimeSpan.FromSeconds(10);

    public GatewayExitContract Contract { get; init; } = GatewayExitContract.Hermes;

    /// <summary>The process asking for the restart (to tell whether it sits inside the gateway's own tree).</summary>
    public int CallerPid { get; init; } = Environment.ProcessId;

    /// <summary>The command that runs this restart again from outside (pwsh importing the module); null: no hand-off.</summary>
    public IReadOnlyList<string>? HelperCommand { get; init; }

    /// <summary>Where the helper's output goes; null: a file beside the restart lock, in the caller's own lock folder.</summary>
    public string? HelperLog { get; init; }
}
