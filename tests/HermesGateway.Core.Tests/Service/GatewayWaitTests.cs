namespace HermesGateway.Core.Tests.Service;

/// <summary>
/// The waits for a gateway to come up, against systemctl answers scripted through the process runner: how often the
/// supervisor is asked, and that a new process which ended (a configuration error, a crash) ends the wait at once.
/// </summary>
public sealed class GatewayWaitTests : IDisposable
{
    private const string Unit = "hermes-gateway.service";
    private readonly TempDir dir = new();

    private static readonly ServiceEnvironment Env = new()
    {
        Home = "/home/hermes",
        DbusSessionBusAddress = "unix:path=/run/user/1000/bus",
        Uid = 1000,
        UserName = "hermes",
    };

    public void Dispose() => dir.Dispose();

    private ServiceIdentity Service => new("hermes-gateway", ServicePlatform.Systemd, ServiceScope.User, "/x/hermes-gateway.service") { HermesHome = dir.Path };

    private static bool IsShow(string f, IReadOnlyList<string> a) => f == "systemctl" && a.Contains("show");

    private static int Shows(RecordingRunner runner) => runner.Calls.Count(c => c.StartsWith("systemctl --user show ", StringComparison.Ordinal));

    private static string ShowText(string active, string sub, int mainPid = 0, int execPid = 0, int code = 0, int status = 0) =>
        $"LoadState=loaded\nActiveState={active}\nSubState={sub}\nResult={(code == 0 ? "success" : "exit-code")}\nMainPID={mainPid}\nExecMainPID={execPid}\nExecMainStartTimestamp=\nExecMainCode={code}\nExecMainStatus={status}\nNRestarts=0\nUnitFileState=enabled\nFragmentPath=/x\nRestartUSec=2s\n";

    /// <summary>A runner whose unit answers <paramref name="before"/> until 'systemctl start' ran, then <paramref name="after"/>.</summary>
    private static RecordingRunner Scripted(string before, string after, string journal = "")
    {
        var started = false;
        var runner = new RecordingRunner();
        runner.On((f, a) => IsShow(f, a) && !Volatile.Read(ref started), stdout: before);
        runner.On((f, a) => IsShow(f, a) && Volatile.Read(ref started), stdout: after);
        runner.On((f, a) =>
        {
            if (f == "systemctl" && a.Contains("start"))
            {
                Volatile.Write(ref started, true);
            }

            return false;
        });
        runner.On((f, _) => f == "journalctl", stdout: journal);
        return runner;
    }

    private GatewayRestarter Restarter(RecordingRunner runner) =>
        new(new SystemdServiceManager(runner, Env, new SystemdSignalAndReviveTests.FakeTable()), new SystemdSignalAndReviveTests.FakeTable(), Path.Combine(dir.Path, "locks"));

    [Fact]
    public void Waiting_for_a_gateway_that_does_not_come_up_asks_systemd_at_a_bounded_rate()
    {
        // Started, but systemd shows it activating for the whole wait: nothing is decided, so the wait runs out.
        var runner = Scripted(ShowText("inactive", "dead"), ShowText("activating", "start"));
        var timeout = TimeSpan.FromSeconds(3);

        var e = Assert.Throws<HermesException>(() => Restarter(runner).Run(Service, new RestartOptions { Timeout = timeout }, new TestHost()));

        Assert.Equal(HermesErrorIds.RestartTimeout, e.ErrorId);
        // At most 10 a second over the wait (plus the few asks around the start itself).
        Assert.InRange(Shows(runner), 1, (int)(10 * timeout.TotalSeconds) + 5);
    }

    [Fact]
    public void A_start_into_a_configuration_error_is_reported_at_once_with_its_exit_and_the_last_log_lines()
    {
        // The new process (PID 4242) exited 78 and systemd, told not to revive it, left the unit failed.
        var runner = Scripted(ShowText("inactive", "dead"), ShowText("failed", "failed", execPid: 4242, code: 1, status: 78),
            journal: "stub gateway starting\nfatal: no platform configured\n");
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<HermesException>(() => Restarter(runner).Run(Service, new RestartOptions { Timeout = TimeSpan.FromSeconds(20) }, new TestHost()));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
        Assert.Equal("HermesGatewayExitedOnStart", e.ErrorId);
        Assert.Contains("exit 78 (configuration error", e.Message, StringComparison.Ordinal);
        Assert.Contains("fatal: no platform configured", e.Message, StringComparison.Ordinal);
        Assert.Contains(runner.Calls, c => c.StartsWith("journalctl --user-unit " + Unit + " -n 10 --no-pager -o cat", StringComparison.Ordinal) || c.StartsWith("journalctl --user -u " + Unit, StringComparison.Ordinal));
        // Started once: a configuration error is not started again.
        Assert.Single(runner.Calls, c => c is "systemctl --user start -- " + Unit or "systemctl --user restart -- " + Unit or "systemctl --user restart --no-block -- " + Unit);
    }

    [Fact]
    public void A_gateway_whose_state_file_records_startup_failed_after_a_clean_exit_is_reported_at_once()
    {
        // hermes-0.16: a permanent start-up error exits 0 and records startup_failed; under Restart=on-failure the unit ends inactive.
        File.WriteAllText(Path.Combine(dir.Path, "gateway_state.json"), "{\"gateway_state\": \"startup_failed\", \"pid\": 4242, \"exit_reason\": \"stub: configuration error\"}");
        var runner = Scripted(ShowText("inactive", "dead"), ShowText("inactive", "dead", execPid: 4242, code: 1, status: 0));
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<HermesException>(() => Restarter(runner).Run(Service, new RestartOptions { Timeout = TimeSpan.FromSeconds(20), Contract = GatewayExitContract.Hermes016 }, new TestHost()));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
        Assert.Equal("HermesGatewayExitedOnStart", e.ErrorId);
        Assert.Contains("exit 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("startup_failed", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(85, 60)] // drain budget 55 s + 5 s
    [InlineData(5, 5)] // no drain budget left by the stop timeout: the stop timeout itself, not a fixed 65 s
    public void The_default_drain_wait_comes_from_the_units_own_stop_timeout(int stopSeconds, int expectedSeconds)
    {
        var unit = Path.Combine(dir.Path, "hermes-gateway.service");
        File.WriteAllText(unit, $"[Unit]\nDescription=x\n\n[Service]\nType=simple\nExecStart=/usr/bin/hermes gateway run\nEnvironment=HERMES_HOME={dir.Path}\nRestart=on-failure\nTimeoutStopSec={stopSeconds}\n\n[Install]\nWantedBy=default.target\n");
        var manager = new SystemdServiceManager(new RecordingRunner(), Env, new SystemdSignalAndReviveTests.FakeTable());
        var service = ServiceInstaller.Status(unit, ServiceScope.User, manager);

        var plan = new GatewayRestarter(manager, new SystemdSignalAndReviveTests.FakeTable(), dir.Path).Plan(service.Identity, new RestartOptions());

        Assert.Contains($"wait up to {expectedSeconds} s for the drain", plan, StringComparison.Ordinal);
    }

    [Fact]
    public void Launchd_gives_the_tail_of_the_plists_StandardErrorPath_and_does_not_follow_a_link_as_root()
    {
        var manager = new LaunchdServiceManager(new RecordingRunner(), new ServiceEnvironment { Home = dir.Path, Uid = 501, UserName = "hermes" });
        var log = Path.Combine(dir.Path, "gateway.err.log");
        File.WriteAllLines(log, Enumerable.Range(1, 25).Select(i => $"line {i}"));
        var service = new ServiceIdentity("ai.hermes.gateway", ServicePlatform.Launchd, ServiceScope.Agent, "/x/ai.hermes.gateway.plist") { LogPath = log };

        var lines = manager.RecentLog(service, 10, CancellationToken.None, out _);

        Assert.Equal(Enumerable.Range(16, 10).Select(i => $"line {i}"), lines);
        Assert.Null(manager.RecentLog(service with { LogPath = null }, 10, CancellationToken.None, out var none));
        Assert.Contains("StandardErrorPath", none, StringComparison.Ordinal);
        var link = Path.Combine(dir.Path, "linked.err.log");
        File.CreateSymbolicLink(link, log);
        var throughLink = manager.RecentLog(service with { LogPath = link }, 10, CancellationToken.None, out var why);
        if (Environment.IsPrivilegedProcess)
        {
            Assert.Null(throughLink);
            Assert.Contains("symbolic link", why, StringComparison.Ordinal);
        }
    }
}
