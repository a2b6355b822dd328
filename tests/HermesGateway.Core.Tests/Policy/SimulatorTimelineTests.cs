namespace HermesGateway.Core.Tests.Policy;

/// <summary>
/// The PowerShell face of the simulator, in Core: signal reactions as input, the Result a manager restart reports,
/// and timelines (parsing and playing).
/// </summary>
public sealed class SimulatorTimelineTests
{
    private const string OnFailure = "[Service]\nExecStart=/usr/bin/hermes gateway run\nRestart=on-failure\n";

    private const string Waits10s = "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/usr/bin/hermes gateway run\nRestart=on-failure\nRestartSec=10\n";

    private static SystemdConfiguration Unit(string text, int version = 252) =>
        new(SystemdUnitReader.Parse(text, "/test/hermes-gateway.service", version));

    private static LaunchdConfiguration KeepAlivePlist() => new(LaunchdJobReader.Parse(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>Label</key><string>ai.hermes.gateway</string>"
        + "<key>ProgramArguments</key><array><string>/usr/bin/hermes</string></array><key>KeepAlive</key><true/></dict></plist>", "/test/ai.hermes.gateway.plist"));

    private static SupervisorOutcome Signal(ServiceConfiguration config, string signal, SignalReaction reaction, int? code = null) =>
        ExitPolicyEvaluator.Answer(config, new SupervisorEventRequest(SupervisorEventKind.Signal, Signal: signal, Reaction: reaction, ReactionExitCode: code));

    private static IReadOnlyList<SupervisorStep> Play(string unit, int version, params string[] items) =>
        ExitPolicyEvaluator.Play(Unit(unit, version), new SupervisorTimelineRequest(items));

    // ---- 1. the process' reaction to signals ----

    [Fact]
    public void SIGTERM_from_outside_is_read_through_the_gateway_contract_by_default()
    {
        // The reproduction, as it was: the gateway drains and exits 1, on-failure restarts it.
        var o = Signal(Unit(OnFailure), "SIGTERM", SignalReaction.Gateway);

        Assert.Equal("exit 1", o.Ending);
        Assert.Equal("exit-code", o.Result);
        Assert.True(o.Revived);
    }

    [Fact]
    public void SIGTERM_with_default_actions_kills_cleanly_and_on_failure_does_not_restart()
    {
        var o = Signal(Unit(OnFailure), "SIGTERM", SignalReaction.Default);

        Assert.Equal("killed by SIGTERM", o.Ending);
        Assert.Equal("success", o.Result);
        Assert.False(o.Revived);
        Assert.Equal("inactive (dead)", o.FinalState);
        Assert.Equal(2, o.ExecMainCode);
        Assert.Equal(15, o.ExecMainStatus);
    }

    [Fact]
    public void SIGTERM_ignored_leaves_it_running()
    {
        var o = Signal(Unit(OnFailure), "SIGTERM", SignalReaction.Ignore);

        Assert.Equal("(still running)", o.Ending);
        Assert.Equal("active (running)", o.FinalState);
        Assert.False(o.Revived);
    }

    [Fact]
    public void SIGKILL_acts_even_on_a_process_that_ignores_or_handles_signals()
    {
        Assert.Equal("killed by SIGKILL", Signal(Unit(OnFailure), "SIGKILL", SignalReaction.Ignore).Ending);
        Assert.Equal("killed by SIGKILL", Signal(Unit(OnFailure), "SIGKILL", SignalReaction.Exit, 0).Ending);
    }

    [Fact]
    public void An_exiting_handler_exits_with_its_code_on_signals_that_would_end_the_process()
    {
        var o = Signal(Unit(OnFailure), "SIGHUP", SignalReaction.Exit, 3);
        Assert.Equal("exit 3", o.Ending);
        Assert.Equal("exit-code", o.Result);
        Assert.True(o.Revived);

        // SIGCHLD's default is to do nothing: the handler is not asked.
        Assert.Equal("(still running)", Signal(Unit(OnFailure), "SIGCHLD", SignalReaction.Exit, 3).Ending);
    }

    [Fact]
    public void The_reaction_applies_to_a_manager_stop_too()
    {
        var stop = ExitPolicyEvaluator.Answer(Unit(OnFailure), new SupervisorEventRequest(SupervisorEventKind.ManagerStop, Reaction: SignalReaction.Default));

        Assert.Equal("killed by SIGTERM", stop.Ending);
        Assert.Equal("inactive (dead)", stop.FinalState);
    }

    [Fact]
    public void The_reaction_applies_on_launchd()
    {
        var o = Signal(KeepAlivePlist(), "SIGTERM", SignalReaction.Default);
        Assert.Equal("killed by SIGTERM", o.Ending);

        Assert.Equal("(still running)", Signal(KeepAlivePlist(), "SIGTERM", SignalReaction.Ignore).Ending);
    }

    [Fact]
    public void A_handler_time_delays_the_exit()
    {
        var behavior = SignalReactions.Behavior(SignalReaction.Exit, GatewayExitContract.Hermes, 4, TimeSpan.FromSeconds(2));

        var r = behavior.OnSignal(UnixSignal.SIGTERM, plannedStopMarked: false);

        Assert.Equal(ProcessEnding.Exit(4), r.Ending);
        Assert.Equal(TimeSpan.FromSeconds(2), r.After);
    }

    public static TheoryData<SignalReaction, int?, string> BadReactions() => new()
    {
        { SignalReaction.Exit, null, HermesErrorIds.SignalReactionInvalid },
        { SignalReaction.Default, 1, HermesErrorIds.SignalReactionInvalid },
        { SignalReaction.Gateway, 0, HermesErrorIds.SignalReactionInvalid },
        { SignalReaction.Exit, 256, HermesErrorIds.ExitCodeOutOfRange },
        { SignalReaction.Exit, -1, HermesErrorIds.ExitCodeOutOfRange },
        { (SignalReaction)42, null, HermesErrorIds.SignalReactionInvalid },
    };

    [Theory]
    [MemberData(nameof(BadReactions))]
    public void Bad_reactions_are_refused_with_a_stable_id(SignalReaction reaction, int? code, string errorId)
    {
        Expect.Error(errorId, () => Signal(Unit(OnFailure), "SIGTERM", reaction, code));
        Expect.Error(errorId, () => ExitPolicyEvaluator.Play(Unit(OnFailure), new SupervisorTimelineRequest(["1s stop"], reaction, code)));
    }

    // ---- 2. the Result after a manager restart ----

    [Fact]
    public void A_manager_restart_reports_the_new_run_and_keeps_the_stop_half_apart()
    {
        // No planned-stop marker: the gateway exits 1 on the stop half's SIGTERM.
        var o = ExitPolicyEvaluator.Answer(Unit(OnFailure), new SupervisorEventRequest(SupervisorEventKind.ManagerRestart));

        Assert.True(o.Revived);
        Assert.Equal("active (running)", o.FinalState);
        Assert.Equal("success", o.Result);
        Assert.Equal(0, o.ExecMainCode);
        Assert.Equal(0, o.ExecMainStatus);
        Assert.Equal(0, o.NRestarts);
        Assert.Equal("exit 1", o.Ending);
        Assert.Equal("exit-code", o.StopResult);
        Assert.Equal(1, o.StopExecMainCode);
        Assert.Equal(1, o.StopExecMainStatus);
    }

    [Theory]
    [InlineData(SupervisorEventKind.ManagerStop)]
    [InlineData(SupervisorEventKind.OomKill)]
    public void Other_events_have_no_stop_half(SupervisorEventKind kind)
    {
        var o = ExitPolicyEvaluator.Answer(Unit(OnFailure), new SupervisorEventRequest(kind));

        Assert.Null(o.StopResult);
        Assert.Null(o.StopExecMainCode);
        Assert.Null(o.StopExecMainStatus);
    }

    // ---- 3. timelines: parsing ----

    [Fact]
    public void Times_are_absolute_or_relative_to_the_item_before()
    {
        var items = SystemdTimeline.Parse(["0 exit 1", "+500ms start", "1.5s kill SIGKILL", "2min stop", "+1h  is-active", "2h signal term", "2h oom", "2h restart"]);

        Assert.Equal(
            [TimeSpan.Zero, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1.5), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(62), TimeSpan.FromHours(2), TimeSpan.FromHours(2), TimeSpan.FromHours(2)],
            items.Select(i => i.At));
        Assert.Equal(
            [TimelineEventKind.Exit, TimelineEventKind.Start, TimelineEventKind.Kill, TimelineEventKind.Stop, TimelineEventKind.IsActive, TimelineEventKind.Signal, TimelineEventKind.Oom, TimelineEventKind.Restart],
            items.Select(i => i.Kind));
        Assert.Equal(1, items[0].ExitCode);
        Assert.Equal(UnixSignal.SIGKILL, items[2].Signal);
        Assert.Equal(UnixSignal.SIGTERM, items[5].Signal);
    }

    [Theory]
    [InlineData("5s")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("5x exit 1")]
    [InlineData("-5s stop")]
    [InlineData("+-1s stop")]
    [InlineData("infinity stop")]
    [InlineData("+ stop")]
    [InlineData("5s explode")]
    [InlineData("5s exit")]
    [InlineData("5s exit 1 2")]
    [InlineData("5s exit 256")]
    [InlineData("5s exit -1")]
    [InlineData("5s exit one")]
    [InlineData("5s signal")]
    [InlineData("5s signal SIGNOPE")]
    [InlineData("5s kill 99")]
    [InlineData("5s stop now")]
    [InlineData("5s is-active please")]
    [InlineData("5s stop\n6s start")]
    [InlineData("5s\tstop\u0007")]
    [InlineData("100000d stop")]
    public void Bad_items_are_refused_as_HermesTimelineInvalid(string item)
    {
        Expect.Error(HermesErrorIds.TimelineInvalid, () => SystemdTimeline.Parse([item]));
    }

    [Fact]
    public void Times_may_not_go_backwards_and_an_empty_timeline_is_refused()
    {
        var e = Expect.Error(HermesErrorIds.TimelineInvalid, () => SystemdTimeline.Parse(["10s stop", "5s start"]));
        Assert.Contains("backwards", e.Message);
        Expect.Error(HermesErrorIds.TimelineInvalid, () => SystemdTimeline.Parse([]));
        Expect.Error(HermesErrorIds.TimelineInvalid, () => SystemdTimeline.Parse([null!]));
        SystemdTimeline.Parse(["5s stop", "5s start", "+0 is-active"]);
    }

    [Fact]
    public void A_launchd_timeline_relaunches_at_the_throttles_pace_and_bootout_unloads()
    {
        // KeepAlive=true, ThrottleInterval 10 s: an exit after 3 s is relaunched 7 s later; a bootout removes the job; a
        // start (bootstrap, as it is unloaded) runs it again; kickstart -k restarts at once.
        var steps = ExitPolicyEvaluator.Play(KeepAlivePlist(), new SupervisorTimelineRequest(["3s exit 1", "20s stop", "+1s start", "+5s restart", "+60s exit 0"]));

        Assert.Equal(("launchctl bootstrap", "running"), (steps[0].Event, steps[0].State));
        Assert.Equal(("spawn scheduled", TimeSpan.FromSeconds(10)), (steps[1].State, steps[1].RestartDue!.Value));
        Assert.Equal(("throttled relaunch", TimeSpan.FromSeconds(10), "running"), (steps[2].Event, steps[2].At, steps[2].State));
        var bootout = steps.Single(s => s.Event == "launchctl bootout");
        Assert.Equal("unloaded", bootout.State);
        Assert.True(bootout.At >= TimeSpan.FromSeconds(20));
        Assert.Equal("running", steps.Single(s => s.Event == "launchctl bootstrap" && s.Posed).State);
        Assert.Equal("running", steps.Single(s => s.Event == "launchctl kickstart -k").State);
        var last = steps[^1];
        Assert.Equal("running", last.State);
        Assert.Equal("throttled relaunch", last.Event);
    }

    [Fact]
    public void A_launchd_restart_of_an_unloaded_job_finds_nothing_to_restart()
    {
        var steps = ExitPolicyEvaluator.Play(KeepAlivePlist(), new SupervisorTimelineRequest(["1min stop", "+1s restart"]));

        Assert.Equal(("NoChange", "unloaded"), (steps[^1].Rule, steps[^1].State));
    }

    [Fact]
    public void A_launchd_timeline_refuses_what_only_systemd_has()
    {
        Expect.Error(HermesErrorIds.TimelineInvalid, () => ExitPolicyEvaluator.Play(KeepAlivePlist(), new SupervisorTimelineRequest(["1s is-active"])));
        Expect.Error(HermesErrorIds.TimelineInvalid, () => ExitPolicyEvaluator.Play(KeepAlivePlist(), new SupervisorTimelineRequest(["1s exit 1"], ExecFailure: 203)));
    }

    [Fact]
    public void A_launchd_job_without_KeepAlive_stays_down_after_an_exit_and_events_without_a_process_change_nothing()
    {
        var plist = new LaunchdConfiguration(LaunchdJobReader.Parse(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>Label</key><string>x</string>"
            + "<key>ProgramArguments</key><array><string>/usr/bin/x</string></array><key>RunAtLoad</key><true/></dict></plist>", "/test/x.plist"));
        var steps = ExitPolicyEvaluator.Play(plist, new SupervisorTimelineRequest(["1s exit 0", "2s signal SIGTERM"]));

        Assert.Equal("not running", steps[1].State);
        Assert.Equal("NoProcess", steps[2].Rule);
        Assert.Equal(3, steps.Count);
    }

    [Fact]
    public void A_launchd_event_posed_while_the_gateway_still_drains_is_played_when_it_has_ended()
    {
        // SIGTERM at 60 s: the gateway drains before it exits, so the bootout posed at 61 s comes after that.
        var steps = ExitPolicyEvaluator.Play(KeepAlivePlist(), new SupervisorTimelineRequest(["60s signal SIGTERM", "61s stop"]));

        Assert.Equal(steps.Select(s => s.At).Order(), steps.Select(s => s.At));
        var bootout = steps.Single(s => s.Event == "launchctl bootout");
        Assert.StartsWith("posed at t=61s", bootout.Explanation, StringComparison.Ordinal);

        // The bootout comes before the relaunch due when the drain ends, and cancels it: no second process.
        Assert.DoesNotContain(steps, s => s.Event == "throttled relaunch");
        Assert.Equal("unloaded", steps[^1].State);
    }

    [Fact]
    public void A_launchd_job_whose_program_is_missing_names_the_items_it_does_not_play()
    {
        var plist = new LaunchdConfiguration(LaunchdJobReader.Parse(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>Label</key><string>x</string>"
            + "<key>ProgramArguments</key><array><string>hermes</string></array><key>KeepAlive</key><true/></dict></plist>", "/test/x.plist"));
        var steps = ExitPolicyEvaluator.Play(plist, new SupervisorTimelineRequest(["10s stop", "20s start"]), options: new EvaluationOptions { LaunchdDomain = new LaunchdDomain { ProgramMissing = true } });

        Assert.Equal(2, steps.Count);
        Assert.Contains("2 item(s)", steps[^1].Explanation, StringComparison.Ordinal);
        Assert.Contains("hermes (looked up on PATH)", steps[0].Explanation, StringComparison.Ordinal);
        var verdict = ExitPolicyEvaluator.Evaluate(plist, options: new EvaluationOptions { LaunchdDomain = new LaunchdDomain { ProgramMissing = true } })[0];
        Assert.Contains("on launchd's PATH", verdict.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(199)]
    [InlineData(246)]
    public void An_exec_failure_out_of_range_is_refused(int status)
    {
        Expect.Error(HermesErrorIds.TimelineInvalid, () => ExitPolicyEvaluator.Play(Unit(OnFailure), new SupervisorTimelineRequest(["1s stop"], ExecFailure: status)));
    }

    // ---- 3. timelines: playing ----

    [Fact]
    public void A_stop_during_the_RestartSec_wait_on_252_leaves_it_dead_with_the_runs_Result()
    {
        var steps = Play(Waits10s, 252, "1s exit 1", "3s stop");

        var exit = steps.Single(s => s.At == TimeSpan.FromSeconds(1));
        Assert.Equal("activating (auto-restart)", exit.State);
        Assert.Equal(TimeSpan.FromSeconds(11), exit.RestartDue);
        var stop = steps[^1];
        Assert.Equal(TimeSpan.FromSeconds(3), stop.At);
        Assert.Equal("inactive (dead)", stop.State);
        Assert.Equal("exit-code", stop.Result);
        Assert.Equal(1, stop.ExecMainStatus);
        Assert.Equal(0, stop.NRestarts);
        Assert.Equal("inactive", stop.IsActive);
        Assert.Equal(3, stop.IsActiveExitCode);
        Assert.Equal(0, stop.CommandExitCode);
        Assert.Null(stop.RestartDue);
    }

    [Fact]
    public void A_start_during_the_wait_on_252_waits_for_the_timer()
    {
        var steps = Play(Waits10s, 252, "1s exit 1", "3s start");

        var start = steps.Single(s => s.Posed && s.At == TimeSpan.FromSeconds(3));
        Assert.Equal("activating (auto-restart)", start.State);
        Assert.Equal(0, start.CommandExitCode);
        var restarted = steps[^1];
        Assert.Equal(TimeSpan.FromSeconds(11), restarted.At);
        Assert.True(restarted.Started);
        Assert.False(restarted.Posed);
        Assert.Equal("active (running)", restarted.State);
        Assert.Equal(1, restarted.NRestarts);
    }

    [Fact]
    public void A_start_during_the_wait_on_257_restarts_at_once()
    {
        var steps = Play(Waits10s, 257, "1s exit 1", "3s start");

        var restarted = steps.Single(s => s.Started && s.At > TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(3), restarted.At);
        Assert.Equal("active (running)", restarted.State);
        Assert.Equal(1, restarted.NRestarts);
    }

    [Theory]
    [InlineData(252, 1)]
    [InlineData(257, 0)]
    public void A_restart_during_the_wait_keeps_NRestarts_before_257(int version, int nrestarts)
    {
        // exit 1 at 1 s, restarted at 11 s (NRestarts=1), exit 1 at 12 s, then restart by hand during the wait.
        var steps = Play(Waits10s, version, "1s exit 1", "12s exit 1", "14s restart");

        var restart = steps[^1];
        Assert.Equal(TimeSpan.FromSeconds(14), restart.At);
        Assert.True(restart.Started);
        Assert.Equal("active (running)", restart.State);
        Assert.Equal(nrestarts, restart.NRestarts);
    }

    [Fact]
    public void The_signal_reaction_reaches_the_timeline()
    {
        var steps = ExitPolicyEvaluator.Play(Unit(OnFailure), new SupervisorTimelineRequest(["5s signal SIGTERM", "6s is-active"], SignalReaction.Default));

        var signal = steps.Single(s => s.At == TimeSpan.FromSeconds(5));
        Assert.Equal("killed by SIGTERM", signal.Ending);
        Assert.Equal("inactive (dead)", signal.State);
        Assert.Equal("success", signal.Result);
        var query = steps[^1];
        Assert.Equal("inactive", query.IsActive);
        Assert.Equal(3, query.CommandExitCode);
    }

    [Fact]
    public void A_failing_exec_on_a_unit_with_a_start_limit_ends_failed()
    {
        var steps = ExitPolicyEvaluator.Play(Unit("[Service]\nExecStart=/usr/bin/hermes\nRestart=always\nRestartSec=100ms\n"),
            new SupervisorTimelineRequest(["0 is-active"], ExecFailure: 203));

        var last = steps[^1];
        Assert.Equal("failed (failed)", last.State);
        Assert.All(steps, s => Assert.Equal("hermes-gateway", s.Name));
        Assert.Contains(steps, s => s.Ending == "exit 203/EXEC");
    }

    [Fact]
    public void The_steps_record_the_unit_and_platform()
    {
        var steps = Play(OnFailure, 252, "1s stop");

        Assert.All(steps, s => Assert.Equal(ServicePlatform.Systemd, s.Platform));
        Assert.Equal("/test/hermes-gateway.service", steps[0].Path);
        Assert.True(steps[0].Started);
        // Without the planned-stop marker the gateway exits 1 on the stop's SIGTERM.
        Assert.Equal("failed (failed)", steps[^1].State);
        Assert.Equal("exit-code", steps[^1].Result);
    }
}

/// <summary>A single -Event answer on a unit whose own timers act before the event: played through the simulator.</summary>
public sealed class SimulatorEventAnswerTests
{
    private static SystemdConfiguration Unit(string service, int version = 252) =>
        new(SystemdUnitReader.Parse("[Service]\nExecStart=/usr/bin/hermes gateway run\n" + service, "/test/hermes-gateway.service", version));

    private static SupervisorOutcome Answer(SystemdConfiguration config, SupervisorEventRequest request) => ExitPolicyEvaluator.Answer(config, request);

    [Fact]
    public void A_watchdog_the_gateway_never_feeds_has_restarted_it_before_the_event()
    {
        var o = Answer(Unit("Restart=on-failure\nWatchdogSec=30s\n"), new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: 1));

        Assert.True(o.Revived);
        Assert.StartsWith("before the event at t=3600s: WatchdogSec= ran out without WATCHDOG=1, done at t=30s", o.Explanation);
        Assert.True(o.NRestarts > 100);
    }

    [Fact]
    public void RuntimeMaxSec_has_ended_the_unit_before_the_event()
    {
        var o = Answer(Unit("Restart=no\nRuntimeMaxSec=10min\n"), new SupervisorEventRequest(SupervisorEventKind.Signal, Signal: "SIGTERM"));

        Assert.False(o.Revived);
        Assert.Equal("(no main process)", o.Ending);
        Assert.Equal("failed (failed)", o.FinalState);
        Assert.Equal("timeout", o.Result);
        Assert.Equal(nameof(SystemdDecisionRule.NoProcess), o.Rule);
        // RuntimeMaxSec= sends SIGTERM at 600 s; the gateway drains for a minute before it exits.
        Assert.StartsWith("before the event at t=3600s: RuntimeMaxSec= reached, done at t=660s, leaving failed (failed)", o.Explanation);
    }

    [Fact]
    public void A_clean_exit_of_a_notify_unit_before_READY_is_a_protocol_failure()
    {
        var o = Answer(Unit("Type=notify\nRestart=on-failure\n"), new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: 0, RunTime: TimeSpan.FromSeconds(10)));

        Assert.Equal("protocol", o.Result);
        Assert.True(o.Revived);
        Assert.DoesNotContain("before the event", o.Explanation);
    }

    [Fact]
    public void A_unit_without_timers_is_answered_as_before()
    {
        var o = Answer(Unit("Restart=on-failure\n"), new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: 1));

        Assert.True(o.Revived);
        Assert.DoesNotContain("before the event", o.Explanation);
        Assert.Equal(1, o.NRestarts);
    }
}
