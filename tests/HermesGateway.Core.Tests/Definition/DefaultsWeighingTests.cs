namespace HermesGateway.Core.Tests.Definition;

/// <summary>
/// Why the defaults are what they are: each plausible alternative, played through the model, fails a scenario the
/// default passes. If the model changes so that an alternative passes, these tests say the choice needs a new look.
/// </summary>
public sealed class DefaultsWeighingTests
{
    private static IReadOnlyList<ScenarioVerdict> Judge(ServiceDefinition d, int version = 252) =>
        ExitPolicyEvaluator.Evaluate(ServiceFiles.ToConfiguration(d, version), options: new EvaluationOptions { SystemdVersion = version });

    private static ServiceDefinition Systemd(Func<SystemdRestartOptions, SystemdRestartOptions> change, int version = 252)
    {
        var d = ServiceDefinitionFactory.Create(SystemdDefinitionTests.UserRequest(version: version));
        return d with { Systemd = change(d.Systemd!) };
    }

    private static ServiceDefinition Launchd(Func<LaunchdRestartOptions, LaunchdRestartOptions> change)
    {
        var d = ServiceDefinitionFactory.Create(LaunchdDefinitionTests.AgentRequest());
        return d with { Launchd = change(d.Launchd!) };
    }

    public static TheoryData<string, LifecycleScenario> SystemdAlternatives => new()
    {
        // Listing 1 as success also keeps 'systemctl stop' from ending failed, but hides real deaths from alerting.
        { "SuccessExitStatus=75 1 instead of the ExecStop= marker", LifecycleScenario.ExternalTerm },
        { "Restart=always (upstream's choice)", LifecycleScenario.CleanExit },
        { "no RestartForceExitStatus= under Restart=on-failure", LifecycleScenario.ServiceRestart },
        { "75 not in SuccessExitStatus=", LifecycleScenario.ServiceRestart },
        { "no RestartPreventExitStatus=78", LifecycleScenario.ConfigError },
        { "systemd's default start limit with RestartSec=100ms", LifecycleScenario.CrashLoop },
        { "StartLimitIntervalSec=0 with RestartSec=100ms", LifecycleScenario.CrashLoop },
        { "RestartSec=10s", LifecycleScenario.ServiceRestart },
        { "no ExecStop= marker", LifecycleScenario.ManagerStop },
    };

    [Theory]
    [MemberData(nameof(SystemdAlternatives))]
    public void Each_systemd_alternative_fails_a_scenario_the_default_passes(string alternative, LifecycleScenario fails)
    {
        var d = alternative switch
        {
            "SuccessExitStatus=75 1 instead of the ExecStop= marker" => Systemd(o => o with { SuccessExitStatus = ExitStatusSet.Of(75, 1), MarkPlannedStop = false }),
            "Restart=always (upstream's choice)" => Systemd(o => o with { Restart = RestartPolicy.Always }),
            "no RestartForceExitStatus= under Restart=on-failure" => Systemd(o => o with { RestartForceExitStatus = ExitStatusSet.Empty }),
            "75 not in SuccessExitStatus=" => Systemd(o => o with { SuccessExitStatus = ExitStatusSet.Empty }),
            "no RestartPreventExitStatus=78" => Systemd(o => o with { RestartPreventExitStatus = ExitStatusSet.Empty }),
            "systemd's default start limit with RestartSec=100ms" => Systemd(o => o with { RestartSec = TimeSpan.FromMilliseconds(100), StartLimitInterval = null }),
            "StartLimitIntervalSec=0 with RestartSec=100ms" => Systemd(o => o with { RestartSec = TimeSpan.FromMilliseconds(100) }),
            "RestartSec=10s" => Systemd(o => o with { RestartSec = TimeSpan.FromSeconds(10) }),
            _ => Systemd(o => o with { MarkPlannedStop = false }),
        };

        Assert.False(Judge(d).Single(v => v.Scenario == fails).Ok, $"{alternative} unexpectedly passes {fails}");
        Assert.True(Judge(ServiceDefinitionFactory.Create(SystemdDefinitionTests.UserRequest())).Single(v => v.Scenario == fails).Ok);
    }

    [Fact]
    public void On_254_a_restart_back_off_capped_above_the_revival_limit_slows_later_planned_restarts()
    {
        // NRestarts only resets on a manual start, so every planned restart climbs the RestartSteps= ladder.
        var wide = Systemd(o => o with { RestartMaxDelay = TimeSpan.FromMinutes(1) }, 254);

        Assert.False(Judge(wide, 254).Single(v => v.Scenario == LifecycleScenario.RestartBurst).Ok);
        Assert.True(Judge(ServiceDefinitionFactory.Create(SystemdDefinitionTests.UserRequest(version: 254)), 254).Single(v => v.Scenario == LifecycleScenario.RestartBurst).Ok);
    }

    [Fact]
    public void KillSignal_SIGINT_would_also_pass_every_scenario_the_marker_passes()
    {
        // A recorded alternative: SIGINT is a planned stop too. The ExecStop= marker is kept because the contract's
        // stop signal is SIGTERM (what shutdown, OOM handling and admins send) and the marker is what Hermes checks.
        var sigint = Systemd(o => o with { KillSignal = HermesGateway.Core.Platform.UnixSignal.SIGINT, MarkPlannedStop = false });

        Assert.All(Judge(sigint), v => Assert.True(v.Ok, $"{v.Scenario}: {v.Why}"));
    }

    public static TheoryData<string, LifecycleScenario> LaunchdAlternatives => new()
    {
        { "KeepAlive=true (upstream's choice)", LifecycleScenario.CleanExit },
        { "ThrottleInterval=30 (upstream's choice)", LifecycleScenario.RestartBurst },
        { "ThrottleInterval=1", LifecycleScenario.CrashLoop },
        { "KeepAlive={Crashed=true}", LifecycleScenario.ServiceRestart },
        { "no KeepAlive", LifecycleScenario.ExternalKill },
    };

    [Theory]
    [MemberData(nameof(LaunchdAlternatives))]
    public void Each_launchd_alternative_fails_a_scenario_the_default_passes(string alternative, LifecycleScenario fails)
    {
        var d = alternative switch
        {
            "KeepAlive=true (upstream's choice)" => Launchd(o => o with { KeepAlive = LaunchdKeepAlive.Always }),
            "ThrottleInterval=30 (upstream's choice)" => Launchd(o => o with { ThrottleInterval = 30 }),
            "ThrottleInterval=1" => Launchd(o => o with { ThrottleInterval = 1 }),
            "KeepAlive={Crashed=true}" => Launchd(o => o with { KeepAlive = new LaunchdKeepAlive { Crashed = true } }),
            _ => Launchd(o => o with { KeepAlive = LaunchdKeepAlive.Never }),
        };

        Assert.False(Judge(d).Single(v => v.Scenario == fails).Ok, $"{alternative} unexpectedly passes {fails}");
        Assert.True(Judge(ServiceDefinitionFactory.Create(LaunchdDefinitionTests.AgentRequest())).Single(v => v.Scenario == fails).Ok);
    }

    [Fact]
    public void No_KeepAlive_and_throttle_combination_satisfies_the_launchd_limitations()
    {
        // The claim in Limitations, checked over the whole space of KeepAlive conditions and a range of throttles.
        var keepAlives = new List<LaunchdKeepAlive> { LaunchdKeepAlive.Always, LaunchdKeepAlive.Never };
        foreach (var se in new bool?[] { null, true, false })
        {
            foreach (var cr in new bool?[] { null, true, false })
            {
                keepAlives.Add(new LaunchdKeepAlive { SuccessfulExit = se, Crashed = cr });
            }
        }

        foreach (var k in keepAlives)
        {
            foreach (var throttle in new[] { 0, 1, 5, 10, 30, 60, 600 })
            {
                var verdicts = Judge(Launchd(o => o with { KeepAlive = k, ThrottleInterval = throttle }));
                Assert.False(verdicts.Single(v => v.Scenario == LifecycleScenario.OnDemandOnlyRestart).Ok);
                var configError = verdicts.Single(v => v.Scenario == LifecycleScenario.ConfigError).Ok;
                var restart = verdicts.Single(v => v.Scenario == LifecycleScenario.ServiceRestart).Ok;
                var kill = verdicts.Single(v => v.Scenario == LifecycleScenario.ExternalKill).Ok;
                Assert.False(configError && restart && kill, $"KeepAlive={k}, ThrottleInterval={throttle} keeps 78 down and still revives restarts and kills");
            }
        }
    }
}
