namespace HermesGateway.Core.Tests.Definition;

public sealed class SystemdDefinitionTests
{
    internal static DefinitionRequest UserRequest(string? profile = null, int version = 252) => new()
    {
        Platform = ServicePlatform.Systemd,
        Executable = "/home/hermes/.local/bin/hermes",
        HomeDirectory = "/home/hermes",
        Profile = profile,
        SystemdVersion = version,
    };

    [Theory]
    [InlineData(252)]
    [InlineData(254)]
    [InlineData(257)]
    public void The_defaults_meet_every_systemd_scenario(int version)
    {
        var definition = ServiceDefinitionFactory.Create(UserRequest(version: version));

        var verdicts = ExitPolicyEvaluator.Evaluate(ServiceFiles.ToConfiguration(definition, version), options: new EvaluationOptions { SystemdVersion = version });

        Assert.All(verdicts, v => Assert.True(v.Ok, $"{v.Scenario}: {v.Why}"));
        Assert.Empty(definition.Limitations);
    }

    /// <summary>Issue 13, item 9: '-Name x.service' gave x.service.service. A name given with its suffix means that file, as systemctl reads it.</summary>
    [Theory]
    [InlineData(ServicePlatform.Systemd, "relay.service", "relay", "relay.service")]
    [InlineData(ServicePlatform.Systemd, "relay", "relay", "relay.service")]
    [InlineData(ServicePlatform.Launchd, "com.example.relay.plist", "com.example.relay", "com.example.relay.plist")]
    public void A_name_given_with_its_file_suffix_names_that_file(ServicePlatform platform, string given, string name, string file)
    {
        var d = ServiceDefinitionFactory.Create(UserRequest() with { Platform = platform, Name = given });

        Assert.Equal((name, file), (d.Name, d.FileName));
        Assert.Equal(name, ServiceFormats.ServiceName(given));
        Assert.Equal("relay.timer", ServiceFormats.ServiceName("relay.timer")); // another unit type is not ours to trim
    }

    [Theory]
    [InlineData(null)]
    [InlineData("work")]
    public void A_definition_reads_back_equal_from_its_rendered_unit(string? profile)
    {
        var definition = ServiceDefinitionFactory.Create(UserRequest(profile));
        var text = ServiceFiles.Render(definition);

        var back = SystemdDefinitionReader.FromUnit(SystemdUnitReader.Parse(text, "/x/" + definition.FileName));

        Assert.Equal(definition, back);
        Assert.Equal(text, ServiceFiles.Render(back));
    }
}
