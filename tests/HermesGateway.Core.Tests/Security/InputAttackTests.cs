namespace HermesGateway.Core.Tests.Security;

/// <summary>
/// Hostile or careless input the engine must not act on literally (issue 11, the input items): systemd specifiers and
/// relative paths in a hand-written unit, a HERMES_HOME that does not exist, names systemctl would read as options,
/// values too long for systemd to load, and a file too large to read that -Force must still be able to replace.
/// The attacks whose effect only a real systemd shows run on systemd 252 in the sde2e sandbox (skipped without it).
/// </summary>
[Collection(LifecycleSandboxGroup.Name)]
public sealed class InputAttackTests(LifecycleSandbox sandbox) : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private ServiceEnvironment Environment(uint uid = 1000) => new()
    {
        Home = Path.Combine(dir.Path, "home"),
        XdgConfigHome = Path.Combine(dir.Path, "home", ".config"),
        DbusSessionBusAddress = "unix:path=/run/user/1000/bus",
        Uid = uid,
        UserName = "hermes",
        SystemUnitDirectory = Path.Combine(dir.Path, "etc", "systemd", "system"),
    };

    private DefinitionRequest Request(string? home = null) => new()
    {
        Platform = ServicePlatform.Systemd,
        Scope = ServiceScope.User,
        Executable = "/usr/local/bin/hermes",
        HermesHome = home ?? Path.Combine(dir.Path, "home", ".hermes"),
    };

    private static RecordingRunner FreshUnit() => new RecordingRunner()
        .On((f, a) => f == "systemctl" && a.Contains("show"), stdout: RecordingRunner.Show())
        .On((f, a) => f == "systemctl" && a.Contains("is-enabled"), exitCode: 1, stdout: "disabled\n")
        .On((f, a) => f == "loginctl", stdout: "yes\n");

    private static ServiceInstaller Installer(IProcessRunner runner, ServiceEnvironment env) => new(new SystemdServiceManager(runner, env));

    private string HandWritten(string name, params string[] serviceLines) =>
        dir.Write(name, "[Service]\nExecStart=/usr/local/bin/hermes gateway run\n" + string.Join('\n', serviceLines) + "\n");

    // ---- item 4: specifiers and relative paths in a hand-written unit ----

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_specifier_h_in_a_user_units_HERMES_HOME_is_the_callers_home_not_a_literal_percent_h()
    {
        var path = HandWritten("gw.service", "Environment=HERMES_HOME=%h/.hermes", "WorkingDirectory=%h/.hermes");

        var d = ServiceFiles.Read(path);

        var home = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
        Assert.Equal(home + "/.hermes", d.HermesHome);
        Assert.Equal(home + "/.hermes", d.WorkingDirectory);
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_specifier_h_in_a_system_unit_is_roots_home_whatever_User_says()
    {
        // systemd.unit(5): %h is the home of the user running the manager, "/root" for the system manager, and "not
        // influenced by the User= setting".
        var path = HandWritten("gw.service", "User=hermes", "Environment=HERMES_HOME=%h/.hermes", "[Install]", "WantedBy=multi-user.target");

        Assert.Equal("/root/.hermes", ServiceFiles.Read(path).HermesHome);
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_a_relative_HERMES_HOME_is_refused_not_taken_from_the_callers_working_directory()
    {
        var path = HandWritten("gw.service", "Environment=HERMES_HOME=.hermes");

        Expect.Error(HermesErrorIds.DefinitionInvalid, () => ServiceFiles.Read(path));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_a_specifier_the_engine_cannot_know_is_refused()
    {
        var path = HandWritten("gw.service", "Environment=HERMES_HOME=/srv/%d/hermes");

        Expect.Error(HermesErrorIds.SpecifierUnresolvable, () => ServiceFiles.Read(path));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_a_user_unit_found_by_Get_HermesService_resolves_h_and_p_with_the_managers_account_and_the_units_name()
    {
        var env = Environment();
        dir.Write(Path.GetRelativePath(dir.Path, Path.Combine(env.UserUnitDirectory, "hermes-gateway-spec.service")),
            "[Service]\nExecStart=/usr/local/bin/hermes gateway run\nEnvironment=HERMES_HOME=%h/.hermes/%p\n");

        var service = Assert.Single(new ServiceInstaller(new SystemdServiceManager(new RecordingRunner(), env)).Find());

        Assert.Equal(env.Home + "/.hermes/hermes-gateway-spec", service.HermesHome);
    }

    [Theory]
    [Trait("Category", "Attack")]
    [InlineData("%n", "hermes-gateway@work.service")]
    [InlineData("%N", "hermes-gateway@work")]
    [InlineData("%p", "hermes-gateway")]
    [InlineData("%P", "hermes/gateway")]
    [InlineData("%i", "work")]
    [InlineData("%j", "gateway")]
    [InlineData("%f", "/work")]
    [InlineData("%u:%U", "alice:1234")]
    [InlineData("%t", "/run/user/1234")]
    [InlineData("%E", "/home/alice/.config")]
    [InlineData("100%%", "100%")]
    [InlineData("%%h", "%h")]
    public void Attack_specifiers_resolve_for_a_user_unit_as_systemd_resolves_them(string written, string meant)
    {
        var context = new SpecifierContext
        {
            UnitName = "hermes-gateway@work.service", SystemScope = false, UserName = "alice", Uid = 1234, Home = "/home/alice",
            RuntimeDirectory = "/run/user/1234", ConfigHome = "/home/alice/.config", CacheHome = "/home/alice/.cache",
        };

        Assert.Equal(meant, SystemdSpecifiers.Expand(written, context, "Environment="));
    }

    [Theory]
    [Trait("Category", "Attack")]
    [InlineData("%h/x", "/root/x")]
    [InlineData("%u %U", "root 0")]
    [InlineData("%t/hermes", "/run/hermes")]
    [InlineData("%S/hermes", "/var/lib/hermes")]
    [InlineData("%L %C %E", "/var/log /var/cache /etc")]
    public void Attack_specifiers_resolve_for_a_system_unit_as_the_system_manager_resolves_them(string written, string meant)
    {
        Assert.Equal(meant, SystemdSpecifiers.Expand(written, new SpecifierContext { UnitName = "hermes-gateway.service", SystemScope = true }, "Environment="));
    }

    [Theory]
    [Trait("Category", "Attack")]
    [InlineData("/srv/%H")]
    [InlineData("/srv/%m")]
    [InlineData("/srv/%d")]
    [InlineData("/srv/%g")]
    [InlineData("/srv/%z")]
    [InlineData("/srv/100%")]
    public void Attack_a_specifier_the_engine_cannot_know_for_this_unit_is_refused(string written)
    {
        var context = new SpecifierContext { UnitName = "hermes-gateway.service", SystemScope = false, UserName = "a", Uid = 1, Home = "/home/a" };

        Expect.Error(HermesErrorIds.SpecifierUnresolvable, () => SystemdSpecifiers.Expand(written, context, "Environment="));
    }

    // ---- item 9: a HERMES_HOME that does not exist, and systemd's own exit statuses ----

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_install_Start_with_a_missing_HERMES_HOME_is_refused_before_anything_is_written()
    {
        var env = Environment();
        var runner = FreshUnit();
        var d = ServiceDefinitionFactory.Create(Request(Path.Combine(dir.Path, "nowhere", ".hermes")));

        Expect.Error(HermesErrorIds.HermesHomeMissing, () => Installer(runner, env).Install(new InstallRequest(d, Start: true), new TestHost())!);

        Assert.False(File.Exists(Path.Combine(env.UserUnitDirectory, d.FileName)));
        Assert.Empty(runner.Calls);
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_install_without_Start_of_a_missing_HERMES_HOME_writes_the_unit_and_warns_of_200_CHDIR()
    {
        var env = Environment();
        var host = new TestHost();
        var d = ServiceDefinitionFactory.Create(Request(Path.Combine(dir.Path, "later", ".hermes")));

        var result = Installer(FreshUnit(), env).Install(new InstallRequest(d), host)!;

        Assert.Equal(InstallOutcome.Created, result.Outcome);
        Assert.Contains(host.Warnings, w => w.Contains("200/CHDIR", StringComparison.Ordinal) && w.Contains(d.HermesHome!, StringComparison.Ordinal));
    }

    [SystemdSandboxFact]
    [Trait("Category", "Attack")]
    public void Attack_real_systemd_ends_every_start_in_a_missing_HERMES_HOME_with_200_CHDIR_and_the_module_says_so()
    {
        sandbox.EnsureUp();
        var home = Path.Combine(sandbox.Root, "never-created-" + Guid.NewGuid().ToString("N")[..8]);
        var d = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Systemd, Scope = ServiceScope.System, Name = "hermes-gateway-chdir", User = "hermes",
            Executable = "/bin/sleep", Arguments = ["600"], HermesHome = home,
        });
        var runner = sandbox.Runner();
        var installer = new ServiceInstaller(new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes));
        var systemctl = new SystemctlClient(runner, user: false);
        var path = Path.Combine(sandbox.SystemUnits, d.FileName);

        // -Start: refused before anything is written or asked of systemd.
        Expect.Error(HermesErrorIds.HermesHomeMissing, () => installer.Install(new InstallRequest(d, Start: true), new TestHost())!);
        Assert.False(File.Exists(path));
        Assert.Empty(runner.Calls);

        // Without -Start the unit is written (with a warning); a start by hand is what the old -Start did.
        var host = new TestHost();
        installer.Install(new InstallRequest(d), host);
        Assert.Contains(host.Warnings, w => w.Contains("200/CHDIR", StringComparison.Ordinal));
        try
        {
            try
            {
                systemctl.Start(d.FileName);
            }
            catch (HermesException)
            {
                // a start job may report the failed start itself; the status below is what counts
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            SystemdUnitStatus s;
            while ((s = systemctl.Show(d.FileName)).ExecMainStatus != 200 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }

            Assert.Equal((1, 200), (s.ExecMainCode, s.ExecMainStatus));
            var status = installer.Find(n => n == d.Name).Single();
            Assert.StartsWith("200/CHDIR ", status.LastExit, StringComparison.Ordinal);
        }
        finally
        {
            installer.Uninstall(installer.Find(n => n == d.Name).Single().Identity, new TestHost());
        }
    }

    [Theory]
    [Trait("Category", "Attack")]
    [InlineData(200, "200/CHDIR")]
    [InlineData(203, "203/EXEC")]
    [InlineData(217, "217/USER")]
    [InlineData(245, "245/BPF")]
    [InlineData(223, "223")]
    [InlineData(1, "1")]
    public void Attack_systemds_own_exit_statuses_are_decoded_in_verdict_texts(int code, string shown)
    {
        var config = ServiceFiles.ToConfiguration(ServiceDefinitionFactory.Create(Request("/srv/hermes")));

        var outcome = ExitPolicyEvaluator.Answer(config, new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: code));

        Assert.Equal("exit " + shown, outcome.Ending);
        Assert.Equal("main process: exit " + shown, outcome.Event);
        Assert.Contains("exit " + shown + " is not in SuccessExitStatus=", outcome.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_exit_status_200_is_shown_as_systemds_CHDIR_in_the_status_object()
    {
        var env = Environment();
        var home = Directory.CreateDirectory(Path.Combine(dir.Path, "home", ".hermes")).FullName;
        Installer(FreshUnit(), env).Install(new InstallRequest(ServiceDefinitionFactory.Create(Request(home))), new TestHost());
        var runner = new RecordingRunner().On((f, a) => f == "systemctl" && a.Contains("show"),
            stdout: RecordingRunner.Show("activating", "auto-restart").Replace("ExecMainCode=0\nExecMainStatus=0", "ExecMainCode=1\nExecMainStatus=200", StringComparison.Ordinal));

        var service = Assert.Single(Installer(runner, env).Find());

        Assert.StartsWith("200/CHDIR", service.LastExit, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_exit_status_200_is_shown_as_systemds_CHDIR_in_a_verdict()
    {
        var config = ServiceFiles.ToConfiguration(ServiceDefinitionFactory.Create(Request("/srv/hermes")));

        var outcome = ExitPolicyEvaluator.Answer(config, new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: 200));

        Assert.Equal("exit 200/CHDIR", outcome.Ending);
    }

    // ---- sudo -E: root does not take the invoking user's session ----

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_sudo_E_does_not_make_root_use_the_invoking_users_runtime_folder_bus_or_config()
    {
        // What 'sudo -E pwsh' hands the module: effective UID 0, HOME=/root (sudo resets it unless told otherwise), and
        // the invoking user's session variables preserved. Before: all three were taken, so root wrote user units into
        // alice's ~/.config and kept its restart lock in alice's runtime folder (another lock than plain sudo's).
        var sudoE = new Dictionary<string, string>
        {
            ["XDG_RUNTIME_DIR"] = "/run/user/1000",
            ["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/run/user/1000/bus",
            ["XDG_CONFIG_HOME"] = "/home/alice/.config",
        };

        // Alice owns what her variables name (uid 1000); root owns /run/user/0.
        static uint? Owner(string path) => path.StartsWith("/run/user/0", StringComparison.Ordinal) ? 0u : 1000u;
        var env = ServiceEnvironment.FromProcess(0, "root", "/root", sudoE.GetValueOrDefault, Owner);

        Assert.True(env.IsRoot);
        Assert.Null(env.XdgRuntimeDir);
        Assert.Null(env.DbusSessionBusAddress);
        Assert.Equal("/root/.config/systemd/user", env.UserUnitDirectory);
        var plain = ServiceEnvironment.FromProcess(0, "root", "/root", _ => null, Owner);
        Assert.Equal(Core.Service.RestartLock.Directory(plain), Core.Service.RestartLock.Directory(env));
        Assert.StartsWith(OperatingSystem.IsMacOS() ? "/var/run/" : "/run/", Core.Service.RestartLock.Directory(env), StringComparison.Ordinal);

        // Root's own session (machinectl shell root@, the sandbox) is kept; an ordinary user's is always theirs.
        var own = ServiceEnvironment.FromProcess(0, "root", "/root", n => n == "XDG_RUNTIME_DIR" ? "/run/user/0" : n == "DBUS_SESSION_BUS_ADDRESS" ? "unix:path=/run/user/0/bus" : null, Owner);
        Assert.Equal(("/run/user/0", "unix:path=/run/user/0/bus"), (own.XdgRuntimeDir, own.DbusSessionBusAddress));
        var alice = ServiceEnvironment.FromProcess(1000, "alice", "/home/alice", sudoE.GetValueOrDefault, Owner);
        Assert.Equal(("/run/user/1000", "/home/alice/.config/systemd/user"), (alice.XdgRuntimeDir, alice.UserUnitDirectory));
    }

    // ---- item 10: a backslash is a file-name character on Unix ----

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_backslashes_in_paths_are_kept_exactly_through_the_unit()
    {
        const string Home = "/srv/a\\b\\\\c";
        var d = ServiceFiles.ToDefinition(ServiceFiles.ToConfiguration(ServiceDefinitionFactory.Create(Request(Home) with { StandardOutPath = "/var/log/x\\y.log" })));

        Assert.Equal(Home, d.HermesHome);
        Assert.Equal(Home, d.WorkingDirectory);
        Assert.Equal("/var/log/x\\y.log", d.StandardOutPath);
    }

    // ---- item 11: a name systemctl would read as options ----

    [Theory]
    [Trait("Category", "Attack")]
    [InlineData("-h")]
    [InlineData("--help")]
    [InlineData("--root=.")]
    public void Attack_a_service_name_with_a_leading_dash_is_refused(string name)
    {
        Expect.Error(HermesErrorIds.NameInvalid, () => ServiceDefinitionFactory.Create(Request("/srv/hermes") with { Name = name }));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_a_definition_named_with_a_leading_dash_that_bypassed_the_factory_is_not_installed()
    {
        var env = Environment();
        var runner = FreshUnit();
        var d = ServiceDefinitionFactory.Create(Request()) with { Name = "--root=." };

        Expect.Error(HermesErrorIds.NameInvalid, () => Installer(runner, env).Install(new InstallRequest(d), new TestHost())!);
        Assert.Empty(runner.Calls);
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_systemctl_gets_a_double_dash_before_every_unit_name()
    {
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show());
        var systemctl = new SystemctlClient(runner, user: true);

        systemctl.Start("x.service");
        systemctl.Stop("x.service");
        systemctl.Restart("x.service");
        systemctl.ResetFailed("x.service");
        systemctl.Enable("x.service", now: true);
        systemctl.Disable("x.service", now: false);
        systemctl.IsEnabled("x.service");
        systemctl.Show("x.service");

        Assert.All(runner.Calls, c => Assert.EndsWith(" -- x.service", c, StringComparison.Ordinal));
    }

    // ---- item 12: values systemd cannot load, and a file too large to read ----

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_an_environment_value_over_systemds_1_MiB_line_limit_is_refused_before_writing()
    {
        var huge = new string('x', 1024 * 1024);

        Expect.Error(HermesErrorIds.ValueNotRepresentable, () => ServiceDefinitionFactory.Create(Request() with { Environment = [new("BIG", huge)] }));
    }

    /// <summary>
    /// Below systemd's 1 MiB but at the kernel's MAX_ARG_STRLEN (128 KiB) a value loads into the unit and then fails
    /// every start with 203/EXEC: refused, for the unit's Environment= and for the environment file alike.
    /// </summary>
    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_an_environment_string_the_kernel_would_not_pass_is_refused()
    {
        var limit = ServiceDefinitionFactory.MaxEnvironmentString;
        ServiceDefinitionFactory.Create(Request() with { Environment = [new("BIG", new string('x', limit - "BIG=".Length - 1))] });

        var e = Expect.Error(HermesErrorIds.ValueNotRepresentable, () => ServiceDefinitionFactory.Create(Request() with { Environment = [new("BIG", new string('x', limit - "BIG=".Length))] }));
        Assert.Contains("MAX_ARG_STRLEN", e.Message, StringComparison.Ordinal);
        Expect.Error(HermesErrorIds.ValueNotRepresentable, () => ServiceDefinitionFactory.RefuseOverlongEnvironmentString(new("K", new string('é', limit / 2))));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_Force_replaces_an_existing_unit_too_large_to_read_and_keeps_it_byte_for_byte()
    {
        var env = Environment();
        var path = Path.Combine(env.UserUnitDirectory, "hermes-gateway.service");
        var bytes = Encoding.UTF8.GetBytes("[Service]\nExecStart=/usr/local/bin/hermes gateway run\nEnvironment=\"BIG=" + new string('x', 1024 * 1024 + 10) + "\"\n");
        dir.WriteBytes(Path.GetRelativePath(dir.Path, path), bytes);
        var d = ServiceDefinitionFactory.Create(Request());

        var refused = Assert.Throws<HermesException>(() => Installer(FreshUnit(), env).Install(new InstallRequest(d), new TestHost()));
        Assert.Equal(bytes, File.ReadAllBytes(path));

        var result = Installer(FreshUnit(), env).Install(new InstallRequest(d, Force: true), new TestHost())!;

        Assert.Contains("-Force", refused.Message, StringComparison.Ordinal);
        Assert.Equal(InstallOutcome.Updated, result.Outcome);
        Assert.Equal(bytes, File.ReadAllBytes(result.BackupPath!));
        Assert.True(FileStamp.IsUntouched(File.ReadAllText(path)));
    }

    [SystemdSandboxFact]
    [Trait("Category", "Attack")]
    public void Attack_real_systemd_refuses_a_unit_line_of_1_MiB_exactly_where_the_renderer_starts_refusing()
    {
        sandbox.EnsureUp();
        var runner = sandbox.Runner();
        var systemctl = new SystemctlClient(runner, user: false);
        const string Prefix = "Environment=\"BIG=";
        var names = new Dictionary<int, string>();
        foreach (var length in new[] { SystemdUnitRenderer.LongLineMax - 1, SystemdUnitRenderer.LongLineMax })
        {
            var name = $"hermes-attack-line-{length}.service";
            var line = Prefix + new string('x', length - Prefix.Length - 1) + "\"";
            Assert.Equal(length, line.Length);
            File.WriteAllText(Path.Combine(sandbox.SystemUnits, name), "[Service]\nExecStart=/bin/sleep 600\n" + line + "\n");
            names[length] = name;
        }

        try
        {
            systemctl.DaemonReload();

            Assert.Equal("loaded", systemctl.Show(names[SystemdUnitRenderer.LongLineMax - 1]).LoadState);
            Assert.Equal("error", systemctl.Show(names[SystemdUnitRenderer.LongLineMax]).LoadState);

            // The renderer draws the line in the same place (a whole definition is refused earlier still: the module
            // does not write a file larger than it reads back).
            var value = (int length) => new string('x', length - "Environment=\"BIG=".Length - 1);
            var fits = ServiceDefinitionFactory.Create(Request("/srv/hermes")) with { Environment = [new("BIG", value(SystemdUnitRenderer.LongLineMax - 1))] };
            Assert.Contains(Prefix + value(SystemdUnitRenderer.LongLineMax - 1) + "\"\n", SystemdUnitRenderer.Render(fits), StringComparison.Ordinal);
            Expect.Error(HermesErrorIds.ValueNotRepresentable, () => SystemdUnitRenderer.Render(fits with { Environment = [new("BIG", value(SystemdUnitRenderer.LongLineMax))] }));
        }
        finally
        {
            foreach (var name in names.Values)
            {
                File.Delete(Path.Combine(sandbox.SystemUnits, name));
            }

            systemctl.DaemonReload();
        }
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_a_unit_larger_than_the_module_can_read_back_is_refused_even_with_every_line_short()
    {
        var half = new string('y', 600 * 1024);

        Expect.Error(HermesErrorIds.ValueNotRepresentable, () => ServiceDefinitionFactory.Create(Request() with { Environment = [new("A", half), new("B", half)] }));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_an_environment_file_over_systemds_64_MiB_limit_is_refused_before_anything_is_written()
    {
        var env = Environment();
        var runner = FreshUnit();
        var envFile = Path.Combine(dir.Path, "secrets.env");
        var d = ServiceDefinitionFactory.Create(Request() with { EnvironmentFile = envFile });
        var chunk = new string('s', 1024 * 1024);
        var variables = Enumerable.Range(0, 64).Select(i => new EnvironmentVariable($"S{i}", chunk)).ToList();

        Expect.Error(HermesErrorIds.ValueNotRepresentable, () => Installer(runner, env).Install(new InstallRequest(d, EnvironmentFileVariables: variables), new TestHost())!);

        Assert.False(File.Exists(envFile));
        Assert.False(File.Exists(Path.Combine(env.UserUnitDirectory, d.FileName)));
        Assert.Empty(runner.Calls);
    }
}
