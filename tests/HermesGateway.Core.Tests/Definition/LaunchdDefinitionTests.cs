namespace HermesGateway.Core.Tests.Definition;

public sealed class LaunchdDefinitionTests
{
    internal static DefinitionRequest AgentRequest(string? profile = null) => new()
    {
        Platform = ServicePlatform.Launchd,
        Executable = "/Users/hermes/.local/bin/hermes",
        HomeDirectory = "/Users/hermes",
        Profile = profile,
    };

    [Theory]
    [InlineData(LaunchdDomainKind.Gui)]
    [InlineData(LaunchdDomainKind.User)]
    public void The_defaults_meet_every_launchd_scenario_but_the_platform_limitations(LaunchdDomainKind domain)
    {
        var definition = ServiceDefinitionFactory.Create(AgentRequest());

        var verdicts = ExitPolicyEvaluator.Evaluate(ServiceFiles.ToConfiguration(definition), options: new EvaluationOptions { LaunchdDomain = new LaunchdDomain { Kind = domain } });

        var limited = definition.Limitations.Select(l => l.Scenario).ToHashSet();
        Assert.All(verdicts.Where(v => !limited.Contains(v.Scenario)), v => Assert.True(v.Ok, $"{v.Scenario}: {v.Why}"));
        Assert.All(verdicts.Where(v => limited.Contains(v.Scenario)), v => Assert.False(v.Ok, $"{v.Scenario} is listed as impossible but passes"));
        Assert.Equal([LifecycleScenario.ConfigError, LifecycleScenario.OnDemandOnlyRestart], definition.Limitations.Select(l => l.Scenario));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("work")]
    public void A_definition_reads_back_equal_from_its_rendered_plist(string? profile)
    {
        var definition = ServiceDefinitionFactory.Create(AgentRequest(profile));
        var text = ServiceFiles.Render(definition);

        var back = LaunchdDefinitionReader.FromJob(LaunchdJobReader.Parse(text, "/x/" + definition.FileName));

        Assert.Equal(definition, back);
        Assert.Equal(text, ServiceFiles.Render(back));
    }
}
