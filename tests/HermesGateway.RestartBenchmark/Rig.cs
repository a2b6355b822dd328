using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;
using HermesGateway.Core.Systemd;

namespace HermesGateway.RestartBenchmark;

/// <summary>How the stub behaves (its stub-control.json) and how the run is paced.</summary>
internal sealed record Knobs(double DrainSeconds, double StartSeconds, double GapSeconds);

/// <summary>
/// One restart, with every instant on the same wall clock (the stub's event times and ours are both CLOCK_REALTIME):
/// the command, the old process' signal and exit (its own events), the new process' fork (systemd's
/// ExecMainStartTimestamp), its first event and its "running" state, and when the method knew it was done.
/// </summary>
internal sealed record Sample(
    string Method,
    double CommandAt,
    double DoneAt,
    int OldPid,
    int NewPid,
    double OldForkAt,
    double SignalAt,
    double ExitAt,
    int? ExitCode,
    double ForkAt,
    double StartedAt,
    double RunningAt,
    int Calls,
    double CallSeconds,
    RestartResult? Engine) : RestartTimeline(CommandAt, SignalAt, ExitAt, ForkAt, DoneAt)
{
    /// <summary>
    /// The stub's "running": its start-up runs from systemd's fork to here (interpreter, imports, start_seconds); its
    /// drain, from handling the signal to its exit.
    /// </summary>
    public override double ReadyAt => RunningAt;

    public double Downtime => RunningAt - ExitAt;

    /// <summary>How long the old instance had run when it got the signal (for the launchd throttle model).</summary>
    public double RanBeforeSignal => SignalAt - OldForkAt;
}

/// <summary>A stub gateway installed as a user unit by the engine in the sandbox, and the restart methods measured on it.</summary>
internal sealed class Rig
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Sandbox sandbox;
    private readonly SandboxRunner runner;
    private readonly LocalProcessTable processes;
    private readonly BenchHost host;
    private readonly Knobs knobs;
    private readonly SystemdServiceManager manager;
    private readonly ServiceInstaller installer;
    private readonly GatewayRestarter restarter;
    private readonly SystemctlClient systemctl;
    private readonly StubEventLog events;
    private readonly Func<TimeSpan?, ServiceDefinition, ServiceDefinition> shape;
    private ServiceIdentity? service;
    private (int Pid, double ForkAt) current;

    public Rig(Sandbox sandbox, SandboxRunner runner, LocalProcessTable processes, BenchHost host, Knobs knobs, string name, TimeSpan? restartSec)
    {
        this.sandbox = sandbox;
        this.runner = runner;
        this.processes = processes;
        this.host = host;
        this.knobs = knobs;
        Name = name;
        Home = Path.Combine(sandbox.Root, name);
        var environment = new ServiceEnvironment
        {
            Home = sandbox.Home,
            XdgConfigHome = Path.Combine(sandbox.Home, ".config"),
            DbusSessionBusAddress = "unix:path=/run/user/0/bus", // only for CheckCanManage: systemctl finds the manager by XDG_RUNTIME_DIR
            Uid = 0,
            UserName = "root",
            SystemUnitDirectory = Path.Combine(sandbox.Root, "system-units"),
        };
        manager = new SystemdServiceManager(runner, environment, processes);
        installer = new ServiceInstaller(manager);
        restarter = new GatewayRestarter(manager, processes, Path.Combine(sandbox.Root, "locks"));
        systemctl = manager.Client(ServiceScope.User);
        events = new StubEventLog(Path.Combine(Home, "stub-events.jsonl"));
        shape = (sec, d) => sec is { } s ? d with { Systemd = d.Systemd! with { RestartSec = s } } : d;
        RequestedRestartSec = restartSec;
    }

    public string Name { get; }

    public string Home { get; }

    public string Unit => Name + ".service";

    private TimeSpan? RequestedRestartSec { get; }

    /// <summary>RestartSec= of the installed unit, as the engine rendered it.</summary>
    public TimeSpan RestartSec { get; private set; }

    public void Install(string stub)
    {
        Directory.CreateDirectory(Home);
        File.WriteAllText(Path.Combine(Home, "stub-control.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["drain_seconds"] = knobs.DrainSeconds,
            ["start_seconds"] = knobs.StartSeconds,
            ["echo"] = false,
        }));
        var definition = shape(RequestedRestartSec, ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Systemd,
            Scope = ServiceScope.User,
            Name = Name,
            Executable = stub,
            HermesHome = Home,
        }));
        RestartSec = definition.Systemd!.RestartSec;
        installer.Install(new InstallRequest(definition, Start: true), host);
        service = installer.Find(n => n == Name).Single().Identity;
        current = Settle(null);
    }

    public void Stop() => manager.StopService(service!, host);

    /// <summary>The cost of one 'systemctl --user show' of this unit through the runner (median of <paramref name="n"/>), in seconds.</summary>
    public double ShowCost(int n)
    {
        var costs = new List<double>();
        for (var i = 0; i < n; i++)
        {
            var clock = Stopwatch.StartNew();
            systemctl.Show(Unit, host.Cancellation);
            costs.Add(clock.Elapsed.TotalSeconds);
        }

        return Stats.Median(costs);
    }

    /// <summary>Restart-HermesGateway's engine, as the cmdlet calls it.</summary>
    public Sample Ours() => Measure("ours", old =>
    {
        var r = restarter.Restart(service!, new RestartOptions { CallerPid = 0 /* the caller is outside the sandbox */ }, host) ?? throw new InvalidOperationException("the bench host declined the restart");
        var done = Clock.Now();
        if (r.NewPid is null || r.NewPid == old || r.FinalState != "running")
        {
            throw new InvalidOperationException($"the engine's restart did not end with a new running PID: {r.Strategy}, {r.FinalState}");
        }

        return (done, r);
    });

    /// <summary>(a) systemctl restart: stop (SIGTERM), then start. Done when the new PID reports running (an ideal observer).</summary>
    public Sample SystemctlRestart() => Measure("systemctl restart", _ =>
    {
        systemctl.Restart(Unit, host.Cancellation);
        return (null, null);
    });

    /// <summary>
    /// (b) upstream's 'hermes gateway restart' on systemd (hermes-agent gateway/signal_restart.py and
    /// gateway/systemd_restart_state.py): SIGUSR1, poll the old PID every 0.5 s until it is gone, then read the unit
    /// and the gateway's state file, sleeping 1 s while the unit is in auto-restart and 2 s otherwise, until a new
    /// MainPID is active and reports "running". The signal goes through systemctl kill here, as the brief asks.
    /// </summary>
    public Sample Upstream() => Measure("upstream", old =>
    {
        SignalMain(UnixSignal.SIGUSR1);
        var deadline = DateTime.UtcNow + Patience;
        while (processes.IsAlive(old))
        {
            Pause(500, deadline);
        }

        while (true)
        {
            var s = Show();
            if (s.Active == "active" && s.MainPid > 0 && s.MainPid != old && StateFile() is { Pid: var p, State: "running" } && p == s.MainPid)
            {
                return (Clock.Now(), null);
            }

            Pause(s.Active == "activating" && s.Sub == "auto-restart" ? 1000 : 2000, deadline);
        }
    });

    /// <summary>
    /// (x) not the engine: SIGUSR1, the engine's 20 ms exit poll, then 'systemctl restart' while the unit waits in
    /// auto-restart, which starts it at once instead of after RestartSec=. Done when the new PID reports running.
    /// </summary>
    public Sample RestartFromAutoRestart() => Measure("experiment", old =>
    {
        SignalMain(UnixSignal.SIGUSR1);
        var deadline = DateTime.UtcNow + Patience;
        while (processes.IsAlive(old))
        {
            Pause(20, deadline);
        }

        var s = Show();
        if (s.MainPid == 0 || s.MainPid == old)
        {
            systemctl.Restart(Unit, host.Cancellation);
        }

        return (null, null);
    });

    /// <summary>Waits until the gateway is healthy again and the pause between restarts has passed.</summary>
    public void Rest()
    {
        current = Settle(null);
        host.Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(knobs.GapSeconds));
        host.Cancellation.ThrowIfCancellationRequested();
    }

    /// <summary>After a failed sample: bring the unit back to a healthy gateway, whatever state it is in.</summary>
    public void Recover()
    {
        var s = Show();
        if (s.Active is "failed" or "inactive")
        {
            systemctl.ResetFailed(Unit, host.Cancellation);
            systemctl.Start(Unit, host.Cancellation);
        }

        current = Settle(null);
    }

    private Sample Measure(string method, Func<int, (double? DoneAt, RestartResult? Engine)> restart)
    {
        var (old, oldFork) = current;
        runner.ResetStats();
        var commandAt = Clock.Now();
        var (doneAt, engine) = restart(old);
        var (calls, spent) = runner.Stats;
        current = Settle(old);
        var fresh = current.Pid;
        if (!events.WaitFor(l => l.First(old, "exit") is not null && l.First(fresh, "state", "running") is not null, TimeSpan.FromSeconds(10), host.Cancellation))
        {
            throw new InvalidOperationException($"{method}: the stub's event log lacks PID {old}'s exit or PID {fresh}'s running state");
        }

        var signal = events.First(old, "signal", since: commandAt - 0.001) ?? throw new InvalidOperationException($"{method}: PID {old} logged no signal");
        var exit = events.First(old, "exit")!;
        var started = events.First(fresh, "started")!;
        var running = events.First(fresh, "state", "running")!;
        return new Sample(method, commandAt, doneAt ?? running.Time, old, fresh, oldFork, signal.Time, exit.Time, exit.Code,
            current.ForkAt, started.Time, running.Time, calls, spent.TotalSeconds, engine);
    }

    private void SignalMain(UnixSignal signal) =>
        systemctl.Check(runner.Run("systemctl", systemctl.Arguments("kill", "--kill-who=main", "-s", signal.ToString(), Unit), systemctl.Timeout, host.Cancellation), Unit);

    /// <summary>Waits for a running unit whose MainPID is not <paramref name="notPid"/> and reports itself running; its fork time.</summary>
    private (int Pid, double ForkAt) Settle(int? notPid)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var s = Show();
            if (s.Active == "active" && s.Sub == "running" && s.MainPid > 0 && s.MainPid != notPid && GatewayRestarter.ReportsRunning(Home, s.MainPid))
            {
                return (s.MainPid, s.ForkAt);
            }

            Pause(20, deadline, $"{Unit} is not healthy (ActiveState={s.Active}, SubState={s.Sub}, MainPID={s.MainPid})");
        }
    }

    private void Pause(int milliseconds, DateTime deadline, string? what = null)
    {
        if (DateTime.UtcNow >= deadline)
        {
            throw new TimeoutException(what ?? $"{Unit}: no restart within {Patience.TotalSeconds:0} s");
        }

        host.Cancellation.WaitHandle.WaitOne(milliseconds);
        host.Cancellation.ThrowIfCancellationRequested();
    }

    private (string Active, string Sub, int MainPid, double ForkAt) Show()
    {
        var r = systemctl.Check(runner.Run("systemctl", systemctl.Arguments("show", "-p", "ActiveState,SubState,MainPID,ExecMainStartTimestamp", "--timestamp=us+utc", Unit), systemctl.Timeout, host.Cancellation), Unit);
        var p = r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1].Trim(), StringComparer.Ordinal);
        var pid = int.TryParse(p.GetValueOrDefault("MainPID"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return (p.GetValueOrDefault("ActiveState") ?? string.Empty, p.GetValueOrDefault("SubState") ?? string.Empty, pid, Clock.ParseSystemd(p.GetValueOrDefault("ExecMainStartTimestamp")));
    }

    private (int Pid, string State)? StateFile()
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Home, "gateway_state.json")));
            var r = doc.RootElement;
            return (r.GetProperty("pid").GetInt32(), r.GetProperty("gateway_state").GetString() ?? string.Empty);
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>The engine's host: consents to everything, keeps quiet, reports warnings to stderr and counts them.</summary>
internal sealed class BenchHost(CancellationToken cancellation) : IEngineHost
{
    private int warnings;

    public int Warnings => Volatile.Read(ref warnings);

    public CancellationToken Cancellation { get; } = cancellation;

    public DateTimeOffset Now => DateTimeOffset.UtcNow;

    public bool ShouldProcess(string target, string action) => true;

    public void WriteVerbose(string message)
    {
    }

    public void WriteWarning(string message)
    {
        Interlocked.Increment(ref warnings);
        Console.Error.WriteLine("engine warning: " + message);
    }
}

internal static class Clock
{
    /// <summary>Wall-clock seconds since the epoch, the clock the stub's event times use.</summary>
    public static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    /// <summary>systemctl show --timestamp=us+utc: "Sun 2026-11-22 03:47:48.416873 UTC"; NaN when absent.</summary>
    public static double ParseSystemd(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.IndexOf(' ', StringComparison.Ordinal) is var space && space < 0)
        {
            return double.NaN;
        }

        return DateTime.TryParseExact(text[(space + 1)..], "yyyy-MM-dd HH:mm:ss.ffffff 'UTC'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? (t - DateTime.UnixEpoch).TotalSeconds
            : double.NaN;
    }
}

internal static class Stats
{
    public static double Median(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Nearest-rank 90th percentile (with 10 samples: the 9th smallest).</summary>
    public static double P90(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s[Math.Max(0, (int)Math.Ceiling(0.9 * s.Length) - 1)];
    }

    /// <summary>Nearest-rank 95th percentile (with 20 samples: the 19th smallest).</summary>
    public static double P95(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s[Math.Max(0, (int)Math.Ceiling(0.95 * s.Length) - 1)];
    }
}

/// <summary>Restart-HermesGateway failed in a way the benchmark records and recovers from.</summary>
internal static class Failures
{
    public static bool IsRecoverable(Exception e) => e is HermesException or InvalidOperationException or TimeoutException or JsonException;
}
