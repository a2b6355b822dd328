using System.Diagnostics;
using System.Text.Json;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Service;

namespace HermesGateway.Core.Restart;

/// <summary>
/// A restart that can end only with the gateway running or with a clear error: the restart signal through the
/// supervisor, a wait for the drain, the supervisor made to bring it back now, a health check of the new process,
/// escalation when the drain hangs, and a second attempt before giving up.
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

    /// <summary>Reports progress of long waits (Write-Progress); null when nobody listens.</summary>
    public Action<string, double>? Progress { get; init; }

    public RestartResult Restart(HermesService service, RestartOptions options, IEngineHost host)
    {
        // Wall-clock facts (not the host's clock seam): they order this call against another process' restart.
        var requested = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        using var restartLock = RestartLock.Acquire(lockDirectory, service.Name, options.Timeout + (options.DrainTimeout ?? DrainBudget(service)) + TimeSpan.FromSeconds(30), host.Cancellation, out var waited);
        if (waited && restartLock.ResultSince(requested) is { } other)
        {
            host.WriteVerbose($"{service.Name} was restarted by another call while this one waited; joining its result.");
            return other with { Joined = true };
        }

        var steps = new List<RestartStep>();
        var old = manager.Identify(service, host.Cancellation);
        RestartResult result;
        if (old is null)
        {
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
            var command = options.HelperCommand ?? throw new HermesException(HermesErrorIds.RestartFailed, HermesErrorCategory.InvalidOperation,
                $"This restart runs inside {service.Name}'s own process tree and has no helper command to hand off to.", service.Name);
            var log = options.HelperLog ?? Path.Combine(service.HermesHome is { } h ? Path.Combine(h, "logs") : Path.GetTempPath(), "restart-helper.log");
            Directory.CreateDirectory(Path.GetDirectoryName(log)!);
            var helper = manager.HandOff(service, command, log, host);
            steps.Add(new("hand-off", clock.Elapsed, $"{helper} runs the restart outside the gateway; log: {log}"));
            result = Result(service, old.Pid, null, $"handed off to {helper}", null, null, null, null, clock.Elapsed, 1, steps) with
            {
                HandedOff = true,
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

        result = result with { FinishedAt = DateTimeOffset.UtcNow };
        restartLock.Record(result);
        return result;
    }

    private RestartResult Graceful(HermesService service, RunningGateway old, RestartOptions options, IEngineHost host, List<RestartStep> steps, Stopwatch clock)
    {
        var signal = options.Contract.RestartSignal;
        var drainBudget = options.DrainTimeout ?? DrainBudget(service);
        var drainClock = Stopwatch.StartNew();
        manager.SendSignal(service, signal, host);
        if (!WaitExited(old, drainBudget, host))
        {
            steps.Add(new("drain", drainClock.Elapsed, $"PID {old.Pid} still draining after {drainBudget.TotalSeconds:0.#} s"));
            host.WriteWarning($"{service.Name} (PID {old.Pid}) did not finish draining within {drainBudget.TotalSeconds:0.#} s; the supervisor restarts it.");
            return Escalate(service, old, options, host, steps, clock, "signal, drain timeout, supervisor restart", attempts: 2, drain: drainClock.Elapsed);
        }

        var drain = drainClock.Elapsed;
        steps.Add(new("drain", drain, $"{signal} to PID {old.Pid}; it exited"));
        var down = Stopwatch.StartNew();
        var how = manager.Revive(service, options.SupervisorGrace, host);
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

    private RestartResult Escalate(HermesService service, RunningGateway old, RestartOptions options, IEngineHost host, List<RestartStep> steps, Stopwatch clock, string strategy, int attempts, TimeSpan? drain)
    {
        var t = Stopwatch.StartNew();
        manager.HardRestart(service, host);
        var (fresh, supervisor, health) = WaitNewAndHealthy(service, old, options.Timeout, host);
        steps.Add(new("supervisor restart", t.Elapsed - health, $"new PID {fresh.Pid}"));
        steps.Add(new("health", health, "the gateway reports itself running"));
        return Result(service, old.Pid, fresh.Pid, strategy, drain, supervisor, health, t.Elapsed, clock.Elapsed, attempts, steps);
    }

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

    /// <summary>Waits until the gateway's state file names a running process the supervisor also reports.</summary>
    private (RunningGateway Gateway, TimeSpan Health) WaitHealthy(HermesService service, RunningGateway? candidate, TimeSpan within, IEngineHost host)
    {
        var clock = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + (within > TimeSpan.Zero ? within : TimeSpan.Zero);
        while (true)
        {
            var current = manager.Identify(service, host.Cancellation);
            if (current is not null && (candidate is null || current.Pid == candidate.Pid) && ReportsRunning(service.HermesHome, current.Pid))
            {
                return (current, clock.Elapsed);
            }

            if (current is not null && candidate is not null && current.Pid != candidate.Pid)
            {
                candidate = current; // it was replaced again (a failed first start): follow the newest
            }

            Tick(service, "waiting for the gateway to report itself running", clock.Elapsed, within, deadline, host);
        }
    }

    /// <summary>The caller is the gateway, one of its descendants, or in the same cgroup (a terminal tool it spawned).</summary>
    private bool IsInside(RunningGateway gateway, int caller) =>
        ProcessTable.IsSelfOrAncestor(processes, gateway.Pid, caller)
        || (processes.ControlGroup(gateway.Pid) is { } theirs && theirs.EndsWith(".service", StringComparison.Ordinal) && processes.ControlGroup(caller) == theirs);

    private bool WaitExited(RunningGateway old, TimeSpan budget, IEngineHost host)
    {
        var deadline = DateTime.UtcNow + budget;
        var clock = Stopwatch.StartNew();
        while (processes.IsAlive(old.Pid) && (old.StartTime is null || processes.StartTime(old.Pid) == old.StartTime))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            Progress?.Invoke($"draining PID {old.Pid}", Math.Min(100, 100 * clock.Elapsed.TotalMilliseconds / Math.Max(1, budget.TotalMilliseconds)));
            host.Cancellation.ThrowIfCancellationRequested();
            Thread.Sleep(5); // the exit starts the downtime: notice it quickly (a /proc read costs microseconds)
        }

        return true;
    }

    private void Tick(HermesService service, string what, TimeSpan elapsed, TimeSpan timeout, DateTime deadline, IEngineHost host)
    {
        if (DateTime.UtcNow >= deadline)
        {
            throw new HermesException(HermesErrorIds.RestartTimeout, HermesErrorCategory.OperationTimeout,
                $"{service.Name}: still {what} when the restart's time ran out ({elapsed.TotalSeconds:0.#} s into this step).", service.Name);
        }

        Progress?.Invoke(what, Math.Min(100, 100 * elapsed.TotalMilliseconds / Math.Max(1, timeout.TotalMilliseconds)));
        host.Cancellation.ThrowIfCancellationRequested();
        Thread.Sleep(10);
    }

    /// <summary>The gateway's gateway_state.json says "running" for this PID (no HERMES_HOME: the supervisor's word suffices).</summary>
    public static bool ReportsRunning(string? hermesHome, int pid)
    {
        if (hermesHome is null)
        {
            return true;
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(hermesHome, "gateway_state.json")));
            var root = doc.RootElement;
            return root.TryGetProperty("gateway_state", out var state) && state.GetString() == "running"
                && root.TryGetProperty("pid", out var p) && p.ValueKind == JsonValueKind.Number && p.GetInt32() == pid;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    private static TimeSpan DrainBudget(HermesService service) =>
        service.Definition is { } d && d.DrainTimeout > TimeSpan.Zero && d.DrainTimeout < TimeSpan.FromDays(1) ? d.DrainTimeout + TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(65);

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
