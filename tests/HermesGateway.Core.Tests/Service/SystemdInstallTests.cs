namespace HermesGateway.Core.Tests.Service;

/// <summary>Install, uninstall, start and stop through the engine, with systemctl answered by a recording runner.</summary>
public sealed class SystemdInstallTests : IDisposable
{
    private readonly TempDir dir = new();

    private ServiceEnvironment Environment(uint uid = 1000) => new()
    {
        Home = Path.Combine(dir.Path, "home"),
        XdgConfigHome = Path.Combine(dir.Path, "home", ".config"),
        DbusSessionBusAddress = "unix:path=/run/user/1000/bus",
        Uid = uid,
        UserName = "hermes",
        SystemUnitDirectory = Path.Combine(dir.Path, "etc", "systemd", "system"),
    };

    private ServiceDefinition Definition(ServiceScope scope = ServiceScope.User) => ServiceDefinitionFactory.Create(new DefinitionRequest
    {
        Platform = ServicePlatform.Systemd,
        Scope = scope,
        Executable = "/usr/local/bin/hermes",
        HermesHome = Path.Combine(dir.Path, "home", ".hermes"),
        User = scope == ServiceScope.System ? "hermes" : null,
    });

    private static ServiceInstaller Installer(IProcessRunner runner, ServiceEnvironment env) => new(new SystemdServiceManager(runner, env));

    /// <summary>The calls made to systemctl and loginctl, without the read-only look-ups of the command and accounts.</summary>
    private static IEnumerable<string> SupervisorCalls(RecordingRunner runner) =>
        runner.Calls.Where(c => !c.StartsWith("test ", StringComparison.Ordinal) && !c.StartsWith("id ", StringComparison.Ordinal) && !c.StartsWith("getent ", StringComparison.Ordinal));

    private static RecordingRunner FreshUnit() => new RecordingRunner()
        .On((f, a) => f == "systemctl" && a.Contains("show"), stdout: RecordingRunner.Show())
        .On((f, a) => f == "systemctl" && a.Contains("is-enabled"), exitCode: 1, stdout: "disabled\n")
        .On((f, a) => f == "loginctl", stdout: "yes\n");

    /// <summary>Issue 13, item 9: a definition that fails lifecycle scenarios installed without a word.</summary>
    [Fact]
    public void Installing_a_definition_that_misses_scenarios_says_which_and_the_defaults_say_nothing()
    {
        var shortStop = Definition() with { StopTimeout = TimeSpan.FromSeconds(10) }; // kills a 195 s drain
        var warned = new TestHost();
        Installer(FreshUnit(), Environment()).Install(new InstallRequest(shortStop), warned);

        var warning = Assert.Single(warned.Warnings, w => w.Contains("lifecycle scenario", StringComparison.Ordinal));
        Assert.Contains("ManagerStop", warning, StringComparison.Ordinal);
        Assert.Contains("Test-HermesExitPolicy", warning, StringComparison.Ordinal);

        var quiet = new TestHost();
        Installer(FreshUnit(), Environment()).Install(new InstallRequest(Definition(), Force: true), quiet);
        Assert.DoesNotContain(quiet.Warnings, w => w.Contains("lifecycle scenario", StringComparison.Ordinal));
    }

    /// <summary>Issue 13, item 9: a command that does not exist, or an account the machine does not know, was installed and enabled.</summary>
    [Theory]
    [InlineData("executable")]
    [InlineData("user")]
    [InlineData("group")]
    public void A_gateway_that_cannot_run_here_is_refused_with_Start_and_warned_of_without(string missing)
    {
        var system = Definition(ServiceScope.System) with { Group = "hermes" };
        Directory.CreateDirectory(system.HermesHome!);
        var runner = FreshUnit()
            .On((f, a) => f == "test" && a.Contains("/usr/local/bin/hermes"), exitCode: missing == "executable" ? 1 : 0)
            .On((f, a) => f == "id" && a.Contains("hermes"), exitCode: missing == "user" ? 1 : 0)
            .On((f, a) => f == "getent" && a.Contains("hermes"), exitCode: missing == "group" ? 2 : 0);

        var e = Expect.Error(missing == "executable" ? HermesErrorIds.ExecutableNotFound : HermesErrorIds.AccountNotFound,
            () => Installer(runner, Environment(uid: 0)).Install(new InstallRequest(system, Start: true), new TestHost()));
        Assert.Contains(missing == "executable" ? "/usr/local/bin/hermes" : "'hermes'", e.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was written", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir.Path, "etc", "systemd", "system", "hermes-gateway.service")));

        var host = new TestHost();
        Installer(runner, Environment(uid: 0)).Install(new InstallRequest(system), host);
        Assert.Contains(host.Warnings, w => w.Contains(missing == "executable" ? "/usr/local/bin/hermes" : "'hermes'", StringComparison.Ordinal));
    }

    /// <summary>Issue 13, item 13: every update left a .bak beside the unit, without end.</summary>
    [Fact]
    public void Backups_of_files_a_person_wrote_are_all_kept_and_of_the_modules_own_files_only_the_newest()
    {
        var env = Environment();
        var path = Path.Combine(env.UserUnitDirectory, "hermes-gateway.service");
        var upstream = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service"));
        dir.Write(Path.GetRelativePath(dir.Path, path), upstream);
        for (var i = 0; i < 5; i++)
        {
            Installer(FreshUnit(), env).Install(new InstallRequest(Definition() with { StopTimeout = TimeSpan.FromSeconds(300 + i) }, Force: true), new TestHost());
        }

        var backups = Directory.GetFiles(env.UserUnitDirectory, "*.bak").Select(File.ReadAllText).ToList();
        Assert.Equal(2, backups.Count);
        Assert.Contains(upstream, backups); // what a person wrote: never pruned
        Assert.Single(backups, b => b.Contains("TimeoutStopSec=303", StringComparison.Ordinal)); // the module's own: the newest only
    }

    /// <summary>Issue 13, item 13: HermesNoUserBus had two texts, one from the environment check and one from systemctl's answer.</summary>
    [Fact]
    public void A_missing_user_bus_is_told_in_one_text_whether_seen_in_the_environment_or_in_systemctls_answer()
    {
        var unset = Expect.Error(HermesErrorIds.NoUserBus, () => Installer(FreshUnit(), Environment() with { DbusSessionBusAddress = null, XdgRuntimeDir = null })
            .Install(new InstallRequest(Definition()), new TestHost()));
        var refused = Expect.Error(HermesErrorIds.NoUserBus, () => Installer(FreshUnit().On((f, a) => f == "systemctl", exitCode: 1, stderr: "Failed to connect to bus: No medium found"), Environment())
            .Install(new InstallRequest(Definition()), new TestHost()));

        static string Advice(string message) => message[message.IndexOf(").", StringComparison.Ordinal)..];
        Assert.StartsWith("The user's systemd manager cannot be reached (", unset.Message, StringComparison.Ordinal);
        Assert.StartsWith("The user's systemd manager cannot be reached (", refused.Message, StringComparison.Ordinal);
        Assert.Equal(Advice(unset.Message), Advice(refused.Message));
        Assert.Contains("No medium found", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_first_install_writes_the_unit_0644_reloads_and_enables_it()
    {
        var runner = FreshUnit();
        var result = Installer(runner, Environment()).Install(new InstallRequest(Definition()), new TestHost())!;

        var path = Path.Combine(dir.Path, "home", ".config", "systemd", "user", "hermes-gateway.service");
        Assert.Equal(path, result.Path);
        Assert.Equal(InstallOutcome.Created, result.Outcome);
        Assert.Null(result.BackupPath);
        Assert.True(FileStamp.IsUntouched(File.ReadAllText(path)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(path));
        Assert.Contains("systemctl --user daemon-reload", runner.Calls);
        Assert.Contains("systemctl --user enable -- hermes-gateway.service", runner.Calls);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, ".*tmp"));
    }

    [Fact]
    public void Start_enables_with_now_and_a_system_unit_goes_to_the_system_directory()
    {
        var runner = FreshUnit();
        Directory.CreateDirectory(Definition(ServiceScope.System).HermesHome!); // -Start refuses a HERMES_HOME that does not exist
        var result = Installer(runner, Environment(uid: 0)).Install(new InstallRequest(Definition(ServiceScope.System), Start: true), new TestHost())!;

        Assert.StartsWith(Path.Combine(dir.Path, "etc", "systemd", "system"), result.Path, StringComparison.Ordinal);
        Assert.Contains("systemctl daemon-reload", runner.Calls);
        Assert.Contains("systemctl enable --now -- hermes-gateway.service", runner.Calls);
        Assert.DoesNotContain(runner.Calls, c => c.Contains("--user", StringComparison.Ordinal));
    }

    /// <summary>Issue 11 item 14: only the environment file changed, yet the unit was backed up and rewritten.</summary>
    [Fact]
    public void A_change_of_only_the_environment_file_leaves_the_unit_alone()
    {
        var env = Environment();
        var d = Definition() with { EnvironmentFile = Path.Combine(dir.Path, "home", ".hermes", "gateway.env") };
        Installer(FreshUnit(), env).Install(new InstallRequest(d, EnvironmentFileVariables: [new("API_KEY", "one")]), new TestHost());
        var unitDir = Path.Combine(dir.Path, "home", ".config", "systemd", "user");
        var unit = Path.Combine(unitDir, "hermes-gateway.service");
        var before = File.GetLastWriteTimeUtc(unit);
        Thread.Sleep(20);

        var host = new TestHost();
        var result = Installer(FreshUnit(), env).Install(new InstallRequest(d, EnvironmentFileVariables: [new("API_KEY", "two")]), host)!;

        Assert.Equal(InstallOutcome.Updated, result.Outcome);
        Assert.Null(result.BackupPath);
        Assert.Empty(result.Changes);
        Assert.Equal(before, File.GetLastWriteTimeUtc(unit));
        Assert.Empty(Directory.GetFiles(unitDir, "*.bak"));
        Assert.Contains("API_KEY=\"two\"", File.ReadAllText(d.EnvironmentFile!), StringComparison.Ordinal);
    }

    [Fact]
    public void An_identical_install_writes_nothing_and_reloads_nothing()
    {
        var env = Environment();
        Installer(FreshUnit(), env).Install(new InstallRequest(Definition()), new TestHost());
        var path = Path.Combine(env.UserUnitDirectory, "hermes-gateway.service");
        var written = File.GetLastWriteTimeUtc(path);
        var runner = new RecordingRunner()
            .On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show("active", "running", 42, "enabled"))
            .On((f, a) => a.Contains("is-enabled"), stdout: "enabled\n")
            .On((f, a) => f == "loginctl", stdout: "yes\n");

        var result = Installer(runner, env).Install(new InstallRequest(Definition()), new TestHost())!;

        Assert.Equal(InstallOutcome.Unchanged, result.Outcome);
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
        Assert.DoesNotContain(runner.Calls, c => c.Contains("daemon-reload", StringComparison.Ordinal) || c.Contains(" enable", StringComparison.Ordinal) || c.Contains(" start", StringComparison.Ordinal));
        Assert.Single(Directory.GetFiles(env.UserUnitDirectory));
    }

    [Fact]
    public void An_update_of_the_modules_own_file_keeps_a_backup_and_reports_the_changed_settings()
    {
        var env = Environment();
        Installer(FreshUnit(), env).Install(new InstallRequest(Definition()), new TestHost());

        var longer = Definition() with { StopTimeout = TimeSpan.FromSeconds(120) };
        var result = Installer(FreshUnit(), env).Install(new InstallRequest(longer), new TestHost())!;

        Assert.Equal(InstallOutcome.Updated, result.Outcome);
        Assert.NotNull(result.BackupPath);
        Assert.Contains("TimeoutStopSec=90s", File.ReadAllText(result.BackupPath!), StringComparison.Ordinal);
        Assert.Equal("~ TimeoutStopSec=90s → 120s", Assert.Single(result.Changes).ToString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_file_a_person_wrote_or_edited_is_not_replaced_without_Force(bool stamped)
    {
        var env = Environment();
        var path = Path.Combine(env.UserUnitDirectory, "hermes-gateway.service");
        if (stamped)
        {
            Installer(FreshUnit(), env).Install(new InstallRequest(Definition()), new TestHost());
            File.AppendAllText(path, "# my note\n");
        }
        else
        {
            dir.Write(Path.GetRelativePath(dir.Path, path), File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service")));
        }

        var before = File.ReadAllText(path);
        var runner = FreshUnit();

        Expect.Error(HermesErrorIds.FileChangedByHand, () => Installer(runner, env).Install(new InstallRequest(Definition()), new TestHost())!);
        Assert.Equal(before, File.ReadAllText(path));
        Assert.Empty(SupervisorCalls(runner));

        var forced = Installer(FreshUnit(), env).Install(new InstallRequest(Definition(), Force: true), new TestHost())!;
        Assert.Equal(before, File.ReadAllText(forced.BackupPath!));
        Assert.True(FileStamp.IsUntouched(File.ReadAllText(path)));
    }

    [Fact]
    public void WhatIf_shows_the_diff_and_touches_no_file_and_no_service()
    {
        var env = Environment();
        var upstream = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service"));
        var path = dir.Write(Path.GetRelativePath(dir.Path, Path.Combine(env.UserUnitDirectory, "hermes-gateway.service")), upstream);
        var runner = FreshUnit();
        var host = new TestHost(whatIf: true);

        var result = Installer(runner, env).Install(new InstallRequest(Definition(), Force: true), host);

        Assert.Null(result);
        Assert.Equal(upstream, File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(env.UserUnitDirectory));
        Assert.DoesNotContain(SupervisorCalls(runner), c => !c.Contains(" show ", StringComparison.Ordinal) && !c.Contains("is-enabled", StringComparison.Ordinal));
        var asked = Assert.Single(host.Asked);
        Assert.Contains("+ ExecStop=", asked, StringComparison.Ordinal);
        Assert.Contains("~ TimeoutStopSec=70s → 90s", asked, StringComparison.Ordinal);
        Assert.Contains("backup: hermes-gateway.service.20261122T101500Z.bak", asked, StringComparison.Ordinal);
    }

    [Fact]
    public void System_scope_without_root_and_user_scope_without_a_bus_fail_before_anything_is_written()
    {
        var runner = FreshUnit();
        Expect.Error(HermesErrorIds.NotRoot, () => Installer(runner, Environment(uid: 1000)).Install(new InstallRequest(Definition(ServiceScope.System)), new TestHost()));
        var noBus = Environment() with { DbusSessionBusAddress = null, XdgRuntimeDir = null };
        Expect.Error(HermesErrorIds.NoUserBus, () => Installer(runner, noBus).Install(new InstallRequest(Definition()), new TestHost())!);
        Assert.Empty(runner.Calls);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "home", ".config", "systemd")));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "etc")));
    }

    [Fact]
    public void A_user_unit_without_linger_gets_a_warning_and_EnableLinger_turns_it_on()
    {
        var runner = FreshUnit().On((f, a) => f == "loginctl" && a[0] == "show-user", stdout: "no\n");
        var host = new TestHost();
        Installer(runner, Environment()).Install(new InstallRequest(Definition()), host);
        Assert.Contains(host.Warnings, w => w.Contains("enable-linger", StringComparison.Ordinal));

        var runner2 = FreshUnit();
        Installer(runner2, Environment() with { XdgConfigHome = Path.Combine(dir.Path, "other") }).Install(new InstallRequest(Definition(), EnableLinger: true), new TestHost());
        Assert.Contains("loginctl enable-linger hermes", runner2.Calls);
    }

    /// <summary>Issue 13, item 7: a failing loginctl was HermesNoUserBus and left the unit written but not enabled.</summary>
    [Fact]
    public void A_failing_loginctl_is_HermesLingerFailed_with_its_message_and_the_unit_is_still_enabled()
    {
        var runner = FreshUnit().On((f, a) => f == "loginctl" && a[0] == "enable-linger", exitCode: 1,
            stderr: "Could not enable linger: Failed to connect to bus: No such file or directory\n");

        var e = Expect.Error(HermesErrorIds.LingerFailed, () => Installer(runner, Environment()).Install(new InstallRequest(Definition(), EnableLinger: true), new TestHost()));

        Assert.Contains("Could not enable linger", e.Message, StringComparison.Ordinal);
        Assert.Contains("systemctl --user enable -- hermes-gateway.service", runner.Calls);
        Assert.True(runner.Calls.IndexOf("systemctl --user enable -- hermes-gateway.service") < runner.Calls.IndexOf("loginctl enable-linger hermes"));
    }

    /// <summary>Issue 13, item 7: -EnableLinger on an unchanged unit was silently ignored.</summary>
    [Fact]
    public void EnableLinger_on_an_unchanged_unit_still_enables_linger()
    {
        var env = Environment();
        Installer(FreshUnit(), env).Install(new InstallRequest(Definition()), new TestHost());
        var runner = FreshUnit();

        var result = Installer(runner, env).Install(new InstallRequest(Definition(), EnableLinger: true), new TestHost())!;

        Assert.Equal(InstallOutcome.Unchanged, result.Outcome);
        Assert.Contains("loginctl enable-linger hermes", runner.Calls);
        var whatIf = FreshUnit();
        Installer(whatIf, env).Install(new InstallRequest(Definition(), EnableLinger: true), new TestHost(whatIf: true));
        Assert.DoesNotContain("loginctl enable-linger hermes", whatIf.Calls);
    }

    [Fact]
    public void Stop_marks_the_stop_as_planned_for_systemds_main_pid_before_systemctl_stop()
    {
        var env = Environment();
        var installer = Installer(FreshUnit(), env);
        installer.Install(new InstallRequest(Definition()), new TestHost());
        var runner = new RecordingRunner()
            .On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show("active", "running", System.Environment.ProcessId, "enabled"))
            .On((f, a) => a.Contains("stop"), stdout: string.Empty);
        var service = Installer(runner, env).Find().Single().Identity;

        Installer(runner, env).Stop(service, new TestHost());

        var marker = System.Text.Json.JsonDocument.Parse(File.ReadAllText(PlannedStopMarker.PathIn(Path.Combine(dir.Path, "home", ".hermes")))).RootElement;
        Assert.Equal(System.Environment.ProcessId, marker.GetProperty("target_pid").GetInt32());
        var startTime = marker.GetProperty("target_start_time");
        Assert.Equal(ProcessStartTime.Read(System.Environment.ProcessId), startTime.ValueKind == System.Text.Json.JsonValueKind.Null ? null : startTime.GetInt64());
        Assert.Contains("systemctl --user stop -- hermes-gateway.service", runner.Calls);
    }

    [Fact]
    public void Uninstall_stops_disables_removes_the_file_keeps_a_backup_and_reloads()
    {
        var env = Environment();
        Installer(FreshUnit(), env).Install(new InstallRequest(Definition()), new TestHost());
        var runner = new RecordingRunner()
            .On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show("inactive", "dead", 0, "enabled"))
            .On((f, a) => a.Contains("is-enabled"), stdout: "enabled\n");
        var installer = Installer(runner, env);
        var service = installer.Find().Single().Identity;

        var result = installer.Uninstall(service, new TestHost());

        Assert.NotNull(result);
        Assert.Equal(("hermes-gateway", ServicePlatform.Systemd, ServiceScope.User), (result.Name, result.Platform, result.Scope)); // issue 13: -PassThru had no name
        Assert.False(File.Exists(service.Path));
        Assert.True(File.Exists(result.BackupPath));
        Assert.Equal(["systemctl --user disable -- hermes-gateway.service", "systemctl --user daemon-reload"], runner.Calls.Where(c => c.Contains("disable", StringComparison.Ordinal) || c.Contains("daemon-reload", StringComparison.Ordinal)));
    }

    /// <summary>Issue 13, item 12: a failed unit uninstalled stayed behind as a not-found failed unit.</summary>
    [Fact]
    public void Uninstalling_a_failed_unit_resets_it_after_the_reload_so_no_not_found_unit_stays_failed()
    {
        var env = Environment();
        Installer(FreshUnit(), env).Install(new InstallRequest(Definition()), new TestHost());
        var reloaded = false;
        var runner = new RecordingRunner();
        runner.On((f, a) => a.Contains("show") && !reloaded, stdout: RecordingRunner.Show("failed", "failed", 0, "enabled"))
            .On((f, a) => a.Contains("show") && reloaded, stdout: RecordingRunner.Show("failed", "failed", 0, string.Empty).Replace("LoadState=loaded", "LoadState=not-found", StringComparison.Ordinal))
            .On((f, a) => a.Contains("is-enabled"), stdout: "enabled\n")
            .On((f, a) => { if (a.Contains("daemon-reload")) { reloaded = true; } return false; });
        var installer = Installer(runner, env);
        var service = installer.Find().Single().Identity;

        installer.Uninstall(service, new TestHost());

        var tail = runner.Calls.SkipWhile(c => !c.Contains("disable", StringComparison.Ordinal)).Where(c => !c.Contains(" show ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["systemctl --user disable -- hermes-gateway.service", "systemctl --user daemon-reload", "systemctl --user reset-failed -- hermes-gateway.service"], tail);
    }

    [Fact]
    public void Get_reports_drift_and_policy_for_upstreams_unit()
    {
        var env = Environment();
        dir.Write(Path.GetRelativePath(dir.Path, Path.Combine(env.UserUnitDirectory, "hermes-gateway.service")), File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service")));
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"),
            stdout: "LoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nMainPID=4121\nExecMainStartTimestamp=@1763800000\nExecMainCode=0\nExecMainStatus=0\nNRestarts=3\nUnitFileState=enabled\nFragmentPath=/x\n");

        var s = Installer(runner, env).Find().Single();

        Assert.Equal(("hermes-gateway", "active", "running", 4121, 3, true), (s.Name, s.State, s.SubState, s.Pid!.Value, s.Restarts!.Value, s.Enabled!.Value));
        Assert.False(s.InstalledByModule);
        Assert.Contains(s.DriftChanges, c => c.Setting == "ExecStop" && c.Kind == SettingChangeKind.Added);
        Assert.Contains(s.DriftChanges, c => c.ToString() == "~ TimeoutStopSec=70s → 90s");
        Assert.Equal($"{s.GetPolicyVerdicts().Count(v => v.Ok)}/{s.GetPolicyVerdicts().Count} ok", s.Policy);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1763800000), s.StartedAt);
    }

    [Fact]
    public void An_install_by_profile_finds_upstreams_unit_of_that_profile_and_keeps_its_identity()
    {
        var env = Environment();
        var upstream = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service"))
            .Replace("-m hermes_cli.main gateway run", "-m hermes_cli.main --profile work gateway run", StringComparison.Ordinal)
            .Replace("HERMES_HOME=/home/hermes/.hermes", "HERMES_HOME=/home/hermes/.hermes/profiles/work", StringComparison.Ordinal);
        Assert.Contains("--profile work", upstream, StringComparison.Ordinal);
        dir.Write(Path.GetRelativePath(dir.Path, Path.Combine(env.UserUnitDirectory, "hermes-gateway-work.service")), upstream);
        dir.Write(Path.GetRelativePath(dir.Path, Path.Combine(env.UserUnitDirectory, "hermes-gateway.service")), File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service")));
        var installer = Installer(new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show()), env);

        var work = installer.Existing(name: null, profile: "work");

        Assert.NotNull(work);
        Assert.Equal("hermes-gateway-work", work.Name);
        Assert.Equal("work", work.Profile);
        Assert.Equal("/home/hermes/.hermes/venv/bin/python", work.Executable);
        Assert.Equal("/home/hermes/.hermes/profiles/work", work.HermesHome);
        // Without a profile: the default name's unit, not the profile's; by name: exactly that one; otherwise none.
        Assert.Equal("hermes-gateway", installer.Existing(null, null)?.Name);
        Assert.Equal("hermes-gateway-work", installer.Existing("hermes-gateway-work", null)?.Name);
        Assert.Null(installer.Existing(null, "other"));
        Assert.Null(installer.Existing("hermes-gateway-other", "work"));
    }

    [Theory]
    [InlineData("Failed to connect to bus: No medium found", true, HermesErrorIds.NoUserBus)]
    [InlineData("Failed to enable unit: Access denied", false, HermesErrorIds.NotRoot)]
    [InlineData("Failed to start hermes-gateway.service: Unit hermes-gateway.service not found.", false, HermesErrorIds.UnitNotFound)]
    [InlineData("Failed to start hermes-gateway.service: Unit hermes-gateway.service is masked.", false, HermesErrorIds.ServiceDisabled)]
    [InlineData("Job for hermes-gateway.service failed because the control process exited with error code.", false, HermesErrorIds.ServiceManagerFailed)]
    public void Systemctl_failures_become_specific_error_ids(string stderr, bool user, string id)
    {
        var client = new SystemctlClient(new RecordingRunner().On((_, _) => true, exitCode: 1, stderr: stderr), user);

        Expect.Error(id, () => client.Start("hermes-gateway.service"));
    }

    public void Dispose() => dir.Dispose();
}
