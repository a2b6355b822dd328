namespace HermesGateway.Core.Tests.Systemd;

/// <summary>docs/models.md §1.3: what systemctl stop / restart / kill and the OOM killer do, through SystemdModel.Apply.</summary>
public sealed class SystemdActionTests
{
    private static readonly TimeSpan Now = TimeSpan.FromMinutes(10);

    private static SystemdOutcome Run(SystemdModel model, SystemdEvent ev, IProcessBehavior process) =>
        model.Apply(model.StartedByHand(TimeSpan.Zero), ev, process, Now);

    [Theory]
    // e15: exits 0 → inactive (dead), success.
    [InlineData("", "exit 0", "inactive", "dead", ServiceResult.Success, 1, 0)]
    // e16, s1: exits 1 → failed, Result=exit-code.
    [InlineData("", "exit 1", "failed", "failed", ServiceResult.ExitCode, 1, 1)]
    // e18: dies of SIGTERM → inactive (dead), success.
    [InlineData("", "kill SIGTERM", "inactive", "dead", ServiceResult.Success, 2, 15)]
    // e17, e17b: exits 143 → failed unless SuccessExitStatus=143.
    [InlineData("", "exit 143", "failed", "failed", ServiceResult.ExitCode, 1, 143)]
    [InlineData("SuccessExitStatus=143", "exit 143", "inactive", "dead", ServiceResult.Success, 1, 143)]
    [InlineData("SuccessExitStatus=1", "exit 1", "inactive", "dead", ServiceResult.Success, 1, 1)]
    public void Systemctl_stop_leaves_the_state_the_exit_decides_and_never_restarts(string extra, string ending, string active, string sub, ServiceResult result, int code, int status)
    {
        var model = Units.Model("Restart=always", extra);
        var o = Run(model, new ManagerStop(), ScriptedProcess.EndsWith(ending, afterSeconds: 2));

        Assert.False(o.Revived);
        Assert.Null(o.Delay);
        Assert.Equal(SystemdDecisionRule.ManagerStop, o.Rule);
        Assert.Equal(result, o.Result);
        Assert.Equal((ExecMainCode)code, o.Final.ExecMainCode);
        Assert.Equal(status, o.Final.ExecMainStatus);
        Assert.Equal(active, o.Final.ActiveState);
        Assert.Equal(sub, o.Final.SubState);
        Assert.Equal(TimeSpan.FromSeconds(2), o.EndedAfter);
    }

    [Fact]
    public void Systemctl_stop_sends_KillSignal_to_a_process_without_handlers()
    {
        var process = ScriptedProcess.EndsWith("kill SIGINT");
        var model = Units.Model("KillSignal=SIGINT");

        var o = Run(model, new ManagerStop(), process);

        Assert.Equal(UnixSignal.SIGINT, Assert.Single(process.Received).Signal);
        Assert.Equal(ServiceResult.Success, o.Result);
    }

    [Fact]
    public void Systemctl_stop_of_a_default_process_dying_of_SIGTERM_is_clean()
    {
        var o = Run(Units.Model("Restart=on-failure"), new ManagerStop(), DefaultSignalBehavior.Instance);

        Assert.Equal(ServiceResult.Success, o.Result);
        Assert.Equal("inactive", o.Final.ActiveState);
        Assert.Equal(ExecMainCode.Killed, o.Final.ExecMainCode);
        Assert.Equal(15, o.Final.ExecMainStatus);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(200.0)]
    public void Systemctl_stop_of_a_process_outlasting_TimeoutStopSec_times_out_and_SIGKILLs_it(double? needs)
    {
        // e19: ignores SIGTERM → SIGKILL after TimeoutStopSec, failed, Result=timeout, ExecMainCode=2/9.
        var process = needs is null ? ScriptedProcess.IgnoresEverything() : ScriptedProcess.EndsWith("exit 0", needs.Value);
        var model = Units.Model("Restart=always", "TimeoutStopSec=90");

        var o = Run(model, new ManagerStop(), process);

        Assert.False(o.Revived);
        Assert.Equal(ServiceResult.Timeout, o.Result);
        Assert.Equal(ProcessEnding.KilledBy(UnixSignal.SIGKILL), o.Ending);
        Assert.Equal(ExecMainCode.Killed, o.Final.ExecMainCode);
        Assert.Equal(9, o.Final.ExecMainStatus);
        Assert.Equal("failed", o.Final.ActiveState);
        Assert.Equal(ServiceResult.Timeout, o.Final.Result);
        Assert.Equal(TimeSpan.FromSeconds(90), o.EndedAfter);
    }

    [Fact]
    public void Systemctl_stop_uses_FinalKillSignal_after_the_timeout()
    {
        var o = Run(Units.Model("TimeoutStopSec=5", "FinalKillSignal=SIGQUIT"), new ManagerStop(), ScriptedProcess.IgnoresEverything());

        Assert.Equal(ProcessEnding.KilledBy(UnixSignal.SIGQUIT), o.Ending);
        Assert.Equal(ServiceResult.Timeout, o.Result);
    }

    [Fact]
    public void Systemctl_stop_within_TimeoutStopSec_is_not_a_timeout()
    {
        var o = Run(Units.Model("TimeoutStopSec=90"), new ManagerStop(), ScriptedProcess.EndsWith("exit 0", 89));

        Assert.Equal(ServiceResult.Success, o.Result);
        Assert.Equal("inactive", o.Final.ActiveState);
    }

    [Fact]
    public void Systemctl_stop_with_no_stop_timeout_waits_forever_for_a_process_that_ignores_it()
    {
        var o = Run(Units.Model("TimeoutStopSec=infinity"), new ManagerStop(), ScriptedProcess.IgnoresEverything());

        Assert.Null(o.Ending);
        Assert.Equal("deactivating", o.Final.ActiveState);
    }

    [Fact]
    public void Systemctl_stop_with_SendSIGKILL_no_gives_up_and_leaves_the_unit_failed_by_timeout()
    {
        var o = Run(Units.Model("TimeoutStopSec=10", "SendSIGKILL=no"), new ManagerStop(), ScriptedProcess.IgnoresEverything());

        Assert.Null(o.Ending);
        Assert.Equal(ServiceResult.Timeout, o.Result);
        Assert.Equal("failed", o.Final.ActiveState);
    }

    [Theory]
    [InlineData("", "failed", 1)]
    [InlineData("ExecStop=/usr/bin/hermes-mark-planned-stop", "inactive", 0)]
    public void Systemctl_stop_of_the_gateway_depends_on_an_ExecStop_writing_the_planned_stop_marker(string execStop, string active, int exit)
    {
        var model = Units.Model("Restart=always", "TimeoutStopSec=90", execStop);

        var o = Run(model, new ManagerStop(), GatewayExitContract.Hermes);

        Assert.Equal(active, o.Final.ActiveState);
        Assert.Equal(ProcessEnding.Exit(exit), o.Ending);
        Assert.False(o.Revived);
    }

    [Fact]
    public void Systemctl_restart_runs_again_with_a_fresh_result_and_NRestarts_zero()
    {
        // e27, s2: running, Result=success, NRestarts=0, even when the stop half ended with exit 1.
        var model = Units.Model("Restart=always", "StartLimitIntervalSec=0");
        var state = model.StartedByHand(TimeSpan.Zero) with { NRestarts = 3 };

        var o = model.Apply(state, new ManagerRestart(), ScriptedProcess.EndsWith("exit 1", 1), Now);

        Assert.True(o.Revived);
        Assert.Equal(SystemdDecisionRule.ManagerRestart, o.Rule);
        Assert.Equal(TimeSpan.Zero, o.Delay);
        Assert.True(o.Final.IsRunning);
        Assert.Equal(ServiceResult.Success, o.Final.Result);
        Assert.Equal(0, o.Final.NRestarts);
        Assert.Equal(Now + TimeSpan.FromSeconds(1), o.Final.StartedAt);
    }

    [Fact]
    public void Systemctl_restart_uses_RestartKillSignal_for_its_stop_half()
    {
        var process = ScriptedProcess.EndsWith("exit 0");
        var model = Units.Model("KillSignal=SIGTERM", "RestartKillSignal=SIGUSR1");

        Run(model, new ManagerRestart(), process);
        Run(model, new ManagerStop(), process);

        Assert.Equal([UnixSignal.SIGUSR1, UnixSignal.SIGTERM], process.Received.Select(r => r.Signal));
    }

    [Theory]
    // sl: a clean stop half, then the start is refused → Result=start-limit-hit.
    [InlineData("exit 0", ServiceResult.StartLimitHit)]
    // The stop half's failure is kept ("first failure wins").
    [InlineData("exit 1", ServiceResult.ExitCode)]
    public void Systemctl_restart_past_the_start_limit_leaves_the_unit_failed(string stopHalf, ServiceResult result)
    {
        var model = Units.Text("[Unit]\nStartLimitIntervalSec=30\nStartLimitBurst=2\n[Service]\nExecStart=/bin/true\n");
        var m = new SystemdModel(model);
        var state = m.StartedByHand(TimeSpan.Zero);
        var process = ScriptedProcess.EndsWith(stopHalf);

        var first = m.Apply(state, new ManagerRestart(), process, TimeSpan.FromSeconds(1));
        Assert.True(first.Final.IsRunning);
        var second = m.Apply(first.Final, new ManagerRestart(), process, TimeSpan.FromSeconds(2));

        Assert.False(second.Revived);
        Assert.True(second.StartLimitHit);
        Assert.Equal("failed", second.Final.ActiveState);
        Assert.Equal(result, second.Final.Result);
    }

    [Theory]
    // e20: SIGUSR1 kills a process without a handler → Result=signal → restart under on-failure.
    [InlineData("Restart=on-failure", UnixSignal.SIGUSR1, true, ServiceResult.Signal)]
    // e21a: SIGTERM → clean → inactive under on-failure.
    [InlineData("Restart=on-failure", UnixSignal.SIGTERM, false, ServiceResult.Success)]
    // e21b: SIGTERM + always → restart.
    [InlineData("Restart=always", UnixSignal.SIGTERM, true, ServiceResult.Success)]
    // k2: SIGHUP → clean.
    [InlineData("Restart=on-failure", UnixSignal.SIGHUP, false, ServiceResult.Success)]
    [InlineData("Restart=on-abnormal", UnixSignal.SIGKILL, true, ServiceResult.Signal)]
    public void Systemctl_kill_only_sends_the_signal_and_the_restart_rules_apply(string restart, UnixSignal signal, bool revived, ServiceResult result)
    {
        var o = Run(Units.Model(restart), new ManagerKill(signal), DefaultSignalBehavior.Instance);

        Assert.Equal(revived, o.Revived);
        Assert.Equal(result, o.Result);
        Assert.NotEqual(SystemdDecisionRule.ManagerStop, o.Rule);
        Assert.Equal(revived ? "running" : result == ServiceResult.Success ? "dead" : "failed", o.Final.SubState);
    }

    [Fact]
    public void Systemctl_kill_with_SIGTERM_turned_into_exit_143_restarts_under_on_failure()
    {
        // k1
        var o = Run(Units.Model("Restart=on-failure"), new ManagerKill(UnixSignal.SIGTERM), ScriptedProcess.EndsWith("exit 143"));

        Assert.True(o.Revived);
        Assert.Equal(ServiceResult.ExitCode, o.Result);
    }

    [Fact]
    public void A_signal_the_process_ignores_leaves_it_running()
    {
        var model = Units.Model("Restart=on-failure");
        var state = model.StartedByHand(TimeSpan.Zero);

        var o = model.Apply(state, new ExternalSignal(UnixSignal.SIGWINCH), DefaultSignalBehavior.Instance, Now);

        Assert.Null(o.Ending);
        Assert.Equal(SystemdDecisionRule.StillRunning, o.Rule);
        Assert.False(o.Revived);
        Assert.Equal(state, o.Final);
    }

    [Theory]
    [InlineData("", "Restart=on-failure", ServiceResult.OomKill, true)]
    [InlineData("OOMPolicy=stop", "Restart=on-abnormal", ServiceResult.OomKill, true)]
    [InlineData("OOMPolicy=kill", "Restart=no", ServiceResult.OomKill, false)]
    // on-abort restarts on signal and core-dump only: the OOM result decides.
    [InlineData("", "Restart=on-abort", ServiceResult.OomKill, false)]
    [InlineData("OOMPolicy=continue", "Restart=on-abort", ServiceResult.Signal, true)]
    [InlineData("OOMPolicy=continue", "Restart=on-failure", ServiceResult.Signal, true)]
    public void An_OOM_kill_is_oom_kill_unless_OOMPolicy_is_continue(string oomPolicy, string restart, ServiceResult result, bool revived)
    {
        var o = Run(Units.Model(oomPolicy, restart), new OomKill(), DefaultSignalBehavior.Instance);

        Assert.Equal(result, o.Result);
        Assert.Equal(revived, o.Revived);
        Assert.Equal(ExecMainCode.Killed, o.ExecMainCode);
        Assert.Equal(9, o.ExecMainStatus);
    }

    [Fact]
    public void An_OOM_kill_is_still_matched_by_SIGKILL_in_RestartPreventExitStatus()
    {
        var o = Run(Units.Model("Restart=always", "RestartPreventExitStatus=SIGKILL"), new OomKill(), DefaultSignalBehavior.Instance);

        Assert.False(o.Revived);
        Assert.Equal(SystemdDecisionRule.RestartPreventExitStatus, o.Rule);
        Assert.Equal("failed", o.Final.ActiveState);
    }

    [Theory]
    [InlineData(typeof(ManagerStop))]
    [InlineData(typeof(ManagerRestart))]
    [InlineData(typeof(OomKill))]
    public void A_unit_systemd_refuses_to_load_never_runs(Type eventType)
    {
        var unit = Units.Text("[Service]\nType=oneshot\nExecStart=/bin/true\nRestart=always\n");
        Assert.True(unit.LoadRefused);
        var model = new SystemdModel(unit);

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), (SystemdEvent)Activator.CreateInstance(eventType)!, DefaultSignalBehavior.Instance, Now);

        Assert.False(o.Revived);
        Assert.Equal(SystemdDecisionRule.LoadRefused, o.Rule);
        Assert.Equal("inactive", o.Final.ActiveState);
    }
}
