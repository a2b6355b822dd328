using System.Text.Json;
using Xunit.Abstractions;

namespace HermesGateway.Core.Tests.Definition;

/// <summary>
/// The machine's own systemd judges the rendered units: 'systemd-analyze verify' must print nothing at all for
/// every golden case and every accepted hostile input (rendered for 252, executables pointing at existing files).
/// </summary>
public sealed class SystemdAcceptanceVerifyTests : IDisposable
{
    private static readonly string[] AnalyzeCandidates = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"];

    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("hermes-verify-");

    public static TheoryData<string> GoldenUnits => new(GoldenCases.All.Keys.Where(k => k.EndsWith(".service", StringComparison.Ordinal)));

    public static TheoryData<string> HostileUnits => new(HostileCorpus.Accepted(ServicePlatform.Systemd).Select(i => i.Id));

    [LinuxTheory]
    [MemberData(nameof(GoldenUnits))]
    public void A_golden_unit_passes_systemd_analyze_verify_without_a_warning(string golden)
    {
        // The golden executables do not exist here; an existing stub keeps 'not executable' out of the output.
        var stub = Path.Combine(dir.FullName, "bin", "hermes");
        Directory.CreateDirectory(Path.GetDirectoryName(stub)!);
        File.WriteAllText(stub, "#!/bin/sh\nexec sleep infinity\n");
        File.SetUnixFileMode(stub, (UnixFileMode)0x1ED); // 0755
        var request = GoldenCases.All[golden] with { Executable = stub, SystemdVersion = 252 };

        Verify(ServiceDefinitionFactory.Create(request));
    }

    [LinuxTheory]
    [MemberData(nameof(HostileUnits))]
    public void An_accepted_hostile_unit_passes_systemd_analyze_verify_without_a_warning(string id)
    {
        var root = Path.Combine(dir.FullName, "w");
        HostileCorpus.Prepare(root, ServicePlatform.Systemd);

        Verify(ServiceDefinitionFactory.Create(HostileCorpus.Request(HostileCorpus.ById[id], ServicePlatform.Systemd, root)));
    }

    private void Verify(ServiceDefinition definition)
    {
        var analyze = AnalyzeCandidates.FirstOrDefault(File.Exists);
        Assert.True(analyze is not null, "systemd-analyze is not installed: these tests need the machine's systemd (apt-get install systemd).");
        var unitDir = Directory.CreateDirectory(Path.Combine(dir.FullName, "units-" + Guid.NewGuid().ToString("N")[..8]));
        var path = Path.Combine(unitDir.FullName, definition.FileName);
        File.WriteAllText(path, ServiceFiles.Render(definition), new UTF8Encoding(false));

        // verify reads "FILE:NAME" as "FILE installed as NAME" (systemd 251+), so a unit name with ':' is given that way:
        // otherwise the tool itself would split the path ("Couldn't process aliases").
        var argument = path;
        if (definition.FileName.Contains(':', StringComparison.Ordinal))
        {
            argument = Path.Combine(unitDir.FullName, "colon-free.service");
            File.Move(path, argument);
            argument += ":" + definition.FileName;
        }

        ProcessResult result;
        if (definition.Scope == ServiceScope.User)
        {
            var runtime = Directory.CreateDirectory(Path.Combine(dir.FullName, "xdg-runtime"));
            File.SetUnixFileMode(runtime.FullName, (UnixFileMode)0x1C0); // 0700
            result = Programs.Run(analyze!, ["--user", "verify", argument], TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = runtime.FullName });
        }
        else
        {
            result = Programs.Run(analyze!, ["verify", argument], TimeSpan.FromSeconds(60));
        }

        Assert.True(result.ExitCode == 0 && result.StandardError.Length == 0 && result.StandardOutput.Length == 0,
            $"systemd-analyze {(definition.Scope == ServiceScope.User ? "--user " : string.Empty)}verify {definition.FileName} exited {result.ExitCode}:\n" +
            $"{result.StandardError}{result.StandardOutput}\n--- unit ---\n{ServiceFiles.Render(definition)}");
    }

    public void Dispose() => dir.Delete(recursive: true);
}

/// <summary>
/// Real systemd 252 (sde2e) runs the rendered units. Every accepted hostile input runs the dump payload and must
/// see exactly the original argv, environment, working directory, executable, account and log files; the default
/// unit (user and system scope) starts, reloads with SIGUSR1, is revived after an outside SIGTERM, and stops
/// cleanly through its planned-stop marker.
/// </summary>
[Collection(SystemdSandboxGroup.Name)]
public sealed class SystemdAcceptanceTests(SystemdSandbox sandbox, ITestOutputHelper output)
{
    private const string Account = "hermes-e2e";

    private static readonly object Gate = new();
    private static (SystemdSandbox Sandbox, HostileRun Run)? hostileRun;

    public static TheoryData<string> HostileUnits => new(HostileCorpus.Accepted(ServicePlatform.Systemd).Select(i => i.Id));

    [SystemdSandboxTheory]
    [MemberData(nameof(HostileUnits))]
    public void An_accepted_hostile_input_reaches_the_process_exactly_under_real_systemd(string id)
    {
        var run = HostileRunFor(sandbox);
        var input = HostileCorpus.ById[id];
        var d = run.Definitions[id];
        Assert.True(run.Dumps.TryGetValue(id, out var dump), $"the payload of {d.FileName} never reported:\n{run.Diagnostics(id)}");

        string Hex(string s) => Convert.ToHexString(Encoding.UTF8.GetBytes(s)).ToLowerInvariant();
        var env = dump.GetProperty("env").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
        // python3 -c SCRIPT OUT ARGS...: the payload reports what follows OUT.
        Assert.Equal(d.Arguments.Skip(3).Select(Hex), dump.GetProperty("argv").EnumerateArray().Select(a => a.GetString()!));
        Assert.Equal(Hex(d.Executable), dump.GetProperty("argv0").GetString());
        Assert.Equal(Hex(d.WorkingDirectory!), dump.GetProperty("cwd").GetString());
        foreach (var (name, value) in d.Environment.Select(v => (v.Name, v.Value)).Prepend(("HERMES_HOME", d.HermesHome!)))
        {
            Assert.True(env.TryGetValue(Hex(name), out var seen), $"{name} is missing from the process environment");
            Assert.True(seen == Hex(value), $"{name}: expected {Hex(value)[..Math.Min(80, Hex(value).Length)]}…, the process saw {seen[..Math.Min(80, seen.Length)]}…");
        }

        if (d.EnvironmentFile is not null)
        {
            Assert.Equal(Hex(HostileCorpus.EnvironmentFileValue), env.GetValueOrDefault(Hex(HostileCorpus.EnvironmentFileVariable)));
        }

        if (d.StandardOutPath is not null)
        {
            Assert.Contains("hermes-stdout-mark", File.ReadAllText(d.StandardOutPath), StringComparison.Ordinal);
        }

        if (d.StandardErrorPath is not null)
        {
            Assert.Contains("hermes-stderr-mark", File.ReadAllText(d.StandardErrorPath), StringComparison.Ordinal);
        }

        if (d.User is not null)
        {
            Assert.Equal(run.Uid(d.User), dump.GetProperty("uid").GetInt32());
        }

        if (d.Group is not null)
        {
            Assert.Equal(run.Gid(d.Group), dump.GetProperty("gid").GetInt32());
        }

        // Our own reader agrees with what systemd did, from the installed file.
        var back = ServiceFiles.Read(run.UnitPaths[id], ServicePlatform.Systemd, 252);
        Assert.Equal(d, back);
        Assert.Equal(input.ValueIn(run.Root), HostileInputTests.HostileValue(back, input));
    }

    [SystemdSandboxTheory]
    [InlineData(ServiceScope.User)]
    [InlineData(ServiceScope.System)]
    public void The_default_unit_runs_reloads_survives_an_outside_SIGTERM_and_stops_cleanly_through_its_marker(ServiceScope scope)
    {
        sandbox.EnsureUp();
        var root = Path.Combine(sandbox.Root, "default-" + scope.ToString().ToLowerInvariant());
        var home = Path.Combine(root, "home");
        var stub = Path.Combine(root, "bin", "hermes");
        Directory.CreateDirectory(home);
        Directory.CreateDirectory(Path.GetDirectoryName(stub)!);
        File.WriteAllText(stub, StubScript);
        File.SetUnixFileMode(stub, (UnixFileMode)0x1ED); // 0755
        var system = scope == ServiceScope.System;
        if (system)
        {
            CreateAccount(sandbox, Account);
            Require(sandbox.Exec("chown", $"{Account}:{Account}", home), "chown HERMES_HOME");
        }

        var definition = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Systemd,
            Scope = scope,
            Executable = stub,
            HermesHome = home,
            User = system ? Account : null,
            Group = system ? Account : null,
            SystemdVersion = 252,
        });
        Assert.Equal(new[] { "gateway", "run" }, definition.Arguments.ToArray());
        var unit = definition.FileName;
        var ctl = system ? (Func<string[], ProcessResult>)(a => sandbox.Systemctl(a)) : a => UserCtl(sandbox, a);
        var unitDir = system ? sandbox.UnitDirectory : Path.Combine(sandbox.StateDirectory, "user-units");
        var target = system ? "e2e.target" : "default.target";
        File.WriteAllText(Path.Combine(unitDir, unit), ServiceFiles.Render(definition));
        Directory.CreateDirectory(Path.Combine(unitDir, target + ".d"));
        File.WriteAllText(Path.Combine(unitDir, target + ".d", "hermes-acceptance-ref.conf"), $"[Unit]\nAfter={unit}\n"); // keeps it loaded when inactive
        if (!system)
        {
            Require(sandbox.Systemctl("start", UserManager(sandbox) + "0.service"), "start the user manager");
        }

        Require(ctl(["daemon-reload"]), "daemon-reload");
        try
        {
            Require(ctl(["start", unit]), "start");
            var pid = WaitRunning(ctl, unit, previousPid: 0);
            Assert.Equal(("active", "running"), (Show(ctl, unit)["ActiveState"], Show(ctl, unit)["SubState"]));

            // ExecReload= delivers SIGUSR1 to the main process, which keeps running.
            Require(ctl(["reload", unit]), "reload");
            // The payload creates the file, then writes its PID: wait for the content, not just the file.
            WaitFor(() => File.Exists(Path.Combine(home, "usr1")) && File.ReadAllText(Path.Combine(home, "usr1")).Trim().Length > 0, TimeSpan.FromSeconds(10), "the stub never saw SIGUSR1 from ExecReload=");
            Assert.Equal(pid.ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(home, "usr1")).Trim());
            Assert.Equal(pid, int.Parse(Show(ctl, unit)["MainPID"], CultureInfo.InvariantCulture));

            // An outside SIGTERM (no marker for this PID): the stub exits 1 and Restart=on-failure revives it.
            Require(sandbox.Exec("kill", "-TERM", pid.ToString(CultureInfo.InvariantCulture)), "kill -TERM");
            pid = WaitRunning(ctl, unit, previousPid: pid);
            Assert.Equal("1", Show(ctl, unit)["NRestarts"]);
            Assert.False(File.Exists(Path.Combine(home, ".gateway-planned-stop.json")), "nothing may write the marker for an outside SIGTERM");

            // systemctl stop: ExecStop= writes the marker for this very process, the stub exits 0, the unit ends inactive.
            var startTime = StartTime(sandbox, pid);
            Require(ctl(["stop", unit]), "stop");
            var after = Show(ctl, unit);
            Assert.True((after["ActiveState"], after["SubState"], after["Result"]) == ("inactive", "dead", "success"),
                $"after systemctl stop: {after["ActiveState"]}/{after["SubState"]} Result={after["Result"]}\n{Log(unit)}");

            using var marker = JsonDocument.Parse(File.ReadAllText(Path.Combine(home, ".gateway-planned-stop.json")));
            var m = marker.RootElement;
            Assert.Equal(pid, m.GetProperty("target_pid").GetInt32());
            Assert.Equal(startTime, m.GetProperty("target_start_time").GetInt64());
            Assert.Equal(JsonValueKind.Number, m.GetProperty("stopper_pid").ValueKind);
            Assert.True(m.GetProperty("stopper_pid").TryGetInt32(out _), "stopper_pid is not an int");
            var writtenAt = m.GetProperty("written_at").GetString()!;
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$", writtenAt);
            var at = DateTimeOffset.Parse(writtenAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            Assert.Equal(TimeSpan.Zero, at.Offset);
            Assert.True((DateTimeOffset.UtcNow - at).Duration() < TimeSpan.FromSeconds(15), $"written_at {writtenAt} is not close to now ({DateTimeOffset.UtcNow:O})");
            Assert.Equal("0", File.ReadAllText(Path.Combine(home, "term")).Trim());
        }
        finally
        {
            ctl(["stop", unit]);
            output.WriteLine(Log(unit));
        }
    }

    /// <summary>
    /// The stub gateway: writes its PID when ready, its PID to 'usr1' on SIGUSR1, and on SIGTERM exits 0 only when
    /// the planned-stop marker names its PID (1 otherwise), like the gateway's own check.
    /// </summary>
    private const string StubScript =
        "#!/usr/bin/python3\n" +
        "import os, signal, json, time\n" +
        "home = os.environ['HERMES_HOME']\n" +
        "def usr1(s, f):\n" +
        "    open(os.path.join(home, 'usr1'), 'w').write(str(os.getpid()))\n" +
        "def term(s, f):\n" +
        "    try:\n" +
        "        m = json.load(open(os.path.join(home, '.gateway-planned-stop.json')))\n" +
        "        code = 0 if m.get('target_pid') == os.getpid() else 1\n" +
        "    except Exception:\n" +
        "        code = 1\n" +
        "    open(os.path.join(home, 'term'), 'w').write(str(code))\n" +
        "    os._exit(code)\n" +
        "signal.signal(signal.SIGUSR1, usr1)\n" +
        "signal.signal(signal.SIGTERM, term)\n" +
        "open(os.path.join(home, 'ready'), 'w').write(str(os.getpid()))\n" +
        "while True:\n" +
        "    time.sleep(3600)\n";

    private int WaitRunning(Func<string[], ProcessResult> ctl, string unit, int previousPid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var s = Show(ctl, unit);
            if (s["ActiveState"] == "active" && s["SubState"] == "running"
                && int.TryParse(s["MainPID"], CultureInfo.InvariantCulture, out var pid) && pid > 0 && pid != previousPid)
            {
                return pid;
            }

            Thread.Sleep(50);
        }

        Assert.Fail($"{unit} did not reach active (running) with a new main PID: {string.Join(' ', Show(ctl, unit))}\n{Log(unit)}");
        return 0;
    }

    private static Dictionary<string, string> Show(Func<string[], ProcessResult> ctl, string unit)
    {
        var text = ctl(["show", "-p", "ActiveState,SubState,Result,MainPID,NRestarts", unit]).StandardOutput;
        return text.Split('\n').Where(l => l.Contains('=', StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparer.Ordinal);
    }

    /// <summary>Field 22 of /proc/PID/stat (starttime), read inside the sandbox while the process runs.</summary>
    private static long StartTime(SystemdSandbox sandbox, int pid)
    {
        var stat = sandbox.Exec("cat", $"/proc/{pid}/stat").StandardOutput;
        var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(rest[22 - 3], CultureInfo.InvariantCulture);
    }

    private string Log(string unit) =>
        string.Join('\n', sandbox.ConsoleLog().Split('\n').Where(l => l.Contains(unit, StringComparison.Ordinal)).TakeLast(30));

    private static string UserManager(SystemdSandbox sandbox) =>
        Run(sandbox, ["usermgr", sandbox.StateDirectory]).StandardOutput.Trim();

    private static ProcessResult UserCtl(SystemdSandbox sandbox, string[] arguments) =>
        Run(sandbox, ["uctl", sandbox.StateDirectory, "0", .. arguments]);

    private static ProcessResult Run(SystemdSandbox sandbox, string[] arguments)
    {
        sandbox.EnsureUp();
        return Programs.Run(SandboxPreconditions.Script!, arguments, TimeSpan.FromSeconds(30));
    }

    /// <summary>useradd inside the sandbox (its /etc is copy-on-write); an existing account is fine.</summary>
    internal static void CreateAccount(SystemdSandbox sandbox, string name, int? uid = null)
    {
        if (sandbox.Exec("id", "-u", name).ExitCode == 0)
        {
            return;
        }

        string[] args = uid is { } u
            ? ["useradd", "-M", "-U", "-u", u.ToString(CultureInfo.InvariantCulture), "-s", "/usr/sbin/nologin", name]
            : ["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", name];
        Require(sandbox.Exec(args), "useradd " + name);
    }

    internal static void Require(ProcessResult result, string what) =>
        Assert.True(result.ExitCode == 0, $"{what} failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail(failure);
            }

            Thread.Sleep(50);
        }
    }

    private static HostileRun HostileRunFor(SystemdSandbox sandbox)
    {
        lock (Gate)
        {
            if (hostileRun is not { } r || !ReferenceEquals(r.Sandbox, sandbox))
            {
                hostileRun = (sandbox, HostileRun.Start(sandbox));
            }

            return hostileRun.Value.Run;
        }
    }

    /// <summary>All accepted hostile units at once: installed, started together, their dumps collected.</summary>
    private sealed class HostileRun
    {
        private readonly SystemdSandbox sandbox;

        private HostileRun(SystemdSandbox sandbox, string root)
        {
            this.sandbox = sandbox;
            Root = root;
        }

        public string Root { get; }

        public Dictionary<string, ServiceDefinition> Definitions { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> UnitPaths { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, JsonElement> Dumps { get; } = new(StringComparer.Ordinal);

        public static HostileRun Start(SystemdSandbox sandbox)
        {
            sandbox.EnsureUp();
            var run = new HostileRun(sandbox, Path.Combine(sandbox.Root, "hostile"));
            HostileCorpus.Prepare(run.Root, ServicePlatform.Systemd);
            CreateAccount(sandbox, HostileCorpus.SandboxUser);
            CreateAccount(sandbox, "uid4242", 4242);
            foreach (var input in HostileCorpus.Accepted(ServicePlatform.Systemd))
            {
                var d = ServiceDefinitionFactory.Create(HostileCorpus.Request(input, ServicePlatform.Systemd, run.Root));
                var path = Path.Combine(sandbox.UnitDirectory, d.FileName);
                File.WriteAllText(path, ServiceFiles.Render(d), new UTF8Encoding(false));
                run.Definitions[input.Id] = d;
                run.UnitPaths[input.Id] = path;
            }

            var units = run.Definitions.Values.Select(d => d.FileName).ToArray();
            var refDir = Directory.CreateDirectory(Path.Combine(sandbox.UnitDirectory, "e2e.target.d"));
            File.WriteAllText(Path.Combine(refDir.FullName, "hermes-hostile-ref.conf"), "[Unit]\n" + string.Concat(units.Select(u => $"After={u}\n")));
            Require(sandbox.Systemctl("daemon-reload"), "daemon-reload");
            sandbox.Systemctl(["start", "--no-block", .. units]); // a unit that fails to load shows up as a missing dump

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            var pending = run.Definitions.Keys.ToHashSet(StringComparer.Ordinal);
            while (pending.Count > 0 && DateTime.UtcNow < deadline)
            {
                foreach (var id in pending.ToList())
                {
                    var file = Path.Combine(run.Root, "out", id + ".json");
                    if (File.Exists(file))
                    {
                        using var doc = JsonDocument.Parse(File.ReadAllText(file));
                        run.Dumps[id] = doc.RootElement.Clone();
                        pending.Remove(id);
                    }
                }

                Thread.Sleep(50);
            }

            // Each payload exits by itself; stop whatever is left so nothing keeps restarting.
            sandbox.Systemctl(["stop", "--no-block", .. units]);
            return run;
        }

        public int Uid(string user) => int.Parse(sandbox.Exec("id", "-u", user).StandardOutput.Trim(), CultureInfo.InvariantCulture);

        public int Gid(string group) => int.Parse(sandbox.Exec("getent", "group", group).StandardOutput.Split(':')[2], CultureInfo.InvariantCulture);

        public string Diagnostics(string id)
        {
            var unit = Definitions[id].FileName;
            var status = sandbox.Systemctl("show", "-p", "LoadState,ActiveState,SubState,Result,ExecMainStatus", unit);
            var log = string.Join('\n', sandbox.ConsoleLog().Split('\n').Where(l => l.Contains(unit, StringComparison.Ordinal)).TakeLast(20));
            return $"{status.StandardOutput}{status.StandardError}\n{log}\n--- unit ---\n{ServiceFiles.Render(Definitions[id])}";
        }
    }
}

/// <summary>A theory about the machine's systemd: reported as skipped (never passed) where there is no systemd (macOS).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "systemd-analyze exists only where systemd does (Linux)";
        }
    }
}
