namespace HermesGateway.Core.Tests.FakeLaunchd;

/// <summary>
/// The fake launchctl/launchd (a test double) against the project's launchd model, with the real stub gateway as the job
/// and the plist the engine renders: respawns, throttle, planned exits, on-demand-only, disable, bootout.
/// </summary>
public sealed class FakeLaunchdJobTests : IDisposable
{
    private const int SIGKILL = 9;
    private readonly FakeLaunchd fake = new();

    public void Dispose() => fake.Dispose();

    [FakeLaunchdFact]
    public void A_SIGKILLed_job_is_respawned_after_the_throttle_delay_the_model_gives()
    {
        var (_, plist, home) = fake.StubJob(throttleInterval: 2);
        Assert.Equal(0, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode);
        var first = fake.WaitForStub("ai.hermes.gateway", home);
        Assert.Equal(1, first.Runs);

        var killedAt = DateTime.UtcNow;
        fake.SignalJob(first.Pid!.Value, SIGKILL);
        var second = fake.WaitForStub("ai.hermes.gateway", home, notPid: first.Pid, seconds: 8);
        var observed = DateTime.UtcNow - killedAt;

        Assert.Equal(2, second.Runs);
        Assert.Equal("Killed: 9", second.LastTerminatingSignal);
        var ranFor = TimeSpan.FromMilliseconds(fake.FakeField("ai.hermes.gateway", "last ran for")!.Value);
        var exitAt = fake.FakeField("ai.hermes.gateway", "last exit at")!.Value;
        var spawnAt = fake.FakeField("ai.hermes.gateway", "last spawn at")!.Value;

        // The model: {SuccessfulExit=false} relaunches a SIGKILL, after ThrottleInterval minus the whole seconds it ran.
        var model = new LaunchdModel(LaunchdJobReader.ReadFile(plist));
        var outcome = model.Apply(new LaunchdProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGKILL), ranFor), DefaultSignalBehavior.Instance);
        Assert.True(outcome.Revived, outcome.Explanation);
        Assert.Equal(model.ThrottleDelay(ranFor), outcome.Delay);
        // ThrottleInterval=2 minus the whole seconds it ran: 2 s when the kill came within its first second, as it
        // usually does; a loaded machine can take longer to deliver it.
        var expected = TimeSpan.FromSeconds(Math.Max(0, 2 - Math.Floor(ranFor.TotalSeconds)));
        Assert.Equal(expected, outcome.Delay);
        var expectedMs = (long)expected.TotalMilliseconds;
        Assert.Equal(expectedMs, fake.FakeField("ai.hermes.gateway", "respawn delay"));
        Assert.InRange(spawnAt - exitAt, expectedMs, expectedMs + 1500); // never early; late only by scheduling
        Assert.InRange(observed.TotalSeconds, expected.TotalSeconds - 0.1, 5);
    }

    [FakeLaunchdTheory]
    [InlineData(0, false)]
    [InlineData(75, true)]
    [InlineData(1, true)]
    public void An_exit_is_relaunched_as_KeepAlive_SuccessfulExit_false_says(int code, bool relaunched)
    {
        var (_, plist, home) = fake.StubJob(throttleInterval: 1);
        FakeLaunchd.StubControl(home, new { mode = "exit", exit_after_seconds = 0.3, exit_code = code });
        Assert.Equal(0, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode);

        var ended = FakeLaunchd.WaitFor(() => fake.Print("ai.hermes.gateway") is { LastExitCode: not null } s ? s : null, "the first exit");
        Assert.Equal(code, ended.LastExitCode);
        var model = new LaunchdModel(LaunchdJobReader.ReadFile(plist));
        Assert.Equal(relaunched, model.ShouldRelaunch(ProcessEnding.Exit(code), stoppedByLaunchd: false).Relaunch);
        if (relaunched)
        {
            var again = FakeLaunchd.WaitFor(() => fake.Print("ai.hermes.gateway") is { Runs: >= 2 } s ? s : null, "the relaunch", seconds: 5);
            Assert.Equal(1000, fake.FakeField("ai.hermes.gateway", "respawn delay"));
            Assert.True(again.Loaded);
        }
        else
        {
            Thread.Sleep(1500); // longer than the 1 s throttle: a respawn would have happened
            var s = fake.Print("ai.hermes.gateway");
            Assert.Equal(("not running", 1, 0), (s.State, s.Runs!.Value, s.LastExitCode!.Value));
            Assert.Null(s.Pid);
            var last = FakeLaunchd.StubEvents(home).Last();
            Assert.Equal(("exit", 0), (last["event"]!.GetValue<string>(), last["code"]!.GetValue<int>()));
        }
    }

    [FakeLaunchdFact]
    public void An_on_demand_only_domain_pends_the_respawn_until_kickstart()
    {
        var (_, plist, home) = fake.StubJob(throttleInterval: 1);
        Assert.Equal(0, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode);
        var first = fake.WaitForStub("ai.hermes.gateway", home);

        fake.SetDomain(onDemandOnly: true);
        fake.SignalJob(first.Pid!.Value, SIGKILL);
        Thread.Sleep(1800); // past the throttle delay
        var pended = fake.Print("ai.hermes.gateway");
        Assert.Equal(("not running", 1), (pended.State, pended.Runs!.Value));
        Assert.Equal("pending spawn (domain in on-demand-only mode)", fake.FakeState("ai.hermes.gateway"));
        var model = new LaunchdModel(LaunchdJobReader.ReadFile(plist), new LaunchdDomain { OnDemandOnly = true });
        Assert.True(model.Apply(new LaunchdProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGKILL), TimeSpan.FromSeconds(1)), DefaultSignalBehavior.Instance).Pending);

        var kick = fake.Launchctl("kickstart", "-p", fake.Gui + "/ai.hermes.gateway");
        Assert.Equal(0, kick.ExitCode);
        var second = fake.WaitForStub("ai.hermes.gateway", home, notPid: first.Pid);
        Assert.Equal($"service spawned with pid: {second.Pid}\n", kick.StandardOutput);
        Assert.Equal(2, second.Runs);
    }

    [FakeLaunchdFact]
    public void An_on_demand_only_domain_pends_the_start_at_load_until_the_mode_ends()
    {
        var (_, plist, home) = fake.StubJob();
        fake.SetDomain(onDemandOnly: true);
        Assert.Equal(0, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode);
        Thread.Sleep(500);
        Assert.Equal(("not running", 0), (fake.Print("ai.hermes.gateway").State, fake.Print("ai.hermes.gateway").Runs!.Value));
        fake.SetDomain(onDemandOnly: false);
        Assert.Equal(1, fake.WaitForStub("ai.hermes.gateway", home).Runs);
    }

    [FakeLaunchdFact]
    public void Disable_persists_and_makes_bootstrap_fail_with_5_until_enable()
    {
        var (_, plist, home) = fake.StubJob();
        var target = fake.Gui + "/ai.hermes.gateway";
        Assert.Equal(0, fake.Launchctl("disable", target).ExitCode);
        Assert.Contains("\"ai.hermes.gateway\" => disabled", fake.Launchctl("print-disabled", fake.Gui).StandardOutput, StringComparison.Ordinal);
        Assert.True(new LaunchctlClient(new FakeLaunchctlRunner(fake.State)).IsDisabled(fake.Gui, "ai.hermes.gateway"));

        var refused = fake.Launchctl("bootstrap", fake.Gui, plist);
        Assert.Equal(5, refused.ExitCode);
        Assert.StartsWith("Bootstrap failed: 5: Input/output error\n", refused.StandardError, StringComparison.Ordinal);
        Assert.False(fake.Print("ai.hermes.gateway").Loaded);

        Assert.Equal(0, fake.Launchctl("enable", target).ExitCode);
        Assert.Contains("\"ai.hermes.gateway\" => enabled", fake.Launchctl("print-disabled", fake.Gui).StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode);
        fake.WaitForStub("ai.hermes.gateway", home);
        Assert.Equal(5, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode); // already loaded
    }

    [FakeLaunchdFact]
    public void Bootout_returns_once_the_process_is_gone_and_the_job_is_then_unknown()
    {
        var (_, plist, home) = fake.StubJob();
        var target = fake.Gui + "/ai.hermes.gateway";
        Assert.Equal(0, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode);
        var pid = fake.WaitForStub("ai.hermes.gateway", home).Pid!.Value;

        Assert.Equal(0, fake.Launchctl("bootout", target).ExitCode);
        Assert.False(ProcessTable.IsAlive(pid)); // at once: bootout answered after the reap
        var print = fake.Launchctl("print", target);
        Assert.Equal(113, print.ExitCode);
        Assert.Equal($"Could not find service \"ai.hermes.gateway\" in domain for user gui: {fake.Uid}\n", print.StandardError);
        Assert.Equal(113, fake.Launchctl("kickstart", target).ExitCode);
        Assert.Equal(113, fake.Launchctl("bootout", target).ExitCode);

        // SIGTERM without a planned-stop marker: the stub exits 1, as the gateway does.
        Assert.Equal(1, FakeLaunchd.StubEvents(home).Last(e => e["event"]!.GetValue<string>() == "exit")["code"]!.GetValue<int>());
    }

    [FakeLaunchdFact]
    public void Kickstart_k_restarts_at_once_and_kill_delivers_a_signal_by_its_darwin_name()
    {
        var (_, plist, home) = fake.StubJob(throttleInterval: 10);
        var target = fake.Gui + "/ai.hermes.gateway";
        Assert.Equal(0, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode);
        var first = fake.WaitForStub("ai.hermes.gateway", home);

        Assert.Equal(0, fake.Launchctl("kickstart", "-k", target).ExitCode);
        var second = fake.WaitForStub("ai.hermes.gateway", home, notPid: first.Pid, seconds: 3); // no 10 s throttle
        // launchd stopped it with SIGTERM; the stub handles SIGTERM (no planned-stop marker) and exits 1.
        Assert.Equal((1, null), (second.LastExitCode, second.LastTerminatingSignal));

        // launchctl kill SIGUSR1 (30 on Darwin): the stub drains and exits 75, which {SuccessfulExit=false} relaunches.
        Assert.Equal(0, fake.Launchctl("kill", "SIGUSR1", target).ExitCode);
        var ended = FakeLaunchd.WaitFor(() => fake.Print("ai.hermes.gateway") is { LastExitCode: 75 } s ? s : null, "exit 75");
        Assert.Equal("spawn scheduled", ended.State);
        Assert.Equal(3, fake.Launchctl("kill", "TERM", target).ExitCode); // nothing runs until the throttle passes
    }

    [FakeLaunchdFact]
    public void Concurrent_bootstraps_of_one_plist_load_it_once()
    {
        var (_, plist, home) = fake.StubJob();
        var codes = Enumerable.Range(0, 6).AsParallel().WithDegreeOfParallelism(6)
            .Select(_ => fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode).ToList();
        Assert.Equal(1, codes.Count(c => c == 0));
        Assert.Equal(5, codes.Count(c => c == 5));
        Assert.Equal(1, fake.WaitForStub("ai.hermes.gateway", home).Runs);
    }

    [FakeLaunchdFact]
    public void Deleting_the_state_directory_ends_the_daemon_and_its_jobs()
    {
        var (_, plist, home) = fake.StubJob();
        Assert.Equal(0, fake.Launchctl("bootstrap", fake.Gui, plist).ExitCode);
        var pid = fake.WaitForStub("ai.hermes.gateway", home).Pid!.Value;
        Directory.Delete(fake.State, recursive: true);
        FakeLaunchd.WaitFor(() => fake.DaemonExited ? "exited" : null, "the daemon to exit", seconds: 5);
        Assert.False(ProcessTable.IsAlive(pid));
    }
}

/// <summary>The fake's command line, domains and texts: no job needed.</summary>
public sealed class FakeLaunchctlCommandLineTests : IDisposable
{
    private readonly FakeLaunchd fake = new(startDaemon: false);

    public void Dispose() => fake.Dispose();

    [FakeLaunchdTheory]
    [InlineData("")]
    [InlineData("frob")]
    [InlineData("kickstart ai.hermes.gateway")] // an unqualified target (T-ld: exit 64)
    [InlineData("kickstart -x gui/501/ai.hermes.gateway")]
    [InlineData("bootstrap gui/501")]
    [InlineData("bootstrap login/501 /tmp/x.plist")]
    [InlineData("bootout gui/501")]
    [InlineData("print")]
    [InlineData("print gui/501/a extra")]
    [InlineData("kill gui/501/ai.hermes.gateway")]
    [InlineData("enable ai.hermes.gateway")]
    [InlineData("print-disabled gui/501/ai.hermes.gateway")]
    [InlineData("load /tmp/x.plist")]
    public void Unknown_forms_exit_64_with_a_usage_message(string commandLine)
    {
        var r = fake.Launchctl(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(64, r.ExitCode);
        Assert.Contains("Usage: launchctl ", r.StandardError, StringComparison.Ordinal);
    }

    [FakeLaunchdFact]
    public void A_gui_domain_without_a_GUI_session_answers_125_and_user_still_exists()
    {
        fake.SetDomain(noGuiSession: true);
        var print = fake.Launchctl("print", fake.Gui);
        Assert.Equal(125, print.ExitCode);
        var bootstrap = fake.Launchctl("bootstrap", fake.Gui, "/nonexistent.plist");
        Assert.Equal((125, "Bootstrap failed: 125: Domain does not support specified action\n"), (bootstrap.ExitCode, bootstrap.StandardError));
        Assert.Equal(0, fake.Launchctl("print", "user/" + fake.Uid).ExitCode);
        Assert.Equal(113, fake.Launchctl("print", "user/" + fake.Uid + "/ai.hermes.gateway").ExitCode);
    }

    [FakeLaunchdFact]
    public void It_says_it_is_a_test_double_in_help_and_print()
    {
        var help = fake.Launchctl("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("TEST DOUBLE", help.StandardOutput, StringComparison.Ordinal);
        Assert.StartsWith("# fake-launchctl: a TEST DOUBLE", fake.Launchctl("print", fake.Gui).StandardOutput, StringComparison.Ordinal);
        Assert.StartsWith("# fake-launchctl: a TEST DOUBLE", fake.Launchctl("print-disabled", fake.Gui).StandardOutput, StringComparison.Ordinal);
    }
}

/// <summary>The daemon leaves by itself: no job and no request for idleExitSeconds.</summary>
public sealed class FakeLaunchdIdleTests : IDisposable
{
    private readonly FakeLaunchd fake = new();

    public void Dispose() => fake.Dispose();

    [FakeLaunchdFact]
    public void The_daemon_exits_when_idle()
    {
        fake.SetDomain(idleExitSeconds: 1);
        FakeLaunchd.WaitFor(() => fake.DaemonExited ? "exited" : null, "the idle daemon to exit", seconds: 6);
        Assert.False(File.Exists(Path.Combine(fake.State, "launchd.sock")));
        Assert.Equal(113, fake.Launchctl("print", fake.Gui + "/ai.hermes.gateway").ExitCode); // no daemon: nothing is loaded
    }
}
