namespace HermesGateway.Core.Tests.Policy;

/// <summary>The gateway's exit contract (background.md, "The gateway's exit contract").</summary>
public sealed class ExitContractTests
{
    [Theory]
    [InlineData(GatewayTrigger.RestartSignal, "exit 75", ExitMeaning.PlannedRestart)]
    [InlineData(GatewayTrigger.RestartCommand, "exit 75", ExitMeaning.PlannedRestart)]
    [InlineData(GatewayTrigger.UpdateCommand, "exit 75", ExitMeaning.PlannedRestart)]
    [InlineData(GatewayTrigger.UnsupervisedRestartCommand, "exit 0", ExitMeaning.PlannedStop)]
    [InlineData(GatewayTrigger.StopSignalWithPlannedStopMarker, "exit 0", ExitMeaning.PlannedStop)]
    [InlineData(GatewayTrigger.StopSignalWithoutMarker, "exit 1", ExitMeaning.Unexpected)]
    [InlineData(GatewayTrigger.Interrupt, "exit 0", ExitMeaning.PlannedStop)]
    [InlineData(GatewayTrigger.Takeover, "exit 0", ExitMeaning.PlannedStop)]
    [InlineData(GatewayTrigger.FailedStart, "exit 1", ExitMeaning.Unexpected)]
    [InlineData(GatewayTrigger.ConfigError, "exit 78", ExitMeaning.ConfigError)]
    [InlineData(GatewayTrigger.HungShutdown, "exit 1", ExitMeaning.Unexpected)]
    [InlineData(GatewayTrigger.CrashSignal, "kill SIGSEGV", ExitMeaning.Killed)]
    [InlineData(GatewayTrigger.ExternalKill, "kill SIGKILL", ExitMeaning.Killed)]
    [InlineData(GatewayTrigger.OomKill, "kill SIGKILL", ExitMeaning.Killed)]
    public void Hermes_rows_carry_the_0_1_75_78_contract(GatewayTrigger trigger, string ending, ExitMeaning meaning)
    {
        var row = Assert.Single(GatewayExitContract.Hermes.Rows(), r => r.Trigger == trigger);

        Assert.Equal(Endings.Parse(ending), row.Ending);
        Assert.Equal(meaning, row.Meaning);
        Assert.Equal(meaning, GatewayExitContract.Hermes.MeaningOf(row.Ending));
    }

    [Fact]
    public void Every_trigger_has_exactly_one_row()
    {
        Assert.Equal(Enum.GetValues<GatewayTrigger>().Order(), GatewayExitContract.Hermes.Rows().Select(r => r.Trigger).Order());
    }

    [Fact]
    public void Rows_follow_a_changed_contract()
    {
        var contract = new GatewayExitContract { RestartExitCode = 42, ConfigErrorExitCode = 99, CoreDumps = true };
        var rows = contract.Rows();

        Assert.Equal(ProcessEnding.Exit(42), rows.Single(r => r.Trigger == GatewayTrigger.RestartSignal).Ending);
        Assert.Equal(ProcessEnding.Exit(99), rows.Single(r => r.Trigger == GatewayTrigger.ConfigError).Ending);
        Assert.True(rows.Single(r => r.Trigger == GatewayTrigger.CrashSignal).Ending.CoreDumped);
    }

    [Theory]
    [InlineData(UnixSignal.SIGUSR1, false, "exit 75")]
    [InlineData(UnixSignal.SIGTERM, true, "exit 0")]
    [InlineData(UnixSignal.SIGTERM, false, "exit 1")]
    [InlineData(UnixSignal.SIGINT, false, "exit 0")]
    [InlineData(UnixSignal.SIGKILL, false, "kill SIGKILL")]
    [InlineData(UnixSignal.SIGHUP, false, "kill SIGHUP")]
    [InlineData(UnixSignal.SIGSEGV, false, "kill SIGSEGV")]
    public void The_gateway_handles_signals_as_the_contract_says(UnixSignal signal, bool marked, string ending)
    {
        var r = GatewayExitContract.Hermes.OnSignal(signal, marked);

        Assert.Equal(Endings.Parse(ending), r.Ending);
    }

    [Theory]
    [InlineData(UnixSignal.SIGPIPE)]
    [InlineData(UnixSignal.SIGCHLD)]
    [InlineData(UnixSignal.SIGWINCH)]
    public void The_gateway_survives_signals_it_ignores(UnixSignal signal)
    {
        Assert.Null(GatewayExitContract.Hermes.OnSignal(signal, plannedStopMarked: false).Ending);
    }

    [Theory]
    [InlineData(nameof(GatewayExitContract.PlannedStopExitCode), 256)]
    [InlineData(nameof(GatewayExitContract.UnexpectedExitCode), 256)]
    [InlineData(nameof(GatewayExitContract.RestartExitCode), 256)]
    [InlineData(nameof(GatewayExitContract.ConfigErrorExitCode), 256)]
    [InlineData(nameof(GatewayExitContract.UnsupervisedRestartExitCode), 256)]
    [InlineData(nameof(GatewayExitContract.RestartExitCode), -1)]
    public void An_exit_code_outside_0_to_255_is_out_of_range(string property, int code)
    {
        var c = property switch
        {
            nameof(GatewayExitContract.PlannedStopExitCode) => new GatewayExitContract { PlannedStopExitCode = code },
            nameof(GatewayExitContract.UnexpectedExitCode) => new GatewayExitContract { UnexpectedExitCode = code },
            nameof(GatewayExitContract.RestartExitCode) => new GatewayExitContract { RestartExitCode = code },
            nameof(GatewayExitContract.ConfigErrorExitCode) => new GatewayExitContract { ConfigErrorExitCode = code },
            _ => new GatewayExitContract { UnsupervisedRestartExitCode = code },
        };

        Expect.Error(HermesErrorIds.ExitCodeOutOfRange, () => c.Validated());
    }

    public static TheoryData<GatewayExitContract> InvalidContracts() => new()
    {
        new GatewayExitContract { RestartSignal = UnixSignal.SIGKILL },
        new GatewayExitContract { StopSignal = UnixSignal.SIGKILL },
        new GatewayExitContract { InterruptSignal = UnixSignal.SIGSTOP },
        new GatewayExitContract { RestartSignal = UnixSignal.SIGTERM },
        new GatewayExitContract { RestartSignal = UnixSignal.SIGINT },
        new GatewayExitContract { RestartSignal = UnixSignal.SIGHUP, StopSignal = UnixSignal.SIGHUP },
        new GatewayExitContract { DrainTimeout = TimeSpan.FromSeconds(-1) },
        new GatewayExitContract { PlannedStopMarkerValidity = TimeSpan.FromSeconds(-1) },
        new GatewayExitContract { FailedStartRunTime = TimeSpan.FromSeconds(-1) },
    };

    [Theory]
    [MemberData(nameof(InvalidContracts))]
    public void A_contract_the_gateway_could_not_keep_is_invalid(GatewayExitContract contract)
    {
        Expect.Error(HermesErrorIds.ExitContractInvalid, () => contract.Validated());
    }

    [Theory]
    [MemberData(nameof(InvalidContracts))]
    public void Evaluate_refuses_an_invalid_contract(GatewayExitContract contract)
    {
        var config = new SystemdConfiguration(Units.Service("Restart=on-failure"));

        Expect.Error(HermesErrorIds.ExitContractInvalid, () => ExitPolicyEvaluator.Evaluate(config, contract));
    }

    [Fact]
    public void The_Hermes_contract_and_edge_values_are_valid()
    {
        Assert.Same(GatewayExitContract.Hermes, GatewayExitContract.Hermes.Validated());
        var edges = new GatewayExitContract { RestartExitCode = 255, PlannedStopExitCode = 0, RestartSignal = UnixSignal.SIGUSR2, DrainTimeout = TimeSpan.Zero };
        Assert.Same(edges, edges.Validated());
    }

    [Theory]
    // A config error beats a restart, a restart beats a stop, when a custom contract reuses a code.
    [InlineData(75, 75, ExitMeaning.ConfigError)]
    [InlineData(0, 78, ExitMeaning.PlannedRestart)]
    public void Reused_codes_resolve_in_a_fixed_order(int restart, int config, ExitMeaning meaning)
    {
        var c = new GatewayExitContract { RestartExitCode = restart, ConfigErrorExitCode = config };

        Assert.Equal(meaning, c.MeaningOf(ProcessEnding.Exit(restart)));
    }

    [Fact]
    public void Every_scenario_is_reached_from_some_contract_row()
    {
        var reached = GatewayExitContract.Hermes.Rows().SelectMany(r => r.Scenarios).ToHashSet();

        Assert.All(Enum.GetValues<LifecycleScenario>(), s => Assert.Contains(s, reached));
    }

    [Theory]
    [InlineData(GatewayTrigger.StopSignalWithoutMarker, LifecycleScenario.ExternalTerm)]
    [InlineData(GatewayTrigger.ConfigError, LifecycleScenario.ConfigError)]
    [InlineData(GatewayTrigger.Takeover, LifecycleScenario.CleanExit)]
    public void A_row_names_the_scenarios_that_play_it(GatewayTrigger trigger, LifecycleScenario scenario) =>
        Assert.Contains(scenario, GatewayExitContract.Hermes.Rows().Single(r => r.Trigger == trigger).Scenarios);
}
