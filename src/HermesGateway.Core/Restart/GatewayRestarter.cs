using System.Diagnostics;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Service;

namespace HermesGateway.Core.Restart;

/// <summary>
/// A restart that can end only with the gateway running or with a clear error: the restart signal to the proven main
/// process (a pidfd where the kernel has one, else the supervisor delivers it), a wait for the drain, the supervisor
/// made to bring it back now, a health check of the new process; when the drain hangs or the gateway does not come
/// back, escalation (the supervisor's own restart, SIGKILL to the proven process, reset-failed + start) within the
/// restart's own times.
/// </summary>
public sealed class GatewayRestarter
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

    private readonly IServiceManager manager;
    private readonly Stopwatch lastReport = new();
    private string? lastReported;
    private readonly IProcessTable processes;
    private readonly string lockDirectory;

    public GatewayRestarter(IServiceManager manager, IProcessTable processes, string lockDirectory)
    {
        this.manager = manager;
        this.processes = processes;
        this.lockDirectory = lockDirectory;
    }

    /// <summary>Reports progress of long waits (Write-Progress); null when nobody listens.</summary>
    public Action<string, double>? Progress { get; init; }

    /// <summary>What a restart of <paramref name="service"/> will do, as the one question asked before it (-WhatIf, -Confirm).</summary>
    public string Plan(HermesService service, RestartOptions options)
    {
        var supervisor = manager.SupervisorName;
        return options.Force
            ? $"Restart {service.Name} through {supervisor}'s own restart as a planned stop (no drain), then check that the new process reports itself running"
            : $"Restart {service.Name}: {options.Contract.RestartSignal} to its main process, wait up to {(options.DrainTimeout ?? DrainBudget(service)).TotalSeconds:0.#} s for the drain, have {supervisor} start it again at once, and check that the new process reports itself running (the supervisor's own restart if not)"
              + $"; if it is not running, start it; asked from inside its own process tree, hand the restart to a transient {manager.TransientJobKind} job";
    }

    /// <summary>
    /// Restarts the gateway; null when the host declines the restart (-WhatIf, or No at -Confirm), in which case nothing
    /// was touched. The restart is confirmed as a whole: its steps are not asked about one by one.
    /// </summary>
    public RestartResult? Restart(HermesService service, RestartOptions options, IEngineHost host)
    {
        if (!host.ShouldProcess(service.Name, Plan(service, options)))
        {
            return null;
        }

        host = new ConfirmedHost(host);

        // Wall-clock facts (not the host's clock seam): they order this call against another process' restart.
        var requested = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var steps = new Trace();
        RunningGateway? old = null;
        RestartLock? restartLock = null;
        RestartResult result;
        bool waited;
        try
        {
            restartLock = RestartLock.Acquire(lockDirectory, RestartLock.Key(service), options.LockWait ?? options.Timeout + (options.DrainTimeout ?? DrainBudget(service)) + TimeSpan.FromSeconds(30), host.Cancellation, out waited);
            if (waited && restartLock.ResultSince(requested) is { } other)
            {
                // A result file is only a claim: it is joined when the supervisor runs the very process it names.
                if (other.NewPid is { } claimed && manager.Identify(service, host.Cancellation) is { } now && now.Pid == claimed)
                {
                    host.WriteVerbose($"{service.Name} was restarted by another call while this one waited; joining its result.");
                    restartLock.Dispose();
                    return other with { Joined = true, Waited = true };
                }

                host.WriteVerbose($"{service.Name}: the recorded result of another restart names PID {other.NewPid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, which is not what {manager.SupervisorName} runs now; this call restarts it.");
            }

            if (waited)
            {
                host.WriteVerbose($"Another restart of {service.Name} held the lock and left no result (it failed or was interrupted); this call restarts it.");
            }

            steps.Strategy = "identify";
            old = manager.Identify(service, host.Cancellation);
            if (old is null)
            {
                steps.Strategy = "start";
                var t = Stopwatch.StartNew();
                manager.StartService(service.Name, service.Scope, service.Path, host);
                steps.Add(new("start", t.Elapsed, "the gateway was not running"));
                var (fresh, health) = WaitHealthy(service, null, options.Timeout, host);
                steps.Add(new("health", health, $"PID {fresh.Pid} reports itself running"));
                result = Result(service, null, fresh.Pid, "start", null, null, health, null, clock.Elapsed, 1, steps);
            }
            else if (IsInside(old, options.CallerPid))
            {
                // Our own process would die with the gateway (KillMode, the process group): hand the whole restart to a
                // transient job outside its tree, which waits for the old PID, revives the gateway and checks it.
                steps.Strategy = "hand-off";
                var command = options.HelperCommand ?? throw new HermesException(HermesErrorIds.RestartFailed, HermesErrorCategory.InvalidOperation,
                    $"This restart runs inside {service.Name}'s own process tree and has no helper command to hand off to.", service.Name);
                // The supervisor opens the log for the helper (as root in system scope) and follows links: it lives in the
                // caller's own lock folder, never in HERMES_HOME (the service account's) or a shared temp folder.
                var log = options.HelperLog ?? Path.Combine(lockDirectory, RestartLock.Key(service) + ".restart-helper.log");
                try
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(log)!);
                }
                catch (Exception e) when (e is UnauthorizedAccessException or IOException)
                {
                    throw new HermesException(HermesErrorIds.PermissionDenied, HermesErrorCategory.PermissionDenied,
                        $"The restart helper's log folder {Path.GetDirectoryName(log)} cannot be created ({e.Message}); the restart was not handed off.", log, e);
                }

                var helper = manager.HandOff(service, command, log, host);
                steps.Add(new("hand-off", clock.Elapsed, $"{helper} runs the restart outside the gateway; log: {log}"));
                result = Result(service, old.Pid, null, $"handed off to {helper}", null, null, null, null, clock.Elapsed, 1, steps) with
                {
                    HandedOff = true,
                    HelperJob = helper,
                    HelperLog = log,
                    FinalState = "handed off",
                };
            }
            else if (options.Force)
            {
                result = Escalate(service, old, options, host, steps, clock, "forced: supervisor restart", attempts: 1, drain: null);
            }
            else
            {
                result = Graceful(service, old, options, host, steps, clock);
            }
        }
        catch (HermesException e) when (e.Target is not RestartResult)
        {
            // The error carries what was done and found, as the result would have; found while the lock is still held,
            // so a waiting caller's restart cannot be what it describes.
            RestartResult failed;
            try
            {
                failed = Failed(service, old, steps, clock, host, e);
            }
            finally
            {
                restartLock?.Dispose();
            }

            throw new HermesException(e.ErrorId, e.Category, e.Message, failed, e);
        }
        catch
        {
            restartLock?.Dispose();
            throw;
        }

        using (restartLock)
        {
            result = result with { FinishedAt = DateTimeOffset.UtcNow, Waited = waited };
            try
            {
                restartLock.Record(result);
            }
            catch (HermesException e) when (e.ErrorId is HermesErrorIds.FileWriteFailed or HermesErrorIds.PermissionDenied)
            {
                // The restart itself is done; only a concurrent caller's chance to join it is lost.
                host.WriteWarning($"{service.Name} restarted, but its result could not be recorded for other callers ({e.Message}).");
            }
        }

        return result;
    }

    private RestartResult Graceful(HermesService service, RunningGateway old, RestartOptions options, IEngineHost host, Trace steps, Stopwatch clock)
    {
        steps.Strategy = "signal";
        var signal = options.Contract.RestartSignal;
        var drainBudget = options.DrainTimeout ?? DrainBudget(service);
        var drainClock = Stopwatch.StartNew();
        using var handle = manager.SendSignal(service, old, signal, host);
        if (!WaitExited(old, handle, drainBudget, host))
        {
            // Hung in its drain: the restart already waited the budget it was given, so the proven process is killed
            // rather than handed to the supervisor's stop, which would wait out TimeoutStopSec= (minutes) first.
            steps.Add(new("drain", drainClock.Elapsed, $"PID {old.Pid} still draining after {drainBudget.TotalSeconds:0.#} s"));
            host.WriteWarning($"{service.Name} (PID {old.Pid}) did not finish draining within {drainBudget.TotalSeconds:0.#} s; it is killed (SIGKILL, recorded by {manager.SupervisorName} as a failure) and started again.");
            return Escalate(service, old, options, host, steps, clock, "signal, drain timeout, SIGKILL", attempts: 2, drain: drainClock.Elapsed, kill: true);
        }

        var drain = drainClock.Elapsed;
        steps.Add(new("drain", drain, $"{signal} to PID {old.Pid}; it exited"));
        var down = Stopwatch.StartNew();
        var how = manager.Revive(service, old, options.SupervisorGrace, host);
        steps.Strategy = $"signal, {how}";
        try
        {
            var (fresh, supervisor, health) = WaitNewAndHealthy(service, old, options.Timeout, host);
            steps.Add(new("supervisor", supervisor, $"{how}: new PID {fresh.Pid}"));
            steps.Add(new("health", health, "the gateway reports itself running"));
            return Result(service, old.Pid, fresh.Pid, $"signal, {how}", drain, supervisor, health, down.Elapsed, clock.Elapsed, 1, steps);
        }
        catch (HermesException e) when (e.ErrorId == HermesErrorIds.RestartTimeout)
        {
            // Not back in time (a failed first start, a crash loop under a start limit): the supervisor's own restart.
            host.WriteWarning($"{service.Name} was not running again within {options.Timeout.TotalSeconds:0} s ({e.Message}); trying the supervisor's restart.");
            return Escalate(service, manager.Identify(service, host.Cancellation) ?? old, options, host, steps, clock, $"signal, {how}, supervisor restart", attempts: 2, drain: drain);
        }
    }

    /// <summary>
    /// The way out when the graceful path did not end running: the old process is ended — by the supervisor's own
    /// restart as a planned stop, or, hung, by SIGKILL to the proven process — within the drain budget at most, then the
    /// gateway is brought back the way a planned restart is (reset-failed + start if the supervisor refused, as at a
    /// start limit), and its health is checked. Every step has its own bound: the call never waits out TimeoutStopSec=.
    /// </summary>
    private RestartResult Escalate(HermesService service, RunningGateway old, RestartOptions options, IEngineHost host, Trace steps, Stopwatch clock, string strategy, int attempts, TimeSpan? drain, bool kill = false)
    {
        steps.Strategy = strategy;
        steps.Attempts = attempts;
        var t = Stopwatch.StartNew();
        if (!kill)
        {
            manager.HardRestart(service, host);
            var budget = options.DrainTimeout ?? DrainBudget(service);
            if (IsStill(old) && !WaitExited(old, null, budget, host))
            {
                host.WriteWarning($"{service.Name} (PID {old.Pid}) did not stop within {budget.TotalSeconds:0.#} s of {manager.SupervisorName}'s restart; it is killed (SIGKILL).");
                kill = true;
                strategy += ", SIGKILL";
                steps.Strategy = strategy;
            }
        }

        if (kill && IsStill(old))
        {
            using var handle = manager.SendSignal(service, old, UnixSignal.SIGKILL, host);
            if (!WaitExited(old, handle, KillWait, host))
            {
                throw new HermesException(HermesErrorIds.RestartFailed, HermesErrorCategory.InvalidOperation,
                    $"{service.Name}: PID {old.Pid} is still alive {KillWait.TotalSeconds:0} s after SIGKILL (a process stuck in the kernel); it was not restarted.", service.Name);
            }

            steps.Add(new("kill", t.Elapsed, $"SIGKILL to PID {old.Pid}; it exited"));
        }

        // The supervisor may already be bringing it back (its restart job, Restart=); else it is made to now.
        var how = manager.Revive(service, old with { SupervisorDelay = kill ? old.SupervisorDelay : null }, options.SupervisorGrace, host);
        steps.Strategy = strategy = $"{strategy}, {how}";
        var (fresh, supervisor, health) = WaitNewAndHealthy(service, old, options.Timeout, host);
        steps.Add(new("supervisor restart", t.Elapsed - health, $"new PID {fresh.Pid}"));
        steps.Add(new("health", health, "the gateway reports itself running"));
        return Result(service, old.Pid, fresh.Pid, strategy, drain, supervisor, health, t.Elapsed, clock.Elapsed, attempts, steps);
    }

    /// <summary>How long a SIGKILLed process is given to disappear (it cannot resist; only a kernel wait holds it).</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    /// <summary>Waits for a gateway other than <paramref name="old"/> to run and report itself running.</summary>
    private (RunningGateway Fresh, TimeSpan Supervisor, TimeSpan Health) WaitNewAndHealthy(HermesService service, RunningGateway old, TimeSpan timeout, IEngineHost host)
    {
        var clock = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + timeout;
        RunningGateway? fresh = null;
        while (fresh is null)
        {
            var current = manager.Identify(service, host.Cancellation);
            if (current is not null && (current.Pid != old.Pid || current.StartTime != old.StartTime))
            {
                fresh = current;
                break;
            }

            Tick(service, "waiting for the supervisor", clock.Elapsed, timeout, deadline, host);
        }

        var supervisor = clock.Elapsed;
        var (healthy, health) = WaitHealthy(service, fresh, deadline - DateTime.UtcNow, host);
        return (healthy, supervisor, health);
    }

    /// <summary>
    /// Waits until the gateway's state file names a running process that is the supervisor's: the candidate (or, with
    /// none, the first one the supervisor reports), still alive with the start time it had then. The supervisor is asked
    /// again now and then to follow a replacement (a failed first start); in between only the state file is read.
    /// </summary>
    private (RunningGateway Gateway, TimeSpan Health) WaitHealthy(HermesService service, RunningGateway? candidate, TimeSpan within, IEngineHost host)
    {
        var clock = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + (within > TimeSpan.Zero ? within : TimeSpan.Zero);
        TimeSpan? asked = null;
        while (true)
        {
            // A live candidate: the supervisor is asked only now and then; none, or a dead one: as often as it is polled.
            var due = candidate is not null && IsStill(candidate) ? SupervisorRecheck : SupervisorPoll;
            if ((candidate is null && asked is null) || clock.Elapsed - (asked ?? TimeSpan.Zero) >= due)
            {
                asked = clock.Elapsed;
                if (manager.Identify(service, host.Cancellation) is { } current && (candidate is null || current.Pid != candidate.Pid || current.StartTime != candidate.StartTime))
                {
                    candidate = current; // the first one seen, or it was replaced again: follow the newest
                }
            }

            if (candidate is not null && ReportsRunning(service.HermesHome, candidate.Pid) && IsStill(candidate))
            {
                return (candidate, clock.Elapsed);
            }

            Tick(service, "waiting for the gateway to report itself running", clock.Elapsed, within, deadline, host, HealthPoll);
        }
    }

    /// <summary>The process is alive and still the one that was identified (the same start time where it is known).</summary>
    private bool IsStill(RunningGateway gateway) =>
        processes.IsAlive(gateway.Pid) && (gateway.StartTime is null || processes.StartTime(gateway.Pid) == gateway.StartTime);

    /// <summary>The caller is the gateway, one of its descendants, or in the same cgroup (a terminal tool it spawned).</summary>
    private bool IsInside(RunningGateway gateway, int caller) =>
        ProcessTable.IsSelfOrAncestor(processes, gateway.Pid, caller)
        || (processes.ControlGroup(gateway.Pid) is { } theirs && theirs.EndsWith(".service", StringComparison.Ordinal) && processes.ControlGroup(caller) == theirs);

    /// <summary>
    /// Waits for the old process to exit: woken by the kernel through its handle where there is one, else by asking
    /// every few milliseconds whether its PID still names it. The exit starts the downtime, so it is noticed at once.
    /// </summary>
    private bool WaitExited(RunningGateway old, IProcessHandle? handle, TimeSpan budget, IEngineHost host)
    {
        var deadline = DateTime.UtcNow + budget;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // The handle wakes us at the exit; the PID check stays as the fallback should the handle never tell.
            if (handle?.HasExited == true || !IsStill(old))
            {
                return true;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            Report($"draining PID {old.Pid}", Math.Min(100, 100 * clock.Elapsed.TotalMilliseconds / Math.Max(1, budget.TotalMilliseconds)));
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

    /// <summary>Progress for the host, at most every <see cref="ProgressEvery"/> (the waits poll far more often).</summary>
    private void Report(string what, double percent)
    {
        if (Progress is null)
        {
            return;
        }

        lock (lastReport)
        {
            if (what == lastReported && lastReport.IsRunning && lastReport.Elapsed < ProgressEvery)
            {
                return;
            }

            lastReported = what;
            lastReport.Restart();
        }

        Progress(what, percent);
    }

    private void Tick(HermesService service, string what, TimeSpan elapsed, TimeSpan timeout, DateTime deadline, IEngineHost host, TimeSpan? pause = null)
    {
        if (DateTime.UtcNow >= deadline)
        {
            throw new HermesException(HermesErrorIds.RestartTimeout, HermesErrorCategory.OperationTimeout,
                $"{service.Name}: still {what} when the restart's time ran out ({elapsed.TotalSeconds:0.#} s into this step).", service.Name);
        }

        Report(what, Math.Min(100, 100 * elapsed.TotalMilliseconds / Math.Max(1, timeout.TotalMilliseconds)));
        host.Cancellation.ThrowIfCancellationRequested();
        Thread.Sleep(pause ?? SupervisorPoll);
    }

    /// <summary>The gateway's gateway_state.json says "running" for this PID (no HERMES_HOME: the supervisor's word suffices).</summary>
    public static bool ReportsRunning(string? hermesHome, int pid) =>
        hermesHome is null || (GatewayStateFile.Read(hermesHome) is { State: "running" } s && s.Pid == pid);

    private static TimeSpan DrainBudget(HermesService service) =>
        service.Definition is { } d && d.DrainTimeout > TimeSpan.Zero && d.DrainTimeout < TimeSpan.FromDays(1) ? d.DrainTimeout + TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(65);

    /// <summary>What a failed restart did and found: its steps so far, and the service's state after it.</summary>
    private RestartResult Failed(HermesService service, RunningGateway? old, Trace steps, Stopwatch clock, IEngineHost host, HermesException error)
    {
        string state;
        RunningGateway? now = null;
        if (error.ErrorId is HermesErrorIds.NoUserBus or HermesErrorIds.NotRoot or HermesErrorIds.LaunchdDomainMissing
            || (error.ErrorId == HermesErrorIds.ServiceManagerFailed && error.Category == HermesErrorCategory.OperationTimeout))
        {
            // The supervisor cannot be reached, or did not answer in time: asking again would fail the same way, as slowly.
            // (A refusal it did answer with — a failed job, the start limit — is asked about: the gateway may be down.)
            state = $"unknown ({error.ErrorId})";
        }
        else
        {
            try
            {
                now = manager.Identify(service, host.Cancellation);
                state = now is null ? "not running"
                    : old is null ? $"running (PID {now.Pid})"
                    : now.Pid == old.Pid && now.StartTime == old.StartTime ? "running (the old process)"
                    : "running (not confirmed healthy)";
            }
            catch (Exception e) when (e is HermesException or OperationCanceledException)
            {
                // The original error is what the caller needs; the state after it is only what could be found out.
                state = e is HermesException h ? $"unknown ({h.ErrorId})" : "unknown (cancelled)";
            }
        }

        return Result(service, old?.Pid, now is not null && old is not null && now.Pid != old.Pid ? now.Pid : null, steps.Strategy + " (failed)", null, null, null, null, clock.Elapsed, steps.Attempts, steps) with
        {
            FinalState = state,
            FinishedAt = DateTimeOffset.UtcNow,
        };
    }

    /// <summary>A host for the steps of a restart the user already confirmed: each step is reported, not asked about.</summary>
    private sealed class ConfirmedHost(IEngineHost inner) : IEngineHost
    {
        public CancellationToken Cancellation => inner.Cancellation;

        public DateTimeOffset Now => inner.Now;

        public bool ShouldProcess(string target, string action)
        {
            inner.WriteVerbose($"{target}: {action}");
            return true;
        }

        public void WriteVerbose(string message) => inner.WriteVerbose(message);

        public void WriteWarning(string message) => inner.WriteWarning(message);
    }

    /// <summary>The steps taken so far, and the strategy and attempt they belong to.</summary>
    private sealed class Trace : List<RestartStep>
    {
        public string Strategy { get; set; } = "lock";

        public int Attempts { get; set; } = 1;
    }

    private RestartResult Result(HermesService service, int? oldPid, int? newPid, string strategy, TimeSpan? drain, TimeSpan? supervisor, TimeSpan? health, TimeSpan? downtime, TimeSpan total, int attempts, List<RestartStep> steps) => new()
    {
        Name = service.Name,
        Platform = manager.Platform,
        OldPid = oldPid,
        NewPid = newPid,
        Strategy = strategy,
        Drain = drain,
        Supervisor = supervisor,
        Health = health,
        Downtime = downtime,
        Total = total,
        Attempts = attempts,
        FinalState = "running",
        Steps = [.. steps],
    };
}
