namespace HermesGateway.Core.Tests.Launchd;

/// <summary>
/// docs/models.md §2.5–§2.8: EnableTransactions at bootout and kickstart -k, a missing program, a disabled label, and
/// what becomes of the job's children.
/// </summary>
public sealed class LaunchdAdditionsTests
{
    private static readonly TimeSpan Steady = TimeSpan.FromHours(1);

    private const string Transactions = "<key>EnableTransactions</key><true/>";

    // A plist that passes ManagerStop and ManagerRestart: the drain fits in ExitTimeOut.
    private const string Good = "<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict><key>ExitTimeOut</key><integer>300</integer>";

    private static LaunchdModel Model(string body, LaunchdDomain? domain = null)
    {
        var job = LaunchdModelTests.Job(body);
        Assert.False(job.LoadRefused);
        return new LaunchdModel(job, domain);
    }

    private static LaunchdConfiguration Config(string body) => new(LaunchdModelTests.Job(body));

    private static ScenarioVerdict Verdict(LaunchdConfiguration config, LifecycleScenario scenario, LaunchdDomain? domain = null) =>
        Assert.Single(ExitPolicyEvaluator.Evaluate(config, options: new EvaluationOptions { LaunchdDomain = domain ?? LaunchdDomain.GuiDefault }, scenarios: [scenario]));

    // §2.5 EnableTransactions

    [Fact]
    public void The_reader_takes_EnableTransactions_from_the_plist()
    {
        Assert.True(LaunchdModelTests.Job(Transactions).Settings.EnableTransactions);
        Assert.False(LaunchdModelTests.Job(string.Empty).Settings.EnableTransactions);
    }

    [Fact]
    public void With_EnableTransactions_bootout_SIGKILLs_at_once_and_the_process_never_sees_SIGTERM()
    {
        var process = ScriptedProcess.EndsWith("exit 0", 2);

        var o = Model(Good + Transactions).Apply(new LaunchdBootout(Steady), process);

        Assert.Empty(process.Received);
        Assert.Equal(ProcessEnding.KilledBy(UnixSignal.SIGKILL), o.Ending);
        Assert.Equal(TimeSpan.Zero, o.EndedAfter);
        Assert.True(o.KilledWithoutSigterm);
        Assert.False(o.Revived);
        Assert.Equal("unloaded", o.FinalState);
        Assert.Equal("last terminating signal = SIGKILL", o.LastExit);
        Assert.Contains("unverified", o.Unverified);
        Assert.Contains("proc_terminate", o.Unverified);
    }

    [Fact]
    public void With_EnableTransactions_kickstart_k_SIGKILLs_at_once_and_starts_the_job_again()
    {
        var process = ScriptedProcess.EndsWith("exit 0", 2);

        var o = Model(Good + Transactions).Apply(new LaunchdKickstart(KillFirst: true, Steady), process);

        Assert.Empty(process.Received);
        Assert.Equal(ProcessEnding.KilledBy(UnixSignal.SIGKILL), o.Ending);
        Assert.True(o.KilledWithoutSigterm);
        Assert.True(o.Revived);
        Assert.Equal("running", o.FinalState);
        Assert.Contains("EnableTransactions", o.Unverified);
    }

    [Fact]
    public void Without_EnableTransactions_the_stop_sends_SIGTERM_first()
    {
        var process = ScriptedProcess.EndsWith("exit 0", 2);

        var o = Model(Good).Apply(new LaunchdBootout(Steady), process);

        Assert.Equal(UnixSignal.SIGTERM, Assert.Single(process.Received).Signal);
        Assert.False(o.KilledWithoutSigterm);
        Assert.Equal(ProcessEnding.Exit(0), o.Ending);
    }

    [Theory]
    [InlineData("exit 1")]
    [InlineData("kill SIGKILL")]
    public void EnableTransactions_does_not_change_an_ending_launchd_did_not_cause(string ending)
    {
        var without = Model(Good).Apply(new LaunchdProcessEnded(Endings.Parse(ending), Steady), DefaultSignalBehavior.Instance);
        var o = Model(Good + Transactions).Apply(new LaunchdProcessEnded(Endings.Parse(ending), Steady), DefaultSignalBehavior.Instance);

        // The same answer as without the key: ending, relaunch, delay and rule.
        Assert.Equal((without.SeenByLaunchd, without.Revived, without.Delay, without.Rule, without.FinalState), (o.SeenByLaunchd, o.Revived, o.Delay, o.Rule, o.FinalState));
        Assert.True(o.Revived);
        Assert.False(o.KilledWithoutSigterm);
    }

    [Theory]
    [InlineData(LifecycleScenario.ManagerStop)]
    [InlineData(LifecycleScenario.ManagerRestart)]
    public void EnableTransactions_fails_the_managers_stop_and_restart_because_the_drain_is_skipped(LifecycleScenario scenario)
    {
        Assert.True(Verdict(Config(Good), scenario).Ok);

        var v = Verdict(Config(Good + Transactions), scenario);

        Assert.False(v.Ok);
        Assert.Contains("drain did not happen", v.Why);
        Assert.Contains("remove EnableTransactions", v.Fix);
        Assert.Contains("unverified", v.Unverified);
        Assert.Equal(scenario == LifecycleScenario.ManagerRestart, v.Revived);
    }

    // §2.6 A missing program

    [Theory]
    [InlineData("", "/usr/bin/hermes")]
    [InlineData("<key>Program</key><string>/opt/hermes/bin/hermes</string>", "/opt/hermes/bin/hermes")]
    public void The_program_path_is_Program_or_an_absolute_first_argument(string body, string path)
    {
        Assert.Equal(path, LaunchdModelTests.Job(body).Settings.ProgramPath);
    }

    [Fact]
    public void A_bare_first_argument_is_not_a_program_path()
    {
        var job = LaunchdJobReader.Parse(
            "<plist version=\"1.0\"><dict><key>Label</key><string>x</string><key>ProgramArguments</key><array><string>hermes</string></array></dict></plist>", "/t/x.plist");

        Assert.Null(job.Settings.ProgramPath);
        Assert.False(new LaunchdModel(job, new LaunchdDomain { MissingPrograms = ["hermes"] }).ProgramMissing);
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(30, 30)]
    public void A_missing_program_fails_every_spawn_with_EX_CONFIG_and_KeepAlive_retries_it_at_the_throttle(int throttle, int every)
    {
        var domain = new LaunchdDomain { MissingPrograms = ["/usr/bin/hermes"] };
        var model = Model($"<key>KeepAlive</key><true/><key>ThrottleInterval</key><integer>{throttle}</integer>", domain);

        var o = model.Apply(new LaunchdKickstart(KillFirst: false, TimeSpan.Zero), DefaultSignalBehavior.Instance);

        Assert.True(model.ProgramMissing);
        Assert.Equal(LaunchdDecisionRule.SpawnFailed, o.Rule);
        Assert.Equal("78 (EX_CONFIG)", o.LastExit);
        Assert.False(o.Revived);
        Assert.True(o.Pending);
        Assert.Equal(TimeSpan.FromSeconds(every), o.Delay);
        Assert.Equal($"spawn failed: program missing; retried every {every} s", o.FinalState);
        Assert.Null(o.Ending);
        Assert.Null(o.Children);
        Assert.Contains("unverified", o.Unverified);
    }

    [Theory]
    // The recorded status is exit 78, so the KeepAlive table decides on it: SuccessfulExit=false retries, true does not.
    [InlineData("", false)]
    [InlineData("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>", true)]
    [InlineData("<key>KeepAlive</key><dict><key>SuccessfulExit</key><true/></dict>", false)]
    public void Without_a_keep_alive_condition_that_holds_for_exit_78_the_failed_spawn_is_not_retried(string keepAlive, bool retried)
    {
        var domain = new LaunchdDomain { MissingPrograms = ["/usr/bin/hermes"] };

        var o = Model(keepAlive, domain).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), Steady), DefaultSignalBehavior.Instance);

        Assert.Equal(retried, o.Pending);
        Assert.False(o.Revived);
        Assert.Equal(retried ? "spawn failed: program missing; retried every 10 s" : "spawn failed: program missing; not retried", o.FinalState);
    }

    [Fact]
    public void Bootout_of_a_job_whose_program_is_missing_only_removes_it()
    {
        var domain = new LaunchdDomain { MissingPrograms = ["/usr/bin/hermes"] };
        var process = ScriptedProcess.EndsWith("exit 0");

        var o = Model("<key>KeepAlive</key><true/>", domain).Apply(new LaunchdBootout(Steady), process);

        Assert.Empty(process.Received);
        Assert.Equal("unloaded", o.FinalState);
        Assert.False(o.Pending);
        Assert.Equal("78 (EX_CONFIG)", o.LastExit);
    }

    [Fact]
    public void A_program_that_exists_is_spawned_as_before()
    {
        var domain = new LaunchdDomain { MissingPrograms = ["/usr/bin/other"] };

        var o = Model("<key>KeepAlive</key><true/>", domain).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), Steady), DefaultSignalBehavior.Instance);

        Assert.True(o.Revived);
        Assert.Equal(LaunchdDecisionRule.KeepAliveTrue, o.Rule);
    }

    [Fact]
    public void A_missing_program_fails_every_scenario()
    {
        var domain = new LaunchdDomain { MissingPrograms = ["/usr/bin/hermes"] };
        var verdicts = ExitPolicyEvaluator.Evaluate(Config(Good), options: new EvaluationOptions { LaunchdDomain = domain });

        Assert.NotEmpty(verdicts);
        Assert.All(verdicts, v => Assert.False(v.Ok));
        Assert.All(verdicts, v => Assert.False(v.Revived));
        Assert.All(verdicts, v => Assert.Equal("78 (EX_CONFIG)", v.Result));
        Assert.All(verdicts, v => Assert.Contains("install the gateway at '/usr/bin/hermes'", v.Fix));
    }

    // §2.7 A disabled label

    [Fact]
    public void A_label_disabled_with_launchctl_disable_is_not_loaded_and_never_runs()
    {
        var domain = new LaunchdDomain { DisabledJobs = ["ai.hermes.gateway"] };
        var model = Model("<key>KeepAlive</key><true/>", domain);

        var o = model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), Steady), DefaultSignalBehavior.Instance);

        Assert.True(model.IsDisabled);
        Assert.Equal(LaunchdDecisionRule.Disabled, o.Rule);
        Assert.False(o.Revived);
        Assert.False(o.Pending);
        Assert.Equal("not loaded (disabled)", o.FinalState);
        Assert.Equal("(never ran)", o.LastExit);
        Assert.Contains("119", o.Unverified);
    }

    [Fact]
    public void The_plists_Disabled_key_disables_the_job_too()
    {
        var model = Model("<key>KeepAlive</key><true/><key>Disabled</key><true/>");

        Assert.True(model.Settings.Disabled);
        Assert.True(model.IsDisabled);
        Assert.Equal(LaunchdDecisionRule.Disabled, model.Apply(new LaunchdKickstart(KillFirst: true, Steady), ScriptedProcess.EndsWith("exit 0")).Rule);
    }

    [Fact]
    public void Another_disabled_label_leaves_this_job_alone()
    {
        var model = Model("<key>KeepAlive</key><true/><key>Disabled</key><false/>", new LaunchdDomain { DisabledJobs = ["com.example.other"] });

        Assert.False(model.IsDisabled);
        Assert.True(model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), Steady), DefaultSignalBehavior.Instance).Revived);
    }

    [Theory]
    [InlineData(LaunchdDomainKind.Gui, "launchctl enable gui/<uid>/ai.hermes.gateway")]
    [InlineData(LaunchdDomainKind.User, "launchctl enable user/<uid>/ai.hermes.gateway")]
    [InlineData(LaunchdDomainKind.System, "launchctl enable system/ai.hermes.gateway")]
    public void A_disabled_label_fails_every_scenario_and_the_fix_enables_it(LaunchdDomainKind kind, string fix)
    {
        var domain = new LaunchdDomain { Kind = kind, DisabledJobs = ["ai.hermes.gateway"] };
        var verdicts = ExitPolicyEvaluator.Evaluate(Config(Good), options: new EvaluationOptions { LaunchdDomain = domain });

        Assert.NotEmpty(verdicts);
        Assert.All(verdicts, v => Assert.False(v.Ok));
        Assert.All(verdicts, v => Assert.Equal("never runs", v.Gateway));
        Assert.All(verdicts, v => Assert.StartsWith(fix, v.Fix));
        Assert.All(verdicts, v => Assert.Contains("unverified", v.Unverified));
    }

    [Fact]
    public void A_plist_with_Disabled_true_fails_every_scenario_and_the_fix_removes_the_key()
    {
        var verdicts = ExitPolicyEvaluator.Evaluate(Config(Good + "<key>Disabled</key><true/>"));

        Assert.All(verdicts, v => Assert.False(v.Ok));
        Assert.All(verdicts, v => Assert.Contains("remove the Disabled key", v.Fix));
    }

    // §2.8 Children of the job

    [Fact]
    public void When_the_main_process_dies_the_job_group_gets_SIGTERM_and_only_a_new_session_or_an_ignoring_child_survives()
    {
        var o = Model("<key>KeepAlive</key><true/>").Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), Steady), DefaultSignalBehavior.Instance);

        var c = Assert.IsType<LaunchdChildren>(o.Children);
        Assert.StartsWith("survives", c.OwnSession);
        Assert.StartsWith("dies", c.JobGroup);
        Assert.StartsWith("survives", c.JobGroupIgnoringSigterm);
        Assert.Contains("launchd-842", c.Unverified);
    }

    [Fact]
    public void At_bootout_a_child_that_ignores_SIGTERM_is_not_SIGKILLed_by_launchd_842s_rule()
    {
        var o = Model(Good).Apply(new LaunchdBootout(Steady), ScriptedProcess.EndsWith("exit 0", 1));

        var c = Assert.IsType<LaunchdChildren>(o.Children);
        Assert.StartsWith("dies", c.JobGroup);
        Assert.StartsWith("survives", c.JobGroupIgnoringSigterm);
        Assert.Contains("ExitTimeOut bounds the main process only", c.JobGroupIgnoringSigterm);
        Assert.Contains("unverified", c.Unverified);
    }

    [Fact]
    public void AbandonProcessGroup_leaves_every_child_running()
    {
        var o = Model("<key>KeepAlive</key><true/><key>AbandonProcessGroup</key><true/>").Apply(new LaunchdKickstart(KillFirst: true, Steady), ScriptedProcess.EndsWith("exit 0"));

        var c = Assert.IsType<LaunchdChildren>(o.Children);
        Assert.StartsWith("survives", c.OwnSession);
        Assert.StartsWith("survives", c.JobGroup);
        Assert.StartsWith("survives", c.JobGroupIgnoringSigterm);
        Assert.Null(c.Unverified);
    }

    [Fact]
    public void A_process_that_keeps_running_has_no_answer_for_its_children()
    {
        var o = Model("<key>KeepAlive</key><true/>").Apply(new LaunchdExternalSignal(UnixSignal.SIGUSR2, Steady), ScriptedProcess.IgnoresEverything());

        Assert.Null(o.Ending);
        Assert.Null(o.Children);
    }

    [Fact]
    public void The_raw_event_answer_reports_the_children()
    {
        var a = ExitPolicyEvaluator.Answer(Config("<key>KeepAlive</key><true/>"), new SupervisorEventRequest(SupervisorEventKind.Exit, 1, null, null));

        Assert.NotNull(a.Children);
        Assert.Contains("own session (setsid): survives", a.Children);
    }

    [Fact]
    public void The_domain_can_say_the_jobs_program_is_missing_or_its_label_disabled_without_naming_them()
    {
        var missing = Model(Good, new LaunchdDomain { ProgramMissing = true }).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), Steady), DefaultSignalBehavior.Instance);
        Assert.Equal(LaunchdDecisionRule.SpawnFailed, missing.Rule);

        var disabled = Model(Good, new LaunchdDomain { JobDisabled = true }).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), Steady), DefaultSignalBehavior.Instance);
        Assert.Equal(LaunchdDecisionRule.Disabled, disabled.Rule);
        Assert.Contains("launchctl disable", disabled.Explanation, StringComparison.Ordinal);
        Assert.DoesNotContain("Disabled key", disabled.Unverified, StringComparison.Ordinal);
    }
}
