namespace HermesGateway.Core.Tests.Policy;

/// <summary>
/// The measured Hermes 0.16 contract beside the documented one, and the unit and plist defaults judged under both
/// (issue 10 item 2): every scenario holds for the module's units under either contract, and the trade-offs show.
/// </summary>
public sealed class Hermes016ContractTests
{
    private static readonly GatewayExitContract[] Both = [GatewayExitContract.Documented, GatewayExitContract.Hermes016];

    private static ServiceDefinition Module(ServicePlatform platform, ServiceScope scope, string? name = null, GatewayExitContract? contract = null) =>
        ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = platform,
            Scope = scope,
            Name = name,
            Executable = "/usr/local/bin/hermes",
            HermesHome = "/home/hermes/.hermes",
            User = scope is ServiceScope.System or ServiceScope.Daemon ? "hermes" : null,
            Contract = contract,
        });

    private static ScenarioVerdict Verdict(ServiceDefinition d, LifecycleScenario scenario, GatewayExitContract contract) =>
        Assert.Single(ExitPolicyEvaluator.Evaluate(ServiceFiles.ToConfiguration(d), contract, scenarios: [scenario]));

    public static TheoryData<string, ServicePlatform, ServiceScope, string?> ModuleUnits => new()
    {
        { "hermes-0.16", ServicePlatform.Systemd, ServiceScope.User, null },
        { "hermes-0.16", ServicePlatform.Systemd, ServiceScope.System, null },
        { "hermes-0.16", ServicePlatform.Systemd, ServiceScope.User, "hermes-gateway-relay" },
        { "hermes-0.16", ServicePlatform.Systemd, ServiceScope.System, "relay" },
        { "hermes-0.16", ServicePlatform.Launchd, ServiceScope.Agent, null },
        { "hermes-0.16", ServicePlatform.Launchd, ServiceScope.Daemon, null },
        { "documented", ServicePlatform.Systemd, ServiceScope.User, null },
        { "documented", ServicePlatform.Systemd, ServiceScope.System, "relay" },
        { "documented", ServicePlatform.Launchd, ServiceScope.Agent, null },
    };

    /// <summary>
    /// Files made for 0.16 (the cmdlets' default) hold under both contracts; files made for the documented contract hold
    /// under it (their 90 s stop timeout is shorter than 0.16's 195 s drain). launchd keeps the two limits no plist can
    /// lift: the documented exit 78 is relaunched, and an on-demand-only domain pends every spawn.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModuleUnits))]
    public void The_module_s_default_files_hold_every_scenario(string generatedFor, ServicePlatform platform, ServiceScope scope, string? name)
    {
        var made = GatewayExitContract.Named(generatedFor);
        var d = Module(platform, scope, name, made);
        foreach (var contract in made == GatewayExitContract.Hermes016 ? Both : [made])
        {
            var failed = ExitPolicyEvaluator.Evaluate(ServiceFiles.ToConfiguration(d), contract).Where(v => !v.Ok).Select(v => $"{contract.Name}/{v.Scenario}").ToList();
            string[] limits = platform == ServicePlatform.Launchd
                ? contract == GatewayExitContract.Documented ? ["documented/ConfigError", "documented/OnDemandOnlyRestart"] : ["hermes-0.16/OnDemandOnlyRestart"]
                : [];
            Assert.Equal(limits, failed);
        }
    }

    [Theory]
    [InlineData(ServiceScope.User, null)]
    [InlineData(ServiceScope.System, null)]
    [InlineData(ServiceScope.User, "hermes-gateway-relay")]
    public void The_unit_before_the_reviver_leaves_a_chat_restart_dead_under_0_16(ServiceScope scope, string? name)
    {
        // Issue 10's reproduction: Restart=on-failure + RestartForceExitStatus=75 and a gateway that ends /restart with 0.
        var d = Module(ServicePlatform.Systemd, scope, name);
        d = d with { Systemd = d.Systemd! with { ReviveRequestedRestart = false } };

        var v = Verdict(d, LifecycleScenario.RestartCommand, GatewayExitContract.Hermes016);

        Assert.False(v.Ok);
        Assert.False(v.Revived);
        Assert.Equal("inactive (dead)", v.FinalState);
        Assert.Contains("ExecStopPost=", v.Fix);
        Assert.True(Verdict(d, LifecycleScenario.RestartCommand, GatewayExitContract.Documented).Ok);
    }

    [Fact]
    public void With_the_reviver_a_chat_restart_is_started_again_at_once_and_not_as_a_failure()
    {
        var v = Verdict(Module(ServicePlatform.Systemd, ServiceScope.System, "relay"), LifecycleScenario.RestartCommand, GatewayExitContract.Hermes016);

        Assert.True(v.Ok, v.Why);
        Assert.True(v.Revived);
        Assert.Equal(TimeSpan.Zero, v.Delay);
        Assert.Equal("success", v.Result);
        Assert.Contains("ExecStopPost=", v.Why);
    }

    [Fact]
    public void A_unit_that_lets_the_gateway_see_INVOCATION_ID_gets_exit_0_on_the_restart_signal()
    {
        var d = Module(ServicePlatform.Systemd, ServiceScope.User);
        var visible = d with { Systemd = d.Systemd! with { HideInvocationId = false, ReviveRequestedRestart = false } };
        var bare = Verdict(visible, LifecycleScenario.ServiceRestart, GatewayExitContract.Hermes016);
        Assert.False(bare.Ok);
        Assert.StartsWith("drains, exits 0", bare.Gateway);

        var revived = Verdict(visible with { Systemd = visible.Systemd! with { ReviveRequestedRestart = true } }, LifecycleScenario.ServiceRestart, GatewayExitContract.Hermes016);
        Assert.True(revived.Ok, revived.Why);
        Assert.Contains("systemd-run helper", revived.Unverified);

        var hidden = Verdict(d with { Systemd = d.Systemd! with { ReviveRequestedRestart = false } }, LifecycleScenario.ServiceRestart, GatewayExitContract.Hermes016);
        Assert.True(hidden.Ok, hidden.Why);
        Assert.StartsWith("drains, exits 75", hidden.Gateway);
        Assert.Null(hidden.Unverified);
    }

    [Fact]
    public void A_manager_stop_with_the_reviver_stays_stopped_and_a_startup_failure_is_not_retried()
    {
        var d = Module(ServicePlatform.Systemd, ServiceScope.User, contract: GatewayExitContract.Hermes016);

        var stop = Verdict(d, LifecycleScenario.ManagerStop, GatewayExitContract.Hermes016);
        Assert.True(stop.Ok, stop.Why);
        Assert.False(stop.Revived);

        var config = Verdict(d, LifecycleScenario.ConfigError, GatewayExitContract.Hermes016);
        Assert.True(config.Ok, config.Why);
        Assert.False(config.Revived);
        Assert.Contains("startup_failed", config.Why);
        Assert.Contains("no unit setting can mark it failed", config.Why);

        var clean = Verdict(d, LifecycleScenario.CleanExit, GatewayExitContract.Hermes016);
        Assert.True(clean.Ok, clean.Why);
    }

    [Fact]
    public void Upstream_s_unit_revives_a_0_16_restart_only_through_Restart_always_after_RestartSec()
    {
        var v = Assert.Single(ExitPolicyEvaluator.Evaluate(ServiceFormats.Read(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service")),
            GatewayExitContract.Hermes016, scenarios: [LifecycleScenario.RestartCommand]));

        Assert.True(v.Revived);
        Assert.StartsWith("drains, exits 0", v.Gateway);
    }

    [Fact]
    public void A_reviver_start_counts_against_the_start_limit()
    {
        var d = Module(ServicePlatform.Systemd, ServiceScope.User);
        d = d with { Systemd = d.Systemd! with { StartLimitInterval = TimeSpan.FromSeconds(60), StartLimitBurst = 3 } };

        var v = Verdict(d, LifecycleScenario.RestartBurst, GatewayExitContract.Hermes016 with { RestartExitCode = 0 });

        Assert.False(v.Ok);
        Assert.Contains("start limit", v.Why);
    }

    [Theory]
    [InlineData("ai.hermes.gateway", true)]
    [InlineData("ai.hermes.gateway-work", true)]
    [InlineData("com.example.relay", false)]
    public void On_launchd_a_0_16_chat_restart_comes_back_only_through_the_gateway_s_own_helper_and_its_label(string label, bool ok)
    {
        var v = Verdict(Module(ServicePlatform.Launchd, ServiceScope.Agent, label), LifecycleScenario.RestartCommand, GatewayExitContract.Hermes016);

        Assert.Equal(ok, v.Ok);
        Assert.Equal(ok, v.Revived);
        Assert.Contains("no macOS here", v.Unverified);
    }

    [Fact]
    public void The_contract_resolves_its_restart_codes_by_what_the_gateway_sees()
    {
        var c = GatewayExitContract.Hermes016;

        Assert.Equal(75, c.InEnvironment(invocationIdVisible: false).RestartExitCode);
        Assert.Equal(0, c.InEnvironment(invocationIdVisible: true).RestartExitCode);
        Assert.Equal(0, c.RestartCommandExitCodeFor(false));
        Assert.Equal(75, GatewayExitContract.Documented.InEnvironment(true).RestartExitCode);
        Assert.Equal(75, GatewayExitContract.Documented.RestartCommandExitCodeFor(true));
        Assert.True(c.ConfigErrorIsPlannedStopCode);
        Assert.Equal(ExitMeaning.PlannedStop, c.MeaningOf(ProcessEnding.Exit(0)));
    }

    [Theory]
    [InlineData("hermes-0.16", "hermes-0.16")]
    [InlineData("0.16", "hermes-0.16")]
    [InlineData(" HERMES-0.16.0 ", "hermes-0.16")]
    [InlineData("Documented", "documented")]
    public void Contracts_are_known_by_name(string name, string expected) => Assert.Equal(expected, GatewayExitContract.Named(name).Name);

    [Fact]
    public void An_unknown_contract_name_is_refused_with_the_known_ones()
    {
        var e = Expect.Error(HermesErrorIds.ExitContractInvalid, () => GatewayExitContract.Named("0.17"));
        Assert.Contains("hermes-0.16", e.Message);
    }

    [Fact]
    public void Versions_map_to_the_measured_contract_only_for_0_16()
    {
        Assert.Same(GatewayExitContract.Hermes016, GatewayExitContract.ForVersion(new Version(0, 16, 3)));
        Assert.Null(GatewayExitContract.ForVersion(new Version(0, 17, 0)));
    }

    [Fact]
    public void The_0_16_rows_say_what_the_released_gateway_does()
    {
        var rows = GatewayExitContract.Hermes016.Rows();

        var command = Assert.Single(rows, r => r.Trigger == GatewayTrigger.RestartCommand);
        Assert.Equal(0, command.ExitCode);
        Assert.Contains("restart_requested", command.How);
        var signal = Assert.Single(rows, r => r.Trigger == GatewayTrigger.RestartSignal);
        Assert.Equal(75, signal.ExitCode);
        Assert.Contains("exits 0 instead when INVOCATION_ID is set", signal.How);
        Assert.Equal(0, Assert.Single(rows, r => r.Trigger == GatewayTrigger.ConfigError).ExitCode);
        Assert.Equal("SIGKILL", Assert.Single(rows, r => r.Trigger == GatewayTrigger.HungShutdown).Signal);
    }

    [Fact]
    public void The_reviver_and_the_hidden_id_read_back_from_the_rendered_unit()
    {
        var d = Module(ServicePlatform.Systemd, ServiceScope.System, "relay");
        var text = ServiceFiles.Render(d);
        Assert.Contains("ExecStopPost=+/bin/sh -c ", text);
        Assert.Contains(" hermes-revive-requested-restart /home/hermes/.hermes --system %n\n", text);

        var back = SystemdDefinitionReader.FromUnit(SystemdUnitReader.Parse(text, "/etc/systemd/system/relay.service"));
        Assert.True(back.Systemd!.ReviveRequestedRestart);
        Assert.True(back.Systemd.HideInvocationId);
        Assert.True(SystemdModel.RevivesRequestedRestart(SystemdUnitReader.Parse(text, "/x/relay.service").Settings));
        Assert.True(SystemdModel.HidesInvocationId(SystemdUnitReader.Parse(text, "/x/relay.service").Settings));
    }
}
