namespace HermesGateway.Core.Tests.Service;

/// <summary>
/// How the systemd manager delivers the restart signal (a proven process handle, else systemctl kill) and how it asks
/// for the revival after the exit (at once when RestartSec= leaves room, else after a look at the unit).
/// </summary>
public sealed class SystemdSignalAndReviveTests
{
    private const string Unit = "hermes-gateway.service";
    private const int Pid = 4121;
    private const long Started = 987654;

    private static readonly ServiceEnvironment Env = new()
    {
        Home = "/home/hermes",
        DbusSessionBusAddress = "unix:path=/run/user/1000/bus",
        Uid = 1000,
        UserName = "hermes",
    };

    private static readonly ServiceIdentity Service = new("hermes-gateway", ServicePlatform.Systemd, ServiceScope.User, "/home/hermes/.config/systemd/user/hermes-gateway.service");

    private static readonly RunningGateway Target = new(Pid, Started);

    private static bool IsKill(string call) => call.StartsWith("systemctl --user kill ", StringComparison.Ordinal);

    [Fact]
    public void A_proven_handle_carries_the_signal_and_systemctl_is_not_asked()
    {
        var runner = new RecordingRunner();
        var table = new FakeTable { [Pid] = new(Started, "/user.slice/user-1000.slice/user@1000.service/app.slice/" + Unit) };

        using var handle = new SystemdServiceManager(runner, Env, table).SendSignal(Service, Target, UnixSignal.SIGUSR1, new TestHost());

        Assert.Same(table.Opened.Single(), handle);
        Assert.Equal([UnixSignal.SIGUSR1], table.Opened.Single().Signals);
        Assert.Empty(runner.Calls);
    }

    [Theory]
    [InlineData("/user.slice/user-1000.slice/user@1000.service/app.slice/other.service", Started)] // another unit's process
    [InlineData("/user.slice/user-1000.slice/user@1000.service/app.slice/" + Unit, Started + 1)] // the PID was reused
    [InlineData(null, Started)] // no cgroup to prove it by
    public void An_unproven_process_is_not_signalled_through_its_handle_systemd_delivers_it(string? cgroup, long startTime)
    {
        var runner = new RecordingRunner();
        var table = new FakeTable { [Pid] = new(startTime, cgroup) };

        using var handle = new SystemdServiceManager(runner, Env, table).SendSignal(Service, Target, UnixSignal.SIGUSR1, new TestHost());

        Assert.Null(handle);
        Assert.All(table.Opened, h => Assert.Empty(h.Signals));
        Assert.All(table.Opened, h => Assert.True(h.Disposed));
        Assert.Equal(["systemctl --user kill --kill-who=main -s SIGUSR1 -- " + Unit], runner.Calls);
    }

    [Fact]
    public void A_refused_handle_signal_falls_back_to_systemctl_kill()
    {
        var runner = new RecordingRunner();
        var table = new FakeTable { [Pid] = new(Started, "/system.slice/" + Unit) { Delivery = SignalDelivery.Refused } };

        using var handle = new SystemdServiceManager(runner, Env, table).SendSignal(Service, Target, UnixSignal.SIGUSR1, new TestHost());

        Assert.Null(handle); // a handle the kernel refused is no use for the wait either
        Assert.True(table.Opened.Single().Disposed);
        Assert.Empty(table.Opened.Single().Signals);
        Assert.Single(runner.Calls, IsKill);
    }

    [Fact]
    public void A_process_that_exited_before_the_signal_is_not_looked_for_again()
    {
        var runner = new RecordingRunner();
        var table = new FakeTable { [Pid] = new(Started, "/system.slice/" + Unit) { Delivery = SignalDelivery.ProcessGone } };

        using var handle = new SystemdServiceManager(runner, Env, table).SendSignal(Service, Target, UnixSignal.SIGUSR1, new TestHost());

        Assert.NotNull(handle);
        Assert.Empty(runner.Calls);
    }

    [Fact]
    public void WhatIf_signals_nothing_either_way()
    {
        var runner = new RecordingRunner();
        var table = new FakeTable { [Pid] = new(Started, "/system.slice/" + Unit) };
        var host = new TestHost(whatIf: true);

        using var handle = new SystemdServiceManager(runner, Env, table).SendSignal(Service, Target, UnixSignal.SIGUSR1, host);

        Assert.Null(handle);
        Assert.Empty(table.Opened);
        Assert.Empty(runner.Calls);
        Assert.Contains("SIGUSR1 to PID 4121", Assert.Single(host.Asked), StringComparison.Ordinal); // declined: no second way is tried
    }

    [Fact]
    public void Without_process_handles_systemd_delivers_the_signal()
    {
        var runner = new RecordingRunner();

        using var handle = new SystemdServiceManager(runner, Env, new NoHandles()).SendSignal(Service, Target, UnixSignal.SIGUSR1, new TestHost());

        Assert.Null(handle);
        Assert.Equal(["systemctl --user kill --kill-who=main -s SIGUSR1 -- " + Unit], runner.Calls);
    }

    [Fact]
    public void Identify_reads_the_restart_delay_systemd_has_loaded()
    {
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show("active", "running", Pid) + "RestartUSec=2s\n");

        var running = new SystemdServiceManager(runner, Env, new NoHandles()).Identify(Service, default);

        Assert.NotNull(running);
        Assert.Equal(TimeSpan.FromSeconds(2), running.SupervisorDelay);
        Assert.Contains(",RestartUSec ", Assert.Single(runner.Calls), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2000)]
    [InlineData(100)]
    public void With_room_before_systemds_own_restart_the_restart_is_asked_for_at_once(int restartMs)
    {
        var runner = new RecordingRunner();

        var how = new SystemdServiceManager(runner, Env, new NoHandles())
            .Revive(Service, Target with { SupervisorDelay = TimeSpan.FromMilliseconds(restartMs) }, TimeSpan.FromSeconds(5), new TestHost());

        Assert.Equal("systemctl restart", how);
        Assert.Equal(["systemctl --user restart -- " + Unit], runner.Calls);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(null)]
    public void With_little_or_unknown_room_the_unit_is_looked_at_first(int? restartMs)
    {
        // systemd may already be starting the new instance: a restart now would be a second one. It is: systemd's.
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show("active", "running", Pid + 1));

        var how = new SystemdServiceManager(runner, Env, new NoHandles())
            .Revive(Service, Target with { SupervisorDelay = restartMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null }, TimeSpan.FromSeconds(5), new TestHost());

        Assert.Equal("systemd", how);
        Assert.DoesNotContain(runner.Calls, c => c.Contains(" restart ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_restart_refused_by_the_start_limit_is_followed_by_reset_failed_and_start()
    {
        var runner = new RecordingRunner()
            .On((f, a) => a.Contains("restart"), exitCode: 1, stderr: "Job for hermes-gateway.service failed because the start limit was hit.\n")
            .On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show("failed", "failed"));

        var how = new SystemdServiceManager(runner, Env, new NoHandles())
            .Revive(Service, Target with { SupervisorDelay = TimeSpan.FromSeconds(2) }, TimeSpan.FromSeconds(5), new TestHost());

        Assert.Equal("reset-failed, start", how);
        Assert.Equal("systemctl --user restart -- " + Unit, runner.Calls[0]);
        Assert.Equal("systemctl --user reset-failed -- " + Unit, runner.Calls[^2]);
        Assert.Equal("systemctl --user start -- " + Unit, runner.Calls[^1]);
    }

    [Fact]
    public void WhatIf_asks_for_no_revival()
    {
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show("inactive", "dead"));

        var how = new SystemdServiceManager(runner, Env, new NoHandles())
            .Revive(Service, Target with { SupervisorDelay = TimeSpan.FromSeconds(2) }, TimeSpan.FromSeconds(5), new TestHost(whatIf: true));

        Assert.Equal("none (WhatIf)", how);
        Assert.DoesNotContain(runner.Calls, c => !c.Contains(" show ", StringComparison.Ordinal));
    }

    internal sealed record FakeProcess(long StartTime, string? ControlGroup)
    {
        public SignalDelivery Delivery { get; init; } = SignalDelivery.Delivered;
    }

    /// <summary>A process table with made-up processes, whose handles record what they were asked to signal.</summary>
    internal sealed class FakeTable : Dictionary<int, FakeProcess>, IProcessTable
    {
        public List<FakeHandle> Opened { get; } = [];

        public bool IsAlive(int pid) => ContainsKey(pid);

        public long? StartTime(int pid) => TryGetValue(pid, out var p) ? p.StartTime : null;

        public int? ParentPid(int pid) => null;

        public string? ControlGroup(int pid) => TryGetValue(pid, out var p) ? p.ControlGroup : null;

        public IProcessHandle? Open(int pid)
        {
            if (!TryGetValue(pid, out var p))
            {
                return null;
            }

            var handle = new FakeHandle(pid, p.Delivery);
            Opened.Add(handle);
            return handle;
        }
    }

    internal sealed class FakeHandle(int pid, SignalDelivery delivery) : IProcessHandle
    {
        public int Pid => pid;

        public List<UnixSignal> Signals { get; } = [];

        public bool Disposed { get; private set; }

        public bool HasExited => false;

        public SignalDelivery Signal(UnixSignal signal)
        {
            if (delivery == SignalDelivery.Delivered)
            {
                Signals.Add(signal);
            }

            return delivery;
        }

        public bool WaitForExit(TimeSpan timeout) => false;

        public void Dispose() => Disposed = true;
    }

    /// <summary>A table without process handles (macOS, or a kernel without pidfds).</summary>
    private sealed class NoHandles : IProcessTable
    {
        public bool IsAlive(int pid) => true;

        public long? StartTime(int pid) => Started;

        public int? ParentPid(int pid) => null;

        public string? ControlGroup(int pid) => null;
    }
}
