namespace HermesGateway.Core.Tests.FakeLaunchd;

/// <summary>
/// The engine's LaunchdServiceManager and ServiceInstaller driving the fake launchctl (a test double) through the
/// process-runner seam: install, status, stop as a planned stop, start, an idempotent reinstall, uninstall.
/// </summary>
public sealed class EngineThroughFakeLaunchdTests : IDisposable
{
    private static readonly string[] ChangingVerbs = ["bootstrap", "bootout", "enable", "disable", "kickstart", "kill"];
    private readonly FakeLaunchd fake = new();
    private readonly FakeLaunchctlRunner runner;
    private readonly ServiceEnvironment environment;
    private readonly ServiceInstaller installer;
    private readonly TestHost host = new();

    public EngineThroughFakeLaunchdTests()
    {
        runner = new FakeLaunchctlRunner(fake.State);
        environment = new ServiceEnvironment { Home = Path.Combine(fake.Root, "home"), Uid = fake.Uid, UserName = Environment.UserName, IsMacOS = true };
        installer = new ServiceInstaller(new LaunchdServiceManager(runner, environment));
    }

    public void Dispose() => fake.Dispose();

    private static ServiceDefinition Definition(string home) => ServiceDefinitionFactory.Create(new DefinitionRequest
    {
        Platform = ServicePlatform.Launchd,
        Executable = StubLocation.Script,
        HermesHome = home,
    });

    /// <summary>
    /// Upstream's plist keeps the job alive whatever the exit (KeepAlive=true): a gateway that takes the planned-stop
    /// marker and stops by itself is relaunched at once, before the bootout. That instance's stop is planned too.
    /// </summary>
    [FakeLaunchdFact]
    public void A_planned_stop_of_a_job_kept_alive_whatever_the_exit_ends_every_instance_as_planned()
    {
        var home = Path.Combine(fake.Root, "hermes");
        Directory.CreateDirectory(Path.Combine(home, "logs"));
        var plain = Definition(home);
        var d = plain with { Launchd = plain.Launchd! with { KeepAlive = LaunchdKeepAlive.Always, ThrottleInterval = 1 } };
        installer.Install(new InstallRequest(d), host);
        var first = fake.WaitForStub(d.Name, home);
        Thread.Sleep(TimeSpan.FromSeconds(1.5)); // past the throttle: launchd relaunches at once after an exit

        installer.Stop(Assert.Single(installer.Find()).Identity, host);

        Assert.False(fake.Print(d.Name).Loaded);
        var exits = FakeLaunchd.StubEvents(home).Where(e => e["event"]!.GetValue<string>() == "exit").ToList();
        Assert.NotEmpty(exits);
        Assert.All(exits, e => Assert.Equal(0, e["code"]!.GetValue<int>()));
        Assert.All(exits.Select(e => e["pid"]!.GetValue<int>()), pid => Assert.False(ProcessTable.IsAlive(pid)));
        Assert.Contains(exits, e => e["pid"]!.GetValue<int>() == first.Pid);
    }

    [FakeLaunchdFact]
    public void Install_status_stop_start_reinstall_and_uninstall_through_the_fake()
    {
        var home = Path.Combine(fake.Root, "hermes");
        Directory.CreateDirectory(Path.Combine(home, "logs"));
        var d = Definition(home);
        var target = $"{fake.Gui}/{d.Name}";

        // Install: the plist under ~/Library/LaunchAgents, then bootstrap into gui/<uid>; RunAtLoad starts the stub.
        var installed = installer.Install(new InstallRequest(d), host)!;
        Assert.Equal(InstallOutcome.Created, installed.Outcome);
        Assert.Equal(Path.Combine(environment.Home, "Library", "LaunchAgents", "ai.hermes.gateway.plist"), installed.Path);
        Assert.Contains(runner.Calls, c => c.SequenceEqual(["bootstrap", fake.Gui, installed.Path]));
        var running = fake.WaitForStub(d.Name, home);
        var stubEvents = FakeLaunchd.StubEvents(home);
        Assert.True(stubEvents.First(e => e["event"]!.GetValue<string>() == "started")["supervised"]!.GetValue<bool>()); // XPC_SERVICE_NAME

        // Status.
        var service = Assert.Single(installer.Find());
        Assert.Equal(("running", running.Pid, 0, true, "none"), (service.State, service.Pid, service.Restarts, service.Enabled, service.Drift));

        // Reinstall of the identical definition: nothing that changes launchd state is called.
        runner.ClearCalls();
        var again = installer.Install(new InstallRequest(d), host)!;
        Assert.Equal(InstallOutcome.Unchanged, again.Outcome);
        Assert.DoesNotContain(runner.Calls, c => ChangingVerbs.Contains(c[0]));
        Assert.Equal(running.Pid, fake.Print(d.Name).Pid);

        // Stop: the planned-stop marker names the job's PID, bootout, the process is gone, the stub exited 0.
        runner.ClearCalls();
        installer.Stop(service.Identity, host);
        Assert.Contains(runner.Calls, c => c.SequenceEqual(["bootout", target]));
        Assert.False(ProcessTable.IsAlive(running.Pid!.Value));
        Assert.False(fake.Print(d.Name).Loaded);
        var events = FakeLaunchd.StubEvents(home).Where(e => e["pid"]!.GetValue<int>() == running.Pid).ToList();
        var marker = events.Single(e => e["event"]!.GetValue<string>() == "marker");
        Assert.Equal(("planned-stop", true), (marker["kind"]!.GetValue<string>(), marker["matched"]!.GetValue<bool>()));
        var exit = events.Last();
        Assert.Equal(("exit", 0), (exit["event"]!.GetValue<string>(), exit["code"]!.GetValue<int>()));
        Assert.Equal("not loaded", Assert.Single(installer.Find()).State);

        // Start: bootstrap again (bootout forgot the job); RunAtLoad starts it, so no kickstart is needed.
        runner.ClearCalls();
        installer.Start(Assert.Single(installer.Find()).Identity, host);
        Assert.Contains(runner.Calls, c => c[0] == "bootstrap");
        var restarted = fake.WaitForStub(d.Name, home, notPid: running.Pid);
        Assert.Equal("running", Assert.Single(installer.Find()).State);

        // Uninstall: planned stop + bootout, plist removed, backup kept, the job unknown to launchd.
        var removed = installer.Uninstall(Assert.Single(installer.Find()).Identity, host);
        Assert.NotNull(removed);
        Assert.False(File.Exists(installed.Path));
        Assert.True(File.Exists(removed.BackupPath));
        Assert.False(ProcessTable.IsAlive(restarted.Pid!.Value));
        Assert.Equal(113, fake.Launchctl("print", target).ExitCode);
        var last = FakeLaunchd.StubEvents(home).Last();
        Assert.Equal(("exit", 0, restarted.Pid), (last["event"]!.GetValue<string>(), last["code"]!.GetValue<int>(), last["pid"]!.GetValue<int>()));
        Assert.Empty(installer.Find());
    }

    [FakeLaunchdFact]
    public void Install_enables_a_disabled_label_before_bootstrap_and_start_kickstarts_a_loaded_idle_job()
    {
        var home = Path.Combine(fake.Root, "hermes");
        Directory.CreateDirectory(home);
        var d = Definition(home);
        var target = $"{fake.Gui}/{d.Name}";
        Assert.Equal(0, fake.Launchctl("disable", target).ExitCode);

        installer.Install(new InstallRequest(d), host);
        var calls = runner.Calls.Where(c => ChangingVerbs.Contains(c[0])).Select(c => string.Join(' ', c)).ToList();
        Assert.Equal([$"enable {target}", $"bootstrap {fake.Gui} {Path.Combine(environment.LaunchAgentDirectory, "ai.hermes.gateway.plist")}"], calls);
        var first = fake.WaitForStub(d.Name, home);

        // A loaded job that is not running (kill -9 with the domain in on-demand-only mode: the respawn is pended).
        fake.SetDomain(onDemandOnly: true);
        fake.SignalJob(first.Pid!.Value, 9);
        FakeLaunchd.WaitFor(() => fake.Print(d.Name) is { IsRunning: false, Loaded: true } s ? s : null, "the job loaded but not running");
        runner.ClearCalls();
        installer.Start(Assert.Single(installer.Find()).Identity, host);
        Assert.Equal([$"kickstart {target}"], runner.Calls.Where(c => ChangingVerbs.Contains(c[0])).Select(c => string.Join(' ', c)));
        fake.WaitForStub(d.Name, home, notPid: first.Pid);
    }

    [FakeLaunchdFact]
    public void Without_a_GUI_session_the_engine_uses_the_user_domain()
    {
        var home = Path.Combine(fake.Root, "hermes");
        Directory.CreateDirectory(home);
        fake.SetDomain(noGuiSession: true);
        var d = Definition(home);
        installer.Install(new InstallRequest(d), host);
        var user = "user/" + fake.Uid;
        Assert.Contains(runner.Calls, c => c.SequenceEqual(["bootstrap", user, Path.Combine(environment.LaunchAgentDirectory, "ai.hermes.gateway.plist")]));
        FakeLaunchd.WaitFor(() => new LaunchctlClient(runner).Print($"{user}/{d.Name}") is { IsRunning: true } s ? s : null, "the job running in user/<uid>");
        installer.Uninstall(Assert.Single(installer.Find()).Identity, host);
        Assert.Equal(113, fake.Launchctl("print", $"{user}/{d.Name}").ExitCode);
    }
}
