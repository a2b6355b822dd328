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
    private readonly IServiceManager manager;
    private readonly IProcessTable processes;
    private readonly string lockDirectory;

    public GatewayRestarter(IServiceManager manager, IProcessTable processes, string lockDirectory)
    {
        this.manager = manager;
        this.processes = processes;
        this.lockDirectory = lockDirectory;
    }


    /// <summary>What a restart of <paramref name="service"/> will do, as the one question asked before it (-WhatIf, -Confirm).</summary>
    public string Plan(ServiceIdentity service, RestartOptions options)
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
    public RestartResult? Restart(ServiceIdentity service, RestartOptions options, IEngineHost host)
    {
        if (!host.ShouldProcess(service.Name, Plan(service, options)))
        {
            return null;
        }

        host = new ConfirmedHost(host);

        // Wall-clock facts (not the host's clock): they order this call against another process' restart.
        var requested = TimeProvider.System.GetUtcNow();
        var clock = new ElapsedTimer(host.Clock);
        var waits = new RestartWaits(manager, processes, service, host) { Contract = options.Contract };
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
                    return other with { Joined = true, Waited = false };
                }

                host.WriteVerbose($"{service.Name}: the recorded result of another restart names PID {other.NewPid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, which is not what {manager.SupervisorName} runs now; this call restarts it.");
            }

            if (waited)
            {
                host.WriteVerbose($"Another restart of {service.Name} held the lock and left no result (it failed or was interrupted); this call restarts it.");
            }

            steps.Strategy = "identify";
            // The supervisor's view now: the running gateway, and what a new process that ends later is told apart from.
            var seen = manager.Observe(service, host.Cancellation);
            old = seen.Running;
            if (old is null)
            {
                steps.Strategy = "start";
                steps.Kind = RestartKind.Start;
                var t = new ElapsedTimer(host.Clock);
                manager.StartService(service, host);
                steps.Add(new("start", t.Elapsed, "the gateway was not running"));
                var (fresh, health) = waits.Healthy(null, options.Timeout, seen);
                steps.Add(new("health", health, $"PID {fresh.Pid} reports itself running"));
                result = Result(service, null, fresh.Pid, "start", null, null, health, null, clock.Elapsed, 1, steps);
            }
            else if (IsInside(old, options.CallerPid))
            {
                // Our own process would die with the gateway (KillMode, the process group): hand the whole restart to a
                // transient job outside its tree, which waits for the old PID, revives the gateway and checks it.
                steps.Strategy = "hand-off";
                steps.Kind = RestartKind.HandOff;
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
                    HelperJob = helper,
                    HelperLog = log,
                    FinalState = "handed off",
                };
            }
            else if (options.Force)
            {
                result = Escalate(service, old, options, host, waits, steps, clock, "forced: supervisor restart", attempts: 1, drain: null);
            }
            else
            {
                result = Graceful(service, old, seen, options, host, waits, steps, clock);
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
            result = result with { FinishedAt = TimeProvider.System.GetUtcNow(), Waited = waited };
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

    private RestartResult Graceful(ServiceIdentity service, RunningGateway old, GatewayObservation before, RestartOptions options, IEngineHost host, RestartWaits waits, Trace steps, ElapsedTimer clock)
    {
        steps.Strategy = "signal";
        var signal = options.Contract.RestartSignal;
        var drainBudget = options.DrainTimeout ?? DrainBudget(service);
        var drainClock = new ElapsedTimer(host.Clock);
        using var handle = manager.SendSignal(service, old, signal, host);
        if (!waits.Exited(old, handle, drainBudget))
        {
            // Hung in its drain: the restart already waited the budget it was given, so the proven process is killed
            // rather than handed to the supervisor's stop, which would wait out TimeoutStopSec= (minutes) first.
            steps.Add(new("drain", drainClock.Elapsed, $"PID {old.Pid} still draining after {drainBudget.TotalSeconds:0.#} s"));
            host.WriteWarning($"{service.Name} (PID {old.Pid}) did not finish draining within {drainBudget.TotalSeconds:0.#} s; it is killed (SIGKILL, recorded by {manager.SupervisorName} as a failure) and started again.");
            return Escalate(service, old, options, host, waits, steps, clock, "signal, drain timeout, SIGKILL", attempts: 2, drain: drainClock.Elapsed, kill: true);
        }

        var drain = drainClock.Elapsed;
        steps.Add(new("drain", drain, $"{signal} to PID {old.Pid}; it exited"));
        var down = new ElapsedTimer(host.Clock);
        var how = manager.Revive(service, old, options.SupervisorGrace, host);
        steps.Strategy = $"signal, {how}";
        try
        {
            var (fresh, supervisor, health) = waits.NewAndHealthy(old, options.Timeout, before);
            steps.Add(new("supervisor", supervisor, $"{how}: new PID {fresh.Pid}"));
            steps.Add(new("health", health, "the gateway reports itself running"));
            return Result(service, old.Pid, fresh.Pid, $"signal, {how}", drain, supervisor, health, down.Elapsed, clock.Elapsed, 1, steps);
        }
        catch (HermesException e) when (e.ErrorId == HermesErrorIds.RestartTimeout)
        {
            // Not back in time (a failed first start, a crash loop under a start limit): the supervisor's own restart.
            host.WriteWarning($"{service.Name} was not running again within {options.Timeout.TotalSeconds:0} s ({e.Message}); trying the supervisor's restart.");
            return Escalate(service, manager.Identify(service, host.Cancellation) ?? old, options, host, waits, steps, clock, $"signal, {how}, supervisor restart", attempts: 2, drain: drain);
        }
        catch (HermesException e) when (e.ErrorId == HermesErrorIds.GatewayExitedOnStart && e.Target is GatewayStartFailure { Permanent: false })
        {
            // The new process crashed while starting: one more try, the supervisor's own restart. (A configuration error
            // is not tried again: it would only fail the same way, and loop.)
            host.WriteWarning($"{service.Name}: the new gateway ended while starting ({((GatewayStartFailure)e.Target).Ending}); trying the supervisor's restart.");
            steps.Add(new("supervisor", down.Elapsed, $"{how}: the new process ended while starting ({((GatewayStartFailure)e.Target).Ending})"));
            return Escalate(service, old, options, host, waits, steps, clock, $"signal, {how}, supervisor restart", attempts: 2, drain: drain);
        }
    }

    /// <summary>
    /// The way out when the graceful path did not end running: the old process is ended — by the supervisor's own
    /// restart as a planned stop, or, hung, by SIGKILL to the proven process — within the drain budget at most, then the
    /// gateway is brought back the way a planned restart is (reset-failed + start if the supervisor refused, as at a
    /// start limit), and its health is checked. Every step has its own bound: the call never waits out TimeoutStopSec=.
    /// </summary>
    private RestartResult Escalate(ServiceIdentity service, RunningGateway old, RestartOptions options, IEngineHost host, RestartWaits waits, Trace steps, ElapsedTimer clock, string strategy, int attempts, TimeSpan? drain, bool kill = false)
    {
        steps.Strategy = strategy;
        steps.Kind = options.Force ? RestartKind.Forced : RestartKind.Escalated;
        steps.Attempts = attempts;
        var t = new ElapsedTimer(host.Clock);
        var before = waits.Before();
        if (!kill)
        {
            manager.HardRestart(service, host);
            var budget = options.DrainTimeout ?? DrainBudget(service);
            if (waits.IsStill(old) && !waits.Exited(old, null, budget))
            {
                host.WriteWarning($"{service.Name} (PID {old.Pid}) did not stop within {budget.TotalSeconds:0.#} s of {manager.SupervisorName}'s restart; it is killed (SIGKILL).");
                kill = true;
                strategy += ", SIGKILL";
                steps.Strategy = strategy;
            }
        }

        if (kill && waits.IsStill(old))
        {
            using var handle = manager.SendSignal(service, old, UnixSignal.SIGKILL, host);
            if (!waits.Exited(old, handle, KillWait))
            {
                throw new HermesException(HermesErrorIds.RestartFailed, HermesErrorCategory.InvalidOperation,
                    $"{service.Name}: PID {old.Pid} is still alive {KillWait.TotalSeconds:0} s after SIGKILL (a process stuck in the kernel); it was not restarted.", service.Name);
            }

            steps.Add(new("kill", t.Elapsed, $"SIGKILL to PID {old.Pid}; it exited"));
        }

        // The supervisor may already be bringing it back (its restart job, Restart=); else it is made to now.
        var how = manager.Revive(service, old with { SupervisorDelay = kill ? old.SupervisorDelay : null }, options.SupervisorGrace, host);
        steps.Strategy = strategy = $"{strategy}, {how}";
        var (fresh, supervisor, health) = waits.NewAndHealthy(old, options.Timeout, before);
        steps.Add(new("supervisor restart", t.Elapsed - health, $"new PID {fresh.Pid}"));
        steps.Add(new("health", health, "the gateway reports itself running"));
        return Result(service, old.Pid, fresh.Pid, strategy, drain, supervisor, health, t.Elapsed, clock.Elapsed, attempts, steps);
    }

    /// <summary>How long a SIGKILLed process is given to disappear (it cannot resist; only a kernel wait holds it).</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    /// <summary>The caller is the gateway, one of its descendants, or in the same cgroup (a terminal tool it spawned).</summary>
    private bool IsInside(RunningGateway gateway, int caller) =>
        ProcessTable.IsSelfOrAncestor(processes, gateway.Pid, caller)
        || (processes.ControlGroup(gateway.Pid) is { } theirs && theirs.EndsWith(".service", StringComparison.Ordinal) && processes.ControlGroup(caller) == theirs);

    /// <summary>The gateway's gateway_state.json says "running" for this PID (no HERMES_HOME: the supervisor's word suffices).</summary>
    public static bool ReportsRunning(string? hermesHome, int pid) =>
        hermesHome is null || (GatewayStateFile.Read(hermesHome) is { State: "running" } s && s.Pid == pid);

    /// <summary>
    /// The default drain wait: the service's drain budget plus 5 s (65 s when the file gives none), but never longer than
    /// its own stop timeout, after which its supervisor would kill a stopping gateway anyway.
    /// </summary>
    internal static TimeSpan DrainBudget(ServiceIdentity service)
    {
        var budget = service.DrainTimeout is { } d && d > TimeSpan.Zero && d < TimeSpan.FromDays(1) ? d + TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(65);
        return service.StopTimeout is { } stop && stop > TimeSpan.Zero && stop < budget ? stop : budget;
    }

    /// <summary>What a failed restart did and found: its steps so far, and the service's state after it.</summary>
    private RestartResult Failed(ServiceIdentity service, RunningGateway? old, Trace steps, ElapsedTimer clock, IEngineHost host, HermesException error)
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
            FinishedAt = TimeProvider.System.GetUtcNow(),
        };
    }

    /// <summary>A host for the steps of a restart the user already confirmed: each step is reported, not asked about.</summary>
    private sealed class ConfirmedHost(IEngineHost inner) : IEngineHost
    {
        public bool IsWhatIf => inner.IsWhatIf;

        public CancellationToken Cancellation => inner.Cancellation;

        public DateTimeOffset Now => inner.Now;

        public TimeProvider Clock => inner.Clock;

        public bool ShouldProcess(string target, string action)
        {
            inner.WriteVerbose($"{target}: {action}");
            return true;
        }

        public void WriteVerbose(string message) => inner.WriteVerbose(message);

        public void WriteWarning(string message) => inner.WriteWarning(message);

        public void WriteProgress(string activity, string status, double percent) => inner.WriteProgress(activity, status, percent);
    }

    /// <summary>The steps taken so far, and the strategy and attempt they belong to.</summary>
    private sealed class Trace : List<RestartStep>
    {
        public string Strategy { get; set; } = "lock";

        public int Attempts { get; set; } = 1;

        public RestartKind Kind { get; set; } = RestartKind.Graceful;
    }

    private RestartResult Result(ServiceIdentity service, int? oldPid, int? newPid, string strategy, TimeSpan? drain, TimeSpan? supervisor, TimeSpan? health, TimeSpan? downtime, TimeSpan total, int attempts, Trace steps) => new()
    {
        Name = service.Name,
        Platform = manager.Platform,
        OldPid = oldPid,
        NewPid = newPid,
        Strategy = strategy,
        Kind = steps.Kind,
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
