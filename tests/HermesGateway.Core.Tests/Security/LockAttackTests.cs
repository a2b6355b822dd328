namespace HermesGateway.Core.Tests.Security;

/// <summary>
/// Issue 11 item 2 (and 6): the restart lock and result as an unprivileged user would turn them against root. The
/// attacker is a real second uid (nobody, through setpriv) acting in folders it can write. One test points TMPDIR (the
/// whole process') at its own folder, so the class runs alone: other tests' temp folders would land there and vanish.
/// </summary>
[Collection(ProcessEnvironmentGroup.Name)]
public sealed class LockAttackTests : IDisposable
{
    private const int OldPid = ScriptedPids.Old;
    private const int NewPid = ScriptedPids.New;
    private readonly TempDir dir = new();

    public LockAttackTests()
    {
        // A shared, sticky, world-writable folder like /tmp: the attacker's playground.
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b1_111_111_111);
    }

    public void Dispose() => dir.Dispose();

    /// <summary>A scripted supervisor whose revival brings a new gateway that reports itself running.</summary>
    private (ScriptedTable, ScriptedManager) Supervisor()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var home = Service().HermesHome!;
        return (table, new ScriptedManager(table)
        {
            OnRevive = () =>
            {
                Directory.CreateDirectory(home);
                File.WriteAllText(Path.Combine(home, GatewayStateFile.FileName), $$"""{"gateway_state": "running", "pid": {{NewPid}}}""");
                table.Alive.Add(NewPid);
            },
        });
    }

    private ServiceIdentity Service(ServiceScope scope = ServiceScope.System) =>
        new("hermes-gateway", ServicePlatform.Systemd, scope, "/x/hermes-gateway.service") { HermesHome = Path.Combine(dir.Path, "home") };

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_a_lock_folder_made_first_by_another_user_in_the_shared_temp_folder_is_never_roots()
    {
        // Without XDG_RUNTIME_DIR (sudo), root's folder was $TMPDIR/hermesgateway-0; with 'sudo -E' it was the user's own
        // runtime folder. Either way another user could make it first.
        var old = Environment.GetEnvironmentVariable("TMPDIR");
        Environment.SetEnvironmentVariable("TMPDIR", dir.Path);
        try
        {
            Attacker.Shell($"mkdir -m 777 '{dir.Path}/hermesgateway-0' '{dir.Path}/runtime'");
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

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_a_lock_folder_another_user_can_write_or_a_link_to_one_is_refused_and_nothing_is_created_through_it()
    {
        // The attacker's folder, a link to a root-only folder where the lock file name points at a root file.
        var victim = Path.Combine(dir.Path, "root-only");
        Directory.CreateDirectory(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Attacker.Shell($"mkdir -m 777 '{dir.Path}/open' && ln -s '{victim}' '{dir.Path}/link'");
        var (table, manager) = Supervisor();
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
        var (table, manager) = Supervisor();
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

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_the_hand_off_log_is_never_opened_in_the_service_account_s_folder_or_a_shared_one()
    {
        // The transient helper's output is appended by systemd (root, for a system unit) to the log path, links followed:
        // in HERMES_HOME/logs the service account could point it at a root file; in /tmp anyone could.
        var home = Path.Combine(dir.Path, "home");
        Attacker.Shell($"mkdir -p '{home}/logs' && ln -s /etc/hostname '{home}/logs/restart-helper.log' && ln -s /etc/hostname '{dir.Path}/restart-helper.log'");
        var locks = Path.Combine(dir.Path, "root-locks");
        var (table, manager) = Supervisor();

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
        var (table, manager) = Supervisor();
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
}

/// <summary>Tests that change the process' environment (TMPDIR): run with nothing else in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentGroup
{
    public const string Name = "process environment";
}
