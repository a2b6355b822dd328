using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Systemd;

/// <summary>What the service's process does by itself, besides reacting to signals.</summary>
/// <param name="Signals">how it reacts to signals (the gateway's contract, the default actions, ignoring, a handler that exits)</param>
/// <param name="SendsReady">it sends READY=1 at once (matters for Type=notify only; the Hermes gateway does not)</param>
/// <param name="PingsWatchdog">it sends WATCHDOG=1 in time (matters with WatchdogSec= only; the Hermes gateway does not)</param>
/// <param name="EachRunEnds">every run ends by itself like this (a crash loop, a failure to exec), after <paramref name="RunsFor"/></param>
/// <param name="RunsFor">how long each run lasts when <paramref name="EachRunEnds"/> is set</param>
/// <param name="ExecFails">every run fails before the program runs (EachRunEnds is then exit 200–245): Type=exec and notify starts fail</param>
public sealed record SystemdProcessProfile(
    IProcessBehavior Signals,
    bool SendsReady = false,
    bool PingsWatchdog = false,
    ProcessEnding? EachRunEnds = null,
    TimeSpan RunsFor = default,
    bool ExecFails = false)
{
    /// <summary>A process whose every start fails before exec with <paramref name="status"/> (203/EXEC: not found, 200/CHDIR, 217/USER...).</summary>
    public static SystemdProcessProfile FailingExec(IProcessBehavior signals, int status) =>
        new(signals, EachRunEnds: ProcessEnding.Exit(status), RunsFor: TimeSpan.Zero, ExecFails: true);
}

/// <summary>An event of a timeline and when it happens, counted from the first start (t = 0).</summary>
public sealed record SystemdTimedEvent(TimeSpan At, SystemdEvent Event);

/// <summary>
/// One step of a timeline: an event (posed, or one of the manager's timers), what the manager did, and where the unit
/// stands right after it, as 'systemctl show' and 'systemctl is-active' would report it.
/// </summary>
/// <param name="At">when it happened</param>
/// <param name="Posed">whether the timeline posed it (false: the manager's own timer or the process' own end)</param>
/// <param name="Outcome">the model's answer for the event; its Final is the state after any restart it leads to</param>
/// <param name="State">the state right after the step (auto-restart while a restart is pending)</param>
/// <param name="Started">a run of the process started in this step</param>
/// <param name="RestartDue">when the pending automatic restart fires, if one is pending</param>
/// <param name="CommandExitCode">the exit status of the systemctl command the step stands for (null for other events)</param>
/// <param name="IsActive">what 'systemctl is-active' prints right after the step</param>
/// <param name="IsActiveExitCode">and its exit status</param>
/// <param name="CommandDoneAt">when the systemctl command returns (a start job may wait for readiness or for a pending restart)</param>
public sealed record SystemdStep(
    TimeSpan At,
    bool Posed,
    SystemdOutcome Outcome,
    SystemdUnitState State,
    bool Started,
    TimeSpan? RestartDue,
    int? CommandExitCode,
    string IsActive,
    int IsActiveExitCode,
    TimeSpan? CommandDoneAt = null)
{
    public SystemdEvent Event => Outcome.Event;
}

/// <summary>
/// Plays a timeline of events against one unit, on the rules of <see cref="SystemdModel"/> plus the manager's own
/// timers between events: the RestartSec= wait (stop, start and restart during it, docs/models.md §1.6),
/// TimeoutStartSec= for a process that never says READY=1, WatchdogSec=, RuntimeMaxSec= and starts that fail before
/// exec. The unit is started by hand at t = 0; after the last event the timers run on until nothing is pending, or
/// until the horizon (a loop that never gives up).
/// </summary>
public sealed class SystemdSimulator(SystemdModel model, SystemdProcessProfile process)
{
    /// <summary>The most steps one timeline plays; a loop that never gives up is cut there.</summary>
    public const int MaxSteps = 2000;

    private enum Phase
    {
        /// <summary>The main process runs (ready or, for Type=notify, still starting).</summary>
        Up,

        /// <summary>No process; a restart is due at <see cref="restartDue"/> (auto-restart).</summary>
        AutoRestart,

        /// <summary>No process and nothing pending: inactive, failed, or active (exited) with RemainAfterExit=.</summary>
        Down,

        /// <summary>The process outlived a stop that never kills it (deactivating for ever).</summary>
        Stuck,
    }

    private Phase phase;
    private SystemdUnitState state = null!;
    private SystemdUnitState pendingRestart = null!;
    private TimeSpan restartDue;
    private bool ready;
    private TimeSpan upSince;

    /// <summary>252–256's flush_n_restarts: set when a run ends with no restart to follow; a start by hand resets NRestarts only then.</summary>
    private bool flushRestarts;
    private readonly List<int> waitingStarts = [];

    /// <summary>What the unit shows while the step that ends at <see cref="busyUntil"/> is under way (a stop waiting for the process).</summary>
    private SystemdUnitState? busyState;

    /// <summary>Whether the step under way is the manager's own stop (jobs queue behind it) or a process draining after a signal from outside.</summary>
    private bool busyIsManagerJob;
    private TimeSpan now;

    /// <summary>When the last step ended: a stop or restart takes as long as the process needs to end.</summary>
    private TimeSpan busyUntil;
    private readonly List<SystemdStep> steps = [];

    public SystemdModel Model { get; } = model;

    public SystemdProcessProfile Process { get; } = process;

    /// <summary>Plays <paramref name="timeline"/> (sorted by time) and the timers after it up to <paramref name="horizon"/> after the last event.</summary>
    public IReadOnlyList<SystemdStep> Run(IReadOnlyList<SystemdTimedEvent> timeline, TimeSpan horizon)
    {
        steps.Clear();
        busyUntil = TimeSpan.Zero;
        waitingStarts.Clear();
        busyState = null;
        busyIsManagerJob = false;
        flushRestarts = true;
        var fresh = new SystemdUnitState("inactive", "dead", ServiceResult.Success, ExecMainCode.None, 0, 0, TimeSpan.Zero, 0, TimeSpan.Zero);
        state = fresh;
        phase = Phase.Down;
        if (Model.LoadRefused)
        {
            var refused = Model.Apply(fresh, new ManagerStart(), Process.Signals, TimeSpan.Zero);
            Add(TimeSpan.Zero, true, refused, fresh, started: false, command: 5);
            return [.. steps];
        }

        StartByHand(new ManagerStart(), TimeSpan.Zero, posed: true);
        var last = timeline.Count == 0 ? TimeSpan.Zero : timeline[^1].At;
        var end = SystemdModel.Plus(last, horizon);
        var i = 0;
        // Jobs (start, stop, restart) posed while the manager still carries out the one before (a stop waiting for the
        // process) queue behind it and run when it ends; queries and the process' own events act at their time.
        var queued = new Queue<SystemdTimedEvent>();
        while (steps.Count < MaxSteps)
        {
            if (i < timeline.Count && timeline[i].Event is ManagerStart or ManagerStop or ManagerRestart && ((busyIsManagerJob && timeline[i].At < busyUntil) || queued.Count > 0))
            {
                queued.Enqueue(timeline[i]);
                i++;
                continue;
            }

            var timer = NextTimer();
            var queuedAt = queued.Count > 0 ? (queued.Peek().At < busyUntil ? busyUntil : queued.Peek().At) : (TimeSpan?)null;
            var posedAt = i < timeline.Count ? timeline[i].At : (TimeSpan?)null;
            if (queuedAt is { } qa && (posedAt is null || qa <= posedAt) && (timer is null || qa < timer.Value.At))
            {
                var job = queued.Dequeue();
                var first = steps.Count;
                Pose(job with { At = qa });
                if (qa > job.At)
                {
                    var note = $"posed at {Fmt(job.At)} while the manager's job before it ran until {Fmt(qa)}, so played then; ";
                    for (var k = first; k < steps.Count; k++)
                    {
                        steps[k] = steps[k] with { Outcome = steps[k].Outcome with { Explanation = note + steps[k].Outcome.Explanation } };
                    }
                }
            }
            else if (posedAt is { } pa && (timer is null || pa < timer.Value.At))
            {
                Pose(timeline[i]);
                i++;
            }
            else if (timer is { } due && due.At <= end)
            {
                Fire(due.At, due.Event);
            }
            else
            {
                break;
            }
        }

        if (i < timeline.Count || queued.Count > 0)
        {
            // A loop that never gives up filled the steps before the timeline ended: say what was not played.
            var from = queued.Count > 0 ? queued.Peek().At : timeline[i].At;
            Add(steps[^1].At, false, Note(new IsActiveQuery(), SystemdDecisionRule.NoChange,
                $"cut after {MaxSteps} steps: {timeline.Count - i + queued.Count} item(s) of the timeline from {Fmt(from)} on were not played"), state, started: false, command: null);
        }

        // A step is recorded when it ended; one posed during it (a query) ended first: the steps in the order they ended.
        return [.. steps.OrderBy(st => st.At)];
    }

    /// <summary>'systemctl is-active': the ActiveState, exit 0 only for active and reloading (and refreshing, 257+).</summary>
    public static (string Text, int ExitCode) IsActive(SystemdUnitState s, int version) =>
        (s.ActiveState, s.ActiveState is "active" or "reloading" || (version >= 257 && s.ActiveState == "refreshing") ? 0 : 3);

    private (TimeSpan At, SystemdEvent Event)? NextTimer()
    {
        var s = Model.Settings;
        switch (phase)
        {
            case Phase.AutoRestart:
                return restartDue == TimeSpan.MaxValue ? null : (restartDue, new RestartTimerFired());
            case Phase.Up:
                (TimeSpan At, SystemdEvent Event)? next = null;
                void Consider(TimeSpan? after, SystemdEvent ev)
                {
                    if (after is { } a && SystemdModel.Plus(upSince, a) is var at && at != TimeSpan.MaxValue && (next is null || at < next.Value.At))
                    {
                        next = (at, ev);
                    }
                }

                if (Process.EachRunEnds is { } ends)
                {
                    Consider(Process.RunsFor, new MainProcessEnded(ends));
                }

                if (!ready)
                {
                    Consider(s.TimeoutStartSec, new ManagerTimerFired(ManagerTimer.StartTimeout));
                }
                else
                {
                    Consider(s.RuntimeMaxSec, new ManagerTimerFired(ManagerTimer.RuntimeMax));
                }

                // The watchdog is armed when the start is done (start-post): at once for simple, at READY=1 for notify.
                if (ready && s.WatchdogSec is not null && !Process.PingsWatchdog)
                {
                    Consider(s.WatchdogSec, new ManagerTimerFired(ManagerTimer.Watchdog));
                }

                return next;
            default:
                return null;
        }
    }

    private void Pose(SystemdTimedEvent timed)
    {
        var (at, ev) = (timed.At, timed.Event);
        now = at;
        if (at < busyUntil && busyState is not null)
        {
            // During the manager's stop only jobs are queued (above); a query sees the stop under way. While a process
            // drains after a signal from outside the unit is still active, and what else comes then is not played.
            var why = busyIsManagerJob
                ? $"the process is being stopped until {Fmt(busyUntil)}: an event during a stop is not modelled; the stop's ending stands"
                : $"the process is still ending after a signal from outside (until {Fmt(busyUntil)}): an event meanwhile is not modelled; that ending stands";
            if (ev is IsActiveQuery)
            {
                var (shown, code) = IsActive(busyState, Model.Version);
                steps.Add(new SystemdStep(at, true, Note(ev, SystemdDecisionRule.NoChange, $"prints {shown}, exit {code}, while the step before it runs until {Fmt(busyUntil)}"),
                    busyState, false, null, code, shown, code, at));
                return;
            }

            steps.Add(new SystemdStep(at, true, Note(ev, SystemdDecisionRule.NoChange, why), busyState, false, null, null,
                IsActive(busyState, Model.Version).Text, IsActive(busyState, Model.Version).ExitCode));
            return;
        }

        switch (ev)
        {
            case ManagerStart when phase == Phase.AutoRestart:
                // The start job's own try counts on the start limit. 252–256: service_start() answers -EAGAIN and the
                // job waits for the restart timer, whose restart is the automatic one (NRestarts counts it); 257+: the
                // start cuts the wait short, still as the automatic restart.
                var tried = Model.Start(state, at, manual: false, out var limitHit);
                if (limitHit)
                {
                    state = tried;
                    phase = Phase.Down;
                    flushRestarts = true;
                    Add(at, true, Note(ev, SystemdDecisionRule.StartLimit,
                        $"the start hits the start limit ({Model.Settings.StartLimitBurst} starts in {Fmt(Model.Settings.StartLimitInterval)}): the pending restart is dropped, failed"), state, started: false, command: 1);
                    return;
                }

                state = state with { StartLimitWindowBegin = tried.StartLimitWindowBegin, StartLimitCount = tried.StartLimitCount };
                pendingRestart = pendingRestart with { StartLimitWindowBegin = tried.StartLimitWindowBegin, StartLimitCount = tried.StartLimitCount };
                if (Model.Version >= 257)
                {
                    Add(at, true, Note(ev, SystemdDecisionRule.ManagerStart, "an automatic restart is pending: since 257 a start cuts the wait short, and counts as that restart"),
                        state, started: false, command: null);
                    waitingStarts.Add(steps.Count - 1);
                    restartDue = at;
                    pendingRestart = Model.Start(state with { NRestarts = state.NRestarts + 1 }, at, manual: false, out _);
                    return;
                }

                Add(at, true, Note(ev, SystemdDecisionRule.ManagerStart,
                    $"an automatic restart is pending: the start job waits for it ({Fmt(restartDue)}) and ends with it (before 257)"), state, started: false, command: null);
                waitingStarts.Add(steps.Count - 1);
                pendingRestart = Model.Start(state with { NRestarts = state.NRestarts + 1 }, restartDue, manual: false, out _);
                return;
            case ManagerStop when phase == Phase.AutoRestart:
                // 252: service_stop() in auto-restart goes straight to dead; Result= and ExecMain* of the run are kept.
                state = state with { ActiveState = "inactive", SubState = "dead" };
                phase = Phase.Down;
                Add(at, true, Note(ev, SystemdDecisionRule.RestartCancelled,
                    $"the pending restart is cancelled: inactive (dead), Result={SystemdNames.Of(state.Result)} kept from the run that ended"), state, started: false, command: 0);
                FinishWaitingStart(1);
                return;
            case ManagerStart when phase == Phase.Down && state.ActiveState == "active":
                Add(at, true, Note(ev, SystemdDecisionRule.NoChange, "active (exited) under RemainAfterExit=yes: a start has nothing to do"), state, started: false, command: 0);
                return;
            case ManagerStop when phase == Phase.Down && state.ActiveState == "active":
                state = state with { ActiveState = "inactive", SubState = "dead" };
                flushRestarts = true;
                Add(at, true, Note(ev, SystemdDecisionRule.ManagerStop, "active (exited) under RemainAfterExit=yes: the stop takes it to inactive (dead)"), state, started: false, command: 0);
                return;
            case ManagerStart when phase == Phase.Stuck:
                Add(at, true, Note(ev, SystemdDecisionRule.NoChange, "the unit is still stopping: the start job waits behind that stop (not modelled further)"), state, started: false, command: null);
                return;
            case ManagerRestart when phase is Phase.AutoRestart or Phase.Down:
            case ManagerStart when phase == Phase.Down:
                if (phase == Phase.AutoRestart)
                {
                    state = state with { ActiveState = "inactive", SubState = "dead" };
                    phase = Phase.Down;
                }

                StartByHand(ev, at, posed: true);
                return;
            case ManagerStart:
                var starting = phase == Phase.Up && !ready;
                Add(at, true, Note(ev, SystemdDecisionRule.NoChange, starting ? "the unit is still starting: the job waits for that start" : "already running: nothing to do"),
                    state, started: false, command: starting ? null : 0);
                if (starting)
                {
                    waitingStarts.Add(steps.Count - 1);
                }

                return;
            case ManagerStop when phase == Phase.Down:
                Add(at, true, Note(ev, SystemdDecisionRule.NoChange, $"not running: {state.ActiveState} ({state.SubState}) stays as it is"), state, started: false, command: 0);
                return;
            case IsActiveQuery:
                var (text, code) = IsActive(state, Model.Version);
                Add(at, true, Note(ev, SystemdDecisionRule.NoChange, $"prints {text}, exit {code}"), state, started: false, command: code);
                return;
            case ManagerStop or ManagerRestart when phase == Phase.Stuck:
                Add(at, true, Note(ev, SystemdDecisionRule.NoChange, "the unit is still stopping: the job waits behind that stop (not modelled further)"), state, started: false, command: null);
                return;
            case MainProcessEnded or ExternalSignal or ManagerKill or OomKill when phase == Phase.Stuck:
                Add(at, true, Note(ev, SystemdDecisionRule.NoChange, "the unit is still stopping: what this does to the stop is not modelled"), state, started: false, command: null);
                return;
            case MainProcessEnded or ExternalSignal or ManagerKill or OomKill when phase != Phase.Up:
                Add(at, true, Note(ev, SystemdDecisionRule.NoProcess, $"no main process at {Fmt(at)}: {state.ActiveState} ({state.SubState})"), state, started: false,
                    command: ev is ManagerKill ? 1 : null);
                return;
        }

        Apply(at, ev, posed: true);
    }

    private void Fire(TimeSpan at, SystemdEvent ev)
    {
        now = at;
        if (ev is RestartTimerFired)
        {
            var refused = pendingRestart.ActiveState == "failed";
            state = pendingRestart;
            phase = refused ? Phase.Down : Phase.Up;
            flushRestarts = refused;
            var why = refused
                ? $"the automatic restart hits the start limit ({Model.Settings.StartLimitBurst} starts in {Fmt(Model.Settings.StartLimitInterval)}): failed"
                : $"RestartSec= elapsed: automatic restart number {state.NRestarts}";
            Add(at, false, Note(ev, refused ? SystemdDecisionRule.StartLimit : SystemdDecisionRule.RestartTimer, why) with { Revived = !refused },
                state, started: !refused, command: null);
            if (!refused)
            {
                Launched(at);
            }

            FinishWaitingStart(refused ? 1 : ReadyCode());
            return;
        }

        Apply(at, ev, posed: false);
    }

    private void Apply(TimeSpan at, SystemdEvent ev, bool posed)
    {
        var before = state;
        var wasReady = ready;
        var o = Model.Apply(state, ev, Process.Signals, at, beforeReady: !ready && phase == Phase.Up);

        var command = ev switch
        {
            ManagerStop => 0,
            ManagerKill => 0,
            _ => (int?)null,
        };

        if (o.Rule == SystemdDecisionRule.StillRunning)
        {
            state = o.Final;
            phase = o.Final.ActiveState == "deactivating" ? Phase.Stuck : Phase.Up;
            Add(at, posed, o, state, started: false, command: phase == Phase.Stuck ? null : command);
            if (phase == Phase.Stuck && !wasReady)
            {
                // The unit left activating: a start job waiting for readiness fails.
                FinishWaitingStart(1);
            }

            return;
        }

        if (o.EndedAfter > TimeSpan.Zero && o.EndedAfter != TimeSpan.MaxValue)
        {
            // Until the process has ended the unit shows the stop under way, or, after a signal from outside, is still active.
            busyIsManagerJob = ev is ManagerStop or ManagerRestart or ManagerTimerFired;
            busyState = busyIsManagerJob
                ? before with { ActiveState = "deactivating", SubState = ev is ManagerTimerFired { Timer: ManagerTimer.Watchdog } ? "stop-watchdog" : "stop-sigterm" }
                : before;
        }

        var endAt = SystemdModel.Plus(at, o.EndedAfter);
        var ending = before with { Result = o.Result, ExecMainCode = o.ExecMainCode, ExecMainStatus = o.ExecMainStatus };
        // An automatic restart counts itself in NRestarts, also when the start limit refuses it; the reviver's start does not.
        var automatic = (o.Rule is SystemdDecisionRule.RestartSetting or SystemdDecisionRule.RestartForceExitStatus && o.Revived)
            || (o.Rule == SystemdDecisionRule.StartLimit && o.Delay is not null && o.Final.NRestarts == before.NRestarts + 1);
        if (ev is ManagerRestart && o.Final.ActiveState != "deactivating")
        {
            // The stop half, then a start job like any other: NRestarts flushed, counted on the start limit.
            state = o.Final;
            phase = o.Revived ? Phase.Up : Phase.Down;
            flushRestarts = !o.Revived;
            FinishWaitingStart(o.Revived ? -1 : 1);
            Add(SystemdModel.Plus(at, o.EndedAfter), posed, o, state, started: o.Revived, command: o.Revived ? null : 1);
            if (o.Revived)
            {
                Launched(endAt);
                PendStart(steps.Count - 1);
            }

            return;
        }

        if (o.Final.ActiveState == "deactivating")
        {
            // A stop that waits for ever: recorded when it was asked, and everything after it finds the unit stopping.
            state = o.Final;
            phase = Phase.Stuck;
            busyState = null;
            Add(at, posed, o, state, started: false, command: null);
        }
        else if (automatic)
        {
            pendingRestart = o.Final;
            restartDue = SystemdModel.Plus(endAt, o.Delay!.Value);
            // While the restart waits the unit shows the run's own result: start-limit-hit only comes when it is refused.
            var shown = o.Rule == SystemdDecisionRule.StartLimit && o.Result == ServiceResult.StartLimitHit ? ServiceResult.Success : o.Result;
            state = ending with { ActiveState = "activating", SubState = "auto-restart", Result = shown };
            phase = Phase.AutoRestart;
            Add(endAt, posed, o, state, started: false, command: command);
        }
        else if (o.Final.SubState == "auto-restart")
        {
            // RestartSec=infinity: waits for a timer that never fires.
            pendingRestart = o.Final;
            restartDue = TimeSpan.MaxValue;
            state = o.Final;
            phase = Phase.AutoRestart;
            Add(endAt, posed, o, state, started: false, command: command);
        }
        else if (o.Revived)
        {
            // The module's reviver queued a start job at once.
            state = o.Final;
            phase = Phase.Up;
            Add(endAt, posed, o, state, started: true, command: command);
            Launched(endAt);
        }
        else
        {
            state = o.Final;
            phase = Phase.Down;
            flushRestarts = true;
            Add(endAt, posed, o, state, started: false, command: command);
        }

        if (!wasReady && phase != Phase.Up)
        {
            // The run ended before it was ready: a start job waiting for it fails.
            FinishWaitingStart(1);
        }
    }

    private void StartByHand(SystemdEvent ev, TimeSpan at, bool posed)
    {
        // 257+ resets NRestarts on every start but the queued automatic one; before, only after a run that ended for good.
        var flush = Model.Version >= 257 || flushRestarts;
        var started = Model.Start(state, at, manual: flush, out var refused);
        state = started;
        if (refused)
        {
            phase = Phase.Down;
            flushRestarts = true;
            Add(at, posed, Note(ev, SystemdDecisionRule.StartLimit,
                $"the start hits the start limit ({Model.Settings.StartLimitBurst} starts in {Fmt(Model.Settings.StartLimitInterval)}): failed, Result={SystemdNames.Of(state.Result)}"), state,
                started: false, command: 1);
            return;
        }

        phase = Phase.Up;
        flushRestarts = false;
        Add(at, posed, Note(ev, SystemdDecisionRule.ManagerStart, flush ? "started" : "started; NRestarts is kept (the run before ended with a restart pending)") with { Revived = true },
            state, started: true, command: null);
        Launched(at);
        PendStart(steps.Count - 1);
    }

    /// <summary>A run has begun at <paramref name="at"/>: readiness as the type and the process decide.</summary>
    private void Launched(TimeSpan at)
    {
        upSince = at;

        // A start job ends when the process is ready: at once for simple, at exec for exec, at READY=1 for notify.
        ready = Model.Settings.Type switch
        {
            ServiceType.Notify or ServiceType.NotifyReload => Process.SendsReady && !Process.ExecFails,
            ServiceType.Exec => !Process.ExecFails,
            _ => true,
        };
        if (!ready)
        {
            state = state with { ActiveState = "activating", SubState = "start" };
            steps[^1] = steps[^1] with { State = state, IsActive = IsActive(state, Model.Version).Text, IsActiveExitCode = IsActive(state, Model.Version).ExitCode };
        }
    }

    /// <summary>The start job of step <paramref name="index"/> ends now if the run is ready, else when it is or fails.</summary>
    private void PendStart(int index)
    {
        if (ready)
        {
            steps[index] = steps[index] with { CommandExitCode = 0, CommandDoneAt = steps[index].At };
        }
        else
        {
            waitingStarts.Add(index);
        }
    }

    private int ReadyCode() => ready ? 0 : -1;

    /// <summary>Every start job waiting for this run ends now with <paramref name="code"/> (merged jobs share their result); -1 leaves them waiting.</summary>
    private void FinishWaitingStart(int code)
    {
        if (code < 0)
        {
            return;
        }

        foreach (var index in waitingStarts)
        {
            steps[index] = steps[index] with { CommandExitCode = code, CommandDoneAt = SystemdModel.Plus(now, steps[^1].Outcome.EndedAfter) };
        }

        waitingStarts.Clear();
    }

    private SystemdOutcome Note(SystemdEvent ev, SystemdDecisionRule rule, string why) =>
        new(ev, null, state.Result, state.ExecMainCode, state.ExecMainStatus, false, null, TimeSpan.Zero, rule, why, state);

    private void Add(TimeSpan at, bool posed, SystemdOutcome o, SystemdUnitState after, bool started, int? command)
    {
        busyUntil = at > busyUntil ? at : busyUntil;
        var (text, code) = IsActive(after, Model.Version);
        steps.Add(new SystemdStep(at, posed, o, after, started, phase == Phase.AutoRestart && restartDue != TimeSpan.MaxValue ? restartDue : null, command, text, code,
            command is null ? null : at));
    }

    private static string Fmt(TimeSpan t) => t == TimeSpan.MaxValue ? "never" : "t=" + SystemdModel.Fmt(t);
}

/// <summary>systemctl is-active: asks, changes nothing.</summary>
public sealed record IsActiveQuery : SystemdEvent
{
    public override string Describe() => "systemctl is-active";
}

/// <summary>The RestartSec= timer fires.</summary>
public sealed record RestartTimerFired : SystemdEvent
{
    public override string Describe() => "RestartSec= elapsed";
}
