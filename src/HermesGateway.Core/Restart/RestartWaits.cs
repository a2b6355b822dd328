using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Service;

namespace HermesGateway.Core.Restart;

/// <summary>
/// The waits of one restart (or start): for the old process to exit, for the supervisor to run a new one, and for that
/// one to report itself running. The supervisor is asked at a bounded rate (at most 10 times a second, backing off to
/// once a second); the cheap checks in between (the state file, /proc) run often. A new process that ends while it is
/// waited for ends the wait at once with its exit and the last log lines. Each wait reports progress through the host,
/// honours Ctrl+C, and ends at a deadline measured on the engine's clock. The orchestration (what to do when a wait
/// ends) is the caller's.
/// </summary>
internal sealed class RestartWaits(IServiceManager manager, IProcessTable processes, ServiceIdentity service, IEngineHost host)
{
    /// <summary>The first pause between two asks of the supervisor (each a systemctl/launchctl call).</summary>
    internal static readonly TimeSpan SupervisorPollFirst = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause between two asks of the supervisor while a wait goes on.</summary>
    internal static readonly TimeSpan SupervisorPollMost = TimeSpan.FromSeconds(1);

    /// <summary>How often the state file is read while the new process starts (a small file read).</summary>
    private static readonly TimeSpan HealthPoll = TimeSpan.FromMilliseconds(10);

    /// <summary>Without a process handle: how often the old PID is checked during the drain (/proc reads cost microseconds).</summary>
    private static readonly TimeSpan ExitPoll = TimeSpan.FromMilliseconds(2);

    /// <summary>With a process handle: the longest single block on it, so progress moves and Ctrl+C is honoured.</summary>
    private static readonly TimeSpan DrainSlice = TimeSpan.FromMilliseconds(100);

    /// <summary>The least time between two progress reports of the same step.</summary>
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(200);

    /// <summary>How many of the gateway's last log lines a start-up failure carries.</summary>
    internal const int LogLines = 10;

    private readonly TimeProvider clock = host.Clock;
    private string? lastReported;
    private long? lastReport;

    /// <summary>The activity progress is reported under: "Restarting", "Starting", "Waiting for".</summary>
    public string Activity { get; init; } = "Restarting";

    /// <summary>The error a wait that runs out of time ends with, and how its message names the wait.</summary>
    public (string ErrorId, string What) TimeoutError { get; init; } = (HermesErrorIds.RestartTimeout, "the restart's time ran out");

    /// <summary>What the gateway's exit codes mean, for the error of a new process that ended.</summary>
    public GatewayExitContract Contract { get; init; } = GatewayExitContract.Hermes;

    /// <summary>Waits for a gateway other than <paramref name="old"/> to run and report itself running.</summary>
    public (RunningGateway Fresh, TimeSpan Supervisor, TimeSpan Health) NewAndHealthy(RunningGateway old, TimeSpan timeout, GatewayObservation? before = null)
    {
        var (fresh, supervisor, health) = Wait(old, before, timeout);
        return (fresh, supervisor, health);
    }

    /// <summary>
    /// Waits until the gateway's state file names a running process that is the supervisor's (any, or none before: the
    /// first one the supervisor reports), still alive with the start time it had then.
    /// </summary>
    public (RunningGateway Gateway, TimeSpan Health) Healthy(RunningGateway? candidate, TimeSpan within, GatewayObservation? before = null)
    {
        var (gateway, _, health) = Wait(null, before, within, candidate);
        return (gateway, health);
    }

    /// <summary>
    /// The supervisor's view before an action that starts a gateway: what a later end is told apart from. Null when the
    /// supervisor cannot say (the action itself will report that).
    /// </summary>
    public GatewayObservation? Before()
    {
        try
        {
            return manager.Observe(service, host.Cancellation);
        }
        catch (HermesException)
        {
            return null;
        }
    }

    /// <summary>
    /// The one wait for a healthy gateway that is not <paramref name="old"/>: the supervisor asked at a backing-off rate
    /// (at once again when the candidate's process is gone), the state file read in between. A process that ended since
    /// <paramref name="before"/> (or since the first look) ends the wait with <see cref="HermesErrorIds.GatewayExitedOnStart"/>.
    /// </summary>
    private (RunningGateway Gateway, TimeSpan Supervisor, TimeSpan Health) Wait(RunningGateway? old, GatewayObservation? before, TimeSpan within, RunningGateway? candidate = null)
    {
        var timer = new ElapsedTimer(clock);
        var deadline = clock.GetUtcNow() + (within > TimeSpan.Zero ? within : TimeSpan.Zero);
        var pause = SupervisorPollFirst;
        TimeSpan? nextAsk = candidate is null ? TimeSpan.Zero : pause;
        var found = candidate is null ? (TimeSpan?)null : TimeSpan.Zero;
        while (true)
        {
            var gone = candidate is not null && !IsStill(candidate);
            if (timer.Elapsed >= nextAsk || gone)
            {
                var seen = manager.Observe(service, host.Cancellation);
                nextAsk = timer.Elapsed + pause;
                pause = TimeSpan.FromTicks(Math.Min(SupervisorPollMost.Ticks, (long)(pause.Ticks * 1.5)));
                before ??= seen;
                if (seen.Running is { } current && !Same(current, old))
                {
                    if (candidate is not null && !Same(current, candidate))
                    {
                        host.WriteVerbose($"{service.Name}: PID {candidate.Pid} is gone and {manager.SupervisorName} runs PID {current.Pid}; following it.");
                    }

                    candidate = current; // the first one seen, or it was replaced: follow the newest
                    found ??= timer.Elapsed;
                }
                else if (seen.Running is null && seen.EndedSince(before, old))
                {
                    throw Ended(seen);
                }
                else if (seen.Running is null && gone)
                {
                    candidate = null; // gone, and the supervisor has not recorded its end yet: asked again soon
                    nextAsk = timer.Elapsed + SupervisorPollFirst;
                }
            }

            if (candidate is not null && GatewayRestarter.ReportsRunning(service.HermesHome, candidate.Pid) && IsStill(candidate))
            {
                var supervisor = found ?? timer.Elapsed;
                return (candidate, supervisor, timer.Elapsed - supervisor);
            }

            var step = candidate is null ? "waiting for the supervisor" : "waiting for the gateway to report itself running";
            var untilAsk = nextAsk.Value - timer.Elapsed;
            Tick(step, timer.Elapsed, within, deadline, candidate is null && untilAsk > TimeSpan.Zero ? untilAsk : HealthPoll);
        }
    }

    /// <summary>Waits until the supervisor runs nothing for the service: inactive, failed or not loaded.</summary>
    public (GatewayObservation Seen, TimeSpan Elapsed) Stopped(TimeSpan within)
    {
        var timer = new ElapsedTimer(clock);
        var deadline = clock.GetUtcNow() + (within > TimeSpan.Zero ? within : TimeSpan.Zero);
        var pause = SupervisorPollFirst;
        while (true)
        {
            var seen = manager.Observe(service, host.Cancellation);
            if (seen.Stopped && seen.Running is null)
            {
                return (seen, timer.Elapsed);
            }

            Tick($"waiting for it to stop ({seen.State})", timer.Elapsed, within, deadline, pause);
            pause = TimeSpan.FromTicks(Math.Min(SupervisorPollMost.Ticks, (long)(pause.Ticks * 1.5)));
        }
    }

    private static bool Same(RunningGateway a, RunningGateway? b) => b is not null && a.Pid == b.Pid && a.StartTime == b.StartTime;

    /// <summary>
    /// The error for a new process that ended while it was waited for: its exit in the contract's words, what the
    /// supervisor did with the service, the gateway's own word where its state file has one, and the last log lines.
    /// </summary>
    private HermesException Ended(GatewayObservation seen)
    {
        var ending = seen.LastEnding!;
        var permanent = seen.SetupFailed || (ending.Kind == EndingKind.Exited && (ending.ExitCode == Contract.ConfigErrorExitCode || ending.ExitCode == Contract.PlannedStopExitCode));
        var exit = ending.Kind != EndingKind.Exited ? ending.ToString()
            : seen.SetupFailed ? $"exit {ending.ExitCode} ({manager.SupervisorName} could not set up the gateway's process; it never ran)"
            : "exit " + Contract.DescribeExitCode(ending.ExitCode);
        var pid = seen.LastPid is { } p ? $" (PID {p.ToString(System.Globalization.CultureInfo.InvariantCulture)})" : string.Empty;
        var own = service.HermesHome is { } home && GatewayStateFile.Read(home) is { State: { } state } file && (seen.LastPid is null || file.Pid == seen.LastPid) && state != "running"
            ? $"; its state file says '{state}'" : string.Empty;
        var supervisor = seen.Failed ? $"{manager.SupervisorName} left it failed"
            : seen.Restarting ? $"{manager.SupervisorName} is starting it again ({seen.State})"
            : $"{manager.SupervisorName} shows it {seen.State}";
        var next = permanent ? $"It is not started again: fix what the log says, then Start-HermesGateway {service.Name}." : "It crashed while starting.";
        var log = manager.RecentLog(service, LogLines, host.Cancellation, out var why);
        var lines = log is null ? $"No log lines: {why}." : "Last log lines:" + string.Concat(log.Select(l => Environment.NewLine + "  " + l));
        return new HermesException(HermesErrorIds.GatewayExitedOnStart, HermesErrorCategory.InvalidOperation,
            $"{service.Name}: the gateway{pid} ended while starting, with {exit}{own}; {supervisor}. {next}{Environment.NewLine}{lines}",
            new GatewayStartFailure(service.Name, ending, permanent, log ?? []));
    }

    /// <summary>The process is alive and still the one that was identified (the same start time where it is known).</summary>
    public bool IsStill(RunningGateway gateway) =>
        processes.IsAlive(gateway.Pid) && (gateway.StartTime is null || processes.StartTime(gateway.Pid) == gateway.StartTime);

    /// <summary>
    /// Waits for the old process to exit: woken by the kernel through its handle where there is one, else by asking
    /// every few milliseconds whether its PID still names it. The exit starts the downtime, so it is noticed at once.
    /// </summary>
    public bool Exited(RunningGateway old, IProcessHandle? handle, TimeSpan budget)
    {
        var deadline = clock.GetUtcNow() + budget;
        var timer = new ElapsedTimer(clock);
        while (true)
        {
            // The handle wakes us at the exit; the PID check stays as the fallback should the handle never tell.
            if (handle?.HasExited == true || !IsStill(old))
            {
                return true;
            }

            var left = deadline - clock.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            Report($"draining PID {old.Pid}", Math.Min(100, 100 * timer.Elapsed.TotalMilliseconds / Math.Max(1, budget.TotalMilliseconds)));
            host.Cancellation.ThrowIfCancellationRequested();
            if (handle is not null)
            {
                // Blocks until the exit, in slices short enough for progress and Ctrl+C.
                handle.WaitForExit(left < DrainSlice ? left : DrainSlice);
            }
            else
            {
                Thread.Sleep(ExitPoll);
            }
        }
    }

    /// <summary>Progress for the host, at most every <see cref="ProgressEvery"/> per step (the waits poll far more often).</summary>
    private void Report(string what, double percent)
    {
        if (what == lastReported && lastReport is { } at && clock.GetElapsedTime(at) < ProgressEvery)
        {
            return;
        }

        lastReported = what;
        lastReport = clock.GetTimestamp();
        host.WriteProgress($"{Activity} {service.Name}", what, percent);
    }

    private void Tick(string what, TimeSpan elapsed, TimeSpan timeout, DateTimeOffset deadline, TimeSpan? pause = null)
    {
        if (clock.GetUtcNow() >= deadline)
        {
            throw new HermesException(TimeoutError.ErrorId, HermesErrorCategory.OperationTimeout,
                $"{service.Name}: still {what} when {TimeoutError.What} ({elapsed.TotalSeconds:0.#} s into this step).", service.Name);
        }

        Report(what, Math.Min(100, 100 * elapsed.TotalMilliseconds / Math.Max(1, timeout.TotalMilliseconds)));
        host.Cancellation.ThrowIfCancellationRequested();
        // The pause ends early at Ctrl+C.
        host.Cancellation.WaitHandle.WaitOne(pause ?? SupervisorPollFirst);
        host.Cancellation.ThrowIfCancellationRequested();
    }
}

/// <summary>Time elapsed since it was made, on a <see cref="TimeProvider"/>: the engine's stopwatch.</summary>
internal sealed class ElapsedTimer(TimeProvider clock)
{
    private readonly long start = clock.GetTimestamp();

    public TimeSpan Elapsed => clock.GetElapsedTime(start);
}
