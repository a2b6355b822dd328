namespace HermesGateway.Core.Tests.Systemd;

/// <summary>
/// docs/models.md §1.6: timelines through <see cref="SystemdSimulator"/>. What 252 does is also checked against the real
/// manager by the differential suite; the later versions' differences rest on their sources (the model's docs).
/// </summary>
public sealed class SystemdSimulatorTests
{
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(1);

    private static IReadOnlyList<SystemdStep> Play(SystemdModel model, IProcessBehavior process, params (double Seconds, SystemdEvent Event)[] events) =>
        new SystemdSimulator(model, new SystemdProcessProfile(process)).Run([.. events.Select(e => new SystemdTimedEvent(TimeSpan.FromSeconds(e.Seconds), e.Event))], Horizon);

    private static IReadOnlyList<SystemdStep> Play(SystemdModel model, SystemdProcessProfile process, params (double Seconds, SystemdEvent Event)[] events) =>
        new SystemdSimulator(model, process).Run([.. events.Select(e => new SystemdTimedEvent(TimeSpan.FromSeconds(e.Seconds), e.Event))], Horizon);

    private static SystemdModel Waiting(int version) => Units.ModelOn(version, "Restart=on-failure", "RestartSec=3s");

    [Theory]
    [InlineData(252)]
    [InlineData(257)]
    public void A_stop_during_the_RestartSec_wait_cancels_the_restart_and_keeps_the_runs_Result(int version)
    {
        var steps = Play(Waiting(version), DefaultSignalBehavior.Instance, (0, new MainProcessEnded(ProcessEnding.Exit(1))), (0.5, new ManagerStop()));

        Assert.Equal(TimeSpan.FromSeconds(3), steps[1].RestartDue);
        Assert.Equal(("activating", "auto-restart"), (steps[1].State.ActiveState, steps[1].State.SubState));
        Assert.Equal(3, steps[1].IsActiveExitCode);
        var last = steps[^1];
        Assert.Equal(SystemdDecisionRule.RestartCancelled, last.Outcome.Rule);
        Assert.Equal(("inactive", "dead"), (last.State.ActiveState, last.State.SubState));
        Assert.Equal(ServiceResult.ExitCode, last.State.Result);
        Assert.Equal((ExecMainCode.Exited, 1), (last.State.ExecMainCode, last.State.ExecMainStatus));
        Assert.Equal(0, last.State.NRestarts);
        Assert.Equal(0, last.CommandExitCode);
        Assert.Equal(3, steps.Count);
    }

    [Fact]
    public void A_start_during_the_wait_waits_for_the_timer_on_252_and_counts_as_the_automatic_restart()
    {
        var steps = Play(Waiting(252), DefaultSignalBehavior.Instance, (0, new MainProcessEnded(ProcessEnding.Exit(1))), (0.5, new ManagerStart()));

        var start = steps.Single(s => s.Posed && s.Event is ManagerStart && s.At > TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(3), start.CommandDoneAt);
        Assert.Equal(0, start.CommandExitCode);
        Assert.Equal(TimeSpan.FromSeconds(3), steps[^1].At);
        Assert.True(steps[^1].State.IsRunning);
        Assert.Equal(1, steps[^1].State.NRestarts);
    }

    [Fact]
    public void A_start_during_the_wait_cuts_it_short_on_257_still_as_the_automatic_restart()
    {
        var steps = Play(Waiting(257), DefaultSignalBehavior.Instance, (0, new MainProcessEnded(ProcessEnding.Exit(1))), (0.5, new ManagerStart()));

        Assert.Equal(TimeSpan.FromSeconds(0.5), steps[^1].At);
        Assert.True(steps[^1].State.IsRunning);
        Assert.Equal(1, steps[^1].State.NRestarts);
        Assert.Equal(TimeSpan.FromSeconds(0.5), steps.Single(s => s.Posed && s.Event is ManagerStart && s.At > TimeSpan.Zero).CommandDoneAt);
    }

    [Theory]
    // 252–256 keep the counter through a restart (or a stop and start) during the wait; 257 resets it on every start by hand.
    [InlineData(252, 1)]
    [InlineData(257, 0)]
    public void A_restart_during_the_wait_starts_at_once_and_the_counter_depends_on_the_version(int version, int expected)
    {
        var model = Units.ModelOn(version, "Restart=on-failure", "RestartSec=1s");
        var kill = new ManagerKill(UnixSignal.SIGKILL);
        var steps = Play(model, DefaultSignalBehavior.Instance, (1, kill), (3, kill), (3.5, new ManagerRestart()));

        Assert.True(steps[^1].State.IsRunning);
        Assert.Equal(TimeSpan.FromSeconds(3.5), steps[^1].At);
        Assert.Equal(expected, steps[^1].State.NRestarts);
    }

    [Theory]
    [InlineData(252, 1)]
    [InlineData(257, 0)]
    public void A_stop_during_the_wait_then_a_start_keeps_the_counter_before_257(int version, int expected)
    {
        var model = Units.ModelOn(version, "Restart=on-failure", "RestartSec=1s");
        var kill = new ManagerKill(UnixSignal.SIGKILL);
        var steps = Play(model, DefaultSignalBehavior.Instance, (1, kill), (3, kill), (3.5, new ManagerStop()), (4, new ManagerStart()));

        Assert.True(steps[^1].State.IsRunning);
        Assert.Equal(expected, steps[^1].State.NRestarts);
    }

    [Fact]
    public void A_stop_of_a_running_unit_then_a_start_resets_the_counter()
    {
        var model = Units.ModelOn(252, "Restart=on-failure", "RestartSec=1s");
        var steps = Play(model, DefaultSignalBehavior.Instance, (1, new ManagerKill(UnixSignal.SIGKILL)), (3, new ManagerStop()), (4, new ManagerStart()));

        Assert.Equal(1, steps.Single(s => s.Event is ManagerStop).Outcome.Final.NRestarts);
        Assert.Equal(0, steps[^1].State.NRestarts);
    }

    [Fact]
    public void Type_notify_without_READY_times_out_the_start_and_the_start_command_fails()
    {
        var model = Units.Model("Type=notify", "TimeoutStartSec=5s", "Restart=no");
        var steps = Play(model, DefaultSignalBehavior.Instance);

        Assert.Equal(("activating", "start"), (steps[0].State.ActiveState, steps[0].State.SubState));
        Assert.Equal(1, steps[0].CommandExitCode);
        Assert.Equal(TimeSpan.FromSeconds(5), steps[0].CommandDoneAt);
        var timeout = steps[^1];
        Assert.Equal(new ManagerTimerFired(ManagerTimer.StartTimeout), timeout.Event);
        Assert.Equal(ServiceResult.Timeout, timeout.State.Result);
        Assert.Equal((ExecMainCode.Killed, 15), (timeout.State.ExecMainCode, timeout.State.ExecMainStatus));
        Assert.Equal("failed", timeout.State.ActiveState);
    }

    [Fact]
    public void Type_notify_that_sends_READY_starts_and_the_watchdog_counts_from_then()
    {
        var model = Units.Model("Type=notify", "WatchdogSec=2s");
        var steps = Play(model, new SystemdProcessProfile(DefaultSignalBehavior.Instance, SendsReady: true));

        Assert.Equal(0, steps[0].CommandExitCode);
        Assert.Equal(TimeSpan.FromSeconds(2), steps[^1].At);
        Assert.Equal(ServiceResult.Watchdog, steps[^1].State.Result);
        Assert.Equal((ExecMainCode.Killed, 6), (steps[^1].State.ExecMainCode, steps[^1].State.ExecMainStatus));
    }

    [Theory]
    [InlineData(0u, ExecMainCode.Killed, ServiceResult.Watchdog)]
    [InlineData(ulong.MaxValue, ExecMainCode.Dumped, ServiceResult.Watchdog)]
    public void The_watchdogs_SIGABRT_dumps_core_only_when_LimitCORE_allows(ulong limit, ExecMainCode code, ServiceResult result)
    {
        var model = Units.Model("WatchdogSec=1s", limit == 0 ? "LimitCORE=0" : "LimitCORE=infinity");
        var steps = Play(model, DefaultSignalBehavior.Instance);

        Assert.Equal(code, steps[^1].State.ExecMainCode);
        Assert.Equal(result, steps[^1].State.Result);
    }

    [Theory]
    [InlineData(CoreDumpHost.LimitDecides, "LimitCORE=0", ServiceResult.Signal)]
    [InlineData(CoreDumpHost.LimitDecides, "LimitCORE=1M", ServiceResult.CoreDump)]
    [InlineData(CoreDumpHost.Pipe, "LimitCORE=0", ServiceResult.CoreDump)]
    [InlineData(CoreDumpHost.Pipe, "LimitCORE=1", ServiceResult.Signal)]
    [InlineData(CoreDumpHost.Never, "LimitCORE=infinity", ServiceResult.Signal)]
    public void A_SIGSEGV_is_a_core_dump_or_a_signal_as_the_host_and_the_limit_decide(CoreDumpHost host, string limit, ServiceResult result)
    {
        var model = new SystemdModel(Units.Service("Restart=no", limit)) { CoreDumps = host };
        var steps = Play(model, DefaultSignalBehavior.Instance, (1, new ExternalSignal(UnixSignal.SIGSEGV)));

        Assert.Equal(result, steps[^1].State.Result);
    }

    [Fact]
    public void RuntimeMaxSec_stops_the_process_with_Result_timeout_and_Restart_applies()
    {
        var model = Units.Model("RuntimeMaxSec=10s", "Restart=on-failure", "RestartSec=1s");
        var steps = new SystemdSimulator(model, new SystemdProcessProfile(DefaultSignalBehavior.Instance)).Run([], TimeSpan.FromSeconds(15));

        Assert.Equal(ServiceResult.Timeout, steps[1].Outcome.Result);
        Assert.Equal(TimeSpan.FromSeconds(11), steps[2].At);
        Assert.True(steps[2].State.IsRunning);
        Assert.Equal(1, steps[2].State.NRestarts);
    }

    [Theory]
    [InlineData("Type=simple", 0)]
    [InlineData("Type=exec", 1)]
    [InlineData("Type=notify", 1)]
    public void A_start_that_fails_before_exec_is_a_failed_command_only_for_exec_and_notify(string type, int command)
    {
        var model = Units.Model(type, "Restart=no");
        var steps = Play(model, SystemdProcessProfile.FailingExec(DefaultSignalBehavior.Instance, 203));

        Assert.Equal(command, steps[0].CommandExitCode);
        Assert.Equal(ServiceResult.ExitCode, steps[^1].State.Result);
        Assert.Equal((ExecMainCode.Exited, 203), (steps[^1].State.ExecMainCode, steps[^1].State.ExecMainStatus));
        Assert.Equal("failed", steps[^1].State.ActiveState);
    }

    [Fact]
    public void A_failing_exec_loops_until_the_start_limit()
    {
        var model = Units.Model("Restart=on-failure", "RestartSec=100ms", "StartLimitBurst=3");
        var steps = Play(model, SystemdProcessProfile.FailingExec(DefaultSignalBehavior.Instance, 203));

        Assert.Equal("failed", steps[^1].State.ActiveState);
        Assert.Equal(SystemdDecisionRule.StartLimit, steps[^1].Outcome.Rule);
        Assert.Equal(3, steps[^1].State.NRestarts);
    }

    [Fact]
    public void A_loop_that_never_gives_up_is_cut_at_the_step_limit()
    {
        var model = new SystemdModel(Units.Text("[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/true\nRestart=always\nRestartSec=100ms\n"));
        var steps = new SystemdSimulator(model, new SystemdProcessProfile(DefaultSignalBehavior.Instance, EachRunEnds: ProcessEnding.Exit(1), RunsFor: TimeSpan.FromSeconds(1)))
            .Run([], TimeSpan.FromDays(1));

        Assert.Equal(SystemdSimulator.MaxSteps, steps.Count);
    }

    [Fact]
    public void An_event_posed_while_a_stop_still_waits_for_the_process_is_played_when_the_stop_ends()
    {
        var model = Units.Model("Restart=no", "TimeoutStopSec=30s");
        var steps = Play(model, ScriptedProcess.IgnoresEverything(), (5, new ManagerStop()), (6, new ManagerStart()));

        var stop = steps.Single(s => s.Event is ManagerStop);
        Assert.Equal(TimeSpan.FromSeconds(35), stop.At);
        var start = steps[^1];
        Assert.Equal(TimeSpan.FromSeconds(35), start.At);
        Assert.True(start.State.IsRunning);
        Assert.StartsWith("posed at t=6s while the manager's job before it ran until t=35s", start.Outcome.Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("signal")]
    [InlineData("exit")]
    public void A_clean_end_before_READY_is_a_protocol_failure_however_it_came(string how)
    {
        var model = Units.Model("Type=notify", "Restart=on-failure", "RestartSec=1s");
        SystemdEvent ev = how == "signal" ? new ExternalSignal(UnixSignal.SIGTERM) : new MainProcessEnded(ProcessEnding.Exit(0));
        var steps = Play(model, DefaultSignalBehavior.Instance, (2, ev));

        var ended = steps.Single(s => s.Posed && s.At == TimeSpan.FromSeconds(2));
        Assert.Equal(ServiceResult.Protocol, ended.Outcome.Result);
        Assert.Equal(TimeSpan.FromSeconds(3), ended.RestartDue);
        Assert.Equal(1, steps[0].CommandExitCode);
    }

    [Fact]
    public void Is_active_during_a_slow_stop_shows_it_and_a_kill_then_is_not_played_as_if_after_it()
    {
        var model = Units.Model("Restart=no", "TimeoutStopSec=30s");
        var steps = Play(model, ScriptedProcess.IgnoresEverything(), (5, new ManagerStop()), (6, new IsActiveQuery()), (7, new ManagerKill(UnixSignal.SIGKILL)));

        var query = steps.Single(s => s.Event is IsActiveQuery);
        Assert.Equal(TimeSpan.FromSeconds(6), query.At);
        Assert.Equal(("deactivating", 3), (query.IsActive, query.IsActiveExitCode));
        var kill = steps.Single(s => s.Event is ManagerKill);
        Assert.Equal(TimeSpan.FromSeconds(7), kill.At);
        Assert.Contains("not modelled", kill.Outcome.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void While_a_process_drains_after_a_signal_from_outside_the_unit_is_still_active_and_steps_stay_in_time_order()
    {
        var model = Units.Model("Restart=on-failure", "RestartSec=1s", "TimeoutStopSec=90s");
        var slow = ScriptedProcess.EndsWith("exit 1", afterSeconds: 60);
        var steps = Play(model, slow, (10, new ExternalSignal(UnixSignal.SIGTERM)), (12, new IsActiveQuery()), (13, new ManagerStart()));

        Assert.Equal(steps.Select(st => st.At).Order(), steps.Select(st => st.At));
        var query = steps.Single(st => st.Event is IsActiveQuery);
        Assert.Equal(("active", 0), (query.IsActive, query.IsActiveExitCode));
        Assert.Contains("not modelled", steps.Single(st => st.Event is ManagerStart && st.At == TimeSpan.FromSeconds(13)).Outcome.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_restart_whose_stop_waits_for_ever_never_starts()
    {
        var model = Units.Model("Restart=no", "TimeoutStopSec=infinity");
        var steps = Play(model, ScriptedProcess.IgnoresEverything(), (5, new ManagerRestart()), (6, new ManagerStart()));

        Assert.Equal(TimeSpan.FromSeconds(5), steps.Single(st => st.Event is ManagerRestart).At);
        Assert.All(steps, st => Assert.NotEqual(TimeSpan.MaxValue, st.At));
        Assert.Equal("deactivating", steps[^1].State.ActiveState);
        Assert.Null(steps.Single(st => st.Event is ManagerRestart).CommandExitCode);
    }

    [Fact]
    public void A_stop_that_waits_for_ever_is_recorded_when_asked()
    {
        var model = Units.Model("Restart=no", "TimeoutStopSec=infinity");
        var steps = Play(model, ScriptedProcess.IgnoresEverything(), (5, new ManagerStop()), (6, new ManagerStart()));

        Assert.Equal(TimeSpan.FromSeconds(5), steps.Single(s => s.Event is ManagerStop).At);
        Assert.Equal(("deactivating", "stop-sigterm"), (steps[^1].State.ActiveState, steps[^1].State.SubState));
        Assert.Null(steps[^1].CommandExitCode);
    }

    [Fact]
    public void Items_a_loop_leaves_unplayed_at_the_step_limit_are_named()
    {
        var model = new SystemdModel(Units.Text("[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/true\nRestart=always\nRestartSec=100ms\n"));
        var steps = new SystemdSimulator(model, new SystemdProcessProfile(DefaultSignalBehavior.Instance, EachRunEnds: ProcessEnding.Exit(1), RunsFor: TimeSpan.FromSeconds(1)))
            .Run([new(TimeSpan.FromDays(1), new ManagerStop())], TimeSpan.Zero);

        Assert.Contains("1 item(s) of the timeline from t=86400s on were not played", steps[^1].Outcome.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Active_exited_ignores_a_start_and_a_stop_takes_it_to_inactive()
    {
        var model = Units.Model("RemainAfterExit=yes");
        var steps = Play(model, DefaultSignalBehavior.Instance, (1, new MainProcessEnded(ProcessEnding.Exit(0))), (2, new ManagerStart()), (3, new ManagerStop()));

        Assert.Equal(("active", "exited"), (steps[2].State.ActiveState, steps[2].State.SubState));
        Assert.Equal((0, 0), (steps[2].CommandExitCode, steps[2].State.NRestarts));
        Assert.False(steps[2].Started);
        Assert.Equal(("inactive", "dead"), (steps[3].State.ActiveState, steps[3].State.SubState));
    }

    [Fact]
    public void While_a_restart_waits_that_the_start_limit_will_refuse_the_unit_shows_the_runs_own_result()
    {
        var model = Units.Model("Restart=always", "RestartSec=1s", "StartLimitBurst=1");
        var steps = Play(model, DefaultSignalBehavior.Instance, (1, new MainProcessEnded(ProcessEnding.Exit(0))));

        Assert.Equal(ServiceResult.Success, steps[1].State.Result);
        Assert.Equal("auto-restart", steps[1].State.SubState);
        Assert.Equal(("failed", ServiceResult.StartLimitHit), (steps[^1].State.ActiveState, steps[^1].State.Result));
    }

    [Fact]
    public void RuntimeMaxSec_runs_ExecStop_so_the_modules_marker_makes_it_a_planned_stop()
    {
        var model = Units.Model("RuntimeMaxSec=10s", "ExecStop=/usr/bin/sh -c 'exit 0' hermes-mark-planned-stop");
        var process = ScriptedProcess.EndsWith("exit 0");
        new SystemdSimulator(model, new SystemdProcessProfile(process)).Run([], TimeSpan.FromSeconds(11));

        Assert.Equal([(UnixSignal.SIGTERM, true)], process.Received);
    }

    [Fact]
    public void Events_without_a_process_change_nothing()
    {
        var steps = Play(Units.Model("Restart=no"), DefaultSignalBehavior.Instance, (1, new MainProcessEnded(ProcessEnding.Exit(1))), (2, new ExternalSignal(UnixSignal.SIGTERM)),
            (3, new ManagerStop()), (4, new IsActiveQuery()));

        Assert.Equal(SystemdDecisionRule.NoProcess, steps[2].Outcome.Rule);
        Assert.Equal("failed", steps[3].State.ActiveState);
        Assert.Equal(("failed", 3), (steps[4].IsActive, steps[4].IsActiveExitCode));
    }

    [Theory]
    [InlineData("active", 252, 0)]
    [InlineData("reloading", 252, 0)]
    [InlineData("activating", 252, 3)]
    [InlineData("refreshing", 252, 3)]
    [InlineData("refreshing", 256, 3)]
    [InlineData("refreshing", 257, 0)]
    [InlineData("failed", 257, 3)]
    public void Is_active_answers_as_the_version_does(string state, int version, int code)
    {
        var s = new SystemdUnitState(state, "x", ServiceResult.Success, ExecMainCode.None, 0, 0, TimeSpan.Zero, 0, TimeSpan.Zero);
        Assert.Equal((state, code), SystemdSimulator.IsActive(s, version));
    }

    [Fact]
    public void A_unit_systemd_refuses_to_load_never_runs()
    {
        var model = new SystemdModel(Units.Text("[Service]\nType=simple\n"));
        var steps = Play(model, DefaultSignalBehavior.Instance, (1, new ManagerStart()));

        Assert.Single(steps);
        Assert.Equal(SystemdDecisionRule.LoadRefused, steps[0].Outcome.Rule);
    }
}

/// <summary>The unit settings the simulator reads (issue 14), and the warning for those it reads but does not play.</summary>
public sealed class SystemdLifecycleSettingsTests
{
    [Fact]
    public void TimeoutSec_sets_the_start_and_the_stop_timeout_and_zero_is_infinity()
    {
        var s = Units.Service("TimeoutSec=7s").Settings;
        Assert.Equal((TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(7)), (s.TimeoutStartSec, s.TimeoutStopSec));
        Assert.Null(Units.Service("TimeoutStartSec=0").Settings.TimeoutStartSec);
        Assert.Equal(TimeSpan.FromSeconds(90), Units.Service().Settings.TimeoutStartSec);
    }

    [Theory]
    [InlineData("LimitCORE=0", 0ul)]
    [InlineData("LimitCORE=infinity", ulong.MaxValue)]
    [InlineData("LimitCORE=4M", 4ul * 1024 * 1024)]
    [InlineData("LimitCORE=0:infinity", 0ul)]
    public void LimitCORE_is_read_as_its_soft_limit(string line, ulong soft) =>
        Assert.Equal(soft, Units.Service(line).Settings.LimitCoreSoft);

    [Fact]
    public void A_bad_LimitCORE_is_ignored_with_systemds_warning()
    {
        var unit = Units.Service("LimitCORE=lots");
        Assert.Null(unit.Settings.LimitCoreSoft);
        Assert.Contains(unit.Diagnostics, d => d.Severity == DiagnosticSeverity.Warning && d.Key == "LimitCORE");
    }

    [Fact]
    public void Watchdog_and_runtime_settings_are_read()
    {
        var s = Units.Service("WatchdogSec=20s", "WatchdogSignal=SIGTERM", "TimeoutAbortSec=3s", "RuntimeMaxSec=1h").Settings;
        Assert.Equal(TimeSpan.FromSeconds(20), s.WatchdogSec);
        Assert.Equal(UnixSignal.SIGTERM, s.WatchdogSignal);
        Assert.Equal(TimeSpan.FromSeconds(3), s.EffectiveTimeoutAbortSec);
        Assert.Equal(TimeSpan.FromHours(1), s.RuntimeMaxSec);
        Assert.Null(Units.Service("WatchdogSec=0").Settings.WatchdogSec);
        Assert.Equal(TimeSpan.FromSeconds(90), Units.Service().Settings.EffectiveTimeoutAbortSec);
    }

    [Theory]
    [InlineData("Type=forking", "Type")]
    [InlineData("Type=oneshot", "Type")]
    [InlineData("ExecStartPre=/bin/true", "ExecStartPre")]
    [InlineData("TimeoutStartFailureMode=abort", "TimeoutStartFailureMode")]
    [InlineData("NotifyAccess=all", "NotifyAccess")]
    public void A_setting_the_model_does_not_play_warns(string line, string key)
    {
        var unit = Units.Service(line);
        Assert.Contains(unit.Diagnostics, d => d.Severity == DiagnosticSeverity.NotModelled && d.Key == key && d.Message.Contains("not modelled", StringComparison.Ordinal));
    }

    [Fact]
    public void RestartMode_direct_warns_from_254()
    {
        Assert.DoesNotContain(Units.ServiceOn(252, "RestartMode=direct").Diagnostics, d => d.Severity == DiagnosticSeverity.NotModelled);
        Assert.Contains(Units.ServiceOn(254, "RestartMode=direct").Diagnostics, d => d.Severity == DiagnosticSeverity.NotModelled && d.Key == "RestartMode");
    }

    [Fact]
    public void The_settings_the_model_plays_do_not_warn()
    {
        var unit = Units.Service("Type=notify", "WatchdogSec=5s", "RuntimeMaxSec=1h", "LimitCORE=0", "TimeoutStartSec=10s", "Restart=always");
        Assert.Empty(unit.Diagnostics);
    }

    [Theory]
    [InlineData("Type=notify", "READY=1", "Type=simple")]
    [InlineData("WatchdogSec=30s", "WATCHDOG=1", "remove WatchdogSec=")]
    public void A_unit_that_waits_for_a_protocol_the_gateway_does_not_speak_fails_every_scenario(string line, string why, string fix)
    {
        var config = new SystemdConfiguration(Units.Service("Restart=always", line));
        var verdicts = ExitPolicyEvaluator.Evaluate(config);

        Assert.NotEmpty(verdicts);
        Assert.All(verdicts, v =>
        {
            Assert.False(v.Ok);
            Assert.Contains(why, v.Why, StringComparison.Ordinal);
            Assert.Contains(fix, v.Fix, StringComparison.Ordinal);
        });
    }
}
