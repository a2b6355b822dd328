using HermesGateway.Core.Policy;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Conformance;

/// <summary>One experiment a conformance run makes on a fresh gateway process.</summary>
public enum ConformanceScenario
{
    /// <summary>Start it: how long until gateway_state.json says "running" for its own PID.</summary>
    StartUp,

    /// <summary>The restart signal, INVOCATION_ID not set (as under the module's units, launchd, a shell).</summary>
    RestartSignal,

    /// <summary>The restart signal with INVOCATION_ID set (as systemd sets it when a unit does not unset it).</summary>
    SupervisedRestartSignal,

    /// <summary>The stop signal with no planned-stop marker (an unplanned stop).</summary>
    StopSignal,

    /// <summary>A valid planned-stop marker for its PID and start time, then the stop signal at once.</summary>
    PlannedStopSignal,

    /// <summary>A valid planned-stop marker and no signal: a gateway that watches for it stops by itself.</summary>
    PlannedStopMarkerAlone,

    /// <summary>A planned-stop marker written longer ago than the marker validity, then the stop signal.</summary>
    StaleMarker,

    /// <summary>A planned-stop marker that is not JSON, then the stop signal.</summary>
    MalformedMarker,

    /// <summary>The interrupt signal (Ctrl+C).</summary>
    Interrupt,

    /// <summary>A second gateway on the same HERMES_HOME while the first runs: it must fail, the first must not notice.</summary>
    SecondInstance,

    /// <summary>A start that cannot succeed for configuration reasons (Hermes 0.16: a profile that does not exist).</summary>
    ConfigError,
}

/// <summary>How an observation compares with the assumed contract.</summary>
public enum ConformanceVerdict
{
    /// <summary>The gateway did what the contract says.</summary>
    Match,

    /// <summary>The gateway did something else (both are in the row).</summary>
    Differs,

    /// <summary>Nothing to compare: the gateway neither did it nor ended within the scenario's time (it was then killed).</summary>
    NotObserved,
}

/// <summary>What a conformance run reports while it goes: the scenario, what happens now, and how many are done.</summary>
public sealed record ConformanceProgress(ConformanceScenario? Scenario, string Activity, int Completed, int Total)
{
    public double Percent => Total == 0 ? 100 : 100.0 * Completed / Total;
}

/// <summary>What to run, and against which contract to compare what it does.</summary>
public sealed record ConformanceRequest
{
    /// <summary>The gateway's command: an absolute path to an executable file (Hermes: the 'hermes' launcher).</summary>
    public required string Executable { get; init; }

    /// <summary>The arguments that run the gateway in the foreground.</summary>
    public IReadOnlyList<string> ArgumentList { get; init; } = ["gateway", "run"];

    /// <summary>The contract the observations are compared with.</summary>
    public GatewayExitContract Contract { get; init; } = GatewayExitContract.Hermes016;

    /// <summary>How long each wait of a scenario may take: start to "running", and the action to the exit.</summary>
    public TimeSpan ScenarioTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The scenarios to run; null or empty: all of them.</summary>
    public IReadOnlyCollection<ConformanceScenario>? Scenarios { get; init; }

    /// <summary>How many scenarios run at once.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>
    /// Put before <see cref="ArgumentList"/> for <see cref="ConformanceScenario.ConfigError"/>: Hermes 0.16 exits at once
    /// on a profile that does not exist (docs/hermes-0.16-contract.md section 6).
    /// </summary>
    public IReadOnlyList<string> ConfigErrorArguments { get; init; } = ["--profile", "ghost"];

    /// <summary>Where the run creates its private scratch directory (mode 0700, deleted at the end); null: the system's temp directory.</summary>
    public string? TempRoot { get; init; }

    /// <summary>Called as the run goes, from the scenarios' threads (one call at a time).</summary>
    public Action<ConformanceProgress>? Progress { get; init; }

    public CancellationToken Cancellation { get; init; }
}

/// <summary>One scenario's observation next to what the assumed contract says.</summary>
public sealed record ConformanceRow
{
    public required ConformanceScenario Scenario { get; init; }

    /// <summary>What was done to the gateway.</summary>
    public required string Action { get; init; }

    /// <summary>What the assumed contract says happens, in words.</summary>
    public required string Expected { get; init; }

    /// <summary>The ending the assumed contract says the process has; null where it keeps running (start-up).</summary>
    public ProcessEnding? ExpectedEnding { get; init; }

    /// <summary>What happened, in words.</summary>
    public required string Observed { get; init; }

    /// <summary>How the process ended (exit code or signal); null where it did not end by itself.</summary>
    public ProcessEnding? ObservedEnding { get; init; }

    /// <summary>The exit code seen, or null (a death by signal, or no end).</summary>
    public int? ExitCode => ObservedEnding is { Kind: EndingKind.Exited } e ? e.ExitCode : null;

    /// <summary>The signal it died of, or null.</summary>
    public string? Signal => ObservedEnding is { Kind: EndingKind.Killed } e ? e.Signal?.ToString() : null;

    /// <summary>Milliseconds from the action (the signal, the marker, the exec) to the exit; for start-up, to "running".</summary>
    public long? Milliseconds { get; init; }

    /// <summary>gateway_state in gateway_state.json afterwards (null: no such file).</summary>
    public string? GatewayState { get; init; }

    /// <summary>The PID the scenario's gateway ran as.</summary>
    public int? Pid { get; init; }

    public required ConformanceVerdict Verdict { get; init; }

    public string Note { get; init; } = string.Empty;
}

/// <summary>A conformance run: every row, the contract learned from them, and whether the gateway kept the assumed one.</summary>
public sealed record GatewayConformanceReport
{
    public required string Executable { get; init; }

    public required IReadOnlyList<string> ArgumentList { get; init; }

    /// <summary>The version '&lt;executable&gt; --version' printed (e.g. 0.16.0), or null.</summary>
    public string? Version { get; init; }

    /// <summary>The contract the observations were compared with.</summary>
    public required GatewayExitContract Assumed { get; init; }

    /// <summary>
    /// The contract learned from the observations (Name 'measured'): what was measured replaces the assumed contract's
    /// values, everything else is the assumed contract's. Pass it on to the policy cmdlets.
    /// </summary>
    public required GatewayExitContract Contract { get; init; }

    public required IReadOnlyList<ConformanceRow> Rows { get; init; }

    /// <summary>How the learned contract was made: what was measured, what was kept and why.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Every row is a match.</summary>
    public bool Conforms => Rows.Count > 0 && Rows.All(r => r.Verdict == ConformanceVerdict.Match);

    public required DateTimeOffset StartedAt { get; init; }

    public required TimeSpan Duration { get; init; }
}
