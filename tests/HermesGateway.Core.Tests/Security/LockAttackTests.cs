using System.Diagnostics;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;
using HermesGateway.Core.Tests.Platform;
using HermesGateway.Core.Tests.Service;
using Xunit;

namespace HermesGateway.Core.Tests.Security;

/// <summary>
/// Issue 11 item 2 (and 6): the restart lock and result as an unprivileged user would turn them against root. The
/// attacker is a real second uid (nobody, through setpriv) acting in folders it can write.
/// </summary>
public sealed class LockAttackTests : IDisposable
{
    private const int OldPid = 100;
    private const int NewPid = 200;
    private readonly TempDir dir = new();

    public LockAttackTests()
    {
        // A shared, sticky, world-writable folder like /tmp: the attacker's playground.
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b1_111_111_111);
    }

    public void Dispose() => dir.Dispose();

    private HermesService Service(ServiceScope scope = ServiceScope.System) => new()
    {
        Name = "hermes-gateway",
        Platform = ServicePlatform.Systemd,
        Scope = scope,
        Path = "/x/hermes-gateway.service",
        State = "active",
        Drift = "none",
        Policy = "ok",
        HermesHome = Path.Combine(dir.Path, "home"),
    };

    [RootFact]
    [Trait("Category", "Attack")]
    public void Attack_a_lock_folder_made_first_by_another_user_in_the_shared_temp_folder_is_never_roots()
    {
        // Without XDG_RUNTIME_DIR (sudo), root's folder was $TMPDIR/hermesgateway-0; with 'sudo -E' it was the user's own
        // runtime folder. Either way another user could make it first.
        var old = Environment.GetEnvironmentVariable("TMPDIR");
        Environment.SetEnvironmentVariable("TMPDIR", dir.Path);
        try
        {
            Attacker.Run($"mkdir -m 777 '{dir.Path}/hermesgateway-0' '{dir.Path}/runtime'");
            var root = RestartLock.Directory(0, runtimeDir: Path.Combine(dir.Path, "runtime"), home: "/root");
            Assert.False(root.StartsWith(dir.Path, StringComparison.Ordinal), root);
            Assert.StartsWith(OperatingSystem.IsMacOS() ? "/var/run/" : "/run/", root, StringComparison.Ordinal);
            var user = RestartLock.Directory(1000, runtimeDir: null, home: "/home/u");
            Assert.Equal("/home/u/.cache/hermesgateway", user);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TMPDIR", old);
        }
    }

    [RootFact]
    [Trait("Category", "Attack")]
    public void Attack_a_lock_folder_another_user_can_write_or_a_link_to_one_is_refused_and_nothing_is_created_through_it()
    {
        // The attacker's folder, a link to a root-only folder where the lock file name points at a root file.
        var victim = Path.Combine(dir.Path, "root-only");
        Directory.CreateDirectory(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Attacker.Run($"mkdir -m 777 '{dir.Path}/open' && ln -s '{victim}' '{dir.Path}/link'");
        var table = new FakeTable();
        var manager = new FakeManager(table);
        foreach (var folder in new[] { Path.Combine(dir.Path, "open"), Path.Combine(dir.Path, "link") })
        {
            var e = Assert.Throws<HermesException>(() => new GatewayRestarter(manager, table, folder).Restart(Service(), new RestartOptions(), new TestHost()));
            Assert.Equal(HermesErrorIds.PermissionDenied, e.ErrorId);
            Assert.Equal(0, manager.Signals); // nothing restarted (the error's report only reads the supervisor)
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(victim));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(dir.Path, "open")));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_a_forged_successful_result_is_not_joined_unless_the_supervisor_runs_the_process_it_names()
    {
        var locks = Path.Combine(dir.Path, "locks");
        var table = new FakeTable();
        var manager = new FakeManager(table);
        var key = RestartLock.Key(Service());
        var holder = RestartLock.Acquire(locks, key, TimeSpan.Zero, default, out _);
        RestartResult? r = null;
        var caller = new Thread(() => r = new GatewayRestarter(manager, table, locks).Restart(Service(), new RestartOptions { LockWait = TimeSpan.FromSeconds(20) }, new TestHost()));
        caller.Start();
        Thread.Sleep(300);
        // While the call waits, a "successful" restart to PID 4242 appears beside the lock.
        File.WriteAllText(holder.ResultPath, System.Text.Json.JsonSerializer.Serialize(new RestartResult
        {
            Name = "hermes-gateway", Platform = ServicePlatform.Systemd, OldPid = 1, NewPid = 4242, Strategy = "forged", FinalState = "running",
            FinishedAt = DateTimeOffset.UtcNow.AddMinutes(5), Attempts = 1,
        }));
        holder.Dispose();

        Assert.True(caller.Join(TimeSpan.FromSeconds(20)));
        Assert.NotNull(r);
        Assert.False(r.Joined);
        Assert.Equal(NewPid, r.NewPid);
        Assert.Equal(1, manager.Signals);
    }

    [RootFact]
    [Trait("Category", "Attack")]
    public void Attack_the_hand_off_log_is_never_opened_in_the_service_account_s_folder_or_a_shared_one()
    {
        // The transient helper's output is appended by systemd (root, for a system unit) to the log path, links followed:
        // in HERMES_HOME/logs the service account could point it at a root file; in /tmp anyone could.
        var home = Path.Combine(dir.Path, "home");
        Attacker.Run($"mkdir -p '{home}/logs' && ln -s /etc/hostname '{home}/logs/restart-helper.log' && ln -s /etc/hostname '{dir.Path}/restart-helper.log'");
        var locks = Path.Combine(dir.Path, "root-locks");
        var table = new FakeTable();
        var manager = new FakeManager(table);

        var r = new GatewayRestarter(manager, table, locks).Restart(Service(), new RestartOptions { CallerPid = OldPid, HelperCommand = ["true"] }, new TestHost());

        Assert.NotNull(r);
        Assert.True(r.HandedOff);
        Assert.Equal(Path.Combine(locks, RestartLock.Key(Service()) + ".restart-helper.log"), manager.HandOffLog);
    }

    [Fact]
    public void A_user_unit_and_a_system_unit_of_one_name_do_not_share_a_lock()
    {
        // Issue 11 item 6: one restart "joined" the other's, or waited for it.
        var locks = Path.Combine(dir.Path, "locks");
        var table = new FakeTable();
        var manager = new FakeManager(table);
        using var userRestart = RestartLock.Acquire(locks, RestartLock.Key(Service(ServiceScope.User)), TimeSpan.Zero, default, out _);

        var r = new GatewayRestarter(manager, table, locks).Restart(Service(ServiceScope.System), new RestartOptions { LockWait = TimeSpan.FromMilliseconds(300) }, new TestHost());

        Assert.NotNull(r);
        Assert.False(r.Waited);
        Assert.Equal(NewPid, r.NewPid);
        Assert.NotEqual(RestartLock.Key(ServiceScope.User, "x"), RestartLock.Key(ServiceScope.System, "x"));
    }

    [Fact]
    public void Uninstall_leaves_no_lock_or_result_behind_and_keeps_those_of_a_restart_under_way()
    {
        var locks = Path.Combine(dir.Path, "locks");
        var key = RestartLock.Key(Service());
        using (var held = RestartLock.Acquire(locks, key, TimeSpan.Zero, default, out _))
        {
            held.Record(new RestartResult { Name = "hermes-gateway", Platform = ServicePlatform.Systemd, Strategy = "x", FinalState = "running", Steps = [] });
            Assert.False(RestartLock.Forget(locks, key)); // a restart holds it: left alone
        }

        Assert.True(RestartLock.Forget(locks, key));
        Assert.Empty(Directory.EnumerateFileSystemEntries(locks));
    }

    /// <summary>A process table where the old gateway lives until signalled and the new one once revived.</summary>
    private sealed class FakeTable : IProcessTable
    {
        public HashSet<int> Alive { get; } = [OldPid];

        public bool IsAlive(int pid) => Alive.Contains(pid);

        public long? StartTime(int pid) => Alive.Contains(pid) ? 1000 + pid : null;

        public int? ParentPid(int pid) => 1;

        public string? ControlGroup(int pid) => null;

        public IProcessHandle? Open(int pid) => null;
    }

    private sealed class FakeManager(FakeTable table) : IServiceManager
    {
        public int Calls { get; private set; }

        public int Signals { get; private set; }

        public ServicePlatform Platform => ServicePlatform.Systemd;

        public string SupervisorName => "systemd";

        public string TransientJobKind => "systemd-run";

        public RunningGateway? Identify(HermesService service, CancellationToken cancellation)
        {
            Calls++;
            var pid = table.Alive.Contains(NewPid) ? NewPid : table.Alive.Contains(OldPid) ? OldPid : 0;
            if (pid == NewPid)
            {
                File.WriteAllText(Path.Combine(service.HermesHome!, GatewayStateFile.FileName), $$"""{"gateway_state": "running", "pid": {{NewPid}}}""");
            }

            return pid == 0 ? null : new RunningGateway(pid, table.StartTime(pid));
        }

        public IProcessHandle? SendSignal(HermesService service, RunningGateway target, UnixSignal signal, IEngineHost host)
        {
            Calls++;
            Signals++;
            table.Alive.Remove(target.Pid);
            return null;
        }

        public string Revive(HermesService service, RunningGateway exited, TimeSpan waitForSupervisor, IEngineHost host)
        {
            Calls++;
            Directory.CreateDirectory(service.HermesHome!);
            table.Alive.Add(NewPid);
            return "revived";
        }

        public void HardRestart(HermesService service, IEngineHost host) => throw new NotSupportedException();

        public string FilePath(string name, ServiceScope scope) => throw new NotSupportedException();

        public void CheckCanManage(ServiceScope scope) => throw new NotSupportedException();

        public IEnumerable<(string Path, ServiceScope Scope)> Discover() => throw new NotSupportedException();

        public void Activate(ServiceDefinition definition, string path, bool fileChanged, bool start, bool enableLinger, IEngineHost host) => throw new NotSupportedException();

        public void Deactivate(string name, ServiceScope scope, string? hermesHome, IEngineHost host) => throw new NotSupportedException();

        public HermesService Status(ServiceConfiguration config, ServiceScope scope, HermesService known) => throw new NotSupportedException();

        public void StartService(string name, ServiceScope scope, string path, IEngineHost host) => throw new NotSupportedException();

        public void StopService(string name, ServiceScope scope, string? hermesHome, IEngineHost host) => throw new NotSupportedException();

        public void Forget(ServiceScope scope, IEngineHost host) => throw new NotSupportedException();

        public string? HandOffLog { get; private set; }

        public string HandOff(HermesService service, IReadOnlyList<string> command, string log, IEngineHost host)
        {
            HandOffLog = log;
            return "helper.service";
        }
    }
}

/// <summary>The unprivileged attacker: a shell command run as nobody (uid 65534) through setpriv.</summary>
internal static class Attacker
{
    public const int Uid = 65534;

    public static void Run(string script)
    {
        var psi = new ProcessStartInfo("setpriv") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { $"--reuid={Uid}", $"--regid={Uid}", "--clear-groups", "/bin/sh", "-c", script })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"the attacker's '{script}' failed ({p.ExitCode}): {err}");
    }
}

/// <summary>A test that needs root (a second uid to attack from); CI runs as root, so there it always runs.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !ServiceEnvironment.Current().IsRoot)
        {
            Skip = "needs root on Linux: the attacker is a second uid made with setpriv";
        }
    }
}
