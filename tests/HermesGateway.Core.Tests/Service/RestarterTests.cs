using System.Diagnostics;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;
using HermesGateway.Core.Tests.Platform;
using Xunit;

namespace HermesGateway.Core.Tests.Service;

/// <summary>
/// The restart procedure against a scripted supervisor: what it waits on, when it stops waiting, and what a failure
/// carries. (The real supervisors are in E2e/ and FakeLaunchd/.)
/// </summary>
public sealed class RestarterTests : IDisposable
{
    private const int OldPid = 100;
    private const int NewPid = 200;
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private HermesService Service => new()
    {
        Name = "hermes-gateway",
        Platform = ServicePlatform.Systemd,
        Scope = ServiceScope.User,
        Path = "/x/hermes-gateway.service",
        State = "active",
        Drift = "none",
        Policy = "ok",
        HermesHome = dir.Path,
    };

    private void ReportsRunning(int pid) =>
        File.WriteAllText(Path.Combine(dir.Path, "gateway_state.json"), $"{{\"gateway_state\": \"running\", \"pid\": {pid}}}");

    [Fact]
    public void A_handle_that_never_reports_the_exit_does_not_hold_the_restart_the_PID_check_ends_the_wait()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table) { Handle = new SilentHandle(OldPid), OnRevive = () => table.Alive.Add(NewPid) };
        ReportsRunning(NewPid);
        var restarter = new GatewayRestarter(manager, table, Path.Combine(dir.Path, "locks"));

        var clock = Stopwatch.StartNew();
        var r = restarter.Restart(Service, new RestartOptions { DrainTimeout = TimeSpan.FromSeconds(30) }, new TestHost());

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        Assert.Equal("signal, scripted revival", r.Strategy);
        Assert.Equal(OldPid, r.OldPid);
        Assert.Equal(NewPid, r.NewPid);
        Assert.Equal(1, r.Attempts);
        Assert.True(manager.Handle.Disposed);
    }

    [Fact]
    public void A_gateway_that_never_comes_back_fails_with_the_result_so_far_attached()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table); // revivals bring nothing up
        var restarter = new GatewayRestarter(manager, table, Path.Combine(dir.Path, "locks"));

        var e = Assert.Throws<HermesException>(() => restarter.Restart(Service, new RestartOptions { Timeout = TimeSpan.FromMilliseconds(300) }, new TestHost()));

        Assert.Equal(HermesErrorIds.RestartTimeout, e.ErrorId);
        var r = Assert.IsType<RestartResult>(e.Target);
        Assert.Equal("hermes-gateway", r.Name);
        Assert.Equal(OldPid, r.OldPid);
        Assert.Null(r.NewPid);
        Assert.Equal(2, r.Attempts);
        Assert.Equal("signal, scripted revival, supervisor restart (failed)", r.Strategy);
        Assert.Equal("not running", r.FinalState);
        Assert.Equal("drain", Assert.Single(r.Steps).Name);
        Assert.Equal(1, manager.HardRestarts);
        Assert.Equal(HermesErrorIds.RestartTimeout, Assert.IsType<HermesException>(e.InnerException).ErrorId);
    }

    [Fact]
    public void A_handle_whose_process_exits_while_its_facts_are_read_is_not_proven()
    {
        // Opened on the right process, which then exits and its PID goes to another one with the same start time
        // (the worst case): the facts read afterwards are not its facts, and the proof must say so.
        var table = new ScriptedTable { Alive = { OldPid }, ExitWhenStartTimeIsRead = true };

        Assert.Null(ProcessTable.OpenProven(table, OldPid, ScriptedTable.Started + OldPid, _ => true));
        Assert.True(table.LastHandle!.Disposed);
    }

    private sealed class ScriptedTable : IProcessTable
    {
        public const long Started = 5000;

        public HashSet<int> Alive { get; } = [];

        public bool ExitWhenStartTimeIsRead { get; init; }

        public SilentHandle? LastHandle { get; private set; }

        public bool IsAlive(int pid) => Alive.Contains(pid);

        public long? StartTime(int pid)
        {
            if (ExitWhenStartTimeIsRead && LastHandle is not null)
            {
                LastHandle.Exited = true;
            }

            return Alive.Contains(pid) ? Started + pid : null;
        }

        public int? ParentPid(int pid) => null;

        public string? ControlGroup(int pid) => null;

        public IProcessHandle? Open(int pid) => Alive.Contains(pid) ? LastHandle = new SilentHandle(pid) : null;
    }

    /// <summary>A handle whose process, as far as it tells, never exits (unless told to).</summary>
    private sealed class SilentHandle(int pid) : IProcessHandle
    {
        public int Pid => pid;

        public bool Exited { get; set; }

        public bool Disposed { get; private set; }

        public bool HasExited => Exited;

        public SignalDelivery Signal(UnixSignal signal) => SignalDelivery.Delivered;

        public bool WaitForExit(TimeSpan timeout)
        {
            Thread.Sleep(timeout < TimeSpan.FromMilliseconds(5) ? timeout : TimeSpan.FromMilliseconds(5));
            return Exited;
        }

        public void Dispose() => Disposed = true;
    }

    /// <summary>A supervisor whose gateway exits at the signal and comes back only if <see cref="OnRevive"/> says so.</summary>
    private sealed class ScriptedManager(ScriptedTable table) : IServiceManager
    {
        public SilentHandle Handle { get; init; } = new(OldPid);

        public Action? OnRevive { get; init; }

        public int HardRestarts { get; private set; }

        public ServicePlatform Platform => ServicePlatform.Systemd;

        public RunningGateway? Identify(HermesService service, CancellationToken cancellation)
        {
            var pid = table.Alive.Contains(NewPid) ? NewPid : table.Alive.Contains(OldPid) ? OldPid : 0;
            return pid == 0 ? null : new RunningGateway(pid, table.StartTime(pid)) { SupervisorDelay = TimeSpan.FromSeconds(2) };
        }

        public IProcessHandle? SendSignal(HermesService service, RunningGateway target, UnixSignal signal, IEngineHost host)
        {
            table.Alive.Remove(target.Pid); // it drains at once and exits; the handle does not tell
            return Handle;
        }

        public string Revive(HermesService service, RunningGateway exited, TimeSpan waitForSupervisor, IEngineHost host)
        {
            OnRevive?.Invoke();
            return "scripted revival";
        }

        public void HardRestart(HermesService service, IEngineHost host)
        {
            HardRestarts++;
            OnRevive?.Invoke();
        }

        public string FilePath(string name, ServiceScope scope) => throw new NotSupportedException();

        public void CheckCanManage(ServiceScope scope) => throw new NotSupportedException();

        public IEnumerable<(string Path, ServiceScope Scope)> Discover() => throw new NotSupportedException();

        public void Activate(ServiceDefinition definition, string path, bool fileChanged, bool start, bool enableLinger, IEngineHost host) => throw new NotSupportedException();

        public void Deactivate(string name, ServiceScope scope, string? hermesHome, IEngineHost host) => throw new NotSupportedException();

        public HermesService Status(ServiceConfiguration config, ServiceScope scope, HermesService known) => throw new NotSupportedException();

        public void StartService(string name, ServiceScope scope, string path, IEngineHost host) => throw new NotSupportedException();

        public void StopService(string name, ServiceScope scope, string? hermesHome, IEngineHost host) => throw new NotSupportedException();

        public void Forget(ServiceScope scope, IEngineHost host) => throw new NotSupportedException();

        public string HandOff(HermesService service, IReadOnlyList<string> command, string log, IEngineHost host) => throw new NotSupportedException();
    }
}
