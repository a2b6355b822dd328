namespace HermesGateway.Core.Tests.Service;

/// <summary>
/// The restart procedure against a scripted supervisor: what it waits on, when it stops waiting, and what a failure
/// carries. (The real supervisors are in E2e/ and FakeLaunchd/.)
/// </summary>
public sealed class RestarterTests : IDisposable
{
    private const int OldPid = ScriptedPids.Old;
    private const int NewPid = ScriptedPids.New;
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private ServiceIdentity Service => new("hermes-gateway", ServicePlatform.Systemd, ServiceScope.User, "/x/hermes-gateway.service") { HermesHome = dir.Path };

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
        var r = restarter.Run(Service, new RestartOptions { DrainTimeout = TimeSpan.FromSeconds(30) }, new TestHost());

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        Assert.Equal("signal, scripted revival", r.Strategy);
        Assert.Equal(RestartKind.Graceful, r.Kind);
        Assert.Equal(OldPid, r.OldPid);
        Assert.Equal(NewPid, r.NewPid);
        Assert.Equal(1, r.Attempts);
        Assert.True(manager.Handle.Disposed);
    }

    [Fact]
    public void WhatIf_asks_once_and_touches_nothing_no_lock_no_supervisor_no_signal()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table);
        var locks = Path.Combine(dir.Path, "locks");
        var host = new TestHost(whatIf: true);

        var r = new GatewayRestarter(manager, table, locks).Restart(Service, new RestartOptions(), host);

        Assert.Null(r);
        Assert.StartsWith("Restart hermes-gateway: SIGUSR1 to its main process", Assert.Single(host.Asked), StringComparison.Ordinal);
        Assert.False(Directory.Exists(locks));
        Assert.Equal(0, manager.Calls);
        Assert.Contains(OldPid, table.Alive);
    }

    [Fact]
    public void A_confirmed_restart_is_asked_about_once_not_step_by_step()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table) { OnRevive = () => table.Alive.Add(NewPid), AskAtEachStep = true };
        ReportsRunning(NewPid);
        var host = new TestHost();

        var r = new GatewayRestarter(manager, table, Path.Combine(dir.Path, "locks")).Run(Service, new RestartOptions { Force = true }, host);

        Assert.Equal(NewPid, r.NewPid);
        Assert.Equal(RestartKind.Forced, r.Kind);
        Assert.StartsWith("Restart hermes-gateway through systemd's own restart as a planned stop", Assert.Single(host.Asked), StringComparison.Ordinal);
        Assert.True(manager.StepsAllowed > 0); // the steps asked the host the restarter gave them, and went ahead
    }

    [Fact]
    public void A_call_that_waited_for_a_restart_which_left_no_result_restarts_itself_and_says_it_waited()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table) { OnRevive = () => table.Alive.Add(NewPid) };
        ReportsRunning(NewPid);
        var locks = Path.Combine(dir.Path, "locks");
        var other = RestartLock.Acquire(locks, RestartLock.Key(Service), TimeSpan.Zero, default, out _); // another restart, under way
        RestartResult? r = null;
        var caller = new Thread(() => r = new GatewayRestarter(manager, table, locks).Run(Service, new RestartOptions { LockWait = TimeSpan.FromSeconds(20) }, new TestHost()));
        caller.Start();
        int callsWhileHeld;
        try
        {
            Thread.Sleep(300);
            callsWhileHeld = manager.Calls;
        }
        finally
        {
            other.Dispose(); // the other call ends without recording a result (it failed, or was killed)
        }

        Assert.Equal(0, callsWhileHeld); // it waited for the lock

        Assert.True(caller.Join(TimeSpan.FromSeconds(20)));
        Assert.NotNull(r);
        Assert.True(r.Waited);
        Assert.False(r.Joined);
        Assert.Equal(NewPid, r.NewPid);
    }

    [Fact]
    public void A_restart_that_cannot_get_the_lock_fails_with_its_result_and_leaves_the_gateway_alone()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table);
        var locks = Path.Combine(dir.Path, "locks");
        using var other = RestartLock.Acquire(locks, RestartLock.Key(Service), TimeSpan.Zero, default, out _); // another restart, stuck

        var e = Assert.Throws<HermesException>(() =>
            new GatewayRestarter(manager, table, locks).Restart(Service, new RestartOptions { LockWait = TimeSpan.FromMilliseconds(300) }, new TestHost()));

        Assert.Equal(HermesErrorIds.RestartInProgress, e.ErrorId);
        var r = Assert.IsType<RestartResult>(e.Target);
        Assert.Equal("lock (failed)", r.Strategy);
        Assert.Equal($"running (PID {OldPid})", r.FinalState); // looked at, not touched
        Assert.Null(r.NewPid);
        Assert.Empty(r.Steps);
        Assert.Equal(1, manager.Calls); // that one look; no signal, no revival
        Assert.Contains(OldPid, table.Alive);
    }

    [Fact]
    public void After_the_supervisors_own_failure_it_is_not_asked_again_for_the_final_state()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table) { IdentifyFails = true };

        var e = Assert.Throws<HermesException>(() =>
            new GatewayRestarter(manager, table, Path.Combine(dir.Path, "locks")).Restart(Service, new RestartOptions(), new TestHost()));

        Assert.Equal(HermesErrorIds.NoUserBus, e.ErrorId);
        Assert.Equal("unknown (HermesNoUserBus)", Assert.IsType<RestartResult>(e.Target).FinalState);
        Assert.Equal(1, manager.Calls);
    }

    [Fact]
    public void A_restart_whose_result_cannot_be_recorded_still_succeeds_with_a_warning()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table) { OnRevive = () => table.Alive.Add(NewPid) };
        ReportsRunning(NewPid);
        var locks = Path.Combine(dir.Path, "locks");
        Directory.CreateDirectory(Path.Combine(locks, RestartLock.Key(Service) + ".last-restart.json")); // a folder where the result file goes
        var host = new TestHost();

        var r = new GatewayRestarter(manager, table, locks).Run(Service, new RestartOptions(), host);

        Assert.Equal(NewPid, r.NewPid);
        Assert.Equal("running", r.FinalState);
        Assert.Contains(host.Warnings, w => w.Contains("could not be recorded", StringComparison.Ordinal));
    }

    [Fact]
    public void A_gateway_that_never_comes_back_fails_with_the_result_so_far_attached()
    {
        var table = new ScriptedTable { Alive = { OldPid } };
        var manager = new ScriptedManager(table); // revivals bring nothing up
        var restarter = new GatewayRestarter(manager, table, Path.Combine(dir.Path, "locks"));

        var e = Assert.Throws<HermesException>(() => restarter.Run(Service, new RestartOptions { Timeout = TimeSpan.FromMilliseconds(300) }, new TestHost()));

        Assert.Equal(HermesErrorIds.RestartTimeout, e.ErrorId);
        var r = Assert.IsType<RestartResult>(e.Target);
        Assert.Equal("hermes-gateway", r.Name);
        Assert.Equal(OldPid, r.OldPid);
        Assert.Null(r.NewPid);
        Assert.Equal(2, r.Attempts);
        Assert.Equal("signal, scripted revival, supervisor restart, scripted revival (failed)", r.Strategy);
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
}
