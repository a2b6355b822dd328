using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Systemd;

/// <summary>Something that happens to a running service.</summary>
public abstract record SystemdEvent
{
    public abstract string Describe();
}

/// <summary>The main process ends on its own (an exit, a crash) or is killed from outside with kill(1).</summary>
public sealed record MainProcessEnded(ProcessEnding Ending, bool RestartRecorded = false) : SystemdEvent
{
    public override string Describe() => $"main process: {SystemdValues.DescribeEnding(Ending)}{(RestartRecorded ? ", restart recorded in gateway_state.json" : string.Empty)}";
}

/// <summary>A signal sent to the main process from outside the manager (kill -SIG &lt;pid&gt;); the process decides how it ends.</summary>
public sealed record ExternalSignal(UnixSignal Signal) : SystemdEvent
{
    public override string Describe() => $"kill -{Signal.ToString()[3..]} <main pid>";
}

/// <summary>systemctl stop.</summary>
public sealed record ManagerStop : SystemdEvent
{
    public override string Describe() => "systemctl stop";
}

/// <summary>systemctl restart.</summary>
public sealed record ManagerRestart : SystemdEvent
{
    public override string Describe() => "systemctl restart";
}

/// <summary>systemctl kill --kill-whom=main -s SIGNAL: only sends the signal; not a manager stop.</summary>
public sealed record ManagerKill(UnixSignal Signal) : SystemdEvent
{
    public override string Describe() => $"systemctl kill -s {Signal}";
}

/// <summary>The kernel's OOM killer kills the main process inside the unit's cgroup.</summary>
public sealed record OomKill : SystemdEvent
{
    public override string Describe() => "OOM kill";
}

/// <summary>systemctl start.</summary>
public sealed record ManagerStart : SystemdEvent
{
    public override string Describe() => "systemctl start";
}

/// <summary>A timer of the manager's own ran out while the process was up: it ends the process itself.</summary>
public enum ManagerTimer
{
    /// <summary>TimeoutStartSec= passed without READY=1 (Type=notify): KillSignal=, Result=timeout.</summary>
    StartTimeout,

    /// <summary>WatchdogSec= passed without WATCHDOG=1: WatchdogSignal=, Result=watchdog.</summary>
    Watchdog,

    /// <summary>RuntimeMaxSec= passed while active: KillSignal=, Result=timeout.</summary>
    RuntimeMax,
}

/// <summary>One of the manager's timers fires (TimeoutStartSec=, WatchdogSec=, RuntimeMaxSec=).</summary>
public sealed record ManagerTimerFired(ManagerTimer Timer) : SystemdEvent
{
    public override string Describe() => Timer switch
    {
        ManagerTimer.StartTimeout => "TimeoutStartSec= ran out before READY=1",
        ManagerTimer.Watchdog => "WatchdogSec= ran out without WATCHDOG=1",
        _ => "RuntimeMaxSec= reached",
    };
}

/// <summary>Which rule decided whether the service comes back.</summary>
public enum SystemdDecisionRule
{
    LoadRefused,
    StillRunning,
    ManagerStop,
    RemainAfterExit,
    RestartPreventExitStatus,
    RestartForceExitStatus,
    RestartSetting,
    StartLimit,
    ManagerRestart,

    /// <summary>The module's ExecStopPost= started it again for a restart the gateway recorded.</summary>
    RestartReviver,

    /// <summary>The event needs a running main process and there is none.</summary>
    NoProcess,

    /// <summary>systemctl start (or a start job) started the unit.</summary>
    ManagerStart,

    /// <summary>The RestartSec= timer fired: the automatic restart.</summary>
    RestartTimer,

    /// <summary>systemctl stop while an automatic restart was pending cancels it.</summary>
    RestartCancelled,

    /// <summary>The event changes nothing (a start of a running unit, a stop of a stopped one).</summary>
    NoChange,

    /// <summary>SendSIGKILL=no: after the timeout systemd gave up on the process and left it running.</summary>
    KillSkipped,
}

/// <summary>Whether a core-dumping signal leaves a dump: the host's kernel.core_pattern decides with the unit's RLIMIT_CORE.</summary>
public enum CoreDumpHost
{
    /// <summary>core_pattern names a file (the kernel's default "core"): RLIMIT_CORE decides; 0 means no dump.</summary>
    LimitDecides,

    /// <summary>core_pattern pipes to a helper (systemd-coredump, apport): the kernel dumps whatever RLIMIT_CORE says (except 1).</summary>
    Pipe,

    /// <summary>No dumps at all (an empty or unwritable core_pattern).</summary>
    Never,
}

/// <summary>Where a unit stands: the fields 'systemctl show' reports, plus the start-limit window.</summary>
public sealed record SystemdUnitState(
    string ActiveState,
    string SubState,
    ServiceResult Result,
    ExecMainCode ExecMainCode,
    int ExecMainStatus,
    int NRestarts,
    TimeSpan StartLimitWindowBegin,
    int StartLimitCount,
    TimeSpan StartedAt)
{
    public bool IsRunning => ActiveState == "active" && SubState == "running";
}

/// <summary>The supervisor's answer to one event.</summary>
public sealed record SystemdOutcome(
    SystemdEvent Event,
    ProcessEnding? Ending,
    ServiceResult Result,
    ExecMainCode ExecMainCode,
    int ExecMainStatus,
    bool Revived,
    TimeSpan? Delay,
    TimeSpan EndedAfter,
    SystemdDecisionRule Rule,
    string Explanation,
    SystemdUnitState Final)
{
    public bool StartLimitHit => Rule == SystemdDecisionRule.StartLimit;
}

/// <summary>
/// systemd's service lifecycle for one unit (docs/models.md §1): classification, the restart decision in
/// its real order, delays, the start-limit window, stop timeouts and the states the unit ends in.
/// </summary>
public sealed class SystemdModel
{
    private static readonly UnixSignal[] CleanSignals = [UnixSignal.SIGHUP, UnixSignal.SIGINT, UnixSignal.SIGTERM, UnixSignal.SIGPIPE];

    public SystemdModel(SystemdServiceSettings settings, int version = SystemdUnitReader.DefaultVersion, bool loadRefused = false)
    {
        SystemdUnitReader.ValidateVersion(version);
        Settings = settings;
        Version = version;
        LoadRefused = loadRefused;
    }

    public SystemdModel(SystemdUnit unit)
        : this(unit.Settings, unit.SystemdVersion, unit.LoadRefused)
    {
    }

    public SystemdServiceSettings Settings { get; }

    public int Version { get; }

    public bool LoadRefused { get; }

    /// <summary>How the host's kernel writes core dumps; with LimitCORE= it decides CLD_DUMPED over CLD_KILLED.</summary>
    public CoreDumpHost CoreDumps { get; init; } = CoreDumpHost.LimitDecides;

    /// <summary>
    /// The soft RLIMIT_CORE a service gets when it sets no LimitCORE=: 0 as measured under the proven 252 manager (booted in
    /// a container); PID 1 on a host raises its own to infinity and services inherit that (docs/models.md §1.1).
    /// </summary>
    public ulong DefaultLimitCoreSoft { get; init; }

    /// <summary>Whether a process of this unit killed by a core-dumping signal leaves a dump.</summary>
    public bool DumpsCore => CoreDumps switch
    {
        CoreDumpHost.Never => false,
        CoreDumpHost.Pipe => (Settings.LimitCoreSoft ?? DefaultLimitCoreSoft) != 1,
        _ => (Settings.LimitCoreSoft ?? DefaultLimitCoreSoft) > 0,
    };

    /// <summary>
    /// An ending the model derived from a signal's default action, with CLD_DUMPED decided by this unit's core limit
    /// (docs/models.md §1.1); endings that are not deaths by a core-dumping signal are returned as they are.
    /// </summary>
    public ProcessEnding WithCoreLimit(ProcessEnding ending) =>
        ending.Kind == EndingKind.Killed && UnixSignals.DefaultAction(ending.Signal!.Value) == SignalDefaultAction.CoreDump
            ? ending with { CoreDumped = DumpsCore }
            : ending;

    /// <summary>Whether the unit's stop commands write the gateway's planned-stop marker before the kill signal.</summary>
    public bool ExecStopMarksPlannedStop => MarksPlannedStop(Settings);

    /// <summary>
    /// The name HermesGateway's planned-stop marker command goes by: the command itself, or the $0 of the
    /// 'sh -c' script the module renders. Only that form is trusted to write the marker.
    /// </summary>
    public const string PlannedStopMarkerCommand = "hermes-mark-planned-stop";

    /// <summary>Whether an ExecStop= runs the module's planned-stop marker command before systemd's SIGTERM.</summary>
    public static bool MarksPlannedStop(SystemdServiceSettings settings) =>
        settings.ExecStop.Any(c => SystemdValues.TrySplitCommandLine(c, out _, out var words)
            && words.Any(w => w == PlannedStopMarkerCommand || w.EndsWith("/" + PlannedStopMarkerCommand, StringComparison.Ordinal)));

    /// <summary>
    /// The name the module's restart reviver goes by: the $0 of the 'sh -c' script ExecStopPost= runs. After a clean
    /// exit (0) whose gateway_state.json says a restart was asked for, and with no job of the manager's own running
    /// (so never during a stop or restart the admin asked for), it asks the manager to start the unit again.
    /// </summary>
    public const string RestartReviverCommand = "hermes-revive-requested-restart";

    /// <summary>Whether an ExecStopPost= runs the module's restart reviver.</summary>
    public static bool RevivesRequestedRestart(SystemdServiceSettings settings) =>
        settings.ExecStopPost.Any(c => SystemdValues.TrySplitCommandLine(c, out _, out var words)
            && words.Any(w => w == RestartReviverCommand || w.EndsWith("/" + RestartReviverCommand, StringComparison.Ordinal)));

    /// <summary>The variable systemd sets for every service and Hermes 0.16 reads as "systemd runs me".</summary>
    public const string InvocationIdVariable = "INVOCATION_ID";

    /// <summary>Whether UnsetEnvironment= takes INVOCATION_ID away from the gateway (by name: any value).</summary>
    public static bool HidesInvocationId(SystemdServiceSettings settings) =>
        settings.UnsetEnvironment.Contains(InvocationIdVariable, StringComparer.Ordinal);

    /// <summary>An ExecStop= that mentions the marker file but is not the module's command: what it does is not known.</summary>
    public static bool MentionsPlannedStopMarkerOtherwise(SystemdServiceSettings settings) =>
        !MarksPlannedStop(settings) && settings.ExecStop.Any(c => c.Contains("planned-stop", StringComparison.OrdinalIgnoreCase));

    /// <summary>A unit that was just started by hand at <paramref name="now"/> (counts against the start limit).</summary>
    public SystemdUnitState StartedByHand(TimeSpan now)
    {
        var fresh = new SystemdUnitState("inactive", "dead", ServiceResult.Success, ExecMainCode.None, 0, 0, TimeSpan.Zero, 0, now);
        return Start(fresh, now, manual: true, out _);
    }

    /// <summary>is_clean_exit() plus the '-' prefix: the Result= of a main process ending.</summary>
    public (ServiceResult Result, string Why) Classify(ProcessEnding ending)
    {
        var s = Settings;
        ServiceResult result;
        string why;
        if (ending.Kind == EndingKind.Exited)
        {
            if (ending.ExitCode == 0)
            {
                (result, why) = (ServiceResult.Success, "exit 0 is clean");
            }
            else if (s.SuccessExitStatus.ContainsCode(ending.ExitCode))
            {
                (result, why) = (ServiceResult.Success, $"{SystemdValues.FormatExitStatus(ending.ExitCode)} is in SuccessExitStatus=");
            }
            else
            {
                (result, why) = (ServiceResult.ExitCode, $"exit {SystemdValues.FormatExitStatus(ending.ExitCode)} is not in SuccessExitStatus=");
            }
        }
        else if (ending.CoreDumped)
        {
            (result, why) = (ServiceResult.CoreDump, $"a core dump ({ending.Signal}) is never clean");
        }
        else if (s.Type != ServiceType.Oneshot && CleanSignals.Contains(ending.Signal!.Value))
        {
            (result, why) = (ServiceResult.Success, $"death by {ending.Signal} counts as clean for a daemon");
        }
        else if (s.SuccessExitStatus.ContainsSignal(ending.Signal!.Value))
        {
            (result, why) = (ServiceResult.Success, $"{ending.Signal} is in SuccessExitStatus=");
        }
        else
        {
            (result, why) = (ServiceResult.Signal, $"death by {ending.Signal} is not clean");
        }

        if (result != ServiceResult.Success && s.ExecStartIgnoresFailure)
        {
            return (ServiceResult.Success, "ExecStart=- ignores the failure");
        }

        return (result, why);
    }

    public static ExecMainCode CodeOf(ProcessEnding ending) =>
        ending.Kind == EndingKind.Exited ? ExecMainCode.Exited : ending.CoreDumped ? ExecMainCode.Dumped : ExecMainCode.Killed;

    public static int StatusOf(ProcessEnding ending) =>
        ending.Kind == EndingKind.Exited ? ending.ExitCode : UnixSignals.Number(ending.Signal!.Value, SignalPlatform.Linux);

    /// <summary>service_shall_restart(): the order is manager stop, RestartPreventExitStatus=, RestartForceExitStatus=, Restart=.</summary>
    public (bool Restart, SystemdDecisionRule Rule, string Why) ShallRestart(ServiceResult result, ProcessEnding? ending, bool managerStop)
    {
        var s = Settings;
        if (managerStop)
        {
            return (false, SystemdDecisionRule.ManagerStop, "a stop by the manager never restarts");
        }

        if (ending is not null && Matches(s.RestartPreventExitStatus, ending))
        {
            return (false, SystemdDecisionRule.RestartPreventExitStatus, $"{Status(ending)} is in RestartPreventExitStatus=");
        }

        if (ending is not null && Matches(s.RestartForceExitStatus, ending) && !(s.Type == ServiceType.Oneshot && result == ServiceResult.Success))
        {
            return (true, SystemdDecisionRule.RestartForceExitStatus, $"{Status(ending)} is in RestartForceExitStatus=");
        }

        var restart = RestartTable(s.Restart, result);
        return (restart, SystemdDecisionRule.RestartSetting,
            $"Restart={SystemdNames.Of(s.Restart)} {(restart ? "restarts" : "does not restart")} on Result={SystemdNames.Of(result)}");
    }

    /// <summary>The Restart= × Result table of systemd.service(5).</summary>
    public static bool RestartTable(RestartPolicy policy, ServiceResult result) => policy switch
    {
        RestartPolicy.No => false,
        RestartPolicy.Always => result != ServiceResult.ExecCondition,
        RestartPolicy.OnSuccess => result == ServiceResult.Success,
        RestartPolicy.OnFailure => result is not (ServiceResult.Success or ServiceResult.ExecCondition),
        RestartPolicy.OnAbnormal => result is ServiceResult.Signal or ServiceResult.CoreDump or ServiceResult.Timeout
            or ServiceResult.Watchdog or ServiceResult.OomKill or ServiceResult.Protocol or ServiceResult.Resources,
        RestartPolicy.OnWatchdog => result == ServiceResult.Watchdog,
        RestartPolicy.OnAbort => result is ServiceResult.Signal or ServiceResult.CoreDump,
        _ => false,
    };

    /// <summary>The delay before the n-th restart of a chain (n counts this one): RestartSec=, or the v254 exponential steps.</summary>
    public TimeSpan RestartDelay(int n)
    {
        var s = Settings;
        var sec = s.RestartSec;
        if (Version < 254 || n <= 1 || s.RestartSteps == 0 || sec == TimeSpan.Zero || s.RestartMaxDelaySec is not { } max || sec >= max)
        {
            return sec;
        }

        if (n > s.RestartSteps)
        {
            return max;
        }

        var factor = Math.Pow(max.TotalSeconds / sec.TotalSeconds, (n - 1) / (double)s.RestartSteps);
        // Compared in double before the cast: casting a value at 2^63 differs between .NET 8 and later runtimes.
        var ticks = sec.Ticks * factor;
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Applies one event to a running unit at time <paramref name="now"/>.</summary>
    public SystemdOutcome Apply(SystemdUnitState state, SystemdEvent ev, IProcessBehavior behavior, TimeSpan now) =>
        Apply(state, ev, behavior, now, beforeReady: false);

    /// <summary>
    /// Applies one event; with <paramref name="beforeReady"/> the unit is a Type=notify one still waiting for READY=1, where
    /// a clean end of the main process is a protocol violation (Result=protocol) however it came about.
    /// </summary>
    public SystemdOutcome Apply(SystemdUnitState state, SystemdEvent ev, IProcessBehavior behavior, TimeSpan now, bool beforeReady)
    {
        if (LoadRefused)
        {
            var dead = state with { ActiveState = "inactive", SubState = "dead" };
            return new(ev, null, ServiceResult.Success, ExecMainCode.None, 0, false, null, TimeSpan.Zero, SystemdDecisionRule.LoadRefused,
                "systemd refuses to load this unit (bad-setting), so it never runs", dead);
        }

        switch (ev)
        {
            case MainProcessEnded ended:
                return AfterMainEnded(state, ev, ended.Ending, TimeSpan.Zero, now, ServiceResult.Success, null, ended.RestartRecorded, beforeReady);

            case ExternalSignal or ManagerKill:
                var signal = ev is ExternalSignal x ? x.Signal : ((ManagerKill)ev).Signal;
                var response = behavior.OnSignal(signal, plannedStopMarked: false);
                if (signal == UnixSignal.SIGPIPE && Settings.IgnoreSigpipe && response.Ending?.Signal == UnixSignal.SIGPIPE)
                {
                    // The process takes SIGPIPE's default action, and systemd started it with SIGPIPE ignored.
                    response = SignalResponse.Ignores("IgnoreSIGPIPE=yes started the process with SIGPIPE ignored");
                }

                if (response.Ending is null)
                {
                    return new(ev, null, state.Result, state.ExecMainCode, state.ExecMainStatus, false, null, TimeSpan.Zero, SystemdDecisionRule.StillRunning,
                        $"the process keeps running: {response.Why}", state);
                }

                response = response with { Ending = WithCoreLimit(response.Ending) };

                var recorded = behavior is GatewayExitContract { RecordsRestartRequest: true } gateway && signal == gateway.RestartSignal;
                return AfterMainEnded(state, ev, response.Ending, response.After, now, ServiceResult.Success, response.Why, recorded, beforeReady);

            case OomKill:
                var victim = ProcessEnding.KilledBy(UnixSignal.SIGKILL);
                var oomResult = Settings.OomPolicy == OomPolicy.Continue ? ServiceResult.Signal : ServiceResult.OomKill;
                return AfterMainEnded(state, ev, victim, TimeSpan.Zero, now, oomResult,
                    Settings.OomPolicy == OomPolicy.Continue ? "OOMPolicy=continue: the kill is an ordinary SIGKILL" : $"OOMPolicy={Settings.OomPolicy.ToString().ToLowerInvariant()}: systemd records the OOM kill before the SIGCHLD");

            case ManagerStop or ManagerRestart:
                return StopByManager(state, ev, behavior, now);

            case ManagerTimerFired timer:
                return TimerFired(state, timer, behavior, now);

            default:
                throw new ArgumentOutOfRangeException(nameof(ev), ev, "Unknown systemd event.");
        }
    }

    private SystemdOutcome StopByManager(SystemdUnitState state, SystemdEvent ev, IProcessBehavior behavior, TimeSpan now)
    {
        var s = Settings;
        var restart = ev is ManagerRestart;
        var marked = ExecStopMarksPlannedStop;
        var signal = restart ? s.EffectiveRestartKillSignal : s.KillSignal;
        var response = behavior.OnSignal(signal, marked);
        var markerNote = marked ? "ExecStop= marks the stop as planned; " : string.Empty;
        ProcessEnding ending;
        var forced = ServiceResult.Success;
        TimeSpan took;
        string how;
        if (response.Ending is not null && (s.TimeoutStopSec is null || response.After < s.TimeoutStopSec))
        {
            ending = WithCoreLimit(response.Ending);
            took = response.After;
            how = $"{markerNote}{response.Why}";
        }
        else
        {
            var waited = s.TimeoutStopSec ?? TimeSpan.MaxValue;
            var reason = response.Ending is null
                ? $"the process ignores {signal}"
                : $"the process needs {response.After.TotalSeconds:0.#} s but TimeoutStopSec={Fmt(waited)}";
            if (!s.SendSigkill || s.TimeoutStopSec is null)
            {
                var stuck = state with { ActiveState = "deactivating", SubState = "stop-sigterm" };
                var text = s.TimeoutStopSec is null
                    ? $"{reason}; with no stop timeout systemd waits for it forever"
                    : $"{reason}; SendSIGKILL=no: systemd gives up and leaves the process running";
                return new(ev, null, ServiceResult.Timeout, state.ExecMainCode, state.ExecMainStatus, false, null, waited,
                    SystemdDecisionRule.ManagerStop, text, s.TimeoutStopSec is null ? stuck : state with { ActiveState = "failed", SubState = "failed", Result = ServiceResult.Timeout });
            }

            ending = ProcessEnding.KilledBy(s.FinalKillSignal);
            forced = ServiceResult.Timeout;
            took = waited;
            how = $"{markerNote}{reason}: Result=timeout, then {s.FinalKillSignal}";
        }

        var (classified, classWhy) = Classify(ending);
        var result = forced != ServiceResult.Success ? forced : classified;
        var stopped = state with
        {
            Result = result,
            ExecMainCode = CodeOf(ending),
            ExecMainStatus = StatusOf(ending),
            ActiveState = result == ServiceResult.Success ? "inactive" : "failed",
            SubState = result == ServiceResult.Success ? "dead" : "failed",
        };

        if (!restart)
        {
            var end = result == ServiceResult.Success ? "inactive (dead)" : $"failed (Result={SystemdNames.Of(result)})";
            var why = forced == ServiceResult.Success ? $"{how}; {classWhy}" : how;
            return new(ev, ending, result, stopped.ExecMainCode, stopped.ExecMainStatus, false, null, took, SystemdDecisionRule.ManagerStop,
                $"{why}; a stop by the manager never restarts: {end}", stopped);
        }

        var started = Start(stopped, Plus(now, took), manual: true, out var refused);
        if (refused)
        {
            return new(ev, ending, started.Result, stopped.ExecMainCode, stopped.ExecMainStatus, false, null, took, SystemdDecisionRule.StartLimit,
                $"{how}; the start half hits the start limit ({s.StartLimitBurst} starts in {Fmt(s.StartLimitInterval)}): the unit is left failed", started);
        }

        return new(ev, ending, result, stopped.ExecMainCode, stopped.ExecMainStatus, true, TimeSpan.Zero, took, SystemdDecisionRule.ManagerRestart,
            $"{how}; systemctl restart starts it again whatever the stop half ended with", started);
    }

    /// <summary>
    /// A timer of the manager ends the process: the timer's signal, the final kill signal if the process outlives the
    /// stop (or abort) timeout, and Result=timeout or watchdog whatever the ending; then the restart rules as for any
    /// death the admin did not ask for (a start timeout and RuntimeMaxSec= are not stops).
    /// </summary>
    private SystemdOutcome TimerFired(SystemdUnitState state, ManagerTimerFired ev, IProcessBehavior behavior, TimeSpan now)
    {
        var s = Settings;
        var (signal, wait, forced) = ev.Timer switch
        {
            ManagerTimer.Watchdog => (s.WatchdogSignal, s.EffectiveTimeoutAbortSec, ServiceResult.Watchdog),
            _ => (s.KillSignal, s.TimeoutStopSec, ServiceResult.Timeout),
        };
        var setting = ev.Timer == ManagerTimer.Watchdog && s.TimeoutAbortSet ? "TimeoutAbortSec" : "TimeoutStopSec";

        // RuntimeMaxSec= stops the unit the ordinary way, ExecStop= first (so the module's marker is written); a start
        // timeout and the watchdog signal the process directly.
        var marked = ev.Timer == ManagerTimer.RuntimeMax && ExecStopMarksPlannedStop;
        var response = behavior.OnSignal(signal, marked);
        ProcessEnding ending;
        TimeSpan took;
        string how;
        if (response.Ending is not null && (wait is null || response.After < wait))
        {
            ending = WithCoreLimit(response.Ending);
            took = response.After;
            how = $"{ev.Describe()}: systemd sends {signal}; {response.Why}";
        }
        else if (!s.SendSigkill || wait is null)
        {
            var because = response.Ending is null ? $"the process ignores {signal}" : $"the process needs {response.After.TotalSeconds:0.#} s";
            if (wait is null)
            {
                var stuck = state with { ActiveState = "deactivating", SubState = ev.Timer == ManagerTimer.Watchdog ? "stop-watchdog" : "stop-sigterm", Result = forced };
                return new(ev, null, forced, state.ExecMainCode, state.ExecMainStatus, false, null, TimeSpan.MaxValue, SystemdDecisionRule.StillRunning,
                    $"{ev.Describe()}: systemd sends {signal}, {because}, and {setting}=infinity waits for ever", stuck);
            }

            // SendSIGKILL=no: after the timeout systemd gives up on the process ("Skipping SIGKILL") and leaves it running.
            var abandoned = state with { ActiveState = "failed", SubState = "failed", Result = forced };
            return new(ev, null, forced, state.ExecMainCode, state.ExecMainStatus, false, null, wait.Value, SystemdDecisionRule.KillSkipped,
                $"{ev.Describe()}: systemd sends {signal}, {because}, and SendSIGKILL=no: after {setting}={Fmt(wait.Value)} it gives up and leaves the process running; failed (Result={SystemdNames.Of(forced)}), not restarted (not modelled further)", abandoned);
        }
        else
        {
            ending = ProcessEnding.KilledBy(s.FinalKillSignal);
            took = wait.Value;
            how = $"{ev.Describe()}: systemd sends {signal}; {(response.Ending is null ? $"the process ignores it" : $"the process needs {response.After.TotalSeconds:0.#} s")}, so after {setting}={Fmt(wait.Value)} {s.FinalKillSignal}";
        }

        return AfterMainEnded(state, ev, ending, took, now, forced, $"{how}; Result={SystemdNames.Of(forced)} whatever the ending");
    }

    private SystemdOutcome AfterMainEnded(SystemdUnitState state, SystemdEvent ev, ProcessEnding ending, TimeSpan after, TimeSpan now, ServiceResult forcedResult, string? reaction,
        bool restartRecorded = false, bool beforeReady = false)
    {
        var s = Settings;
        var (classified, classWhy) = Classify(ending);
        if (beforeReady && forcedResult == ServiceResult.Success)
        {
            // service_sigchld_event() in the start state of a notify unit: a clean end before READY=1 breaks the protocol.
            (forcedResult, classWhy) = classified == ServiceResult.Success
                ? (ServiceResult.Protocol, $"{classWhy}, but it came before READY=1: Result=protocol")
                : (forcedResult, $"{classWhy} (before READY=1)");
        }

        var result = forcedResult != ServiceResult.Success ? forcedResult : classified;
        var prefix = reaction is null ? string.Empty : reaction + "; ";
        var ended = state with { Result = result, ExecMainCode = CodeOf(ending), ExecMainStatus = StatusOf(ending) };
        var endAt = Plus(now, after);

        if (s.RemainAfterExit && result == ServiceResult.Success)
        {
            var exited = ended with { ActiveState = "active", SubState = "exited" };
            return new(ev, ending, result, ended.ExecMainCode, ended.ExecMainStatus, false, null, after, SystemdDecisionRule.RemainAfterExit,
                $"{prefix}{classWhy}; RemainAfterExit=yes keeps a cleanly exited unit active (exited) and never restarts it", exited);
        }

        var (restart, rule, why) = ShallRestart(result, ending, managerStop: false);
        if (!restart)
        {
            var final = ended with
            {
                ActiveState = result == ServiceResult.Success ? "inactive" : "failed",
                SubState = result == ServiceResult.Success ? "dead" : "failed",
            };
            var where = result == ServiceResult.Success ? "inactive (dead)" : $"failed (Result={SystemdNames.Of(result)})";
            if (restartRecorded && result == ServiceResult.Success && ending.Kind == EndingKind.Exited && ending.ExitCode == 0 && RevivesRequestedRestart(s))
            {
                // ExecStopPost= (the module's reviver) finds the request in gateway_state.json and queues a start job:
                // a start like any other (the start limit counts it), not an automatic restart (NRestarts stays).
                var revived = Start(final, endAt, manual: true, out var limited);
                return limited
                    ? new(ev, ending, revived.Result, ended.ExecMainCode, ended.ExecMainStatus, false, TimeSpan.Zero, after, SystemdDecisionRule.StartLimit,
                        $"{prefix}{classWhy}; {why}; ExecStopPost= queues a start for the recorded restart, but it hits the start limit ({s.StartLimitBurst} starts in {Fmt(s.StartLimitInterval)}): the unit is left failed", revived)
                    : new(ev, ending, result, ended.ExecMainCode, ended.ExecMainStatus, true, TimeSpan.Zero, after, SystemdDecisionRule.RestartReviver,
                        $"{prefix}{classWhy}; {why}, but ExecStopPost= finds the restart recorded in gateway_state.json and queues a start at once: running again", revived);
            }

            return new(ev, ending, result, ended.ExecMainCode, ended.ExecMainStatus, false, null, after, rule, $"{prefix}{classWhy}; {why}: {where}", final);
        }

        var delay = RestartDelay(state.NRestarts + 1);
        if (Plus(endAt, delay) == TimeSpan.MaxValue)
        {
            // RestartSec=infinity (or beyond any time that matters) arms a timer that never fires.
            var waiting = ended with { ActiveState = "activating", SubState = "auto-restart" };
            return new(ev, ending, result, ended.ExecMainCode, ended.ExecMainStatus, false, null, after, rule,
                $"{prefix}{classWhy}; {why}, but RestartSec={Fmt(s.RestartSec)}: the restart never comes", waiting);
        }

        var restartAt = endAt + delay;
        var counted = ended with { NRestarts = state.NRestarts + 1 };
        var next = Start(counted, restartAt, manual: false, out var refused);
        if (refused)
        {
            return new(ev, ending, next.Result, ended.ExecMainCode, ended.ExecMainStatus, false, delay, after, SystemdDecisionRule.StartLimit,
                $"{prefix}{classWhy}; {why}, but the restart after {Fmt(delay)} is start number {next.StartLimitCount} within StartLimitIntervalSec={Fmt(s.StartLimitInterval)} (StartLimitBurst={s.StartLimitBurst}): the unit is left failed", next);
        }

        return new(ev, ending, result, ended.ExecMainCode, ended.ExecMainStatus, true, delay, after, rule,
            $"{prefix}{classWhy}; {why} after {Fmt(delay)}", next);
    }

    /// <summary>A start job: the start-limit test (a fixed window from its first start), then running.</summary>
    public SystemdUnitState Start(SystemdUnitState state, TimeSpan at, bool manual, out bool refused)
    {
        var s = Settings;
        var begin = state.StartLimitWindowBegin;
        var count = state.StartLimitCount;
        refused = false;
        if (!s.StartLimitDisabled)
        {
            if (count == 0 || at - begin > s.StartLimitInterval)
            {
                begin = at;
                count = 1;
            }
            else
            {
                count++;
                refused = count > s.StartLimitBurst;
            }
        }

        if (refused)
        {
            var kept = state.Result == ServiceResult.Success ? ServiceResult.StartLimitHit : state.Result;
            return state with { ActiveState = "failed", SubState = "failed", Result = kept, StartLimitWindowBegin = begin, StartLimitCount = count };
        }

        return state with
        {
            ActiveState = "active",
            SubState = "running",
            Result = ServiceResult.Success,
            ExecMainCode = ExecMainCode.None,
            ExecMainStatus = 0,
            NRestarts = manual ? 0 : state.NRestarts,
            StartLimitWindowBegin = begin,
            StartLimitCount = count,
            StartedAt = at,
        };
    }

    private static bool Matches(ExitStatusSet set, ProcessEnding ending) =>
        ending.Kind == EndingKind.Exited ? set.ContainsCode(ending.ExitCode) : set.ContainsSignal(ending.Signal!.Value);

    private static string Status(ProcessEnding ending) =>
        ending.Kind == EndingKind.Exited ? "exit " + SystemdValues.FormatExitStatus(ending.ExitCode) : ending.Signal!.Value.ToString();

    /// <summary>Adds times without overflowing: anything past the end of representable time is "never".</summary>
    internal static TimeSpan Plus(TimeSpan a, TimeSpan b) => b >= TimeSpan.MaxValue - a ? TimeSpan.MaxValue : a + b;

    internal static string Fmt(TimeSpan t) =>
        t == TimeSpan.MaxValue ? "infinity"
        : t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.###}s"
        : $"{t.TotalMilliseconds:0.###}ms";
}
