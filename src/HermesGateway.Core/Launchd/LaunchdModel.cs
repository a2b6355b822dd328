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
    string? Unverified);

/// <summary>
/// launchd's relaunch rules for one job (docs/models.md §2): successful exits and crashes, KeepAlive as a
/// boolean or ORed conditions, ThrottleInterval as a minimum run time, ExitTimeOut, bootout, kickstart and
/// on-demand-only domains. Modern launchd is closed source; answers that rest on unverified rules say so.
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
                return new(ev, ending, seen, false, false, null, took, LaunchdDecisionRule.Bootout,
                    $"{how}; bootout removes the job, so nothing relaunches it", "unloaded", LastExitText(seen), ExitTimeOutNote());
            }

            case LaunchdKickstart { KillFirst: false }:
                return new(ev, null, null, false, false, null, TimeSpan.Zero, LaunchdDecisionRule.Kickstart,
                    "kickstart without -k leaves a running job as it is", "running", "(still running)", null);

            case LaunchdKickstart:
            {
                var (ending, took, how) = StopByLaunchd(behavior);
                var seen = SeenByLaunchd(ending);
                return new(ev, ending, seen, true, false, TimeSpan.Zero, took, LaunchdDecisionRule.Kickstart,
                    $"{how}; kickstart -k then starts it at once, regardless of KeepAlive, throttle or an on-demand-only domain", "running", LastExitText(seen),
                    "unverified: whether kickstart itself is throttled on current macOS");
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(ev), ev, "Unknown launchd event.");
        }
    }

    private (ProcessEnding Ending, TimeSpan Took, string How) StopByLaunchd(IProcessBehavior behavior)
    {
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

        if (!relaunch)
        {
            return new(ev, ending, seen, false, false, null, after, rule, $"{prefix}{why}: not relaunched", "not running", LastExitText(seen), unverified);
        }

        if (Domain.OnDemandOnly && Domain.Kind != LaunchdDomainKind.System)
        {
            return new(ev, ending, seen, false, true, null, after, LaunchdDecisionRule.OnDemandOnlyDomain,
                $"{prefix}{why}, but the {Domain.Kind.ToString().ToLowerInvariant()} domain is in on-demand-only mode: the spawn is pended until an explicit kickstart",
                "pending spawn (on-demand-only)", LastExitText(seen), "observed on macOS (third-party reports); not in Apple's documentation");
        }

        var ran = ev.RanFor + after;
        var delay = ThrottleDelay(ran);
        var when = delay == TimeSpan.Zero
            ? $"at once (it ran {ran.TotalSeconds:0.#} s, at least ThrottleInterval={Settings.ThrottleInterval} s)"
            : $"after {delay.TotalSeconds:0} s (it ran {Math.Floor(ran.TotalSeconds):0} s of the ThrottleInterval={Settings.ThrottleInterval} s minimum)";
        return new(ev, ending, seen, true, false, delay, after, rule, $"{prefix}{why}: relaunched {when}",
            delay == TimeSpan.Zero ? "running" : "spawn scheduled", LastExitText(seen), unverified);
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
