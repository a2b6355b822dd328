namespace HermesGateway.Core.Tests.Systemd;

/// <summary>docs/models.md §1.2: the restart decision, in its order, and the Restart= × Result= table.</summary>
public sealed class SystemdRestartDecisionTests
{
    private static readonly RestartPolicy[] Columns =
        [RestartPolicy.No, RestartPolicy.OnSuccess, RestartPolicy.OnFailure, RestartPolicy.OnAbnormal, RestartPolicy.OnWatchdog, RestartPolicy.OnAbort, RestartPolicy.Always];

    // The table of §1.2, copied row by row (R = restart). Columns: no on-success on-failure on-abnormal on-watchdog on-abort always.
    private static readonly (ServiceResult Result, string Cells)[] Table =
    [
        (ServiceResult.Success,       "- R - - - - R"),
        (ServiceResult.ExitCode,      "- - R - - - R"),
        (ServiceResult.Signal,        "- - R R - R R"),
        (ServiceResult.CoreDump,      "- - R R - R R"),
        (ServiceResult.Timeout,       "- - R R - - R"),
        (ServiceResult.Watchdog,      "- - R R R - R"),
        (ServiceResult.OomKill,       "- - R R - - R"),
        (ServiceResult.Protocol,      "- - R R - - R"),
        (ServiceResult.Resources,     "- - R R - - R"),
        (ServiceResult.ExecCondition, "- - - - - - -"),
    ];

    public static TheoryData<RestartPolicy, ServiceResult, bool> EveryCell()
    {
        var data = new TheoryData<RestartPolicy, ServiceResult, bool>();
        foreach (var (result, cells) in Table)
        {
            var marks = cells.Split(' ');
            for (var i = 0; i < Columns.Length; i++)
            {
                data.Add(Columns[i], result, marks[i] == "R");
            }
        }

        return data;
    }

    [Fact]
    public void The_table_has_all_seventy_cells()
    {
        Assert.Equal(70, EveryCell().Count);
    }

    [Theory]
    [MemberData(nameof(EveryCell))]
    public void RestartTable_matches_every_cell(RestartPolicy policy, ServiceResult result, bool restarts)
    {
        Assert.Equal(restarts, SystemdModel.RestartTable(policy, result));
    }

    [Theory]
    [MemberData(nameof(EveryCell))]
    public void ShallRestart_falls_through_to_the_table_when_no_list_matches(RestartPolicy policy, ServiceResult result, bool restarts)
    {
        // Lists that hold other statuses than the ending's: steps 1 and 2 must not fire.
        var model = new SystemdModel(new SystemdServiceSettings
        {
            Restart = policy,
            RestartPreventExitStatus = ExitStatusSet.Of(78),
            RestartForceExitStatus = ExitStatusSet.Of(75),
        });

        var (restart, rule, _) = model.ShallRestart(result, ProcessEnding.Exit(3), managerStop: false);

        Assert.Equal(restarts, restart);
        Assert.Equal(SystemdDecisionRule.RestartSetting, rule);
    }

    [Theory]
    [InlineData(RestartPolicy.Always, ServiceResult.Signal)]
    [InlineData(RestartPolicy.OnFailure, ServiceResult.ExitCode)]
    [InlineData(RestartPolicy.OnSuccess, ServiceResult.Success)]
    public void A_manager_stop_never_restarts_even_with_a_forcing_list(RestartPolicy policy, ServiceResult result)
    {
        var model = new SystemdModel(new SystemdServiceSettings { Restart = policy, RestartForceExitStatus = ExitStatusSet.Of(75) });

        var (restart, rule, _) = model.ShallRestart(result, ProcessEnding.Exit(75), managerStop: true);

        Assert.False(restart);
        Assert.Equal(SystemdDecisionRule.ManagerStop, rule);
    }

    [Theory]
    [InlineData("Restart=always", "exit 78")]
    [InlineData("Restart=on-failure", "exit 78")]
    [InlineData("Restart=always", "kill SIGKILL")]
    [InlineData("Restart=on-abort", "core SIGABRT")]
    public void RestartPreventExitStatus_stops_a_restart_the_setting_would_make(string restart, string ending)
    {
        var model = Units.Model(restart, "RestartPreventExitStatus=78 SIGKILL SIGABRT");
        var e = Endings.Parse(ending);

        var (again, rule, _) = model.ShallRestart(model.Classify(e).Result, e, managerStop: false);

        Assert.False(again);
        Assert.Equal(SystemdDecisionRule.RestartPreventExitStatus, rule);
    }

    [Theory]
    [InlineData("exit 75")]
    [InlineData("kill SIGUSR1")]
    public void RestartPreventExitStatus_wins_over_RestartForceExitStatus(string ending)
    {
        var model = Units.Model("Restart=always", "RestartForceExitStatus=75 SIGUSR1", "RestartPreventExitStatus=75 SIGUSR1");
        var e = Endings.Parse(ending);

        var (again, rule, _) = model.ShallRestart(model.Classify(e).Result, e, managerStop: false);

        Assert.False(again);
        Assert.Equal(SystemdDecisionRule.RestartPreventExitStatus, rule);
    }

    [Theory]
    [InlineData("Restart=no", "exit 75", "SuccessExitStatus=75")]
    [InlineData("Restart=no", "exit 75", "")]
    [InlineData("Restart=on-failure", "exit 75", "SuccessExitStatus=75")]
    [InlineData("Restart=on-abort", "exit 75", "")]
    [InlineData("Restart=no", "kill SIGUSR1", "")]
    [InlineData("Restart=on-watchdog", "kill SIGHUP", "")]
    public void RestartForceExitStatus_restarts_whatever_Restart_says(string restart, string ending, string success)
    {
        var model = Units.Model(restart, "RestartForceExitStatus=75 SIGUSR1 SIGHUP", success);
        var e = Endings.Parse(ending);

        var (again, rule, _) = model.ShallRestart(model.Classify(e).Result, e, managerStop: false);

        Assert.True(again);
        Assert.Equal(SystemdDecisionRule.RestartForceExitStatus, rule);
    }

    [Fact]
    public void Without_RestartForceExitStatus_a_success_exit_is_not_restarted_under_on_failure()
    {
        var model = Units.Model("Restart=on-failure", "SuccessExitStatus=75");
        var (again, rule, _) = model.ShallRestart(ServiceResult.Success, ProcessEnding.Exit(75), managerStop: false);

        Assert.False(again);
        Assert.Equal(SystemdDecisionRule.RestartSetting, rule);
    }

    [Fact]
    public void Oneshot_with_RestartForceExitStatus_and_a_successful_run_is_not_restarted()
    {
        // Loadable only from v256 on; v252 refuses it (see the reader tests).
        var unit = Units.ServiceOn(256, "Type=oneshot", "Restart=no", "RestartForceExitStatus=75", "SuccessExitStatus=75");
        Assert.False(unit.LoadRefused);
        var model = new SystemdModel(unit);

        var (again, _, _) = model.ShallRestart(ServiceResult.Success, ProcessEnding.Exit(75), managerStop: false);

        Assert.False(again);
    }

    [Fact]
    public void Oneshot_with_RestartForceExitStatus_and_a_failed_run_is_restarted()
    {
        var model = new SystemdModel(Units.ServiceOn(256, "Type=oneshot", "Restart=no", "RestartForceExitStatus=75"));

        var (again, rule, _) = model.ShallRestart(ServiceResult.ExitCode, ProcessEnding.Exit(75), managerStop: false);

        Assert.True(again);
        Assert.Equal(SystemdDecisionRule.RestartForceExitStatus, rule);
    }

    [Fact]
    public void Lists_are_not_consulted_when_no_main_process_ending_is_known()
    {
        var model = Units.Model("Restart=no", "RestartForceExitStatus=75", "RestartPreventExitStatus=1");

        Assert.False(model.ShallRestart(ServiceResult.ExitCode, null, managerStop: false).Restart);
        Assert.Equal(SystemdDecisionRule.RestartSetting, model.ShallRestart(ServiceResult.ExitCode, null, managerStop: false).Rule);
    }

    [Fact]
    public void An_exit_code_does_not_match_a_signal_with_the_same_number()
    {
        // 15 in RestartPreventExitStatus= is the exit code 15, not SIGTERM.
        var model = Units.Model("Restart=always", "RestartPreventExitStatus=15");
        var e = ProcessEnding.KilledBy(UnixSignal.SIGTERM);

        Assert.True(model.ShallRestart(model.Classify(e).Result, e, managerStop: false).Restart);
    }

    [Theory]
    [InlineData("exit 0", true)]
    [InlineData("exit 1", true)]
    [InlineData("kill SIGTERM", true)]
    [InlineData("kill SIGKILL", true)]
    [InlineData("exit 78", false)]
    public void Upstream_unit_restarts_every_ending_but_the_config_error(string ending, bool restarts)
    {
        var unit = SystemdUnitReader.ReadFile(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service"));
        var model = new SystemdModel(unit);
        var e = Endings.Parse(ending);

        Assert.Equal(restarts, model.ShallRestart(model.Classify(e).Result, e, managerStop: false).Restart);
    }
}
