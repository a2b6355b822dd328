using System.Globalization;
using System.Text;
using System.Text.Json;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;
using HermesGateway.Core.Systemd;

namespace HermesGateway.RestartBenchmark;

/// <summary>
/// One restart of the real gateway, every instant on the same wall clock (CLOCK_REALTIME: ours, systemd's µs
/// timestamps, the gateway's own updated_at): the command; the stop request (the signal, or for systemctl restart the
/// start of the stop, when ExecStop= writes the planned-stop marker); the old process' exit (the kernel's, through a
/// pidfd polled by a thread of ours); systemd's fork of the new process; the new process' own "running" in
/// gateway_state.json; and when the path knew it was done.
/// </summary>
internal sealed record RealSample(
    string Path,
    double CommandAt,
    double SignalAt,
    double ExitAt,
    double ForkAt,
    double RunningAt,
    double VisibleAt,
    double DoneAt,
    int OldPid,
    int NewPid,
    int Calls,
    double CallSeconds,
    double ActedAt,
    string? Strategy,
    double EngineFinishedAt) : RestartTimeline(CommandAt, SignalAt, ExitAt, ForkAt, DoneAt)
{
    /// <summary>The new process' "running" is readable (gateway_state.json renamed into place): the end of its start-up.</summary>
    public override double ReadyAt => VisibleAt;

    /// <summary>Inside the start-up: the gateway's updated_at of "running" → the file in place (its fsync'd temp-file write).</summary>
    public double StateWrite => VisibleAt - RunningAt;

    /// <summary>Engine only: "running" in place → its health check saw it (the result's FinishedAt, taken before the result is recorded for joining callers).</summary>
    public double EngineSaw => EngineFinishedAt - VisibleAt;

    /// <summary>Engine only: the result recorded next to the restart lock, the lock released, the call returned.</summary>
    public double EngineRecord => DoneAt - EngineFinishedAt;

    /// <summary>systemctl restart: the stop request → the gateway's marker watcher acts on it; the shortcut: the signal → it launches its helper (gateway.log, ms resolution).</summary>
    public double ToActed => ActedAt - SignalAt;
}

/// <summary>The engine's process table, unchanged, but it notes when a signal went out through one of its handles.</summary>
internal sealed class RecordingProcessTable(IProcessTable inner) : IProcessTable
{
    private double lastSignalAt = double.NaN;

    public IProcessTable Inner => inner;

    public double LastSignalAt => Volatile.Read(ref lastSignalAt);

    public void Reset() => Volatile.Write(ref lastSignalAt, double.NaN);

    public bool IsAlive(int pid) => inner.IsAlive(pid);

    public long? StartTime(int pid) => inner.StartTime(pid);

    public int? ParentPid(int pid) => inner.ParentPid(pid);

    public string? ControlGroup(int pid) => inner.ControlGroup(pid);

    public IProcessHandle? Open(int pid) => inner.Open(pid) is { } h ? new Handle(h, this) : null;

    private sealed class Handle(IProcessHandle inner, RecordingProcessTable owner) : IProcessHandle
    {
        public int Pid => inner.Pid;

        public bool HasExited => inner.HasExited;

        public SignalDelivery Signal(UnixSignal signal)
        {
            var at = Clock.Now();
            var r = inner.Signal(signal);
            if (r == SignalDelivery.Delivered)
            {
                Volatile.Write(ref owner.lastSignalAt, at);
            }

            return r;
        }

        public bool WaitForExit(TimeSpan timeout) => inner.WaitForExit(timeout);

        public void Dispose() => inner.Dispose();
    }
}

/// <summary>
/// Notes the exit of one process of the sandbox the moment the kernel reports it: its host PID (found through NSpid),
/// opened with pidfd_open and polled by a thread of its own, so the exit time depends on no one's polling interval.
/// </summary>
internal sealed class ExitWatcher : IDisposable
{
    private readonly ManualResetEventSlim exited = new();
    private readonly PidFileDescriptor handle;
    private volatile bool stop;
    private double exitAt = double.NaN;

    private ExitWatcher(PidFileDescriptor handle, int pid)
    {
        this.handle = handle;
        Pid = pid;
        var thread = new Thread(Watch) { IsBackground = true, Name = "exit-watch-" + pid };
        thread.Start();
    }

    /// <summary>The PID in the sandbox.</summary>
    public int Pid { get; }

    /// <summary>Watches <paramref name="pid"/> of the sandbox whose PID 1 is <paramref name="managerPid"/>; null when it cannot be found or polled.</summary>
    public static ExitWatcher? Arm(int managerPid, IProcessTable sandbox, int pid)
    {
        if (HostPid(managerPid, pid) is not { } host || PidFileDescriptor.Open("/proc", host) is not { } handle)
        {
            return null;
        }

        // The same process (the start time is the same in both namespaces' procfs), and the kernel wakes a poll on it.
        if (!handle.Pollable || LocalProcessTable.Instance.StartTime(host) is not { } t || sandbox.StartTime(pid) != t)
        {
            handle.Dispose();
            return null;
        }

        return new ExitWatcher(handle, pid);
    }

    /// <summary>The exit time (epoch seconds); NaN if it did not exit within <paramref name="within"/>.</summary>
    public double ExitAt(TimeSpan within) => exited.Wait(within) ? Volatile.Read(ref exitAt) : double.NaN;

    public void Dispose() => stop = true; // the thread closes the handle at its next wake-up (200 ms at most)

    private void Watch()
    {
        try
        {
            while (!stop)
            {
                if (handle.WaitForExit(TimeSpan.FromMilliseconds(200)))
                {
                    Volatile.Write(ref exitAt, Clock.Now());
                    exited.Set();
                    return;
                }
            }
        }
        finally
        {
            handle.Dispose();
        }
    }

    /// <summary>The host PID of <paramref name="pid"/> in the PID namespace of <paramref name="managerPid"/> (NSpid's last field is the innermost).</summary>
    private static int? HostPid(int managerPid, int pid)
    {
        var ns = new FileInfo($"/proc/{managerPid}/ns/pid").LinkTarget;
        var wanted = pid.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var host))
            {
                continue;
            }

            try
            {
                var line = File.ReadLines(System.IO.Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
                var fields = line?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (fields is { Length: >= 3 } && fields[^1] == wanted && new FileInfo(System.IO.Path.Combine(dir, "ns", "pid")).LinkTarget == ns)
                {
                    return host;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile
            }
        }

        return null;
    }
}

/// <summary>A user unit running the real gateway in the sandbox, and how to wait for it to be healthy.</summary>
internal sealed class RealUnit : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Sandbox sandbox;
    private readonly SandboxRunner runner;
    private readonly RecordingProcessTable processes;
    private readonly BenchHost host;
    private readonly SystemctlClient systemctl;
    private long logOffset;
    private readonly List<(double At, string Text)> log = [];
    private readonly List<double> renames = [];
    private FileSystemWatcher? watcher;

    public RealUnit(Sandbox sandbox, SandboxRunner runner, RecordingProcessTable processes, BenchHost host, SystemctlClient systemctl, string name, string hermesHome)
    {
        this.sandbox = sandbox;
        this.runner = runner;
        this.processes = processes;
        this.host = host;
        this.systemctl = systemctl;
        Name = name;
        HermesHome = hermesHome;
    }

    public string Name { get; }

    public string Unit => Name + ".service";

    public string HermesHome { get; }

    public (int Pid, double ForkAt) Current { get; private set; }

    public ExitWatcher? Watcher { get; private set; }

    /// <summary>
    /// Notes (inotify, on a thread that only waits for it) each time gateway_state.json is renamed into place: the
    /// gateway writes it to a temp file, fsyncs and renames, so its updated_at precedes the file being readable.
    /// </summary>
    public void WatchStateFile()
    {
        Directory.CreateDirectory(HermesHome);
        watcher = new FileSystemWatcher(HermesHome, "gateway_state.json") { NotifyFilter = NotifyFilters.FileName };
        void Stamp(object sender, FileSystemEventArgs e)
        {
            var at = Clock.Now();
            lock (renames)
            {
                renames.Add(at);
            }
        }

        watcher.Renamed += (s, e) => Stamp(s, e);
        watcher.Created += Stamp;
        watcher.EnableRaisingEvents = true;
    }

    /// <summary>The first time the state file was put in place at or after <paramref name="since"/> (its writer's updated_at); NaN if none within a second.</summary>
    public double PutInPlace(double since)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        while (true)
        {
            lock (renames)
            {
                var hit = renames.Where(t => t >= since).DefaultIfEmpty(double.NaN).Min();
                if (!double.IsNaN(hit))
                {
                    return hit;
                }
            }

            if (DateTime.UtcNow >= deadline)
            {
                return double.NaN;
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>Waits for a running unit whose MainPID is not <paramref name="notPid"/> and whose gateway reports itself running (its own PID and start time); then watches that process' exit.</summary>
    public void Settle(int? notPid)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var s = Show();
            if (s.Active == "active" && s.Sub == "running" && s.MainPid > 0 && s.MainPid != notPid && Running(s.MainPid) is not null)
            {
                Current = (s.MainPid, s.ForkAt);
                Watcher?.Dispose();
                Watcher = ExitWatcher.Arm(sandbox.ManagerPid, processes.Inner, s.MainPid)
                    ?? throw new InvalidOperationException($"{Unit}: cannot watch PID {s.MainPid}'s exit through a pidfd");
                return;
            }

            Pause(20, deadline, $"{Unit} is not healthy (ActiveState={s.Active}, SubState={s.Sub}, MainPID={s.MainPid})");
        }
    }

    /// <summary>The time the gateway wrote "running" for <paramref name="pid"/> (its updated_at), if its state file says so for this very process now.</summary>
    public double? Running(int pid)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(HermesHome, "gateway_state.json")));
            var r = doc.RootElement;
            if (r.GetProperty("pid").GetInt32() != pid || r.GetProperty("gateway_state").GetString() != "running"
                || r.GetProperty("start_time").GetInt64() != processes.StartTime(pid))
            {
                return null;
            }

            var at = DateTimeOffset.Parse(r.GetProperty("updated_at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            return (at.UtcDateTime - DateTime.UnixEpoch).TotalSeconds;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentNullException)
        {
            return null;
        }
    }

    /// <summary>Polls the state file (a small read, every 5 ms) until a process other than <paramref name="old"/> reports itself running: its PID and updated_at.</summary>
    public (int Pid, double RunningAt) WaitRunning(int old)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (StateFilePid() is { } pid && pid != old && Running(pid) is { } at)
            {
                return (pid, at);
            }

            Pause(5, deadline, $"{Unit}: no new process reported itself running within {Patience.TotalSeconds:0} s");
        }
    }

    public (string Active, string Sub, int MainPid, double ForkAt, double ActiveExitAt) Show()
    {
        var r = systemctl.Check(runner.Run("systemctl", systemctl.Arguments("show", "-p", "ActiveState,SubState,MainPID,ExecMainStartTimestamp,ActiveExitTimestamp", "--timestamp=us+utc", Unit), systemctl.Timeout, host.Cancellation), Unit);
        var p = r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1].Trim(), StringComparer.Ordinal);
        var pid = int.TryParse(p.GetValueOrDefault("MainPID"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return (p.GetValueOrDefault("ActiveState") ?? string.Empty, p.GetValueOrDefault("SubState") ?? string.Empty, pid,
            Clock.ParseSystemd(p.GetValueOrDefault("ExecMainStartTimestamp")), Clock.ParseSystemd(p.GetValueOrDefault("ActiveExitTimestamp")));
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

        Settle(null);
    }

    /// <summary>The first gateway.log line containing <paramref name="text"/> logged in [from, to] (ms resolution, local time).</summary>
    public double Logged(string text, double from, double to)
    {
        var path = System.IO.Path.Combine(HermesHome, "logs", "gateway.log");
        if (File.Exists(path))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length < logOffset)
            {
                logOffset = 0; // rotated
            }

            stream.Seek(logOffset, SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var chunk = reader.ReadToEnd();
            var end = chunk.LastIndexOf('\n');
            if (end >= 0)
            {
                logOffset += Encoding.UTF8.GetByteCount(chunk.AsSpan(0, end + 1));
                foreach (var line in chunk[..end].Split('\n'))
                {
                    // "2026-12-03 08:01:49,900 INFO gateway.run: ..."
                    if (line.Length > 23 && DateTime.TryParseExact(line[..23], "yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal | DateTimeStyles.AdjustToUniversal, out var t))
                    {
                        log.Add(((t - DateTime.UnixEpoch).TotalSeconds, line));
                    }
                }
            }
        }

        // The log's milliseconds are truncated: a line may read up to 1 ms earlier than the instant it names.
        return log.Where(l => l.At >= from - 0.001 && l.At <= to && l.Text.Contains(text, StringComparison.Ordinal)).Select(l => l.At).DefaultIfEmpty(double.NaN).First();
    }

    public void Dispose()
    {
        watcher?.Dispose();
        Watcher?.Dispose();
    }

    private int? StateFilePid()
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(HermesHome, "gateway_state.json")));
            return doc.RootElement.GetProperty("pid").GetInt32();
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    public void Pause(int milliseconds, DateTime deadline, string what)
    {
        if (DateTime.UtcNow >= deadline)
        {
            throw new TimeoutException(what);
        }

        host.Cancellation.WaitHandle.WaitOne(milliseconds);
        host.Cancellation.ThrowIfCancellationRequested();
    }
}

/// <summary>
/// The real Hermes gateway (../shared/fixtures/hermes-agent, 0.16) in one sandbox, under two units at once: the
/// module's default unit (installed by the engine), restarted by the engine and by <c>systemctl restart</c>; and a
/// user unit named <c>hermes-gateway</c> written as upstream's <c>hermes gateway install</c> writes it (INVOCATION_ID
/// kept, Restart=always, RestartSec=5, RestartForceExitStatus=75), restarted the gateway's own way: SIGUSR1 to its
/// MainPID, whereupon it exits 0 and its transient <c>systemd-run --user</c> helper restarts the unit.
/// </summary>
internal sealed class RealBench
{
    public const string EnginePath = "engine";
    public const string SystemctlPath = "systemctl restart";
    public const string ShortcutPath = "gateway's own shortcut";
    public static readonly string[] Paths = [EnginePath, SystemctlPath, ShortcutPath];

    private readonly Sandbox sandbox;
    private readonly SandboxRunner runner;
    private readonly RecordingProcessTable processes;
    private readonly BenchHost host;
    private readonly SystemdServiceManager manager;
    private readonly ServiceInstaller installer;
    private readonly GatewayRestarter restarter;
    private readonly SystemctlClient systemctl;
    private readonly string launcher;
    private ServiceIdentity? service;

    // The pause between restarts gets 0–0.5 s more at random (a fixed seed): with a fixed pause every restart would meet
    // the gateway's 0.5 s planned-stop-marker watcher at nearly the same phase, which systemctl restart's drain depends on.
    private readonly Random jitter = new(16);

    public RealBench(Sandbox sandbox, SandboxRunner runner, BenchHost host, string launcher)
    {
        this.sandbox = sandbox;
        this.runner = runner;
        this.host = host;
        this.launcher = launcher;
        // The engine's process table, as in the stub rig (the sandbox's procfs), noting when it signals.
        processes = new RecordingProcessTable(new LocalProcessTable($"/proc/{sandbox.ManagerPid}/root/proc"));
        var environment = new ServiceEnvironment
        {
            Home = sandbox.Home,
            XdgConfigHome = System.IO.Path.Combine(sandbox.Home, ".config"),
            DbusSessionBusAddress = "unix:path=/run/user/0/bus",
            Uid = 0,
            UserName = "root",
            SystemUnitDirectory = System.IO.Path.Combine(sandbox.Root, "system-units"),
        };
        manager = new SystemdServiceManager(runner, environment, processes);
        installer = new ServiceInstaller(manager);
        restarter = new GatewayRestarter(manager, processes, System.IO.Path.Combine(sandbox.Root, "locks"));
        systemctl = manager.Client(ServiceScope.User);
        Module = new RealUnit(sandbox, runner, processes, host, systemctl, "hermes-gateway-bench-real", System.IO.Path.Combine(sandbox.Root, "real-module", "hermes-home"));
        Upstream = new RealUnit(sandbox, runner, processes, host, systemctl, "hermes-gateway", System.IO.Path.Combine(sandbox.Root, "real-upstream", "hermes-home"));
    }

    public RealUnit Module { get; }

    public RealUnit Upstream { get; }

    /// <summary>The module's default unit, as Install-HermesGateway writes it, but for HOME: a scratch folder in the sandbox.</summary>
    public void InstallModuleUnit()
    {
        var home = System.IO.Path.Combine(sandbox.Root, "real-module", "home");
        Directory.CreateDirectory(home);
        Module.WatchStateFile();
        var definition = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Systemd,
            Scope = ServiceScope.User,
            Name = Module.Name,
            Executable = launcher,
            HermesHome = Module.HermesHome,
            Environment = [new EnvironmentVariable("HOME", home)],
        });
        installer.Install(new InstallRequest(definition, Start: true), host);
        service = installer.Find(n => n == Module.Name).Single().Identity;
        Module.Settle(null);
    }

    /// <summary>
    /// The unit upstream's <c>hermes gateway install</c> writes for a user (hermes_cli/gateway.py, generate_systemd_unit),
    /// under the name the gateway derives for a HERMES_HOME outside ~/.hermes (hermes-gateway), so its own restart helper
    /// acts. Differences: ExecStart= is the fixture's launcher (it execs the same python3 -m hermes_cli.main); HOME is
    /// set to a scratch folder; no VIRTUAL_ENV and no StandardOutput=journal (the sandbox runs no journald).
    /// </summary>
    public string UpstreamUnitText(string home) => $"""
        [Unit]
        Description=Hermes Agent Gateway - Messaging Platform Integration
        After=network-online.target
        Wants=network-online.target
        StartLimitIntervalSec=0

        [Service]
        Type=simple
        ExecStart={launcher} gateway run
        WorkingDirectory={Upstream.HermesHome}
        Environment="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        Environment="HERMES_HOME={Upstream.HermesHome}"
        Environment="HOME={home}"
        Restart=always
        RestartSec=5
        RestartForceExitStatus=75
        KillMode=mixed
        KillSignal=SIGTERM
        ExecReload=/bin/kill -USR1 $MAINPID
        TimeoutStopSec=210

        [Install]
        WantedBy=default.target

        """;

    public void InstallUpstreamUnit()
    {
        var home = System.IO.Path.Combine(sandbox.Root, "real-upstream", "home");
        Directory.CreateDirectory(home);
        Upstream.WatchStateFile();
        File.WriteAllText(System.IO.Path.Combine(sandbox.UserUnits, Upstream.Unit), UpstreamUnitText(home));
        systemctl.DaemonReload(host.Cancellation);
        systemctl.Start(Upstream.Unit, host.Cancellation);
        Upstream.Settle(null);
    }

    public void StopAll()
    {
        foreach (var u in new[] { Module, Upstream })
        {
            try
            {
                systemctl.Stop(u.Unit, host.Cancellation);
            }
            catch (Exception e) when (Failures.IsRecoverable(e))
            {
                Console.Error.WriteLine($"stopping {u.Unit}: {e.Message}");
            }

            u.Dispose();
        }
    }

    public RealUnit UnitOf(string path) => path == ShortcutPath ? Upstream : Module;

    public RealSample Once(string path) => path switch
    {
        EnginePath => Measure(path, Module, old =>
        {
            var r = restarter.Restart(service!, new RestartOptions { CallerPid = 0 /* the caller is outside the sandbox */ }, host)
                ?? throw new InvalidOperationException("the bench host declined the restart");
            var done = Clock.Now();
            if (r.NewPid is not { } fresh || fresh == old || r.FinalState != "running")
            {
                throw new InvalidOperationException($"the engine's restart did not end with a new running PID: {r.Strategy}, {r.FinalState}");
            }

            var signal = processes.LastSignalAt;
            if (double.IsNaN(signal))
            {
                signal = runner.LastKillAt; // the engine fell back to 'systemctl kill' (the end of that call)
            }

            var running = Module.Running(fresh) ?? throw new InvalidOperationException($"the engine returned, but PID {fresh} does not report itself running");
            return (signal, fresh, running, done, r);
        }),
        SystemctlPath => Measure(path, Module, old =>
        {
            systemctl.Restart(Module.Unit, host.Cancellation);
            var (fresh, running) = Module.WaitRunning(old);
            // The stop began (ActiveExitTimestamp): ExecStop= writes the planned-stop marker; the gateway's watcher takes it.
            return (double.NaN, fresh, running, running, null);
        }),
        _ => Measure(path, Upstream, old =>
        {
            using var handle = ProcessTable.OpenProven(processes.Inner, old, processes.StartTime(old), _ => true)
                ?? throw new InvalidOperationException($"cannot open PID {old} of {Upstream.Unit}");
            var signal = Clock.Now();
            if (handle.Signal(UnixSignal.SIGUSR1) != SignalDelivery.Delivered)
            {
                throw new InvalidOperationException($"SIGUSR1 to PID {old} was not delivered");
            }

            var (fresh, running) = Upstream.WaitRunning(old);
            return (signal, fresh, running, running, null);
        }),
    };

    public void Recover(string path) => UnitOf(path).Recover();

    /// <summary>The unit just restarted is healthy again (and its new process watched); then the pause between restarts.</summary>
    public void Rest(string path, double gapSeconds)
    {
        var unit = UnitOf(path);
        unit.Settle(null);
        host.Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(gapSeconds + (0.5 * jitter.NextDouble())));
        host.Cancellation.ThrowIfCancellationRequested();
    }

    private RealSample Measure(string path, RealUnit unit, Func<int, (double SignalAt, int NewPid, double RunningAt, double DoneAt, RestartResult? Engine)> restart)
    {
        var (old, _) = unit.Current;
        var watcher = unit.Watcher is { } w && w.Pid == old ? w : throw new InvalidOperationException($"{unit.Unit}: PID {old}'s exit is not watched");
        processes.Reset();
        runner.ResetStats();
        var commandAt = Clock.Now();
        var (signalAt, fresh, runningAt, doneAt, engine) = restart(old);
        var (calls, spent) = runner.Stats;
        var exitAt = watcher.ExitAt(TimeSpan.FromSeconds(10));
        var s = unit.Show();
        if (s.MainPid != fresh)
        {
            throw new InvalidOperationException($"{path}: the new process reporting running is PID {fresh}, but systemd's MainPID is {s.MainPid}");
        }

        if (double.IsNaN(signalAt))
        {
            signalAt = s.ActiveExitAt;
        }

        var acted = path switch
        {
            SystemctlPath => unit.Logged("as a planned gateway stop", signalAt, exitAt),
            ShortcutPath => unit.Logged("Launched systemd planned-restart helper", signalAt, exitAt),
            _ => double.NaN,
        };
        var visibleAt = unit.PutInPlace(runningAt);
        if (path != EnginePath)
        {
            doneAt = visibleAt; // the ideal observer of the other paths sees "running" the moment it is readable
        }

        unit.Settle(old);
        var sample = new RealSample(path, commandAt, signalAt, exitAt, s.ForkAt, runningAt, visibleAt, doneAt, old, fresh, calls, spent.TotalSeconds, acted, engine?.Strategy,
            engine is null ? double.NaN : (engine.FinishedAt.UtcDateTime - DateTime.UnixEpoch).TotalSeconds);
        if (new[] { sample.SignalAt, sample.ExitAt, sample.ForkAt, sample.VisibleAt }.Any(double.IsNaN))
        {
            throw new InvalidOperationException($"{path}: an instant is missing (signal {sample.SignalAt}, exit {sample.ExitAt}, fork {sample.ForkAt}, state file in place {sample.VisibleAt})");
        }

        // Instants from four clocks' readers (ours, the kernel's via our thread, systemd's, the gateway's) must be in order.
        if (!(sample.CommandAt <= sample.SignalAt + 0.001 && sample.SignalAt <= sample.ExitAt && sample.ExitAt <= sample.ForkAt + 0.001
              && sample.ForkAt <= sample.RunningAt && sample.RunningAt <= sample.VisibleAt && sample.VisibleAt <= sample.DoneAt + 0.001))
        {
            Console.Error.WriteLine(FormattableString.Invariant(
                $"[real] {path}: instants out of order: command 0, signal {(sample.SignalAt - commandAt) * 1000:0.0}, exit {(sample.ExitAt - commandAt) * 1000:0.0}, fork {(sample.ForkAt - commandAt) * 1000:0.0}, running {(sample.RunningAt - commandAt) * 1000:0.0}, in place {(sample.VisibleAt - commandAt) * 1000:0.0}, done {(sample.DoneAt - commandAt) * 1000:0.0} ms"));
        }

        return sample;
    }
}

internal static class RealRunner
{
    public static (Dictionary<string, List<RealSample>> Samples, Dictionary<string, int> Failures) Run(RealBench bench, int restarts, double gapSeconds, BenchHost host)
    {
        var samples = RealBench.Paths.ToDictionary(p => p, _ => new List<RealSample>(), StringComparer.Ordinal);
        var failures = RealBench.Paths.ToDictionary(p => p, _ => 0, StringComparer.Ordinal);

        // One unmeasured round first (JIT, page cache, the engine's first lock file).
        foreach (var path in RealBench.Paths)
        {
            Once(bench, path, "warm-up", gapSeconds, host, failures, null);
        }

        for (var i = 0; i < restarts; i++)
        {
            // Interleaved, starting one path later each round, so slow drifts of the machine hit every path alike.
            for (var k = 0; k < RealBench.Paths.Length; k++)
            {
                var path = RealBench.Paths[(i + k) % RealBench.Paths.Length];
                Once(bench, path, $"{i + 1}/{restarts}", gapSeconds, host, failures, samples[path].Add);
            }
        }

        return (samples, failures);
    }

    private static void Once(RealBench bench, string path, string round, double gapSeconds, BenchHost host, Dictionary<string, int> failures, Action<RealSample>? record)
    {
        try
        {
            var s = bench.Once(path);
            record?.Invoke(s);
            Console.Error.WriteLine(FormattableString.Invariant(
                $"[real] {round} {path}: PID {s.OldPid}→{s.NewPid}, total {s.Total * 1000:0} ms = drain {s.Drain * 1000:0} + start-up {s.StartUp * 1000:0} + overhead {s.Overhead * 1000:0.0} (to signal {s.ToSignal * 1000:0.0}, exit→fork {s.ExitToFork * 1000:0.0}, in place→done {s.Detection * 1000:0.0}; state write {s.StateWrite * 1000:0.0}){(s.Strategy is null ? string.Empty : ", " + s.Strategy)}"));
        }
        catch (Exception e) when (Failures.IsRecoverable(e) && !host.Cancellation.IsCancellationRequested)
        {
            if (record is not null)
            {
                failures[path]++;
            }

            Console.Error.WriteLine($"[real] {round} {path} FAILED: {e.GetType().Name}: {e.Message}");
            bench.Recover(path);
        }

        bench.Rest(path, gapSeconds);
    }
}

internal static class RealReport
{
    public static string Render(Dictionary<string, List<RealSample>> samples, Dictionary<string, int> failures, int restarts, double gapSeconds, double showCost, int warnings, TimeSpan took)
    {
        var inv = CultureInfo.InvariantCulture;
        var o = new StringBuilder();
        string Med(List<RealSample> l, Func<RealSample, double> f) => ReportText.Ms(Stats.Median(l.Select(f).ToList()));
        string P90(List<RealSample> l, Func<RealSample, double> f) => ReportText.Ms(Stats.P90(l.Select(f).ToList()));
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RealBench.EnginePath] = "**ours**: Restart-HermesGateway's engine, module default unit (SIGUSR1 to MainPID, drain wait, `systemctl restart` at the exit, health check)",
            [RealBench.SystemctlPath] = "`systemctl --user restart`, module default unit (ExecStop= writes the planned-stop marker, the gateway stops itself, then start)",
            [RealBench.ShortcutPath] = "the gateway's own systemd shortcut, upstream's unit `hermes-gateway` (SIGUSR1 to MainPID, exit 0, its `systemd-run --user` helper restarts the unit)",
        };

        ReportText.AppendOpening(
            o,
            string.Create(inv, $"Real-gateway restart benchmark: Hermes Agent 0.16.0 (`hermes gateway run`, no platform configured) under systemd 252 in sde2e (user units), {restarts} measured restarts per path after one unmeasured round, interleaved, {gapSeconds:0.#}–{gapSeconds + 0.5:0.#} s (random) between restarts; both units in the same sandbox."),
            showCost,
            "Times in ms, medians unless marked; p90 is nearest rank. Total: the command → the path knows the new PID reports \"running\" (ours: the engine returns; the others: an ideal observer, the moment the gateway's \"running\" is readable). Gateway drain: the stop request (the signal; for systemctl restart, the start of the stop) → the old process' exit (the kernel's, via a pidfd). Gateway start-up: systemd's fork of the new process → its gateway_state.json saying \"running\" for its PID is in place (inotify; the gateway writes a temp file, fsyncs, renames). Overhead = total − drain − start-up.");
        ReportText.AppendTableHead(o, "path", "total", "gateway drain", "gateway start-up", "**overhead**", "overhead p90");
        foreach (var p in RealBench.Paths)
        {
            var l = samples[p];
            o.AppendLine(inv, $"| {labels[p]} | {Med(l, s => s.Total)} | {Med(l, s => s.Drain)} | {Med(l, s => s.StartUp)} | **{Med(l, s => s.Overhead)}** | {P90(l, s => s.Overhead)} |");
        }

        o.AppendLine();
        o.AppendLine("Where the overhead goes (ms, median / p90):");
        o.AppendLine();
        ReportText.AppendTableHead(o, "path", "command → stop request", "exit → systemd's fork", "\"running\" in place → path done", "systemctl calls into the sandbox / restart", "time in them", "not overhead, in the start-up: the gateway's state write (updated_at → in place)");
        foreach (var p in RealBench.Paths)
        {
            var l = samples[p];
            string Pair(Func<RealSample, double> f) => $"{Med(l, f)} / {P90(l, f)}";
            var calls = p == RealBench.SystemctlPath ? "1 (the restart; our observer's reads not counted)" : p == RealBench.ShortcutPath ? "0 (ours; the helper's own run inside)" : $"{Stats.Median(l.Select(s => (double)s.Calls).ToList()):0}";
            var spent = p == RealBench.EnginePath ? Pair(s => s.CallSeconds) : "–";
            o.AppendLine(inv, $"| {p} | {Pair(s => s.ToSignal)} | {Pair(s => s.ExitToFork)} | {Pair(s => s.Detection)} | {calls} | {spent} | {Pair(s => s.StateWrite)} |");
        }

        o.AppendLine();
        foreach (var p in RealBench.Paths)
        {
            var l = samples[p];
            var strategies = string.Join(", ", l.Where(s => s.Strategy is not null).GroupBy(s => s.Strategy!, StringComparer.Ordinal).Select(g => $"'{g.Key}' ×{g.Count()}"));
            o.AppendLine(inv, $"- {p}: measured {l.Count}, failed {failures[p]}; total min–max {ReportText.Ms(l.Select(s => s.Total).DefaultIfEmpty(double.NaN).Min())}–{ReportText.Ms(l.Select(s => s.Total).DefaultIfEmpty(double.NaN).Max())} ms; overhead min–max {ReportText.Ms(l.Select(s => s.Overhead).DefaultIfEmpty(double.NaN).Min())}–{ReportText.Ms(l.Select(s => s.Overhead).DefaultIfEmpty(double.NaN).Max())} ms{(strategies.Length == 0 ? string.Empty : "; engine strategies: " + strategies)}.");
        }

        var sc = samples[RealBench.SystemctlPath];
        var sh = samples[RealBench.ShortcutPath];
        o.AppendLine(inv, $"- systemctl restart's drain starts when the stop starts (systemd's ActiveExitTimestamp; ExecStop= then writes the marker), and includes the gateway's marker watcher (it polls every 0.5 s): stop start → the gateway acts on the marker (gateway.log, ms) {Med(sc, s => s.ToActed)} / {P90(sc, s => s.ToActed)} ms, median / p90.");
        o.AppendLine(inv, $"- The shortcut: the gateway logged 'Launched systemd planned-restart helper' in {sh.Count(s => !double.IsNaN(s.ActedAt))} of {sh.Count} restarts, {Med(sh, s => s.ToActed)} ms after the signal (median); its exit → systemd's fork is the helper's wait (`kill -0` every 0.2 s) and its two `systemctl --user` calls, not RestartSec=5.");
        var en = samples[RealBench.EnginePath];
        o.AppendLine(inv, $"- The engine's \"running\" in place → it returns: its health check sees it {Med(en, s => s.EngineSaw)} / {P90(en, s => s.EngineSaw)} ms (state file read every 2 ms, systemd asked again every 250 ms), then it records its result for joining callers and returns {Med(en, s => s.EngineRecord)} / {P90(en, s => s.EngineRecord)} ms, median / p90.");
        o.AppendLine(inv, $"- Engine warnings: {warnings}. Run took {took.TotalSeconds:0} s.");
        return o.ToString();
    }
}
