using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Service;

/// <summary>
/// What the supervisor says about a gateway at one moment: the process it runs (proven to be the service's), or what
/// it is doing without one and how the last process ended. The waits decide from it; each observation is one
/// systemctl show or launchctl print.
/// </summary>
/// <param name="Running">the running gateway; null when none runs</param>
/// <param name="State">the supervisor's state in its own words: "active (running)", "failed (failed)", "not loaded"</param>
public sealed record GatewayObservation(RunningGateway? Running, string State)
{
    /// <summary>Nothing runs and nothing is under way: inactive, failed or not loaded (systemd); not running (launchd).</summary>
    public bool Stopped { get; init; }

    /// <summary>The supervisor gave up on it (systemd's failed state).</summary>
    public bool Failed { get; init; }

    /// <summary>The supervisor is starting it or waits to start it again (activating, auto-restart).</summary>
    public bool Restarting { get; init; }

    /// <summary>How the last main process ended, where the supervisor recorded it.</summary>
    public ProcessEnding? LastEnding { get; init; }

    /// <summary>The process <see cref="LastEnding"/> belongs to, where the supervisor tells (systemd's ExecMainPID).</summary>
    public int? LastPid { get; init; }

    /// <summary>How many processes the supervisor has spawned for the job, where it counts them (launchd's runs).</summary>
    public int? Spawns { get; init; }

    /// <summary>The supervisor could not set the process up at all (systemd's 200-242 exit statuses): it never ran.</summary>
    public bool SetupFailed { get; init; }

    /// <summary>
    /// A process other than the one <paramref name="before"/> knew about, and other than <paramref name="old"/> (whose
    /// end was asked for), ended since then: a different PID with an ending (systemd), or more spawns than then and none
    /// running (launchd).
    /// </summary>
    public bool EndedSince(GatewayObservation before, RunningGateway? old) =>
        Running is null && LastEnding is not null
        && ((LastPid is { } pid && pid > 0 && pid != before.LastPid && pid != old?.Pid)
            || (LastPid is null && Spawns is { } spawns && before.Spawns is { } then && spawns > then));
}
