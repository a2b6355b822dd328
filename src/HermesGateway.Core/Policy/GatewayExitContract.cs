using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Policy;

/// <summary>What an exit means under the contract, and so what the supervisor is expected to do.</summary>
public enum ExitMeaning
{
    /// <summary>A planned stop: stay stopped, and not as failed.</summary>
    PlannedStop,

    /// <summary>An unexpected end: revive it, and let the failure be seen.</summary>
    Unexpected,

    /// <summary>A planned restart through the supervisor: revive at once, not a failure.</summary>
    PlannedRestart,

    /// <summary>A permanent configuration error: do not revive.</summary>
    ConfigError,

    /// <summary>Killed by a signal the gateway cannot handle: an unexpected end.</summary>
    Killed,
}

/// <summary>Everything that can end a gateway run.</summary>
public enum GatewayTrigger
{
    RestartSignal,
    RestartCommand,
    UpdateCommand,
    UnsupervisedRestartCommand,
    StopSignalWithPlannedStopMarker,
    StopSignalWithoutMarker,
    Interrupt,
    Takeover,
    FailedStart,
    ConfigError,
    HungShutdown,
    CrashSignal,
    ExternalKill,
    OomKill,
}

/// <summary>One row of the contract: a trigger, the ending the supervisor sees, and what that means.</summary>
public sealed record ExitPolicyRow(
    GatewayTrigger Trigger,
    string How,
    ProcessEnding Ending,
    ExitMeaning Meaning,
    string SupervisorShould)
{
    /// <summary>The exit code the supervisor sees, or null when the gateway dies of a signal.</summary>
    public int? ExitCode => Ending.Kind == EndingKind.Exited ? Ending.ExitCode : null;

    /// <summary>The signal the gateway dies of, or null when it exits.</summary>
    public string? Signal => Ending.Signal?.ToString();

    /// <summary>The lifecycle scenarios Test-HermesExitPolicy plays this row in.</summary>
    public IReadOnlyList<LifecycleScenario> Scenarios => Trigger switch
    {
        GatewayTrigger.RestartSignal => [LifecycleScenario.ServiceRestart, LifecycleScenario.RestartBurst, LifecycleScenario.OnDemandOnlyRestart],
        GatewayTrigger.RestartCommand => [LifecycleScenario.RestartCommand],
        GatewayTrigger.UpdateCommand => [LifecycleScenario.UpdateCommand, LifecycleScenario.RestartFromInside],
        GatewayTrigger.StopSignalWithPlannedStopMarker => [LifecycleScenario.ManagerStop, LifecycleScenario.ManagerRestart],
        GatewayTrigger.StopSignalWithoutMarker => [LifecycleScenario.ExternalTerm, LifecycleScenario.ManagerStop, LifecycleScenario.ManagerRestart],
        GatewayTrigger.Interrupt or GatewayTrigger.Takeover => [LifecycleScenario.CleanExit],
        GatewayTrigger.FailedStart => [LifecycleScenario.CrashLoop],
        GatewayTrigger.ConfigError => [LifecycleScenario.ConfigError],
        GatewayTrigger.CrashSignal => [LifecycleScenario.Crash],
        GatewayTrigger.ExternalKill => [LifecycleScenario.ExternalKill],
        GatewayTrigger.OomKill => [LifecycleScenario.OomKill],
        _ => [],
    };
}

/// <summary>
/// The gateway's exit-code contract. Hermes' values are the defaults; every code and the restart signal can
/// be changed to describe a gateway with another contract.
/// </summary>
public sealed record GatewayExitContract : IProcessBehavior
{
    /// <summary>The longest duration the contract accepts; keeps every sum of times the models make finite.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    /// <summary>The contract as Hermes documents it (background.md): a planned restart exits 75, a configuration error 78.</summary>
    public static GatewayExitContract Documented { get; } = new();

    /// <summary>The documented contract (kept for callers that name it so).</summary>
    public static GatewayExitContract Hermes => Documented;

    /// <summary>
    /// Hermes Agent 0.16 as measured on the released gateway (docs/hermes-0.16-contract.md): a restart signal exits 0
    /// when INVOCATION_ID is set (Linux), 75 otherwise; a chat /restart exits 0 on a host and records the request in
    /// gateway_state.json; its one classified permanent start-up error exits 0 ('startup_failed'); no shutdown
    /// watchdog, a 180 s drain plus up to 5 s for interrupted agents and about 7 s of joins.
    /// </summary>
    public static GatewayExitContract Hermes016 { get; } = new()
    {
        Name = "hermes-0.16",
        Source = "Hermes Agent 0.16.0, measured (docs/hermes-0.16-contract.md)",
        SupervisedRestartExitCode = 0,
        RestartCommandExitCode = 0,
        RecordsRestartRequest = true,
        ConfigErrorExitCode = 0,
        ShutdownWatchdog = false,
        DrainTimeout = TimeSpan.FromSeconds(195),
    };

    /// <summary>The contracts known by name: 'documented' and 'hermes-0.16'.</summary>
    public static IReadOnlyList<GatewayExitContract> Known { get; } = [Documented, Hermes016];

    /// <summary>The known contract of that name (case-insensitive; 'hermes-0.16', '0.16' and '0.16.0' name the same).</summary>
    public static GatewayExitContract Named(string name)
    {
        var key = name.Trim().ToLowerInvariant();
        key = key is "0.16" or "0.16.0" or "hermes-0.16.0" ? "hermes-0.16" : key;
        return Known.FirstOrDefault(c => c.Name == key)
            ?? throw new HermesException(HermesErrorIds.ExitContractInvalid, HermesErrorCategory.InvalidArgument,
                $"No contract named '{name}'; known: {string.Join(", ", Known.Select(c => c.Name))} (or pass the result of Test-HermesGatewayConformance).", name);
    }

    /// <summary>The contract for a gateway version: 0.16.x is the measured one; any other version is not known.</summary>
    public static GatewayExitContract? ForVersion(Version version) =>
        version.Major == 0 && version.Minor == 16 ? Hermes016 : null;

    /// <summary>A short name: 'documented', 'hermes-0.16', or 'measured' for a contract learned by a conformance run.</summary>
    public string Name { get; init; } = "documented";

    /// <summary>Where the values come from.</summary>
    public string Source { get; init; } = "the gateway's documented contract (background.md)";

    public int PlannedStopExitCode { get; init; }

    public int UnexpectedExitCode { get; init; } = 1;

    public int RestartExitCode { get; init; } = 75;

    /// <summary>
    /// The exit code of a planned restart when the gateway sees INVOCATION_ID (it runs under systemd and the unit does
    /// not unset it); null when it is the same as <see cref="RestartExitCode"/>. Hermes 0.16: 0.
    /// </summary>
    public int? SupervisedRestartExitCode { get; init; }

    /// <summary>
    /// The exit code of a chat /restart; null when it is the same as the restart signal's. Hermes 0.16: 0 on a host
    /// (INVOCATION_ID hidden, no container), after it spawned a detached helper that runs 'hermes gateway restart'.
    /// </summary>
    public int? RestartCommandExitCode { get; init; }

    /// <summary>Whether a planned restart is recorded in gateway_state.json ("stopped", restart_requested true) before the exit.</summary>
    public bool RecordsRestartRequest { get; init; }

    /// <summary>
    /// The exit code of a permanent configuration error. When it is the planned-stop code (Hermes 0.16 ends its one
    /// classified permanent start-up error, 'startup_failed', with 0) a supervisor cannot tell the two apart.
    /// </summary>
    public int ConfigErrorExitCode { get; init; } = 78;

    /// <summary>Whether the gateway ends a hung shutdown itself (the documented watchdog); Hermes 0.16 has none.</summary>
    public bool ShutdownWatchdog { get; init; } = true;

    /// <summary>
    /// The exit code of a chat /restart while no supervisor is detected: the gateway spawns a detached helper that waits
    /// for the old process and runs 'hermes gateway restart', then exits with this code.
    /// </summary>
    public int UnsupervisedRestartExitCode { get; init; }

    public UnixSignal RestartSignal { get; init; } = UnixSignal.SIGUSR1;

    public UnixSignal StopSignal { get; init; } = UnixSignal.SIGTERM;

    public UnixSignal InterruptSignal { get; init; } = UnixSignal.SIGINT;

    /// <summary>
    /// The longest a graceful stop or restart takes: until the gateway's own shutdown watchdog ends it (documented:
    /// restart_drain_timeout + 60 s, so 60 s with its defaults), or, with no watchdog, its drain plus teardown.
    /// </summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a planned-stop marker is honoured after it was written.</summary>
    public TimeSpan PlannedStopMarkerValidity { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether a crash leaves a core dump (decides systemd's Result=core-dump over signal; restart decisions are the same).</summary>
    public bool CoreDumps { get; init; }

    /// <summary>How long a run that fails at start-up lasts (crash loops, configuration errors).</summary>
    public TimeSpan FailedStartRunTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The contract as one gateway process lives it: with INVOCATION_ID visible (systemd without
    /// UnsetEnvironment=INVOCATION_ID) or not (the module's units, launchd, a shell), the restart codes resolved.
    /// </summary>
    public GatewayExitContract InEnvironment(bool invocationIdVisible) => this with
    {
        RestartExitCode = RestartExitCodeFor(invocationIdVisible),
        RestartCommandExitCode = RestartCommandExitCodeFor(invocationIdVisible),
        SupervisedRestartExitCode = null,
    };

    /// <summary>The code a planned restart by the restart signal exits with, as the gateway sees its environment.</summary>
    public int RestartExitCodeFor(bool invocationIdVisible) => invocationIdVisible ? SupervisedRestartExitCode ?? RestartExitCode : RestartExitCode;

    /// <summary>The code a chat /restart exits with, as the gateway sees its environment.</summary>
    public int RestartCommandExitCodeFor(bool invocationIdVisible) => RestartCommandExitCode ?? RestartExitCodeFor(invocationIdVisible);

    /// <summary>Whether the configuration-error code is shared with a planned stop (so no supervisor rule can single it out).</summary>
    public bool ConfigErrorIsPlannedStopCode => ConfigErrorExitCode == PlannedStopExitCode;

    public GatewayExitContract Validated()
    {
        foreach (var (name, code) in new[]
                 {
                     (nameof(PlannedStopExitCode), PlannedStopExitCode), (nameof(UnexpectedExitCode), UnexpectedExitCode),
                     (nameof(RestartExitCode), RestartExitCode), (nameof(ConfigErrorExitCode), ConfigErrorExitCode),
                     (nameof(UnsupervisedRestartExitCode), UnsupervisedRestartExitCode),
                     (nameof(SupervisedRestartExitCode), SupervisedRestartExitCode ?? 0), (nameof(RestartCommandExitCode), RestartCommandExitCode ?? 0),
                 })
        {
            if (code is < 0 or > 255)
            {
                throw new HermesException(HermesErrorIds.ExitCodeOutOfRange, HermesErrorCategory.InvalidArgument,
                    $"{name} is {code}; an exit code is between 0 and 255.", code);
            }
        }

        foreach (var (name, signal) in new[] { (nameof(RestartSignal), RestartSignal), (nameof(StopSignal), StopSignal), (nameof(InterruptSignal), InterruptSignal) })
        {
            if (signal is UnixSignal.SIGKILL or UnixSignal.SIGSTOP)
            {
                throw new HermesException(HermesErrorIds.ExitContractInvalid, HermesErrorCategory.InvalidArgument,
                    $"{name} cannot be {signal}: no process can handle it.", signal);
            }
        }

        if (RestartSignal == StopSignal || RestartSignal == InterruptSignal)
        {
            throw new HermesException(HermesErrorIds.ExitContractInvalid, HermesErrorCategory.InvalidArgument,
                $"RestartSignal {RestartSignal} is also the stop or interrupt signal; the gateway could not tell a restart from a stop.", RestartSignal);
        }

        foreach (var (name, span) in new[] { (nameof(DrainTimeout), DrainTimeout), (nameof(PlannedStopMarkerValidity), PlannedStopMarkerValidity), (nameof(FailedStartRunTime), FailedStartRunTime) })
        {
            if (span < TimeSpan.Zero || span > MaxDuration)
            {
                throw new HermesException(HermesErrorIds.ExitContractInvalid, HermesErrorCategory.InvalidArgument,
                    $"{name} is {span}; durations in the exit contract are between 0 and {MaxDuration.TotalDays:0} days.", span);
            }
        }

        return this;
    }

    public ExitMeaning MeaningOf(ProcessEnding ending)
    {
        if (ending.Kind == EndingKind.Killed)
        {
            return ExitMeaning.Killed;
        }

        // Order matters when a custom contract reuses a code: restart beats stop, a config error beats everything but
        // a planned stop it shares its code with (Hermes 0.16's 'startup_failed' exits 0 like a planned stop).
        if (ending.ExitCode == ConfigErrorExitCode && !ConfigErrorIsPlannedStopCode)
        {
            return ExitMeaning.ConfigError;
        }

        if (ending.ExitCode == RestartExitCode)
        {
            return ExitMeaning.PlannedRestart;
        }

        return ending.ExitCode == PlannedStopExitCode ? ExitMeaning.PlannedStop : ExitMeaning.Unexpected;
    }

    /// <summary>What the gateway did, in the contract's words: "exits 75 (planned restart)", "killed by SIGKILL".</summary>
    public string Describe(ProcessEnding? ending) => ending switch
    {
        null => "keeps running",
        { Kind: EndingKind.Exited } => $"exits {ending.ExitCode} ({MeaningOf(ending) switch { ExitMeaning.PlannedStop => "planned stop", ExitMeaning.PlannedRestart => "planned restart", ExitMeaning.ConfigError => "configuration error", _ => "unplanned" }})",
        _ => $"killed by {ending.Signal}{(ending.CoreDumped ? " (core dumped)" : string.Empty)}",
    };

    /// <summary>An exit code with the contract's word for it, as a status shows the last ending: "75 (planned restart)".</summary>
    public string DescribeExitCode(int code) => Describe(ProcessEnding.Exit(code))["exits ".Length..];

    /// <summary>The gateway's handlers: the restart signal drains and exits with the restart code, and so on.</summary>
    public SignalResponse OnSignal(UnixSignal signal, bool plannedStopMarked)
    {
        if (signal == RestartSignal)
        {
            return new(ProcessEnding.Exit(RestartExitCode), DrainTimeout, $"{signal} drains in-flight work and exits {RestartExitCode} (planned restart)");
        }

        if (signal == StopSignal)
        {
            return plannedStopMarked
                ? new(ProcessEnding.Exit(PlannedStopExitCode), DrainTimeout, $"{signal} with a planned-stop marker for its PID: drains and exits {PlannedStopExitCode}")
                : new(ProcessEnding.Exit(UnexpectedExitCode), DrainTimeout, $"{signal} without a planned-stop marker: drains and exits {UnexpectedExitCode} (unplanned)");
        }

        if (signal == InterruptSignal)
        {
            return new(ProcessEnding.Exit(PlannedStopExitCode), DrainTimeout, $"{signal} is a planned stop: drains and exits {PlannedStopExitCode}");
        }

        // Python ignores SIGPIPE; everything else the gateway does not handle takes the default action.
        return signal == UnixSignal.SIGPIPE
            ? SignalResponse.Ignores("the gateway's Python runtime ignores SIGPIPE")
            : DefaultSignalBehavior.DefaultResponse(signal, CoreDumps);
    }

    /// <summary>The contract as rows: every way a run can end and the ending the supervisor sees (INVOCATION_ID hidden, as under the module's units and launchd).</summary>
    public IReadOnlyList<ExitPolicyRow> Rows()
    {
        const string revive = "revive it";
        const string reviveNow = "revive it at once; not a failure";
        const string stay = "nothing: stay stopped, and not as failed";
        var crash = ProcessEnding.KilledBy(UnixSignal.SIGSEGV, CoreDumps);
        var commandCode = RestartCommandExitCodeFor(invocationIdVisible: false);
        var supervised = SupervisedRestartExitCode is { } sv && sv != RestartExitCode ? $"; exits {sv} instead when INVOCATION_ID is set (systemd without UnsetEnvironment=INVOCATION_ID)" : string.Empty;
        var commandHow = commandCode == RestartExitCode
            ? "/restart from chat while supervised"
            : $"/restart from chat: exits {commandCode}{(RecordsRestartRequest ? " with restart_requested recorded in gateway_state.json" : string.Empty)}, after spawning a detached helper that runs 'hermes gateway restart' (killed with the unit's cgroup under KillMode=mixed)";
        var commandShould = commandCode == RestartExitCode || MeaningOf(ProcessEnding.Exit(commandCode)) == ExitMeaning.PlannedRestart
            ? reviveNow
            : $"revive it at once; exit {commandCode} is also a planned stop, so only the recorded request tells them apart (the module's ExecStopPost= reads it)";
        var configHow = ConfigErrorIsPlannedStopCode
            ? $"permanent start-up error (every enabled platform failed with a non-retryable error): gateway_state 'startup_failed', exit {ConfigErrorExitCode} like a planned stop; a missing profile exits {UnexpectedExitCode} like a crash"
            : "permanent configuration error (no platform could connect and every error was fatal)";
        return
        [
            new(GatewayTrigger.RestartSignal, $"{RestartSignal} from the service manager or an admin (graceful restart){supervised}", ProcessEnding.Exit(RestartExitCode), ExitMeaning.PlannedRestart, reviveNow),
            new(GatewayTrigger.RestartCommand, commandHow, ProcessEnding.Exit(commandCode), ExitMeaning.PlannedRestart, commandShould),
            new(GatewayTrigger.UpdateCommand, "/update from chat while supervised: a detached 'hermes update' restarts it through the service manager when done", ProcessEnding.Exit(RestartExitCode), ExitMeaning.PlannedRestart, reviveNow),
            new(GatewayTrigger.UnsupervisedRestartCommand, "/restart while no supervisor is detected: a detached helper waits for the exit, then runs 'hermes gateway restart'", ProcessEnding.Exit(UnsupervisedRestartExitCode), MeaningOf(ProcessEnding.Exit(UnsupervisedRestartExitCode)),
                "nothing: its own helper restarts it"),
            new(GatewayTrigger.StopSignalWithPlannedStopMarker, $"{StopSignal} with a planned-stop marker naming its PID and start time ('hermes gateway stop', or the unit's ExecStop=)", ProcessEnding.Exit(PlannedStopExitCode), ExitMeaning.PlannedStop, stay),
            new(GatewayTrigger.StopSignalWithoutMarker, $"{StopSignal} with no matching planned-stop marker (external kill, a manager stop that did not mark it)", ProcessEnding.Exit(UnexpectedExitCode), ExitMeaning.Unexpected, revive),
            new(GatewayTrigger.Interrupt, $"{InterruptSignal} (Ctrl+C)", ProcessEnding.Exit(PlannedStopExitCode), ExitMeaning.PlannedStop, stay),
            new(GatewayTrigger.Takeover, "another gateway started with --replace took over", ProcessEnding.Exit(PlannedStopExitCode), ExitMeaning.PlannedStop, stay),
            new(GatewayTrigger.FailedStart, "start-up failed (another instance holds the lock, a takeover refused, a lost PID-file race)", ProcessEnding.Exit(UnexpectedExitCode), ExitMeaning.Unexpected, revive),
            new(GatewayTrigger.ConfigError, configHow, ProcessEnding.Exit(ConfigErrorExitCode), ExitMeaning.ConfigError, "do NOT revive: it would loop forever"),
            ShutdownWatchdog
                ? new(GatewayTrigger.HungShutdown, $"shutdown hung past the {DrainTimeout.TotalSeconds:0} s shutdown deadline; the gateway's watchdog ends it", ProcessEnding.Exit(UnexpectedExitCode), ExitMeaning.Unexpected, revive)
                : new(GatewayTrigger.HungShutdown, $"shutdown hung past the {DrainTimeout.TotalSeconds:0} s drain and teardown; the gateway has no watchdog, the supervisor's stop timeout kills it", ProcessEnding.KilledBy(UnixSignal.SIGKILL), ExitMeaning.Killed, revive),
            new(GatewayTrigger.CrashSignal, "crash (SIGSEGV, SIGABRT, ...)", crash, ExitMeaning.Killed, revive),
            new(GatewayTrigger.ExternalKill, "SIGKILL from outside", ProcessEnding.KilledBy(UnixSignal.SIGKILL), ExitMeaning.Killed, revive),
            new(GatewayTrigger.OomKill, "killed by the kernel's OOM killer (SIGKILL)", ProcessEnding.KilledBy(UnixSignal.SIGKILL), ExitMeaning.Killed, revive),
        ];
    }
}
