using System.Collections.Immutable;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Launchd;

public abstract record LaunchdEvent(TimeSpan RanFor)
{
    public abstract string Describe();
}

/// <summary>The process ends on its own (exit, crash) after running <see cref="LaunchdEvent.RanFor"/>.</summary>
public sealed record LaunchdProcessEnded(ProcessEnding Ending, TimeSpan RanFor) : LaunchdEvent(RanFor)
{
    public override string Describe() => $"process: {Ending}";
}

/// <summary>kill -SIG &lt;pid&gt; from outside launchd; the process decides how it ends.</summary>
public sealed record LaunchdExternalSignal(UnixSignal Signal, TimeSpan RanFor) : LaunchdEvent(RanFor)
{
    public override string Describe() => $"kill -{Signal.ToString()[3..]} <pid>";
}

/// <summary>launchctl bootout: SIGTERM, SIGKILL after ExitTimeOut, and the job is removed.</summary>
public sealed record LaunchdBootout(TimeSpan RanFor) : LaunchdEvent(RanFor)
{
    public override string Describe() => "launchctl bootout";
}

/// <summary>launchctl kickstart [-k]: start now, regardless of launch conditions; -k kills the running instance first.</summary>
public sealed record LaunchdKickstart(bool KillFirst, TimeSpan RanFor) : LaunchdEvent(RanFor)
{
    public override string Describe() => KillFirst ? "launchctl kickstart -k" : "launchctl kickstart";
}

public enum LaunchdDecisionRule
{
    LoadRefused,
    StillRunning,
    Bootout,
    Kickstart,
    LaunchOnlyOnce,
    ShuttingDown,
    KeepAliveAbsent,
    KeepAliveTrue,
    KeepAliveConditions,
    AfterInitialDemand,
    OnDemandOnlyDomain,

    /// <summary>The program path does not exist: the spawn fails before the job runs (docs/models.md §2.6).</summary>
    SpawnFailed,

    /// <summary>The label is disabled, so launchctl bootstrap does not load the job (docs/models.md §2.7).</summary>
    Disabled,
}

/// <summary>
/// What becomes of the processes the job's main process started once that process has ended (docs/models.md §2.8),
/// by where the child is: in a session of its own (it called setsid), in the job's process group, or in the job's
/// process group while ignoring SIGTERM.
/// </summary>
/// <param name="OwnSession">A child that called setsid(2) (own session and process group).</param>
/// <param name="JobGroup">A child left in the job's process group that takes SIGTERM's default action or handles it by exiting.</param>
/// <param name="JobGroupIgnoringSigterm">A child left in the job's process group that ignores SIGTERM.</param>
/// <param name="Unverified">What of this rests on launchd-842 or observation rather than Apple's current manual.</param>
public sealed record LaunchdChildren(string OwnSession, string JobGroup, string JobGroupIgnoringSigterm, string? Unverified)
{
    /// <summary>One line for reports: the three cases in turn.</summary>
    public string Describe() => $"own session (setsid): {OwnSession}; job's process group: {JobGroup}; job's process group, ignoring SIGTERM: {JobGroupIgnoringSigterm}";
}

public sealed record LaunchdOutcome(
    LaunchdEvent Event,
    ProcessEnding? Ending,
    ProcessEnding? SeenByLaunchd,
    bool Revived,
    bool Pending,
    TimeSpan? Delay,
    TimeSpan EndedAfter,
    LaunchdDecisionRule Rule,
    string Explanation,
    string FinalState,
    string LastExit,
    string? Unverified)
{
    /// <summary>
    /// True when launchd stopped the job with SIGKILL without a SIGTERM first (EnableTransactions and no open
    /// transaction, docs/models.md §2.5): the gateway's SIGTERM handler, and so its drain, never ran.
    /// </summary>
    public bool KilledWithoutSigterm { get; init; }

    /// <summary>
    /// What happens to the processes the main process started, when the main process ended in this answer; null when
    /// it did not end (still running, never ran).
    /// </summary>
    public LaunchdChildren? Children { get; init; }
}

/// <summary>
/// launchd's relaunch rules for one job (docs/models.md §2): successful exits and crashes, KeepAlive as a
/// boolean or ORed conditions, ThrottleInterval as a minimum run time, ExitTimeOut, bootout, kickstart and
/// on-demand-only domains, EnableTransactions, a missing program, a disabled label and the fate of the job's children.
/// Modern launchd is closed source; answers that rest on unverified rules say so.
/// </summary>
public sealed class LaunchdModel
{
    private static readonly UnixSignal[] CrashSignals =
        [UnixSignal.SIGILL, UnixSignal.SIGABRT, UnixSignal.SIGFPE, UnixSignal.SIGBUS, UnixSignal.SIGSEGV, UnixSignal.SIGSYS, UnixSignal.SIGTRAP];

    public LaunchdModel(LaunchdJobSettings settings, LaunchdDomain? domain = null, bool loadRefused = false)
    {
        Settings = settings;
        Domain = domain ?? LaunchdDomain.GuiDefault;
        LoadRefused = loadRefused;
    }

    public LaunchdModel(LaunchdJob job, LaunchdDomain? domain = null)
        : this(job.Settings, domain, job.LoadRefused)
    {
    }

    public LaunchdJobSettings Settings { get; }

    public LaunchdDomain Domain { get; }

    public bool LoadRefused { get; }

    /// <summary>
    /// True when the job is disabled where launchctl bootstrap looks: the label is in
    /// <see cref="LaunchdDomain.DisabledJobs"/> (launchctl disable) or the plist's Disabled key is true.
    /// </summary>
    public bool IsDisabled => Domain.JobDisabled || Domain.DisabledJobs.Contains(Settings.Label) || Settings.Disabled;

    /// <summary>True when the job's program path is listed in <see cref="LaunchdDomain.MissingPrograms"/>: no spawn can succeed.</summary>
    public bool ProgramMissing => Domain.ProgramMissing || (Settings.ProgramPath is { } path && Domain.MissingPrograms.Contains(path));

    /// <summary>What launchd records for a spawn that failed because the program is missing (launchctl print's wording).</summary>
    public const string SpawnFailedExit = "78 (EX_CONFIG)";

    public TimeSpan EffectiveExitTimeOut => Settings.ExitTimeOut switch
    {
        0 => TimeSpan.MaxValue,
        { } n => TimeSpan.FromSeconds(n),
        null => TimeSpan.FromSeconds(LaunchdJobSettings.AssumedDefaultExitTimeOut),
    };

    public static bool IsSuccessfulExit(ProcessEnding e) => e.Kind == EndingKind.Exited && e.ExitCode == 0;

    /// <summary>A crash: death by a crash signal that launchd did not send itself.</summary>
    public static bool IsCrash(ProcessEnding e, bool stoppedByLaunchd) =>
        !stoppedByLaunchd && e.Kind == EndingKind.Killed && CrashSignals.Contains(e.Signal!.Value);

    /// <summary>What launchd sees when the gateway runs under a wrapper that rewrites its exits.</summary>
    public ProcessEnding SeenByLaunchd(ProcessEnding gatewayEnding)
    {
        if (!Settings.WrapperRewritesExits)
        {
            return gatewayEnding;
        }

        return gatewayEnding.Kind == EndingKind.Killed
            ? ProcessEnding.Exit(128 + UnixSignals.Number(gatewayEnding.Signal!.Value, SignalPlatform.Darwin))
            : gatewayEnding.ExitCode == 78 ? ProcessEnding.Exit(0) : gatewayEnding;
    }

    /// <summary>The respawn delay: ThrottleInterval minus the whole seconds the instance ran, if it ran shorter.</summary>
    public TimeSpan ThrottleDelay(TimeSpan ranFor)
    {
        var ran = (long)Math.Floor(ranFor.TotalSeconds);
        return ran < Settings.ThrottleInterval ? TimeSpan.FromSeconds(Settings.ThrottleInterval - ran) : TimeSpan.Zero;
    }

    /// <summary>job_keepalive(): whether launchd wants the job running again after this ending.</summary>
    public (bool Relaunch, LaunchdDecisionRule Rule, string Why) ShouldRelaunch(ProcessEnding seen, bool stoppedByLaunchd, bool demandedOnce = true)
    {
        var s = Settings;
        if (s.LaunchOnlyOnce)
        {
            return (false, LaunchdDecisionRule.LaunchOnlyOnce, "LaunchOnlyOnce=true never respawns the job");
        }

        if (Domain.ShuttingDown)
        {
            return (false, LaunchdDecisionRule.ShuttingDown, "the domain is shutting down");
        }

        var k = s.KeepAlive;
        if (!k.KeepsAlive)
        {
            return (false, LaunchdDecisionRule.KeepAliveAbsent, "without KeepAlive only demand starts the job");
        }

        if (k.AfterInitialDemand && !demandedOnce)
        {
            return (false, LaunchdDecisionRule.AfterInitialDemand, "KeepAlive.AfterInitialDemand holds keep-alive back until the job was started on demand once");
        }

        if (k.Unconditional || (k.AfterInitialDemand && !k.IsDictionaryWithConditions()))
        {
            return (true, LaunchdDecisionRule.KeepAliveTrue, "KeepAlive=true relaunches after any ending");
        }

        var success = IsSuccessfulExit(seen);
        var crash = IsCrash(seen, stoppedByLaunchd);
        var reasons = new List<string>();
        if (k.SuccessfulExit is true && success)
        {
            reasons.Add("SuccessfulExit=true and it exited 0");
        }

        if (k.SuccessfulExit is false && !success)
        {
            reasons.Add($"SuccessfulExit=false and it did not exit 0 ({seen})");
        }

        if (k.Crashed is true && crash)
        {
            reasons.Add($"Crashed=true and it crashed ({seen.Signal})");
        }

        if (k.Crashed is false && !crash)
        {
            reasons.Add("Crashed=false and it did not crash");
        }

        foreach (var (path, want) in k.PathState)
        {
            if (Domain.ExistingPaths.Contains(path) == want)
            {
                reasons.Add($"PathState {path} {(want ? "exists" : "is absent")}");
            }
        }

        foreach (var (label, want) in k.OtherJobEnabled)
        {
            if (Domain.LoadedJobs.Contains(label) == want)
            {
                reasons.Add($"OtherJobEnabled {label} is {(want ? "loaded" : "not loaded")}");
            }
        }

        if (reasons.Count > 0)
        {
            return (true, LaunchdDecisionRule.KeepAliveConditions, $"KeepAlive={k}: {string.Join("; ", reasons)}");
        }

        return (false, LaunchdDecisionRule.KeepAliveConditions, $"KeepAlive={k}: no condition holds for {seen}{(crash ? " (a crash)" : string.Empty)}");
    }

    public LaunchdOutcome Apply(LaunchdEvent ev, IProcessBehavior behavior)
    {
        if (LoadRefused)
        {
            return new(ev, null, null, false, false, null, TimeSpan.Zero, LaunchdDecisionRule.LoadRefused,
                "launchctl refuses to load this job, so it never runs", "unloaded", "(never ran)", null);
        }

        if (IsDisabled)
        {
            return DisabledOutcome(ev);
        }

        if (ProgramMissing)
        {
            return SpawnFailedOutcome(ev);
        }

        switch (ev)
        {
            case LaunchdProcessEnded ended:
                return AfterEnding(ev, ended.Ending, TimeSpan.Zero, stoppedByLaunchd: false, reaction: null);

            case LaunchdExternalSignal sig:
                var r = behavior.OnSignal(sig.Signal, plannedStopMarked: false);
                if (r.Ending is null)
                {
                    return new(ev, null, null, false, false, null, TimeSpan.Zero, LaunchdDecisionRule.StillRunning,
                        $"the process keeps running: {r.Why}", "running", "(still running)", null);
                }

                return AfterEnding(ev, r.Ending, r.After, stoppedByLaunchd: false, reaction: r.Why);

            case LaunchdBootout:
            {
                var (ending, took, how) = StopByLaunchd(behavior);
                var seen = SeenByLaunchd(ending);
                var atOnce = Settings.EnableTransactions;
                return new(ev, ending, seen, false, false, null, took, LaunchdDecisionRule.Bootout,
                    $"{how}; bootout removes the job, so nothing relaunches it", "unloaded", LastExitText(seen), atOnce ? TransactionsNote : ExitTimeOutNote())
                {
                    KilledWithoutSigterm = atOnce,
                    Children = ChildrenAfterEnd(),
                };
            }

            case LaunchdKickstart { KillFirst: false }:
                return new(ev, null, null, false, false, null, TimeSpan.Zero, LaunchdDecisionRule.Kickstart,
                    "kickstart without -k leaves a running job as it is", "running", "(still running)", null);

            case LaunchdKickstart:
            {
                var (ending, took, how) = StopByLaunchd(behavior);
                var seen = SeenByLaunchd(ending);
                var atOnce = Settings.EnableTransactions;
                const string throttled = "unverified: whether kickstart itself is throttled on current macOS";
                return new(ev, ending, seen, true, false, TimeSpan.Zero, took, LaunchdDecisionRule.Kickstart,
                    $"{how}; kickstart -k then starts it at once, regardless of KeepAlive, throttle or an on-demand-only domain", "running", LastExitText(seen),
                    atOnce ? $"{throttled}; {TransactionsNote}" : throttled)
                {
                    KilledWithoutSigterm = atOnce,
                    Children = ChildrenAfterEnd(),
                };
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(ev), ev, "Unknown launchd event.");
        }
    }

    /// <summary>
    /// The stop half of bootout and kickstart -k. With EnableTransactions the gateway (which opens no launchd
    /// transactions) is SIGKILLed at once and never sees SIGTERM; otherwise SIGTERM, then SIGKILL after ExitTimeOut.
    /// </summary>
    private (ProcessEnding Ending, TimeSpan Took, string How) StopByLaunchd(IProcessBehavior behavior)
    {
        if (Settings.EnableTransactions)
        {
            return (ProcessEnding.KilledBy(UnixSignal.SIGKILL), TimeSpan.Zero,
                "EnableTransactions=true and no transaction open: SIGKILL at once, no SIGTERM, so the gateway's SIGTERM handler (its drain) never runs");
        }

        var r = behavior.OnSignal(UnixSignal.SIGTERM, plannedStopMarked: false);
        var limit = EffectiveExitTimeOut;
        if (r.Ending is not null && r.After < limit)
        {
            return (r.Ending, r.After, $"SIGTERM: {r.Why}");
        }

        var why = r.Ending is null
            ? "the process ignores it"
            : $"the process needs {r.After.TotalSeconds:0.#} s but ExitTimeOut={(Settings.ExitTimeOut is null ? $"(unset, taken as {LaunchdJobSettings.AssumedDefaultExitTimeOut})" : Settings.ExitTimeOut.ToString())} s";
        return (ProcessEnding.KilledBy(UnixSignal.SIGKILL), limit, $"SIGTERM; {why}: SIGKILL");
    }

    /// <summary>Why the EnableTransactions answer is marked unverified (docs/models.md §2.5).</summary>
    public const string TransactionsNote =
        "unverified: launchd.plist(5) says launchd is free to send SIGKILL to an EnableTransactions job with no open transaction; "
        + "in launchd-842 the kernel's proc_terminate() picks SIGKILL only for a process that turned on dirty tracking and is clean; "
        + "whether current launchd SIGKILLs a gateway that never opened a transaction is not documented";

    /// <summary>Why the child-process answer is marked unverified (docs/models.md §2.8).</summary>
    public const string ChildrenNote =
        "unverified: launchd.plist(5) says only that launchd kills the remaining processes of the job's process group; "
        + "one SIGTERM to the group after the main process is reaped, and nothing after it even at bootout, is launchd-842's job_reap";

    /// <summary>
    /// What becomes of the main process' children once it has ended (its own death, an external signal, bootout or
    /// kickstart -k alike): launchd signals the job's process group once with SIGTERM unless AbandonProcessGroup is
    /// true. A child in its own session is not in that group. ExitTimeOut bounds the main process only.
    /// </summary>
    public LaunchdChildren ChildrenAfterEnd()
    {
        const string own = "survives: setsid() left the job's process group, which is all launchd signals";
        if (Settings.AbandonProcessGroup)
        {
            return new(own, "survives: AbandonProcessGroup=true, launchd leaves the process group alone",
                "survives: AbandonProcessGroup=true, launchd leaves the process group alone", null);
        }

        return new(own, "dies: launchd sends the process group SIGTERM once the main process has ended",
            "survives: launchd sends the group SIGTERM once and no SIGKILL after it (ExitTimeOut bounds the main process only)", ChildrenNote);
    }

    private LaunchdOutcome DisabledOutcome(LaunchdEvent ev)
    {
        var how = Domain.JobDisabled || Domain.DisabledJobs.Contains(Settings.Label)
            ? $"'{Settings.Label}' is disabled in the {Domain.Kind.ToString().ToLowerInvariant()} domain (launchctl disable)"
            : "the plist's Disabled key is true";
        return new(ev, null, null, false, false, null, TimeSpan.Zero, LaunchdDecisionRule.Disabled,
            $"{how}: launchctl bootstrap does not load a disabled service (\"Service is disabled\"), so the job never runs", "not loaded (disabled)", "(never ran)",
            "unverified: that a disabled job is not loaded by default is launchd.plist(5)'s, but how launchctl bootstrap refuses it is observed, not documented "
            + "(reports show 'Bootstrap failed: 119: Service is disabled', others 5: Input/output error, or a bootstrap that succeeds and never runs)"
            + (Domain.JobDisabled || Domain.DisabledJobs.Contains(Settings.Label) ? string.Empty : "; a 'launchctl enable' of the label overrides the Disabled key, and the model does not know whether one was given"));
    }

    private LaunchdOutcome SpawnFailedOutcome(LaunchdEvent ev)
    {
        // A bare program name is looked up on PATH: name it as it is written.
        var path = Settings.ProgramPath ?? (Settings.ProgramArguments.Length > 0 ? $"{Settings.ProgramArguments[0]} (looked up on PATH)" : "(no program)");
        const string unverified = "unverified: that modern launchd records a failed spawn as last exit code 78 (EX_CONFIG) and keeps retrying a KeepAlive job at the throttle "
            + "is observation (launchctl print on current macOS); launchd-842 recorded the exec errno (ENOENT) and waited for the path to appear";
        var failed = $"the program '{path}' does not exist, so the spawn fails before the job runs; launchd records last exit code = {SpawnFailedExit}";
        if (ev is LaunchdBootout)
        {
            return new(ev, null, null, false, false, null, TimeSpan.Zero, LaunchdDecisionRule.Bootout,
                $"{failed}; nothing runs, and bootout removes the job", "unloaded", SpawnFailedExit, unverified);
        }

        var (retry, _, why) = ShouldRelaunch(ProcessEnding.Exit(78), stoppedByLaunchd: false);
        if (!retry)
        {
            return new(ev, null, null, false, false, null, TimeSpan.Zero, LaunchdDecisionRule.SpawnFailed,
                $"{failed}; {why}: not retried", "spawn failed: program missing; not retried", SpawnFailedExit, unverified);
        }

        if (Domain.OnDemandOnly && Domain.Kind != LaunchdDomainKind.System)
        {
            return new(ev, null, null, false, true, null, TimeSpan.Zero, LaunchdDecisionRule.SpawnFailed,
                $"{failed}; {why}, but the domain is in on-demand-only mode: the next spawn is pended until an explicit kickstart",
                "spawn failed: program missing; retry pended (on-demand-only)", SpawnFailedExit, unverified);
        }

        var every = ThrottleDelay(TimeSpan.Zero);
        return new(ev, null, null, false, true, every, TimeSpan.Zero, LaunchdDecisionRule.SpawnFailed,
            $"{failed}; {why}: the spawn is scheduled again after ThrottleInterval={Settings.ThrottleInterval} s, and fails again while the program is missing",
            $"spawn failed: program missing; retried every {every.TotalSeconds:0} s", SpawnFailedExit, unverified);
    }

    private string? ExitTimeOutNote() => Settings.ExitTimeOut is null
        ? $"unverified: the default ExitTimeOut is system-defined ({LaunchdJobSettings.AssumedDefaultExitTimeOut} s in launchd-842; recent macOS shows 5 s)"
        : null;

    private LaunchdOutcome AfterEnding(LaunchdEvent ev, ProcessEnding ending, TimeSpan after, bool stoppedByLaunchd, string? reaction)
    {
        var seen = SeenByLaunchd(ending);
        var wrapperNote = seen == ending ? string.Empty : $"the stderr wrapper reports it as {seen}; ";
        var prefix = (reaction is null ? string.Empty : reaction + "; ") + wrapperNote;
        var (relaunch, rule, why) = ShouldRelaunch(seen, stoppedByLaunchd);
        string? unverified = null;
        if (seen.Kind == EndingKind.Killed && Settings.KeepAlive.Crashed is not null)
        {
            unverified = "unverified: the exact set of signals modern launchd treats as a crash";
        }

        var children = ChildrenAfterEnd();
        if (!relaunch)
        {
            return new(ev, ending, seen, false, false, null, after, rule, $"{prefix}{why}: not relaunched", "not running", LastExitText(seen), unverified) { Children = children };
        }

        if (Domain.OnDemandOnly && Domain.Kind != LaunchdDomainKind.System)
        {
            return new(ev, ending, seen, false, true, null, after, LaunchdDecisionRule.OnDemandOnlyDomain,
                $"{prefix}{why}, but the {Domain.Kind.ToString().ToLowerInvariant()} domain is in on-demand-only mode: the spawn is pended until an explicit kickstart",
                "pending spawn (on-demand-only)", LastExitText(seen), "observed on macOS (third-party reports); not in Apple's documentation") { Children = children };
        }

        var ran = ev.RanFor + after;
        var delay = ThrottleDelay(ran);
        var when = delay == TimeSpan.Zero
            ? $"at once (it ran {ran.TotalSeconds:0.#} s, at least ThrottleInterval={Settings.ThrottleInterval} s)"
            : $"after {delay.TotalSeconds:0} s (it ran {Math.Floor(ran.TotalSeconds):0} s of the ThrottleInterval={Settings.ThrottleInterval} s minimum)";
        return new(ev, ending, seen, true, false, delay, after, rule, $"{prefix}{why}: relaunched {when}",
            delay == TimeSpan.Zero ? "running" : "spawn scheduled", LastExitText(seen), unverified) { Children = children };
    }

    public static string LastExitText(ProcessEnding seen) => seen.Kind == EndingKind.Exited
        ? $"last exit code = {seen.ExitCode}"
        : $"last terminating signal = {seen.Signal}";
}

internal static class LaunchdKeepAliveExtensions
{
    public static bool IsDictionaryWithConditions(this LaunchdKeepAlive k) =>
        k.SuccessfulExit is not null || k.Crashed is not null || !k.PathState.IsEmpty || !k.OtherJobEnabled.IsEmpty;
}
