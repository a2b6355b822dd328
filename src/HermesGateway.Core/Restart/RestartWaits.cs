using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Service;

namespace HermesGateway.Core.Restart;

/// <summary>
/// The waits of one restart: for the old process to exit, for the supervisor to run a new one, and for that one to
/// report itself running. Each polls at its own pace, reports progress through the host, honours Ctrl+C, and ends at a
/// deadline measured on the engine's clock. The orchestration (what to do when a wait ends) is GatewayRestarter's.
/// </summary>
internal sealed class RestartWaits(IServiceManager manager, IProcessTable processes, ServiceIdentity service, IEngineHost host)
{
    /// <summary>How often the supervisor is asked while it brings the new process up (each ask is a systemctl/launchctl call).</summary>
    private static readonly TimeSpan SupervisorPoll = TimeSpan.FromMilliseconds(10);

    /// <summary>How often the state file is read while the new process starts (a small file read).</summary>
    private static readonly TimeSpan HealthPoll = TimeSpan.FromMilliseconds(2);

    /// <summary>How often, while waiting for health, the supervisor is asked whether the candidate was replaced.</summary>
    private static readonly TimeSpan SupervisorRecheck = TimeSpan.FromMilliseconds(250);

    /// <summary>Without a process handle: how often the old PID is checked during the drain (/proc reads cost microseconds).</summary>
    private static readonly TimeSpan ExitPoll = TimeSpan.FromMilliseconds(2);

    /// <summary>With a process handle: the longest single block on it, so progress moves and Ctrl+C is honoured.</summary>
    private static readonly TimeSpan DrainSlice = TimeSpan.FromMilliseconds(100);

    /// <summary>The least time between two progress reports of the same step.</summary>
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(200);

    private readonly TimeProvider clock = host.Clock;
    private string? lastReported;
    private long? lastReport;

    /// <summary>Waits for a gateway other than <paramref name="old"/> to run and report itself running.</summary>
    public (RunningGateway Fresh, TimeSpan Supervisor, TimeSpan Health) NewAndHealthy(RunningGateway old, TimeSpan timeout)
    {
        var timer = new ElapsedTimer(clock);
        var deadline = clock.GetUtcNow() + timeout;
        RunningGateway? fresh = null;
        while (fresh is null)
        {
            var current = manager.Identify(service, host.Cancellation);
            if (current is not null && (current.Pid != old.Pid || current.StartTime != old.StartTime))
            {
                fresh = current;
                break;
            }

            Tick("waiting for the supervisor", timer.Elapsed, timeout, deadline);
        }

        var supervisor = timer.Elapsed;
        var (healthy, health) = Healthy(fresh, deadline - clock.GetUtcNow());
        return (healthy, supervisor, health);
    }

    /// <summary>
    /// Waits until the gateway's state file names a running process that is the supervisor's: the candidate (or, with
    /// none, the first one the supervisor reports), still alive with the start time it had then. The supervisor is asked
    /// again now and then to follow a replacement (a failed first start); in between only the state file is read.
    /// </summary>
    public (RunningGateway Gateway, TimeSpan Health) Healthy(RunningGateway? candidate, TimeSpan within)
    {
        var timer = new ElapsedTimer(clock);
        var deadline = clock.GetUtcNow() + (within > TimeSpan.Zero ? within : TimeSpan.Zero);
        TimeSpan? asked = null;
        while (true)
        {
            // A live candidate: the supervisor is asked only now and then; none, or a dead one: as often as it is polled.
            var due = candidate is not null && IsStill(candidate) ? SupervisorRecheck : SupervisorPoll;
            if ((candidate is null && asked is null) || timer.Elapsed - (asked ?? TimeSpan.Zero) >= due)
            {
                asked = timer.Elapsed;
                if (manager.Identify(service, host.Cancellation) is { } current && (candidate is null || current.Pid != candidate.Pid || current.StartTime != candidate.StartTime))
                {
                    candidate = current; // the first one seen, or it was replaced again: follow the newest
                }
            }

            if (candidate is not null && GatewayRestarter.ReportsRunning(service.HermesHome, candidate.Pid) && IsStill(candidate))
            {
                return (candidate, timer.Elapsed);
            }

            Tick("waiting for the gateway to report itself running", timer.Elapsed, within, deadline, HealthPoll);
        }
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
        host.WriteProgress($"Restarting {service.Name}", what, percent);
    }

    private void Tick(string what, TimeSpan elapsed, TimeSpan timeout, DateTimeOffset deadline, TimeSpan? pause = null)
    {
        if (clock.GetUtcNow() >= deadline)
        {
            throw new HermesException(HermesErrorIds.RestartTimeout, HermesErrorCategory.OperationTimeout,
                $"{service.Name}: still {what} when the restart's time ran out ({elapsed.TotalSeconds:0.#} s into this step).", service.Name);
        }

        Report(what, Math.Min(100, 100 * elapsed.TotalMilliseconds / Math.Max(1, timeout.TotalMilliseconds)));
        host.Cancellation.ThrowIfCancellationRequested();
        Thread.Sleep(pause ?? SupervisorPoll);
    }
}

/// <summary>Time elapsed since it was made, on a <see cref="TimeProvider"/>: the engine's stopwatch.</summary>
internal sealed class ElapsedTimer(TimeProvider clock)
{
    private readonly long start = clock.GetTimestamp();

    public TimeSpan Elapsed => clock.GetElapsedTime(start);
}
