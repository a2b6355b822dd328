using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Launchd;

/// <summary>
/// Plays a timeline against a launchd job (docs/models.md §2.9), one event at a time through <see cref="LaunchdModel"/>,
/// with launchd's own relaunch between events: the job is bootstrapped at t = 0 (and runs at once with RunAtLoad,
/// KeepAlive true or a SuccessfulExit condition); 'stop' is launchctl bootout, 'start' launchctl kickstart (bootstrap first when unloaded), 'restart'
/// launchctl kickstart -k, 'kill SIG' launchctl kill; 'exit', 'signal' and 'oom' (a SIGKILL) end the process.
/// </summary>
public static class LaunchdTimeline
{
    /// <summary>The most steps one timeline plays (a guard: relaunches only follow events, so a timeline stays far below it).</summary>
    public const int MaxSteps = 2000;

    private enum Phase
    {
        Running,
        SpawnScheduled,
        NotRunning,
        Pending,
        Unloaded,
        Stopping,
    }

    public static IReadOnlyList<SupervisorStep> Play(LaunchdConfiguration config, SupervisorTimelineRequest request, GatewayExitContract contract, EvaluationOptions options)
    {
        if (request.SendsReady || request.PingsWatchdog || request.ExecFailure is not null)
        {
            throw new HermesException(HermesErrorIds.TimelineInvalid, HermesErrorCategory.InvalidArgument,
                "-SendsReady, -PingsWatchdog and -ExecFailure describe a systemd unit's process; a launchd job has none of them.", request);
        }

        var items = SystemdTimeline.Parse(request.Items, SignalPlatform.Darwin);
        if (items.FirstOrDefault(i => i.Kind == TimelineEventKind.IsActive) is { } query)
        {
            throw new HermesException(HermesErrorIds.TimelineInvalid, HermesErrorCategory.InvalidArgument,
                $"'{query.Text}': is-active is systemctl's; a launchd timeline's steps show the job's state instead.", query.Text);
        }

        var model = new LaunchdModel(config.Job, options.LaunchdDomain);
        var behavior = SignalReactions.Behavior(request.Reaction, contract.InEnvironment(invocationIdVisible: false), request.ReactionExitCode);
        var steps = new List<SupervisorStep>();
        var s = model.Settings;
        var phase = Phase.Unloaded;
        var since = TimeSpan.Zero;
        var due = TimeSpan.Zero;
        var lastExit = "(never ran)";
        var runs = 0;

        void Add(TimeSpan at, string what, bool posed, string? ending, bool started, string rule, string why, string? unverified, int? command = null) =>
            steps.Add(new SupervisorStep(config.Name, config.Path, ServicePlatform.Launchd, at, what, posed, ending, started, phase == Phase.SpawnScheduled ? due : null,
                State(phase), lastExit, null, null, null, null, null, command, rule, why, unverified));

        void Follow(LaunchdOutcome o, TimeSpan at)
        {
            if (o.EndedAfter == TimeSpan.MaxValue)
            {
                // ExitTimeOut=0 and a process that ignores SIGTERM: the stop never ends; recorded when it was asked.
                phase = Phase.Stopping;
                Add(at, o.Event.Describe(), true, null, false, o.Rule.ToString(), $"{o.Explanation}; the process never ends, so the stop never completes", o.Unverified);
                return;
            }

            var ended = SystemdModel.Plus(at, o.EndedAfter);
            if (o.SeenByLaunchd is { } seen)
            {
                lastExit = LaunchdModel.LastExitText(seen);
            }

            if (o.Revived && o.Delay is { } delay && o.Rule != LaunchdDecisionRule.Kickstart)
            {
                phase = Phase.SpawnScheduled;
                due = SystemdModel.Plus(ended, delay);
            }
            else if (o.Revived)
            {
                phase = Phase.Running;
                since = ended;
                runs++;
            }
            else if (o.Rule == LaunchdDecisionRule.StillRunning || (o.Rule == LaunchdDecisionRule.Kickstart && o.Ending is null))
            {
                phase = Phase.Running;
            }
            else
            {
                phase = o.Pending ? Phase.Pending : o.Rule == LaunchdDecisionRule.Bootout ? Phase.Unloaded : Phase.NotRunning;
            }

            Add(ended, o.Event.Describe(), true, o.Ending?.ToString(), o.Revived && phase == Phase.Running, o.Rule.ToString(), o.Explanation, o.Unverified);
        }

        // Refused, disabled or missing program: one answer, as for a single event; nothing after it changes that.
        var probe = model.Apply(new LaunchdKickstart(false, TimeSpan.Zero), behavior);
        if (probe.Rule is LaunchdDecisionRule.LoadRefused or LaunchdDecisionRule.Disabled or LaunchdDecisionRule.SpawnFailed)
        {
            lastExit = probe.LastExit;
            phase = probe.Rule == LaunchdDecisionRule.SpawnFailed ? Phase.NotRunning : Phase.Unloaded;
            Add(TimeSpan.Zero, "launchctl bootstrap", false, null, false, probe.Rule.ToString(), $"{probe.Explanation} ({probe.FinalState})", probe.Unverified);
            Add(TimeSpan.Zero, "timeline not played", false, null, false, "NoChange",
                $"the job cannot run here, so none of the {items.Count} item(s) is played: what launchd would do with them is not modelled", null);
            return steps;
        }

        void Bootstrap(TimeSpan at, bool posed)
        {
            // launchd.plist(5): RunAtLoad, KeepAlive true, and a SuccessfulExit condition (which "implies RunAtLoad") run
            // the job at load; other conditions wait for their condition or for demand (taken as not at load).
            var runsAtLoad = s.RunAtLoad || s.KeepAlive.Unconditional || (s.KeepAlive.SuccessfulExit is not null && !s.KeepAlive.AfterInitialDemand);
            phase = runsAtLoad ? Phase.Running : Phase.NotRunning;
            since = at;
            runs += runsAtLoad ? 1 : 0;
            Add(at, "launchctl bootstrap", posed, null, runsAtLoad, "Bootstrap",
                runsAtLoad ? "loaded and started (RunAtLoad, KeepAlive true or a SuccessfulExit condition)" : "loaded, not started: no RunAtLoad, KeepAlive true or SuccessfulExit condition (a job whose PathState, OtherJobEnabled or Crashed condition holds at load is taken as not started)", null, 0);
        }

        Bootstrap(TimeSpan.Zero, posed: false);
        var i = 0;
        while (steps.Count < MaxSteps)
        {
            var timerAt = phase == Phase.SpawnScheduled ? due : (TimeSpan?)null;
            // An event posed while the process is still ending (a drain after SIGTERM) is played when it has ended.
            var busyUntil = steps.Count > 0 ? steps[^1].At : TimeSpan.Zero;
            var deferred = i < items.Count && items[i].At < busyUntil;
            var playAt = deferred ? busyUntil : i < items.Count ? items[i].At : TimeSpan.Zero;

            // A job posed during the drain comes before a relaunch due the moment the drain ends (a bootout cancels it).
            if (i < items.Count && (timerAt is null || playAt < timerAt || (deferred && playAt <= timerAt)))
            {
                var item = items[i++];
                var at = playAt;
                var ran = at - since;
                var first = steps.Count;
                if (phase == Phase.Stopping)
                {
                    Add(item.At, item.Text, true, null, false, "NoChange", "the job is still being stopped and never stops (ExitTimeOut=0): not played", null);
                    continue;
                }

                if (deferred && item.Kind is TimelineEventKind.Exit or TimelineEventKind.Signal or TimelineEventKind.Kill or TimelineEventKind.Oom)
                {
                    Add(item.At, item.Text, true, null, false, "NoChange",
                        $"the process is still ending (until t={SystemdModel.Fmt(busyUntil)}): an event meanwhile is not modelled; that ending stands", null);
                    continue;
                }

                switch (item.Kind)
                {
                    case TimelineEventKind.Exit or TimelineEventKind.Signal or TimelineEventKind.Kill or TimelineEventKind.Oom when phase != Phase.Running:
                        Add(at, item.Text, true, null, false, "NoProcess", $"no process at t={SystemdModel.Fmt(at)}: {State(phase)}", null, null);
                        break;
                    case TimelineEventKind.Exit:
                        Follow(model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(item.ExitCode!.Value), ran), behavior), at);
                        break;
                    case TimelineEventKind.Oom:
                        Follow(model.Apply(new LaunchdProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGKILL), ran), behavior), at);
                        break;
                    case TimelineEventKind.Signal or TimelineEventKind.Kill:
                        // launchctl kill only delivers the signal, like kill(1): the process decides.
                        Follow(model.Apply(new LaunchdExternalSignal(item.Signal!.Value, ran), behavior), at);
                        break;
                    case TimelineEventKind.Stop when phase == Phase.Running:
                        Follow(model.Apply(new LaunchdBootout(ran), behavior), at);
                        break;
                    case TimelineEventKind.Stop when phase == Phase.Unloaded:
                        Add(at, "launchctl bootout", true, null, false, "NoChange", "not loaded: nothing to boot out", null);
                        break;
                    case TimelineEventKind.Stop:
                        phase = Phase.Unloaded;
                        Add(at, "launchctl bootout", true, null, false, LaunchdDecisionRule.Bootout.ToString(), "no process: bootout removes the job (and any relaunch it had scheduled)", null, 0);
                        break;
                    case TimelineEventKind.Start when phase == Phase.Unloaded:
                        Bootstrap(at, posed: true);
                        if (phase != Phase.Running)
                        {
                            phase = Phase.Running;
                            runs++;
                            Add(at, "launchctl kickstart", true, null, true, LaunchdDecisionRule.Kickstart.ToString(), "kickstart runs the job now, regardless of its launch conditions", null, 0);
                        }

                        break;
                    case TimelineEventKind.Restart when phase == Phase.Unloaded:
                        Add(at, "launchctl kickstart -k", true, null, false, "NoChange", "not loaded: kickstart -k finds no such service (a start would bootstrap it first)", null);
                        break;
                    case TimelineEventKind.Start when phase == Phase.Running:
                        Follow(model.Apply(new LaunchdKickstart(false, ran), behavior), at);
                        break;
                    case TimelineEventKind.Start or TimelineEventKind.Restart when phase != Phase.Running:
                        phase = Phase.Running;
                        since = at;
                        runs++;
                        Add(at, item.Kind == TimelineEventKind.Start ? "launchctl kickstart" : "launchctl kickstart -k", true, null, true, LaunchdDecisionRule.Kickstart.ToString(),
                            "kickstart runs the job now, regardless of KeepAlive, the throttle or an on-demand-only domain", "unverified: whether kickstart itself is throttled on current macOS", 0);
                        break;
                    default:
                        Follow(model.Apply(new LaunchdKickstart(true, ran), behavior), at);
                        break;
                }

                if (at > item.At)
                {
                    for (var k = first; k < steps.Count; k++)
                    {
                        steps[k] = steps[k] with { Explanation = $"posed at t={SystemdModel.Fmt(item.At)} while the step before it ran until t={SystemdModel.Fmt(at)}, so played then (an approximation); " + steps[k].Explanation };
                    }
                }
            }
            else if (timerAt is { } spawn && spawn <= SystemdModel.Plus(items.Count == 0 ? TimeSpan.Zero : items[^1].At, options.CrashLoopHorizon) && spawn != TimeSpan.MaxValue)
            {
                phase = Phase.Running;
                since = spawn;
                runs++;
                Add(spawn, "throttled relaunch", false, null, true, "Relaunch", $"launchd spawns the job again (run {runs})", null);
            }
            else
            {
                break;
            }
        }

        if (i < items.Count)
        {
            Add(steps[^1].At, "timeline cut", false, null, false, "NoChange", $"cut after {MaxSteps} steps: {items.Count - i} item(s) from t={SystemdModel.Fmt(items[i].At)} on were not played", null);
        }

        // A step is recorded when it ended; an event named as not played during one is recorded when it was posed.
        return [.. steps.OrderBy(st => st.At)];
    }

    private static string State(Phase phase) => phase switch
    {
        Phase.Running => "running",
        Phase.SpawnScheduled => "spawn scheduled",
        Phase.NotRunning => "not running",
        Phase.Pending => "pending spawn (on-demand-only)",
        Phase.Stopping => "stopping (for ever)",
        _ => "unloaded",
    };
}
