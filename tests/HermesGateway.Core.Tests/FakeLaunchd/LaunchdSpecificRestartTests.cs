using Xunit.Abstractions;
using static HermesGateway.Core.Tests.FakeLaunchd.LaunchdRestartLab;

namespace HermesGateway.Core.Tests.FakeLaunchd;

/// <summary>
/// Restart-HermesGateway's engine through the fake launchctl, the launchd-only cases: the job unloaded under us (before
/// the restart, while it drains, just before our kickstart), an active ThrottleInterval window, an on-demand-only domain,
/// and a restart that cannot succeed (a specific error, the job still loaded).
/// </summary>
public sealed class LaunchdSpecificRestartTests : IDisposable
{
    private readonly LaunchdRestartLab lab;
    private readonly ITestOutputHelper output;

    public LaunchdSpecificRestartTests(ITestOutputHelper output)
    {
        this.output = output;
        lab = new LaunchdRestartLab(output);
    }

    public void Dispose() => lab.Dispose();

    [FakeLaunchdFact]
    public void A_restart_asked_from_inside_is_handed_to_a_submitted_job_that_runs_once_and_removes_itself()
    {
        var rig = lab.Install("{\"drain_seconds\": 0.3}");
        var old = lab.Healthy(rig, null);
        var proof = Path.Combine(rig.Home, "helper-proof.txt");
        // The helper here proves where it runs (a launchd job of its own: its own session, its parent the fake launchd)
        // and how often; the real helper is Restart-HermesGateway itself, run by pwsh. launchctl submit keeps its job
        // alive, so without the self-removal launchd would run the helper — and the restart — again and again.
        var helper = new[] { "/bin/sh", "-c", $"echo \"started $$ session $(ps -o sid= -p $$)\" >> {proof}; sleep 1; echo survived >> {proof}" };

        var r = rig.Restarter.Run(rig.Service, new RestartOptions { CallerPid = old, HelperCommand = helper }, new TestHost());

        lab.Log(r, rig.Home);
        Assert.True(r.HandedOff);
        Assert.Equal("handed off", r.FinalState);
        Assert.StartsWith($"handed off to {Label}.restart-", r.Strategy, StringComparison.Ordinal);
        var job = r.Strategy["handed off to ".Length..];
        Assert.Equal(job, r.HelperJob);
        Assert.Equal(RestartKind.HandOff, r.Kind);
        Assert.Contains($"submit -l {job} -o {r.HelperLog} -e {r.HelperLog} -- /bin/sh -c", string.Join('\n', lab.Changing()), StringComparison.Ordinal);
        // It runs, finishes, and is gone from launchd: nothing can run it a second time.
        FakeLaunchd.WaitFor(() => lab.Fake.Print(job).Loaded ? null : "removed", "the submitted helper removing its own job");
        var lines = File.ReadAllLines(proof);
        Assert.Equal(["started", "survived"], lines.Select(l => l.Split(' ')[0]));
        var started = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // Its own session (launchd's job), neither the gateway's (the caller's tree) nor this test's.
        var stat = File.ReadAllText("/proc/self/stat");
        var ownSession = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3];
        Assert.NotEqual(old.ToString(CultureInfo.InvariantCulture), started[3]);
        Assert.NotEqual(ownSession, started[3]);
        Assert.Contains($"{job}: remove", lab.DaemonLog(), StringComparison.Ordinal);
        Assert.True(lab.Fake.Print(Label).IsRunning); // the gateway itself is untouched by the hand-off
    }

    [FakeLaunchdFact]
    public void A_job_booted_out_between_the_signal_and_the_revival_is_bootstrapped_again()
    {
        var rig = lab.Install("{\"drain_seconds\": 1.0}");
        var old = lab.Healthy(rig, null);
        Thread? bootout = null;
        int? bootoutExit = null;
        lab.Runner.After = args =>
        {
            if (args[0] == "kill" && bootout is null)
            {
                // Someone else (launchctl bootout, an uninstall racing us) unloads the job while it drains.
                bootout = new Thread(() => bootoutExit = lab.Fake.Launchctl("bootout", lab.Target).ExitCode);
                bootout.Start();
                FakeLaunchd.WaitFor(() => lab.Fake.FakeState(Label) is "booting out" or "" ? "booting out" : null, "the bootout to begin (or be done)");
            }
        };
        lab.Runner.ClearCalls();

        var r = rig.Restarter.Run(rig.Service, new RestartOptions(), new TestHost());
        bootout!.Join();
        Assert.Equal(0, bootoutExit);

        lab.Log(r, rig.Home);
        lab.AssertRestarted(rig, r, old);
        Assert.Contains("bootstrap", r.Strategy, StringComparison.Ordinal);
        Assert.Contains($"bootstrap {lab.Fake.Gui} {rig.Service.Path}", lab.Changing());
        Assert.Contains(FakeLaunchd.StubEvents(rig.Home), e => IsExit(e, old, 75));
    }

    [FakeLaunchdFact]
    public void A_kickstart_refused_because_the_job_was_unloaded_bootstraps_it_and_kickstarts()
    {
        // ThrottleInterval 10 and a short run: after the exit the job is "spawn scheduled", so the engine kickstarts it...
        var rig = lab.Install("{\"drain_seconds\": 0.3}", throttleInterval: 10);
        var old = lab.Healthy(rig, null);
        var unloaded = false;
        lab.Runner.Before = args =>
        {
            if (args is ["kickstart", _] && !unloaded)
            {
                // ...and the job is booted out just before that kickstart arrives: launchctl kickstart answers 113.
                unloaded = true;
                Assert.Equal(0, lab.Fake.Launchctl("bootout", lab.Target).ExitCode);
            }
        };
        lab.Runner.ClearCalls();

        var r = rig.Restarter.Run(rig.Service, new RestartOptions(), new TestHost());

        lab.Log(r, rig.Home);
        Assert.True(unloaded);
        lab.AssertRestarted(rig, r, old);
        Assert.Contains("bootstrap", r.Strategy, StringComparison.Ordinal);
        var changing = lab.Changing();
        Assert.Equal($"kill USR1 {lab.Target}", changing[0]);
        Assert.Equal($"kickstart {lab.Target}", changing[1]); // refused: 113
        Assert.Equal($"bootstrap {lab.Fake.Gui} {rig.Service.Path}", changing[2]);
        Assert.DoesNotContain(changing, c => c.StartsWith("kickstart -k", StringComparison.Ordinal));
        Assert.True(r.Downtime < TimeSpan.FromSeconds(5), $"downtime {r.Downtime}");
    }

    [FakeLaunchdFact]
    public void A_job_unloaded_before_the_restart_is_bootstrapped_and_started()
    {
        var rig = lab.Install("{}");
        var old = lab.Healthy(rig, null);
        Assert.Equal(0, lab.Fake.Launchctl("bootout", lab.Target).ExitCode);
        Assert.False(lab.Fake.Print(Label).Loaded);
        lab.Runner.ClearCalls();

        var r = rig.Restarter.Run(rig.Service, new RestartOptions(), new TestHost());

        lab.Log(r, rig.Home);
        Assert.Equal(("start", "running", (int?)null), (r.Strategy, r.FinalState, r.OldPid));
        Assert.Equal(RestartKind.Start, r.Kind);
        var now = lab.Healthy(rig, notPid: old);
        Assert.Equal(now, r.NewPid);
        Assert.Contains($"bootstrap {lab.Fake.Gui} {rig.Service.Path}", lab.Changing());
    }

    [FakeLaunchdFact]
    public void With_the_throttle_window_active_the_kickstart_brings_it_back_long_before_launchd_would()
    {
        // ThrottleInterval 30 s: wide enough that a loaded machine (slow starts, slow polls) keeps the window open.
        var rig = lab.Install("{\"drain_seconds\": 0.2}", throttleInterval: 30);
        var old = lab.Healthy(rig, null);
        var started = DateTimeOffset.FromUnixTimeMilliseconds(lab.Fake.FakeField(Label, "last spawn at")!.Value);
        var ranSoFar = DateTimeOffset.UtcNow - started;
        if (ranSoFar < TimeSpan.FromSeconds(1))
        {
            Thread.Sleep(TimeSpan.FromSeconds(1) - ranSoFar); // it has run ~1 s when the restart comes
        }

        var r = rig.Restarter.Run(rig.Service, new RestartOptions(), new TestHost());

        lab.Log(r, rig.Home);
        lab.AssertRestarted(rig, r, old);
        Assert.Contains("kickstart", r.Strategy, StringComparison.Ordinal);

        // What launchd itself decided at the exit (the fake's fields) and what the model says it must be.
        var ranFor = TimeSpan.FromMilliseconds(lab.Fake.FakeField(Label, "last ran for")!.Value);
        var launchdDelay = TimeSpan.FromMilliseconds(lab.Fake.FakeField(Label, "respawn delay")!.Value);
        var model = new LaunchdModel(LaunchdJobReader.ReadFile(rig.Service.Path));
        Assert.Equal(model.ThrottleDelay(ranFor), launchdDelay);
        Assert.Equal(TimeSpan.FromSeconds(30 - Math.Floor(ranFor.TotalSeconds)), launchdDelay); // 30 s minus the whole seconds it ran
        Assert.True(launchdDelay >= TimeSpan.FromSeconds(15), $"it ran {ranFor}: the throttle window should still be wide open");
        Assert.Contains("respawn in " + launchdDelay.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s (ThrottleInterval 30 s", lab.DaemonLog(), StringComparison.Ordinal);

        var exitAt = lab.Fake.FakeField(Label, "last exit at")!.Value;
        var respawnedAt = lab.Fake.FakeField(Label, "last spawn at")!.Value;
        var measured = StubDowntime(rig.Home, old, r.NewPid!.Value);
        output.WriteLine($"ran {ranFor.TotalMilliseconds:0} ms; launchd would have waited {launchdDelay.TotalMilliseconds:0} ms; our kickstart spawned {respawnedAt - exitAt} ms after the exit; stub-measured downtime {measured.TotalMilliseconds:0} ms");
        Assert.InRange(respawnedAt - exitAt, 0, (long)launchdDelay.TotalMilliseconds / 4);
        Assert.True(measured < launchdDelay / 4, $"downtime {measured} against launchd's {launchdDelay}");
        Assert.True(r.Downtime < launchdDelay / 4, $"downtime {r.Downtime} against launchd's {launchdDelay}");
    }

    [FakeLaunchdFact]
    public void In_an_on_demand_only_domain_the_pended_respawn_is_replaced_by_a_kickstart()
    {
        var rig = lab.Install("{\"drain_seconds\": 0.2}", throttleInterval: 1);
        var old = lab.Healthy(rig, null);
        Thread.Sleep(1100); // past the 1 s throttle: only the domain's mode can hold the respawn back
        lab.Fake.SetDomain(onDemandOnly: true);

        var r = rig.Restarter.Run(rig.Service, new RestartOptions(), new TestHost());

        lab.Log(r, rig.Home);
        lab.AssertRestarted(rig, r, old);
        Assert.Contains("kickstart", r.Strategy, StringComparison.Ordinal);
        // launchd's own decision at the exit: KeepAlive wants it back, the on-demand-only domain pends it.
        var decision = Assert.Single(lab.DaemonLog().Split('\n'), l => l.Contains($"{lab.Target}: exit 75: ", StringComparison.Ordinal));
        Assert.EndsWith("pending spawn, domain in on-demand-only mode", decision, StringComparison.Ordinal);
        Assert.Contains($"spawned pid {r.NewPid!.Value.ToString(CultureInfo.InvariantCulture)} (kickstart)", lab.DaemonLog(), StringComparison.Ordinal);
        Assert.Equal(0, lab.Fake.FakeField(Label, "respawn delay") ?? 0);
        Assert.True(r.Downtime < TimeSpan.FromSeconds(5), $"downtime {r.Downtime}");
    }

    [FakeLaunchdFact]
    public void The_supervisors_restart_of_an_unloaded_job_bootstraps_it_and_does_not_kill_the_fresh_instance()
    {
        var rig = lab.Install("{}");
        var old = lab.Healthy(rig, null);
        Assert.Equal(0, lab.Fake.Launchctl("bootout", lab.Target).ExitCode);
        lab.Runner.ClearCalls();

        rig.Manager.HardRestart(rig.Service, new TestHost());

        var now = lab.Healthy(rig, notPid: old);
        Thread.Sleep(300);
        Assert.Equal(now, lab.Fake.Print(Label).Pid);
        Assert.Equal(1, lab.Fake.Print(Label).Runs);
        Assert.DoesNotContain(FakeLaunchd.StubEvents(rig.Home), e => Event(e) == "exit" && Pid(e) != old);
        Assert.Contains($"bootstrap {lab.Fake.Gui} {rig.Service.Path}", lab.Changing());
    }

    [FakeLaunchdFact]
    public void A_restart_whose_new_gateway_keeps_failing_its_start_ends_with_the_start_failure_and_the_job_still_loaded()
    {
        var rig = lab.Install("{\"drain_seconds\": 0.2}", throttleInterval: 1);
        var old = lab.Healthy(rig, null);
        rig.Control("{\"mode\": \"fail_start\"}"); // every new run fails its start

        var e = Assert.Throws<HermesException>(() => rig.Restarter.Run(rig.Service, new RestartOptions { Timeout = TimeSpan.FromSeconds(10) }, new TestHost()));

        output.WriteLine($"{e.ErrorId}: {e.Message}");
        // The new process' end is noticed at once (not the 10 s timeout); a crash gets one more try, the supervisor's restart.
        Assert.Equal(HermesErrorIds.GatewayExitedOnStart, e.ErrorId);
        Assert.Contains("exit 1 (unplanned)", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, Assert.IsType<RestartResult>(e.Target).Attempts);
        Assert.True(lab.Fake.Print(Label).Loaded, "our restart never unloads the job: launchd keeps retrying it");
        Assert.Contains(FakeLaunchd.StubEvents(rig.Home), ev => IsExit(ev, old, 75));
        rig.Control("{}");
        lab.Healthy(rig, notPid: old); // once the cause is gone, launchd's own KeepAlive brings it back
    }
}
