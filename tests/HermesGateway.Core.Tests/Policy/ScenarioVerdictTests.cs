namespace HermesGateway.Core.Tests.Policy;

/// <summary>ExitPolicyEvaluator: scenario verdicts for the upstream files, the three seed failures, and raw events.</summary>
public sealed class ScenarioVerdictTests
{
    private static string Example(string name) => Path.Combine(AppContext.BaseDirectory, "examples", name);

    private static SystemdConfiguration UnitConfig(string text) => new SystemdConfiguration(SystemdUnitReader.Parse(text, "/test/hermes-gateway.service"));

    private static LaunchdConfiguration PlistConfig(string dictBody) => new LaunchdConfiguration(LaunchdJobReader.Parse(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
        + "<plist version=\"1.0\"><dict><key>Label</key><string>ai.hermes.gateway</string><key>ProgramArguments</key><array><string>/usr/bin/hermes</string><string>gateway</string><string>run</string></array>"
        + dictBody + "</dict></plist>", "/test/ai.hermes.gateway.plist"));

    private static ScenarioVerdict Verdict(ServiceConfiguration config, LifecycleScenario scenario, GatewayExitContract? contract = null) =>
        Assert.Single(ExitPolicyEvaluator.Evaluate(config, contract, scenarios: [scenario]));

    private const string AllGoodUnit = """
        [Unit]
        Description=Hermes Agent gateway
        StartLimitIntervalSec=0

        [Service]
        Type=simple
        ExecStart=/usr/bin/hermes gateway run
        Restart=on-failure
        RestartSec=2
        RestartForceExitStatus=75
        SuccessExitStatus=75
        RestartPreventExitStatus=78
        ExecStop=/usr/bin/hermes-mark-planned-stop
        TimeoutStopSec=90
        """;

    private const string SeedBUnit = """
        [Service]
        ExecStart=/usr/bin/hermes gateway run
        Restart=on-failure
        SuccessExitStatus=75
        """;

    [Theory]
    [InlineData(LifecycleScenario.ServiceRestart, true)]
    [InlineData(LifecycleScenario.RestartCommand, true)]
    [InlineData(LifecycleScenario.UpdateCommand, true)]
    [InlineData(LifecycleScenario.RestartFromInside, true)]
    [InlineData(LifecycleScenario.RestartBurst, true)]
    [InlineData(LifecycleScenario.ManagerRestart, false)]
    [InlineData(LifecycleScenario.ManagerStop, false)]
    [InlineData(LifecycleScenario.CleanExit, false)]
    [InlineData(LifecycleScenario.ExternalTerm, true)]
    [InlineData(LifecycleScenario.ExternalKill, true)]
    [InlineData(LifecycleScenario.OomKill, true)]
    [InlineData(LifecycleScenario.Crash, true)]
    [InlineData(LifecycleScenario.ConfigError, true)]
    [InlineData(LifecycleScenario.CrashLoop, true)]
    public void Upstream_unit_verdicts(LifecycleScenario scenario, bool ok)
    {
        var verdicts = ExitPolicyEvaluator.Evaluate(ServiceFormats.Read(Example("hermes-gateway.service")));

        Assert.Equal(ok, Assert.Single(verdicts, v => v.Scenario == scenario).Ok);
    }

    [Theory]
    [InlineData(LifecycleScenario.ServiceRestart, true)]
    [InlineData(LifecycleScenario.RestartBurst, false)]
    [InlineData(LifecycleScenario.ManagerRestart, false)]
    [InlineData(LifecycleScenario.ManagerStop, false)]
    [InlineData(LifecycleScenario.CleanExit, false)]
    [InlineData(LifecycleScenario.ExternalTerm, true)]
    [InlineData(LifecycleScenario.ExternalKill, true)]
    [InlineData(LifecycleScenario.Crash, true)]
    [InlineData(LifecycleScenario.ConfigError, false)]
    [InlineData(LifecycleScenario.CrashLoop, true)]
    [InlineData(LifecycleScenario.OnDemandOnlyRestart, false)]
    public void Upstream_plist_verdicts(LifecycleScenario scenario, bool ok)
    {
        var verdicts = ExitPolicyEvaluator.Evaluate(ServiceFormats.Read(Example("ai.hermes.gateway.plist")));

        Assert.Equal(ok, Assert.Single(verdicts, v => v.Scenario == scenario).Ok);
    }

    [Fact]
    public void Upstream_plist_kills_the_drain_on_a_manager_stop_because_ExitTimeOut_is_shorter()
    {
        var v = Verdict(ServiceFormats.Read(Example("ai.hermes.gateway.plist")), LifecycleScenario.ManagerStop);

        Assert.False(v.Ok);
        Assert.NotNull(v.Fix);
        Assert.Equal("unloaded", v.FinalState);
    }

    [Fact]
    public void Seed_a_a_restart_that_exits_0_is_a_stop_under_SuccessfulExit_false()
    {
        var config = PlistConfig("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>");

        var broken = Verdict(config, LifecycleScenario.ServiceRestart, new GatewayExitContract { RestartExitCode = 0 });
        var hermes = Verdict(config, LifecycleScenario.ServiceRestart);

        Assert.False(broken.Revived);
        Assert.False(broken.Ok);
        Assert.NotNull(broken.Fix);
        Assert.True(hermes.Revived);
        Assert.True(hermes.Ok);
    }

    [Fact]
    public void Seed_b_a_restart_exit_in_SuccessExitStatus_alone_is_not_revived_under_on_failure()
    {
        var v = Verdict(UnitConfig(SeedBUnit), LifecycleScenario.ServiceRestart);

        Assert.False(v.Revived);
        Assert.False(v.Ok);
        Assert.Equal("success", v.Result);
        Assert.NotNull(v.Fix);
    }

    [Fact]
    public void Seed_b_fixed_with_RestartForceExitStatus()
    {
        var v = Verdict(UnitConfig(SeedBUnit + "\nRestartForceExitStatus=75\n"), LifecycleScenario.ServiceRestart);

        Assert.True(v.Revived);
        Assert.True(v.Ok);
        Assert.Equal("success", v.Result);
    }

    [Fact]
    public void Seed_b_variant_forced_but_not_in_SuccessExitStatus_is_revived_as_a_failure()
    {
        var v = Verdict(UnitConfig("[Service]\nExecStart=/usr/bin/hermes\nRestart=on-failure\nRestartForceExitStatus=75\n"), LifecycleScenario.ServiceRestart);

        Assert.True(v.Revived);
        Assert.False(v.Ok);
        Assert.Equal("exit-code", v.Result);
    }

    [Fact]
    public void Seed_c_upstream_unit_is_left_failed_by_systemctl_stop()
    {
        var v = Verdict(ServiceFormats.Read(Example("hermes-gateway.service")), LifecycleScenario.ManagerStop);

        Assert.Equal("failed (failed)", v.FinalState);
        Assert.Equal("exit-code", v.Result);
        Assert.False(v.Revived);
        Assert.False(v.Ok);
        Assert.NotNull(v.Fix);
    }

    [Theory]
    [InlineData("ExecStop=/usr/bin/hermes-mark-planned-stop")]
    [InlineData("ExecStop=/bin/sh -c 'write the marker' hermes-mark-planned-stop /home/h/.hermes")]
    public void Seed_c_fixed_by_an_ExecStop_that_marks_the_stop_as_planned(string execStop)
    {
        var text = File.ReadAllText(Example("hermes-gateway.service")).Replace("KillMode=mixed", execStop + "\nKillMode=mixed", StringComparison.Ordinal);

        var v = Verdict(UnitConfig(text), LifecycleScenario.ManagerStop);

        Assert.Equal("inactive (dead)", v.FinalState);
        Assert.True(v.Ok);
    }

    [Theory]
    [InlineData("ExecStop=/bin/rm -f /home/h/.hermes/.gateway-planned-stop.json")]
    [InlineData("ExecStop=/bin/sh -c 'echo {} > /home/h/.hermes/.gateway-planned-stop.json'")]
    public void An_ExecStop_that_only_mentions_the_marker_file_is_not_trusted_and_says_so(string execStop)
    {
        var text = File.ReadAllText(Example("hermes-gateway.service")).Replace("KillMode=mixed", execStop + "\nKillMode=mixed", StringComparison.Ordinal);

        var v = Verdict(UnitConfig(text), LifecycleScenario.ManagerStop);

        Assert.False(v.Ok);
        Assert.Equal("failed (failed)", v.FinalState);
        Assert.Contains(SystemdModel.PlannedStopMarkerCommand, v.Unverified, StringComparison.Ordinal);
    }

    [Fact]
    public void A_systemctl_restart_whose_stop_half_exits_1_records_a_failure_and_fails_its_verdict()
    {
        var v = Verdict(UnitConfig(File.ReadAllText(Example("hermes-gateway.service"))), LifecycleScenario.ManagerRestart);

        Assert.Equal("active (running)", v.FinalState);
        Assert.Equal("exit-code", v.Result);
        Assert.False(v.Ok);
        Assert.Contains("ExecStop=", v.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ExecStop_that_does_not_mention_the_marker_does_not_help()
    {
        var text = File.ReadAllText(Example("hermes-gateway.service")).Replace("KillMode=mixed", "ExecStop=/bin/kill -TERM $MAINPID\nKillMode=mixed", StringComparison.Ordinal);

        Assert.False(Verdict(UnitConfig(text), LifecycleScenario.ManagerStop).Ok);
    }

    [Fact]
    public void A_unit_that_satisfies_every_systemd_scenario_exists()
    {
        var verdicts = ExitPolicyEvaluator.Evaluate(UnitConfig(AllGoodUnit));

        Assert.Equal(ScenarioCatalog.All.Count(d => d.Systemd), verdicts.Count);
        Assert.All(verdicts, v => Assert.True(v.Ok, $"{v.Scenario}: {v.Why}"));
    }

    [Fact]
    public void A_stop_timeout_shorter_than_the_drain_fails_stop_and_restart()
    {
        var config = UnitConfig(AllGoodUnit.Replace("TimeoutStopSec=90", "TimeoutStopSec=30", StringComparison.Ordinal));

        Assert.False(Verdict(config, LifecycleScenario.ManagerStop).Ok);
        Assert.False(Verdict(config, LifecycleScenario.ManagerRestart).Ok);
    }

    [Fact]
    public void The_default_start_limit_breaks_the_crash_loop_and_restart_burst_scenarios()
    {
        // Default StartLimitIntervalSec=10 s / Burst 5 with RestartSec=100 ms: a 1 s crash loop gives up after 5 runs.
        var config = UnitConfig("[Service]\nExecStart=/usr/bin/hermes\nRestart=on-failure\nRestartForceExitStatus=75\nSuccessExitStatus=75\nRestartPreventExitStatus=78\n");

        var crashLoop = Verdict(config, LifecycleScenario.CrashLoop);

        Assert.False(crashLoop.Ok);
        Assert.Equal("failed (failed)", crashLoop.FinalState);
        // Six planned restarts 2 s apart span more than 10 s, so the window moves on; 1 s apart they hit the limit.
        Assert.True(Verdict(config, LifecycleScenario.RestartBurst).Ok);
        var quick = new EvaluationOptions { RestartBurstRunTime = TimeSpan.FromSeconds(1) };
        var burst = Assert.Single(ExitPolicyEvaluator.Evaluate(config, options: quick, scenarios: [LifecycleScenario.RestartBurst]));
        Assert.False(burst.Ok);
        Assert.False(burst.Revived);
    }

    [Fact]
    public void A_unit_systemd_refuses_fails_every_scenario()
    {
        var verdicts = ExitPolicyEvaluator.Evaluate(UnitConfig("[Service]\nType=oneshot\nExecStart=/bin/true\nRestart=always\n"));

        Assert.NotEmpty(verdicts);
        Assert.All(verdicts, v => Assert.False(v.Ok));
        Assert.All(verdicts, v => Assert.False(v.Revived));
    }

    [Fact]
    public void A_plist_launchd_refuses_fails_every_scenario()
    {
        var config = new LaunchdConfiguration(LaunchdJobReader.Parse("<plist version=\"1.0\"><dict><key>Label</key><string>x</string></dict></plist>", "/t/x.plist"));

        Assert.All(ExitPolicyEvaluator.Evaluate(config), v => Assert.False(v.Ok));
    }

    [Fact]
    public void Scenario_selection_returns_the_chosen_scenarios_once_in_order()
    {
        var config = UnitConfig(AllGoodUnit);

        var verdicts = ExitPolicyEvaluator.Evaluate(config, scenarios: [LifecycleScenario.ManagerStop, LifecycleScenario.ServiceRestart, LifecycleScenario.ManagerStop]);

        Assert.Equal([LifecycleScenario.ManagerStop, LifecycleScenario.ServiceRestart], verdicts.Select(v => v.Scenario));
    }

    [Fact]
    public void By_default_systemd_gets_every_scenario_but_OnDemandOnlyRestart()
    {
        var verdicts = ExitPolicyEvaluator.Evaluate(UnitConfig(AllGoodUnit));

        Assert.DoesNotContain(verdicts, v => v.Scenario == LifecycleScenario.OnDemandOnlyRestart);
        Assert.Equal(Enum.GetValues<LifecycleScenario>().Length - 1, verdicts.Count);
        Assert.All(verdicts, v => Assert.True(v.Applicable));
    }

    [Fact]
    public void By_default_launchd_gets_every_scenario()
    {
        var verdicts = ExitPolicyEvaluator.Evaluate(ServiceFormats.Read(Example("ai.hermes.gateway.plist")));

        Assert.Equal(Enum.GetValues<LifecycleScenario>().Order(), verdicts.Select(v => v.Scenario).Order());
    }

    [Fact]
    public void OnDemandOnlyRestart_selected_for_systemd_is_not_applicable()
    {
        var v = Verdict(UnitConfig(AllGoodUnit), LifecycleScenario.OnDemandOnlyRestart);

        Assert.False(v.Applicable);
        Assert.False(v.Revived);
    }

    [Fact]
    public void OnDemandOnlyRestart_on_launchd_is_pending_whatever_the_plist_says()
    {
        var v = Verdict(PlistConfig("<key>KeepAlive</key><true/><key>ThrottleInterval</key><integer>1</integer>"), LifecycleScenario.OnDemandOnlyRestart);

        Assert.True(v.Applicable);
        Assert.False(v.Ok);
        Assert.False(v.Revived);
        Assert.NotNull(v.Fix);
    }

    [Theory]
    [InlineData("Restart=on-failure", 3, true, "exit-code")]
    [InlineData("Restart=on-failure", 0, false, "success")]
    [InlineData("Restart=no", 3, false, "exit-code")]
    [InlineData("Restart=always\nRestartPreventExitStatus=78", 78, false, "exit-code")]
    public void Answer_for_an_exit(string settings, int code, bool revived, string result)
    {
        var config = UnitConfig("[Service]\nExecStart=/usr/bin/hermes\n" + settings + "\n");

        var o = ExitPolicyEvaluator.Answer(config, new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: code));

        Assert.Equal(revived, o.Revived);
        Assert.Equal(result, o.Result);
        Assert.Equal(1, o.ExecMainCode);
        Assert.Equal(code, o.ExecMainStatus);
        Assert.Equal(revived ? 1 : 0, o.NRestarts);
    }

    [Theory]
    [InlineData("SIGKILL", true, "signal", 9)]
    [InlineData("KILL", true, "signal", 9)]
    [InlineData("9", true, "signal", 9)]
    // The gateway turns an unmarked SIGTERM into exit 1.
    [InlineData("SIGTERM", true, "exit-code", 1)]
    [InlineData("SIGINT", false, "success", 0)]
    public void Answer_for_a_signal(string signal, bool revived, string result, int status)
    {
        var o = ExitPolicyEvaluator.Answer(UnitConfig("[Service]\nExecStart=/usr/bin/hermes\nRestart=on-failure\n"), new SupervisorEventRequest(SupervisorEventKind.Signal, Signal: signal));

        Assert.Equal(revived, o.Revived);
        Assert.Equal(result, o.Result);
        Assert.Equal(status, o.ExecMainStatus);
    }

    [Fact]
    public void Answer_for_launchd_uses_darwin_signal_numbers()
    {
        // 30 is SIGUSR1 on Darwin (10 on Linux): the gateway drains and exits 75.
        var o = ExitPolicyEvaluator.Answer(PlistConfig("<key>KeepAlive</key><true/>"), new SupervisorEventRequest(SupervisorEventKind.Signal, Signal: "30"));

        Assert.Equal("exit 75", o.Ending);
        Assert.True(o.Revived);
    }

    [Theory]
    [InlineData(SupervisorEventKind.ManagerStop, false)]
    [InlineData(SupervisorEventKind.ManagerRestart, true)]
    [InlineData(SupervisorEventKind.OomKill, true)]
    public void Answer_for_manager_events(SupervisorEventKind kind, bool revived)
    {
        var o = ExitPolicyEvaluator.Answer(UnitConfig(AllGoodUnit), new SupervisorEventRequest(kind));

        Assert.Equal(revived, o.Revived);
    }

    public static TheoryData<SupervisorEventRequest, string> BadEvents() => new()
    {
        { new SupervisorEventRequest(SupervisorEventKind.Exit), HermesErrorIds.EventInvalid },
        { new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: 1, Signal: "SIGTERM"), HermesErrorIds.EventInvalid },
        { new SupervisorEventRequest(SupervisorEventKind.Signal), HermesErrorIds.EventInvalid },
        { new SupervisorEventRequest(SupervisorEventKind.Signal, Signal: "  "), HermesErrorIds.EventInvalid },
        { new SupervisorEventRequest(SupervisorEventKind.Signal, ExitCode: 1, Signal: "SIGTERM"), HermesErrorIds.EventInvalid },
        { new SupervisorEventRequest(SupervisorEventKind.ManagerStop, ExitCode: 0), HermesErrorIds.EventInvalid },
        { new SupervisorEventRequest(SupervisorEventKind.OomKill, Signal: "SIGKILL"), HermesErrorIds.EventInvalid },
        { new SupervisorEventRequest(SupervisorEventKind.ManagerRestart, RunTime: TimeSpan.FromSeconds(-1)), HermesErrorIds.EventInvalid },
        { new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: 256), HermesErrorIds.ExitCodeOutOfRange },
        { new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: -1), HermesErrorIds.ExitCodeOutOfRange },
        { new SupervisorEventRequest(SupervisorEventKind.Signal, Signal: "SIGNOPE"), HermesErrorIds.SignalUnknown },
        { new SupervisorEventRequest(SupervisorEventKind.Signal, Signal: "99"), HermesErrorIds.SignalUnknown },
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public void Answer_refuses_bad_events_on_systemd(SupervisorEventRequest request, string errorId)
    {
        Expect.Error(errorId, () => ExitPolicyEvaluator.Answer(UnitConfig(AllGoodUnit), request));
    }

    [Theory]
    [MemberData(nameof(BadEvents))]
    public void Answer_refuses_bad_events_on_launchd(SupervisorEventRequest request, string errorId)
    {
        Expect.Error(errorId, () => ExitPolicyEvaluator.Answer(PlistConfig("<key>KeepAlive</key><true/>"), request));
    }

    [Theory]
    [InlineData("SIGSTKFLT")]
    [InlineData("SIGPWR")]
    public void Answer_refuses_linux_only_signals_on_launchd(string signal)
    {
        Expect.Error(HermesErrorIds.SignalUnknown, () => ExitPolicyEvaluator.Answer(PlistConfig("<key>KeepAlive</key><true/>"), new SupervisorEventRequest(SupervisorEventKind.Signal, Signal: signal)));
    }

    [Theory]
    [InlineData("StartLimitIntervalSec=0")]
    [InlineData("StartLimitIntervalSec=10s")]
    [InlineData("StartLimitBurst=0")]
    public void A_crash_loop_with_no_run_time_and_no_delay_is_judged_and_terminates(string limit)
    {
        // Zero run time and RestartSec=0: simulated time stands still, so only the loop's own rules end it.
        var config = UnitConfig($"[Unit]\n{limit}\n[Service]\nExecStart=/usr/bin/hermes gateway run\nRestart=always\nRestartSec=0\n");
        var contract = GatewayExitContract.Hermes with { FailedStartRunTime = TimeSpan.Zero };

        var v = Verdict(config, LifecycleScenario.CrashLoop, contract);

        Assert.False(v.Ok);
    }
}
