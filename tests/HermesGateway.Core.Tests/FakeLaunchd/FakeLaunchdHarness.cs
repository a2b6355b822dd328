using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HermesGateway.Core.Tests.FakeLaunchd;

/// <summary>A fact that runs the fake launchctl (a Linux test double: posix_spawn, /proc, setsid): Linux only.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FakeLaunchdFactAttribute : FactAttribute
{
    public FakeLaunchdFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "fake-launchctl is a Linux test double of launchctl/launchd (on macOS, test against the real one)";
        }
    }
}

[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FakeLaunchdTheoryAttribute : TheoryAttribute
{
    public FakeLaunchdTheoryAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "fake-launchctl is a Linux test double of launchctl/launchd (on macOS, test against the real one)";
        }
    }
}

/// <summary>Where the built fake-launchctl is: tests/FakeLaunchctl/bin/&lt;Configuration&gt;/net10.0 (built first via the ProjectReference).</summary>
internal static class FakeLaunchctlLocation
{
    private static readonly Lazy<string> ExecutableLazy = new(Find);

    public static string Executable => ExecutableLazy.Value;

    private static string Find()
    {
        var bin = Path.Combine(StubLocation.RepoRoot, "tests", "FakeLaunchctl", "bin");
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var preferred = Path.Combine(bin, configuration, "net10.0", "fake-launchctl");
        if (File.Exists(preferred))
        {
            return preferred;
        }

        return Directory.Exists(bin)
            ? Directory.EnumerateFiles(bin, "fake-launchctl", SearchOption.AllDirectories).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
              ?? throw new InvalidOperationException($"fake-launchctl is not built under {bin}: dotnet build tests/FakeLaunchctl")
            : throw new InvalidOperationException($"fake-launchctl is not built ({bin} is missing): dotnet build tests/FakeLaunchctl");
    }
}

/// <summary>The engine host for tests: says yes to everything, keeps the messages.</summary>
internal sealed class TestHost : IEngineHost
{
    public List<string> Messages { get; } = [];

    public bool ShouldProcess(string target, string action) => true;

    public void WriteVerbose(string message) => Messages.Add(message);

    public void WriteWarning(string message) => Messages.Add("WARNING: " + message);

    public CancellationToken Cancellation => CancellationToken.None;

    public DateTimeOffset Now => DateTimeOffset.UtcNow;
}

/// <summary>
/// One fake launchd for one test: a state directory under /tmp, the fake daemon started as a child of the test process
/// (so it is reaped here even where PID 1 reaps no orphans), the fake CLI run with FAKE_LAUNCHD_STATE, and
/// <see cref="Shutdown"/>, which ends the daemon and every job it started. Dispose shuts down and deletes the directory.
/// </summary>
internal sealed partial class FakeLaunchd : IDisposable
{
    private readonly Process daemon;

    public FakeLaunchd(bool startDaemon = true)
    {
        // Short: the daemon's Unix socket path must fit sockaddr_un (108 bytes).
        Root = Path.Combine("/tmp", "fl-" + Guid.NewGuid().ToString("N")[..10]);
        State = Path.Combine(Root, "state");
        Directory.CreateDirectory(State);
        Uid = NativeIds.GetEuid();
        Gui = "gui/" + Uid.ToString(CultureInfo.InvariantCulture);
        daemon = startDaemon ? StartDaemon() : null!;
    }

    public string Root { get; }

    public string State { get; }

    public uint Uid { get; }

    /// <summary>gui/&lt;uid&gt; of the user running the tests.</summary>
    public string Gui { get; }

    public int DaemonPid => daemon.Id;

    public bool DaemonExited => daemon.HasExited;

    public ProcessResult Launchctl(params string[] args) => FakeLaunchctlRunner.RunFake(State, args, TimeSpan.FromSeconds(60));

    /// <summary>Rewrites domain.json; the fake reads it on every decision.</summary>
    public void SetDomain(bool noGuiSession = false, bool onDemandOnly = false, double idleExitSeconds = 30)
    {
        var json = JsonSerializer.Serialize(new JsonObject { ["noGuiSession"] = noGuiSession, ["onDemandOnly"] = onDemandOnly, ["idleExitSeconds"] = idleExitSeconds });
        var tmp = Path.Combine(State, "domain.json.tmp");
        File.WriteAllText(tmp, json);
        File.Move(tmp, Path.Combine(State, "domain.json"), overwrite: true);
    }

    /// <summary>The plist the engine renders for the stub gateway as a launchd agent, written under Root (0644).</summary>
    public (ServiceDefinition Definition, string PlistPath, string HermesHome) StubJob(string name = "ai.hermes.gateway", int throttleInterval = 1, string? hermesHome = null)
    {
        var home = hermesHome ?? Path.Combine(Root, "hermes-" + name);
        Directory.CreateDirectory(Path.Combine(home, "logs"));
        var d = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Launchd,
            Scope = ServiceScope.Agent,
            Name = name,
            Executable = StubLocation.Script,
            HermesHome = home,
            DrainTimeout = TimeSpan.FromSeconds(2),
            StopTimeout = TimeSpan.FromSeconds(5),
        });
        d = d with { Launchd = d.Launchd! with { ThrottleInterval = throttleInterval } };
        var path = Path.Combine(Root, "LaunchAgents", name + ".plist");
        AtomicFile.Write(path, ServiceFiles.Render(d), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return (d, path, home);
    }

    /// <summary>launchctl print &lt;target&gt;, read by the engine's own client.</summary>
    public LaunchdJobStatus Print(string label) => new LaunchctlClient(new FakeLaunchctlRunner(State)).Print(Gui + "/" + label);

    /// <summary>One "fake ... = N" field of launchctl print (the test double's own lines, in ms).</summary>
    public long? FakeField(string label, string field)
    {
        var r = Launchctl("print", Gui + "/" + label);
        var m = Regex.Match(r.StandardOutput, $@"^\s*fake {Regex.Escape(field)} = (-?\d+)\s*$", RegexOptions.Multiline);
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    public string FakeState(string label) =>
        Regex.Match(Launchctl("print", Gui + "/" + label).StandardOutput, @"^\s*fake state = (.+)$", RegexOptions.Multiline).Groups[1].Value.Trim();

    /// <summary>Polls until the condition holds; fails the test with <paramref name="what"/> otherwise.</summary>
    public static T WaitFor<T>(Func<T?> probe, string what, double seconds = 30)
        where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (true)
        {
            if (probe() is { } v)
            {
                return v;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {seconds} s waiting for {what}");
            }

            Thread.Sleep(25);
        }
    }

    /// <summary>The job is running and the stub in it wrote gateway.pid naming that PID (state running).</summary>
    public LaunchdJobStatus WaitForStub(string label, string hermesHome, int? notPid = null, double seconds = 30) =>
        WaitFor(() =>
        {
            var s = Print(label);
            return s.IsRunning && s.Pid != notPid && StubPid(hermesHome) == s.Pid && StubState(hermesHome) == "running" ? s : null;
        }, $"{label} running with the stub's gateway.pid", seconds);

    public static int? StubPid(string hermesHome)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(hermesHome, "gateway.pid")))?["pid"]?.GetValue<int>();
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    public static string? StubState(string hermesHome)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(hermesHome, "gateway_state.json")))?["gateway_state"]?.GetValue<string>();
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The stub's event log (stub-events.jsonl).</summary>
    public static List<JsonObject> StubEvents(string hermesHome)
    {
        var path = Path.Combine(hermesHome, "stub-events.jsonl");
        return File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
            : [];
    }

    /// <summary>The stub's control file (HERMES_HOME/stub-control.json), read by each new run.</summary>
    public static void StubControl(string hermesHome, object knobs) =>
        File.WriteAllText(Path.Combine(hermesHome, "stub-control.json"), JsonSerializer.Serialize(knobs));

    /// <summary>Signals a job's PID, after checking it is a child of this test's own fake daemon (so never anyone else's process).</summary>
    public void SignalJob(int pid, int signal)
    {
        Assert.Equal(DaemonPid, ParentOf(pid));
        Assert.Equal(0, NativeIds.Kill(pid, signal));
    }

    public static int? ParentOf(int pid)
    {
        try
        {
            var line = File.ReadAllLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            return line is null ? null : int.Parse(line[5..].Trim(), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Ends the daemon and every job it started: a shutdown request (the daemon SIGKILLs each job's process group and
    /// reaps it); if the daemon does not answer, SIGKILL to the jobs it recorded in jobs.json (only those whose /proc
    /// start time still matches, so a reused PID is never hit), then to the daemon itself.
    /// </summary>
    public void Shutdown()
    {
        if (daemon is null || daemon.HasExited)
        {
            return;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 15000 };
            socket.Connect(new UnixDomainSocketEndPoint(Path.Combine(State, "launchd.sock")));
            socket.Send(Encoding.UTF8.GetBytes("{\"Argv\":[\"__shutdown\"]}\n"));
            socket.Shutdown(SocketShutdown.Send);
            var buffer = new byte[4096];
            while (socket.Receive(buffer) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // no answer: fall through to the recorded PIDs
        }

        if (daemon.WaitForExit(TimeSpan.FromSeconds(15)))
        {
            return;
        }

        foreach (var (pid, ticks) in RecordedJobs())
        {
            if (ProcessStartTime.Read(pid) == ticks && ParentOf(pid) == daemon.Id)
            {
                _ = NativeIds.Kill(pid, 9);
            }
        }

        Thread.Sleep(200);
        daemon.Kill();
        daemon.WaitForExit();
    }

    private List<(int Pid, long? Ticks)> RecordedJobs()
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(State, "jobs.json")))!.AsArray()
                .Select(n => (n!["Pid"]!.GetValue<int>(), n["StartTicks"]?.GetValue<long?>())).ToList();
        }
        catch (Exception e) when (e is IOException or JsonException or NullReferenceException or InvalidOperationException)
        {
            return [];
        }
    }

    public void Dispose()
    {
        Shutdown();
        daemon?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    /// <summary>The daemon as this test process's own child, with the same command line the fake CLI uses to start one.</summary>
    private Process StartDaemon()
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var a in new[] { "-c", "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1", "sh", Path.Combine(State, "launchd.log"), "/usr/bin/setsid", FakeLaunchctlLocation.Executable, "__launchd", State })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["FAKE_LAUNCHD_STATE"] = State;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("the fake launchd did not start");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!File.Exists(Path.Combine(State, "launchd.pid")))
        {
            if (p.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the fake launchd did not come up: {(File.Exists(Path.Combine(State, "launchd.log")) ? File.ReadAllText(Path.Combine(State, "launchd.log")) : "(no log)")}");
            }

            Thread.Sleep(10);
        }

        return p;
    }
}

/// <summary>
/// The process-runner seam for the engine: "launchctl" runs the fake with FAKE_LAUNCHD_STATE set (and every call is
/// recorded); anything else goes to <see cref="SystemProcessRunner"/>.
/// </summary>
internal sealed class FakeLaunchctlRunner(string stateDir) : IProcessRunner
{
    private readonly List<string[]> calls = [];

    public IReadOnlyList<string[]> Calls
    {
        get
        {
            lock (calls)
            {
                return calls.ToList();
            }
        }
    }

    public void ClearCalls()
    {
        lock (calls)
        {
            calls.Clear();
        }
    }

    public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (fileName != "launchctl")
        {
            return SystemProcessRunner.Instance.Run(fileName, arguments, timeout, cancellation);
        }

        lock (calls)
        {
            calls.Add([.. arguments]);
        }

        return RunFake(stateDir, arguments, timeout);
    }

    public static ProcessResult RunFake(string stateDir, IReadOnlyList<string> arguments, TimeSpan timeout) =>
        new SystemProcessRunner(new Dictionary<string, string> { ["FAKE_LAUNCHD_STATE"] = stateDir }).Run(FakeLaunchctlLocation.Executable, arguments, timeout);
}

internal static partial class NativeIds
{
    [DllImport("libc", EntryPoint = "geteuid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern uint GetEuid();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Kill(int pid, int signal);
}
