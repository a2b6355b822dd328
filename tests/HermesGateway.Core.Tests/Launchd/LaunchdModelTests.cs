using System.Collections.Immutable;

namespace HermesGateway.Core.Tests.Launchd;

/// <summary>docs/models.md §2: launchd's exit classification, the KeepAlive table, throttling, bootout and kickstart.</summary>
public sealed class LaunchdModelTests
{
    private static readonly TimeSpan Steady = TimeSpan.FromHours(1);

    /// <summary>A job from plist XML for the dict body: Label and ProgramArguments are added.</summary>
    internal static LaunchdJob Job(string body) => LaunchdJobReader.Parse(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
        + "<plist version=\"1.0\"><dict><key>Label</key><string>ai.hermes.gateway</string>"
        + "<key>ProgramArguments</key><array><string>/usr/bin/hermes</string></array>" + body + "</dict></plist>",
        "/test/ai.hermes.gateway.plist");

    private static LaunchdModel Model(string body, LaunchdDomain? domain = null)
    {
        var job = Job(body);
        Assert.False(job.LoadRefused);
        return new LaunchdModel(job, domain);
    }

    [Theory]
    [InlineData("exit 0", true)]
    [InlineData("exit 1", false)]
    [InlineData("exit 75", false)]
    [InlineData("kill SIGTERM", false)]
    [InlineData("kill SIGKILL", false)]
    [InlineData("kill SIGINT", false)]
    [InlineData("core SIGSEGV", false)]
    public void Only_exit_0_is_a_successful_exit(string ending, bool successful)
    {
        Assert.Equal(successful, LaunchdModel.IsSuccessfulExit(Endings.Parse(ending)));
    }

    [Theory]
    [InlineData(UnixSignal.SIGILL, true)]
    [InlineData(UnixSignal.SIGABRT, true)]
    [InlineData(UnixSignal.SIGFPE, true)]
    [InlineData(UnixSignal.SIGBUS, true)]
    [InlineData(UnixSignal.SIGSEGV, true)]
    [InlineData(UnixSignal.SIGSYS, true)]
    [InlineData(UnixSignal.SIGTRAP, true)]
    [InlineData(UnixSignal.SIGKILL, false)]
    [InlineData(UnixSignal.SIGTERM, false)]
    [InlineData(UnixSignal.SIGHUP, false)]
    [InlineData(UnixSignal.SIGUSR1, false)]
    [InlineData(UnixSignal.SIGQUIT, false)]
    public void A_crash_is_death_by_one_of_the_seven_crash_signals(UnixSignal signal, bool crash)
    {
        Assert.Equal(crash, LaunchdModel.IsCrash(ProcessEnding.KilledBy(signal), stoppedByLaunchd: false));
    }

    [Fact]
    public void A_crash_signal_launchd_sent_itself_is_not_a_crash_and_an_exit_never_is()
    {
        Assert.False(LaunchdModel.IsCrash(ProcessEnding.KilledBy(UnixSignal.SIGSEGV), stoppedByLaunchd: true));
        Assert.False(LaunchdModel.IsCrash(ProcessEnding.Exit(139), stoppedByLaunchd: false));
    }

    // The columns of §2.2: exit 0, exit ≠ 0, crash signal, other signal (SIGKILL and SIGTERM).
    private static readonly string[] Endings4 = ["exit 0", "exit 1", "kill SIGSEGV", "kill SIGKILL", "kill SIGTERM"];

    // The rows of §2.2 as KeepAlive XML; marks per column (the "other signal" column applies to SIGKILL and SIGTERM alike).
    private static readonly (string KeepAlive, string Marks)[] KeepAliveTable =
    [
        ("", "- - - -"),
        ("<key>KeepAlive</key><false/>", "- - - -"),
        ("<key>KeepAlive</key><true/>", "R R R R"),
        ("<key>KeepAlive</key><dict><key>SuccessfulExit</key><true/></dict>", "R - - -"),
        ("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>", "- R R R"),
        ("<key>KeepAlive</key><dict><key>Crashed</key><true/></dict>", "- - R -"),
        ("<key>KeepAlive</key><dict><key>Crashed</key><false/></dict>", "R R - R"),
        ("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/><key>Crashed</key><true/></dict>", "- R R R"),
        ("<key>KeepAlive</key><dict><key>SuccessfulExit</key><true/><key>Crashed</key><true/></dict>", "R - R -"),
        ("<key>KeepAlive</key><dict><key>SuccessfulExit</key><true/><key>Crashed</key><false/></dict>", "R R - R"),
        ("<key>OnDemand</key><false/>", "R R R R"),
        ("<key>OnDemand</key><true/>", "- - - -"),
    ];

    public static TheoryData<string, string, bool> KeepAliveCells()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (keepAlive, marks) in KeepAliveTable)
        {
            var m = marks.Split(' ');
            for (var i = 0; i < Endings4.Length; i++)
            {
                data.Add(keepAlive, Endings4[i], m[Math.Min(i, 3)] == "R");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KeepAliveCells))]
    public void KeepAlive_relaunches_as_the_decision_table_says(string keepAlive, string ending, bool relaunched)
    {
        var o = Model(keepAlive).Apply(new LaunchdProcessEnded(Endings.Parse(ending), Steady), DefaultSignalBehavior.Instance);

        Assert.Equal(relaunched, o.Revived);
        Assert.False(o.Pending);
        Assert.Equal(relaunched ? "running" : "not running", o.FinalState);
    }

    [Theory]
    [InlineData("/tmp/flag", true, true)]
    [InlineData("/tmp/flag", false, false)]
    public void PathState_true_relaunches_while_the_path_exists(string path, bool exists, bool relaunched)
    {
        var domain = new LaunchdDomain { ExistingPaths = exists ? ImmutableHashSet.Create(path) : [] };
        var model = Model($"<key>KeepAlive</key><dict><key>PathState</key><dict><key>{path}</key><true/></dict></dict>", domain);

        Assert.Equal(relaunched, model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), Steady), DefaultSignalBehavior.Instance).Revived);
        Assert.Equal(relaunched, model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), Steady), DefaultSignalBehavior.Instance).Revived);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void PathState_false_relaunches_while_the_path_is_absent(bool exists, bool relaunched)
    {
        var domain = new LaunchdDomain { ExistingPaths = exists ? ImmutableHashSet.Create("/tmp/stop") : [] };
        var model = Model("<key>KeepAlive</key><dict><key>PathState</key><dict><key>/tmp/stop</key><false/></dict></dict>", domain);

        Assert.Equal(relaunched, model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), Steady), DefaultSignalBehavior.Instance).Revived);
    }

    [Theory]
    [InlineData("com.example.db", true)]
    [InlineData("com.example.other", false)]
    public void OtherJobEnabled_relaunches_while_the_other_job_is_loaded(string loaded, bool relaunched)
    {
        var domain = new LaunchdDomain { LoadedJobs = ImmutableHashSet.Create(loaded) };
        var model = Model("<key>KeepAlive</key><dict><key>OtherJobEnabled</key><dict><key>com.example.db</key><true/></dict></dict>", domain);

        Assert.Equal(relaunched, model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), Steady), DefaultSignalBehavior.Instance).Revived);
    }

    [Fact]
    public void Conditions_are_ORed_with_PathState()
    {
        // SuccessfulExit=false alone would not relaunch an exit 0; an existing path does.
        var domain = new LaunchdDomain { ExistingPaths = ImmutableHashSet.Create("/tmp/flag") };
        var model = Model("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/><key>PathState</key><dict><key>/tmp/flag</key><true/></dict></dict>", domain);
        var without = Model("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/><key>PathState</key><dict><key>/tmp/flag</key><true/></dict></dict>");

        Assert.True(model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), Steady), DefaultSignalBehavior.Instance).Revived);
        Assert.False(without.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), Steady), DefaultSignalBehavior.Instance).Revived);
    }

    [Theory]
    // AfterInitialDemand holds every keep-alive back until the first demand; afterwards the other keys apply.
    [InlineData("<key>AfterInitialDemand</key><true/>", false, "exit 0", false)]
    [InlineData("<key>AfterInitialDemand</key><true/>", true, "exit 0", true)]
    [InlineData("<key>AfterInitialDemand</key><true/>", true, "kill SIGKILL", true)]
    [InlineData("<key>AfterInitialDemand</key><true/><key>SuccessfulExit</key><false/>", false, "exit 1", false)]
    [InlineData("<key>AfterInitialDemand</key><true/><key>SuccessfulExit</key><false/>", true, "exit 1", true)]
    [InlineData("<key>AfterInitialDemand</key><true/><key>SuccessfulExit</key><false/>", true, "exit 0", false)]
    public void AfterInitialDemand_waits_for_a_first_demand(string dict, bool demandedOnce, string ending, bool relaunch)
    {
        var model = Model($"<key>KeepAlive</key><dict>{dict}</dict>");

        var (again, _, _) = model.ShouldRelaunch(Endings.Parse(ending), stoppedByLaunchd: false, demandedOnce);

        Assert.Equal(relaunch, again);
    }

    [Theory]
    [InlineData("exit 0")]
    [InlineData("exit 1")]
    [InlineData("kill SIGSEGV")]
    public void LaunchOnlyOnce_never_respawns(string ending)
    {
        var o = Model("<key>KeepAlive</key><true/><key>LaunchOnlyOnce</key><true/>").Apply(new LaunchdProcessEnded(Endings.Parse(ending), Steady), DefaultSignalBehavior.Instance);

        Assert.False(o.Revived);
        Assert.Equal(LaunchdDecisionRule.LaunchOnlyOnce, o.Rule);
    }

    [Fact]
    public void A_domain_shutting_down_relaunches_nothing()
    {
        var o = Model("<key>KeepAlive</key><true/>", new LaunchdDomain { ShuttingDown = true }).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), Steady), DefaultSignalBehavior.Instance);

        Assert.False(o.Revived);
        Assert.Equal(LaunchdDecisionRule.ShuttingDown, o.Rule);
    }

    [Theory]
    // ThrottleInterval is a minimum run time; launchd counts whole seconds.
    [InlineData(10, 0.5, 10)]
    [InlineData(10, 3.9, 7)]
    [InlineData(10, 9.99, 1)]
    [InlineData(10, 10.0, 0)]
    [InlineData(10, 12.0, 0)]
    [InlineData(30, 2.0, 28)]
    [InlineData(1, 0.2, 1)]
    [InlineData(0, 0.0, 0)]
    public void ThrottleInterval_delays_a_respawn_by_what_is_left_of_the_minimum_run_time(int throttle, double ranSeconds, int delaySeconds)
    {
        var model = Model($"<key>KeepAlive</key><true/><key>ThrottleInterval</key><integer>{throttle}</integer>");

        var o = model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), TimeSpan.FromSeconds(ranSeconds)), DefaultSignalBehavior.Instance);

        Assert.True(o.Revived);
        Assert.Equal(TimeSpan.FromSeconds(delaySeconds), o.Delay);
        Assert.Equal(delaySeconds == 0 ? "running" : "spawn scheduled", o.FinalState);
    }

    [Fact]
    public void ThrottleInterval_defaults_to_10_s()
    {
        var model = Model("<key>KeepAlive</key><true/>");

        Assert.Equal(10, model.Settings.ThrottleInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), model.ThrottleDelay(TimeSpan.FromSeconds(0.5)));
    }

    [Theory]
    [InlineData("<key>KeepAlive</key><true/>")]
    [InlineData("<key>KeepAlive</key><dict><key>SuccessfulExit</key><true/></dict>")]
    [InlineData("<key>KeepAlive</key><false/>")]
    public void Bootout_never_relaunches(string keepAlive)
    {
        var o = Model(keepAlive).Apply(new LaunchdBootout(Steady), ScriptedProcess.EndsWith("exit 0", 1));

        Assert.False(o.Revived);
        Assert.Equal(LaunchdDecisionRule.Bootout, o.Rule);
        Assert.Equal("unloaded", o.FinalState);
        Assert.Equal(ProcessEnding.Exit(0), o.Ending);
    }

    [Theory]
    // SIGTERM first; SIGKILL after ExitTimeOut when the process needs longer or ignores it.
    [InlineData(25, 10.0, "exit 0", 10.0)]
    [InlineData(25, 60.0, "kill SIGKILL", 25.0)]
    [InlineData(25, 25.0, "kill SIGKILL", 25.0)]
    [InlineData(90, 60.0, "exit 0", 60.0)]
    public void Bootout_SIGKILLs_a_process_that_outlasts_ExitTimeOut(int exitTimeOut, double needs, string ending, double took)
    {
        var process = ScriptedProcess.EndsWith("exit 0", needs);
        var o = Model($"<key>KeepAlive</key><true/><key>ExitTimeOut</key><integer>{exitTimeOut}</integer>").Apply(new LaunchdBootout(Steady), process);

        Assert.Equal(UnixSignal.SIGTERM, Assert.Single(process.Received).Signal);
        Assert.Equal(Endings.Parse(ending), o.Ending);
        Assert.Equal(TimeSpan.FromSeconds(took), o.EndedAfter);
        Assert.False(o.Revived);
    }

    [Fact]
    public void Bootout_of_a_process_that_ignores_SIGTERM_ends_in_SIGKILL()
    {
        var o = Model("<key>ExitTimeOut</key><integer>5</integer>").Apply(new LaunchdBootout(Steady), ScriptedProcess.IgnoresEverything());

        Assert.Equal(ProcessEnding.KilledBy(UnixSignal.SIGKILL), o.Ending);
        Assert.Equal(TimeSpan.FromSeconds(5), o.EndedAfter);
    }

    [Fact]
    public void ExitTimeOut_zero_waits_forever()
    {
        var model = Model("<key>ExitTimeOut</key><integer>0</integer>");

        Assert.Equal(TimeSpan.MaxValue, model.EffectiveExitTimeOut);
        Assert.Equal(ProcessEnding.Exit(0), model.Apply(new LaunchdBootout(Steady), ScriptedProcess.EndsWith("exit 0", 3600)).Ending);
    }

    [Fact]
    public void An_unset_ExitTimeOut_is_marked_unverified()
    {
        var o = Model(string.Empty).Apply(new LaunchdBootout(Steady), ScriptedProcess.EndsWith("exit 0"));

        Assert.NotNull(o.Unverified);
        Assert.Equal(TimeSpan.FromSeconds(LaunchdJobSettings.AssumedDefaultExitTimeOut), new LaunchdModel(Job(string.Empty)).EffectiveExitTimeOut);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<key>KeepAlive</key><false/>")]
    [InlineData("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict><key>ThrottleInterval</key><integer>60</integer>")]
    public void Kickstart_k_runs_the_job_at_once_whatever_its_launch_conditions(string body)
    {
        var process = ScriptedProcess.EndsWith("exit 0", 2);
        var onDemandOnly = new LaunchdDomain { OnDemandOnly = true };

        var o = Model(body, onDemandOnly).Apply(new LaunchdKickstart(KillFirst: true, TimeSpan.FromSeconds(1)), process);

        Assert.True(o.Revived);
        Assert.False(o.Pending);
        Assert.Equal(TimeSpan.Zero, o.Delay);
        Assert.Equal("running", o.FinalState);
        Assert.Equal(LaunchdDecisionRule.Kickstart, o.Rule);
        Assert.Equal(UnixSignal.SIGTERM, Assert.Single(process.Received).Signal);
    }

    [Fact]
    public void Kickstart_without_k_leaves_a_running_job_alone()
    {
        var process = ScriptedProcess.EndsWith("exit 0");
        var o = Model("<key>KeepAlive</key><true/>").Apply(new LaunchdKickstart(KillFirst: false, Steady), process);

        Assert.Null(o.Ending);
        Assert.Empty(process.Received);
        Assert.False(o.Revived);
        Assert.Equal("running", o.FinalState);
    }

    [Theory]
    [InlineData(LaunchdDomainKind.Gui, true)]
    [InlineData(LaunchdDomainKind.User, true)]
    [InlineData(LaunchdDomainKind.System, false)]
    public void An_on_demand_only_domain_pends_keep_alive_spawns_except_in_the_system_domain(LaunchdDomainKind kind, bool pending)
    {
        var domain = new LaunchdDomain { Kind = kind, OnDemandOnly = true };

        var o = Model("<key>KeepAlive</key><true/>", domain).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(75), Steady), DefaultSignalBehavior.Instance);

        Assert.Equal(pending, o.Pending);
        Assert.Equal(!pending, o.Revived);
        Assert.Equal(pending ? LaunchdDecisionRule.OnDemandOnlyDomain : LaunchdDecisionRule.KeepAliveTrue, o.Rule);
    }

    [Fact]
    public void An_on_demand_only_domain_does_not_turn_a_stop_into_a_pending_spawn()
    {
        var domain = new LaunchdDomain { OnDemandOnly = true };

        var o = Model("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>", domain).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), Steady), DefaultSignalBehavior.Instance);

        Assert.False(o.Pending);
        Assert.False(o.Revived);
    }

    private const string Wrapped = "<key>ProgramArguments</key><array><string>/usr/bin/python3</string><string>-m</string><string>hermes_cli.stderr_timestamp</string><string>/usr/bin/hermes</string></array>";

    [Theory]
    // The stderr_timestamp wrapper: 78 → 0, a signal death → exit 128 + the Darwin signal number, other exits unchanged.
    [InlineData("exit 78", "exit 0")]
    [InlineData("exit 0", "exit 0")]
    [InlineData("exit 1", "exit 1")]
    [InlineData("exit 75", "exit 75")]
    [InlineData("kill SIGTERM", "exit 143")]
    [InlineData("kill SIGKILL", "exit 137")]
    [InlineData("kill SIGSEGV", "exit 139")]
    [InlineData("kill SIGUSR1", "exit 158")]
    [InlineData("kill SIGBUS", "exit 138")]
    [InlineData("core SIGABRT", "exit 134")]
    public void The_stderr_timestamp_wrapper_rewrites_what_launchd_sees(string gateway, string seen)
    {
        var model = Model(Wrapped);

        Assert.True(model.Settings.WrapperRewritesExits);
        Assert.Equal(Endings.Parse(seen), model.SeenByLaunchd(Endings.Parse(gateway)));
    }

    [Theory]
    // A crash seen through the wrapper is an exit, so Crashed=true no longer relaunches it; 78 becomes a successful exit.
    [InlineData("<key>KeepAlive</key><dict><key>Crashed</key><true/></dict>", "kill SIGSEGV", false)]
    [InlineData("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>", "exit 78", false)]
    [InlineData("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>", "kill SIGKILL", true)]
    public void The_wrapper_changes_the_relaunch_decision(string keepAlive, string gateway, bool relaunched)
    {
        var model = Model(Wrapped + keepAlive);

        Assert.Equal(relaunched, model.Apply(new LaunchdProcessEnded(Endings.Parse(gateway), Steady), DefaultSignalBehavior.Instance).Revived);
    }

    [Fact]
    public void Without_the_wrapper_launchd_sees_the_gateway_ending_itself()
    {
        var model = Model(string.Empty);

        Assert.False(model.Settings.WrapperRewritesExits);
        Assert.Equal(ProcessEnding.Exit(78), model.SeenByLaunchd(ProcessEnding.Exit(78)));
        Assert.Equal(ProcessEnding.KilledBy(UnixSignal.SIGTERM), model.SeenByLaunchd(ProcessEnding.KilledBy(UnixSignal.SIGTERM)));
    }

    [Theory]
    // An external kill -TERM: the gateway exits 1 without a planned-stop marker; a payload without handlers dies of SIGTERM.
    [InlineData(true, "exit 1")]
    [InlineData(false, "kill SIGTERM")]
    public void An_external_signal_ends_the_process_the_way_it_reacts(bool gateway, string ending)
    {
        IProcessBehavior behavior = gateway ? GatewayExitContract.Hermes : DefaultSignalBehavior.Instance;
        var o = Model("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>").Apply(new LaunchdExternalSignal(UnixSignal.SIGTERM, Steady), behavior);

        Assert.Equal(Endings.Parse(ending), o.Ending);
        Assert.True(o.Revived);
    }

    [Fact]
    public void A_job_launchd_refuses_to_load_never_runs()
    {
        var job = LaunchdJobReader.Parse("<plist version=\"1.0\"><dict><key>KeepAlive</key><true/></dict></plist>", "/test/x.plist");
        var o = new LaunchdModel(job).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(1), Steady), DefaultSignalBehavior.Instance);

        Assert.False(o.Revived);
        Assert.Equal(LaunchdDecisionRule.LoadRefused, o.Rule);
    }

    [Theory]
    [InlineData("exit 3", "last exit code = 3")]
    [InlineData("kill SIGKILL", "last terminating signal = SIGKILL")]
    public void LastExit_reads_like_launchctl_print(string ending, string text)
    {
        Assert.Equal(text, LaunchdModel.LastExitText(Endings.Parse(ending)));
    }
}
