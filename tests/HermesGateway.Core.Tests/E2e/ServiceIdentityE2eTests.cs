namespace HermesGateway.Core.Tests.E2e;

/// <summary>
/// Issue 13, items 2 and 3, on a real systemd 252: a user unit and a system unit both named hermes-gateway-twin are
/// each acted on alone, and root finds, restarts and stops the user unit hermes-gateway-work in the account hermes'
/// own ~/.config/systemd/user through that account's user manager, but does not uninstall it (no writes into
/// another account's home).
/// </summary>
[Collection(LifecycleSandboxGroup.Name)]
public sealed class ServiceIdentityE2eTests(LifecycleSandbox sandbox)
{
    private static string Stub => Path.Combine(Definition.GoldenCases.RepoRoot(), "tests", "stub-gateway", "stub_gateway.py");

    [SystemdSandboxFact]
    public void Same_name_in_user_and_system_scope_and_another_accounts_user_unit_are_each_addressed_exactly()
    {
        sandbox.EnsureUp();
        var hermesUid = sandbox.StartUserManager("hermes");
        var runner = sandbox.Runner();
        var environment = sandbox.Environment;
        // As ServiceInstaller.ForThisMachine composes it for root, with the sandbox's lock folder.
        var installer = new ServiceInstaller([new SystemdServiceManager(runner, environment, sandbox.Processes), .. ServiceManagers.ForOtherAccounts(runner, environment, sandbox.Processes)]);
        var host = new TestHost();
        var locks = Path.Combine(sandbox.Root, "identity-locks");
        GatewayRestarter Restarter(ServiceIdentity s) => new(installer.For(s), sandbox.Processes, locks);

        // root's user unit and the system unit of the same name, both running
        var userHome = StubHome(Path.Combine(sandbox.Root, "twin-user"), owner: null);
        var systemHome = StubHome(Path.Combine(sandbox.Root, "twin-system"), owner: "hermes");
        installer.Install(new InstallRequest(ServiceDefinitionFactory.Create(Request("hermes-gateway-twin", ServiceScope.User, userHome)), Start: true), host);
        installer.Install(new InstallRequest(ServiceDefinitionFactory.Create(Request("hermes-gateway-twin", ServiceScope.System, systemHome) with { User = "hermes" }), Start: true), host);
        var userCtl = new SystemctlClient(runner, user: true);
        var systemCtl = new SystemctlClient(runner, user: false);
        const string Twin = "hermes-gateway-twin.service";
        var userPid = Running(userCtl, Twin, userHome, notPid: null);
        var systemPid = Running(systemCtl, Twin, systemHome, notPid: null);

        // hermes' own user unit, written by hermes' side (this test), started by its own manager
        var workHome = StubHome(Path.Combine(sandbox.HermesAccountHome, "work"), owner: "hermes");
        var work = ServiceDefinitionFactory.Create(Request("hermes-gateway-work", ServiceScope.User, workHome));
        var workFile = Path.Combine(sandbox.HermesAccountUserUnits, "hermes-gateway-work.service");
        File.WriteAllText(workFile, ServiceFiles.Render(work));
        Assert.Equal(0, sandbox.Exec("chown", "-R", "hermes:", sandbox.HermesAccountHome).ExitCode);
        var reload = sandbox.UserCtl("hermes", "daemon-reload");
        Assert.True(reload.ExitCode == 0, reload.StandardError);
        var start = sandbox.UserCtl("hermes", "start", "hermes-gateway-work.service");
        Assert.True(start.ExitCode == 0, start.StandardError);
        var hermesCtl = new SystemctlClient(runner, user: true) { RunAs = new LocalAccount("hermes", (uint)hermesUid, (uint)hermesUid, sandbox.HermesAccountHome) };
        var workPid = Running(hermesCtl, "hermes-gateway-work.service", workHome, notPid: null);

        try
        {
            // root sees all three, each with its scope and owner; hermes' unit's state comes from hermes' manager
            var found = installer.Find(n => n is "hermes-gateway-twin" or "hermes-gateway-work");
            var user = Assert.Single(found, s => s is { Name: "hermes-gateway-twin", Scope: ServiceScope.User });
            var system = Assert.Single(found, s => s is { Name: "hermes-gateway-twin", Scope: ServiceScope.System });
            var other = Assert.Single(found, s => s.Name == "hermes-gateway-work");
            Assert.Equal(("root", null, "hermes"), (user.Owner, system.Owner, other.Owner));
            Assert.Equal((ServiceScope.User, workFile, "active", workPid), (other.Scope, other.Path, other.State, other.Pid!.Value));
            Assert.Equal((userPid, systemPid), (user.Pid!.Value, system.Pid!.Value));

            // restart the system one: the user one of the same name keeps its process
            var restarted = Restarter(system.Identity).Restart(system.Identity, new RestartOptions(), host)!;
            var newSystemPid = Running(systemCtl, Twin, systemHome, notPid: systemPid);
            Assert.Equal(newSystemPid, restarted.NewPid);
            Assert.Equal(userPid, userCtl.Show(Twin).MainPid);

            // stop the system one: only it stops
            installer.Stop(Assert.Single(installer.Find(n => n == "hermes-gateway-twin"), s => s.Scope == ServiceScope.System).Identity, host);
            Assert.Equal("inactive", systemCtl.Show(Twin).ActiveState);
            Assert.True(userCtl.Show(Twin).IsRunning);
            Assert.Equal(userPid, userCtl.Show(Twin).MainPid);

            // hermes' unit: restarted through hermes' manager, root's own manager untouched
            var again = Restarter(other.Identity).Restart(other.Identity, new RestartOptions(), host)!;
            var newWorkPid = Running(hermesCtl, "hermes-gateway-work.service", workHome, notPid: workPid);
            Assert.Equal(newWorkPid, again.NewPid);
            Assert.Equal(userPid, userCtl.Show(Twin).MainPid);

            // stopped through it too (the planned-stop marker in hermes' HERMES_HOME)
            installer.Stop(other.Identity, host);
            Assert.Equal("inactive", hermesCtl.Show("hermes-gateway-work.service").ActiveState);
            installer.Start(other.Identity, host);
            Running(hermesCtl, "hermes-gateway-work.service", workHome, notPid: newWorkPid);

            // but root does not write into hermes' home: no uninstall, the file untouched
            var refused = Assert.Throws<HermesException>(() => installer.Uninstall(other.Identity, host));
            Assert.Equal(HermesErrorIds.OtherAccountWriteRefused, refused.ErrorId);
            Assert.True(File.Exists(workFile));
            Assert.Single(Directory.GetFiles(sandbox.HermesAccountUserUnits));
        }
        finally
        {
            sandbox.UserCtl("hermes", "stop", "hermes-gateway-work.service");
            File.Delete(workFile);
            sandbox.UserCtl("hermes", "daemon-reload");
            foreach (var s in installer.Find(n => n == "hermes-gateway-twin"))
            {
                installer.Uninstall(s.Identity, host);
            }
        }
    }

    private static DefinitionRequest Request(string name, ServiceScope scope, string home) => new()
    {
        Platform = ServicePlatform.Systemd,
        Scope = scope,
        Name = name,
        Executable = Stub,
        HermesHome = home,
    };

    private string StubHome(string home, string? owner)
    {
        Directory.CreateDirectory(home);
        File.WriteAllText(Path.Combine(home, "stub-control.json"), "{\"drain_seconds\": 0.2, \"marker_poll_seconds\": 0}");
        if (owner is not null)
        {
            Assert.Equal(0, sandbox.Exec("chown", "-R", owner + ":", home).ExitCode);
        }

        return home;
    }

    /// <summary>The unit runs a PID (not <paramref name="notPid"/>) that the stub's own state file names as running.</summary>
    private static int Running(SystemctlClient systemctl, string unit, string home, int? notPid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        SystemdUnitStatus s;
        do
        {
            s = systemctl.Show(unit);
            if (s.IsRunning && s.MainPid != notPid && GatewayRestarter.ReportsRunning(home, s.MainPid))
            {
                return s.MainPid;
            }

            Thread.Sleep(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new Xunit.Sdk.XunitException($"{unit} not running (other than PID {notPid?.ToString(CultureInfo.InvariantCulture) ?? "-"}) within 30 s: {s}");
    }
}
