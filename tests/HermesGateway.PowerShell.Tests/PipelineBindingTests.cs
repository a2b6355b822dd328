using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>Parameter binding from the pipeline, by value and by property name, as the engine does it for a host.</summary>
public sealed class PipelineBindingTests : IDisposable
{
    private readonly ScratchFolder files = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void Piped_definitions_bind_by_value_to_Test_HermesExitPolicy()
    {
        var answer = session.Invoke("New-HermesServiceDefinition -Profile pipe -Executable /usr/local/bin/hermes | Test-HermesExitPolicy").Succeeded();
        var verdicts = session.Invoke("New-HermesServiceDefinition -Profile pipe -Executable /usr/local/bin/hermes | Test-HermesExitPolicy -Detailed").Succeeded();

        Assert.Equal([true], answer.Objects);
        Assert.NotEmpty(verdicts.Objects);
        Assert.All(verdicts.Objects, v =>
        {
            Assert.Equal("HermesGateway.Core.Policy.ScenarioVerdict", v.GetType().FullName);
            Assert.Equal("hermes-gateway-pipe", PowerShellSession.Property(v, "Name"));
        });
    }

    [Fact]
    public void Files_from_Get_Item_bind_by_PSPath_so_brackets_in_their_names_are_not_wildcards()
    {
        // Bound to -Path, 'odd[1].service' would be a wildcard matching odd1.service, the unit that fails.
        var odd = files.Write("odd[1].service", Units.Good);
        files.Write("odd1.service", File.ReadAllText(Path.Combine(PowerShellSession.Examples, "hermes-gateway.service")));

        var result = session.Invoke("Get-Item -LiteralPath $args[0] | Test-HermesExitPolicy", odd).Succeeded();

        Assert.Equal([true], result.Objects);
    }

    [Fact]
    public void The_example_files_piped_from_Get_ChildItem_get_one_answer_each_in_order()
    {
        var result = session.Invoke("Get-ChildItem -LiteralPath $args[0] -File | Sort-Object Name | Test-HermesExitPolicy -Detailed", PowerShellSession.Examples).Succeeded();

        // ai.hermes.gateway.plist sorts first, then hermes-gateway.service; each file's verdicts come as one run.
        var platforms = result.Objects.Select(v => PowerShellSession.Property(v, "Platform")?.ToString()).ToList();
        Assert.NotEmpty(platforms);
        Assert.Equal(platforms.Order(StringComparer.Ordinal), platforms); // Launchd's run, then Systemd's
        Assert.Equal(["Launchd", "Systemd"], platforms.Distinct());
    }

    [Fact]
    public void Path_strings_piped_bind_by_value_and_expand_wildcards()
    {
        var good = files.Write("good.service", Units.Good);
        files.Write("other-good.service", Units.Good);
        var upstream = Path.Combine(PowerShellSession.Examples, "hermes-gateway.service");

        var literal = session.InvokeCommand("Test-HermesExitPolicy", input: [good, upstream]).Succeeded();
        var wildcard = session.InvokeCommand("Test-HermesExitPolicy", input: [Path.Combine(files.Path, "*good.service")]).Succeeded();

        Assert.Equal<object>([true, false], [.. literal.Output.Select(o => o.Properties["Ok"].Value)]);
        Assert.Equal<object>([good, upstream], [.. literal.Output.Select(o => o.Properties["Path"].Value)]);
        Assert.Equal<object>([true, true], [.. wildcard.Output.Select(o => o.Properties["Ok"].Value)]);
    }

    [Fact]
    public void Objects_with_a_LiteralPath_property_bind_by_property_name()
    {
        var odd = files.Write("brackets[x].service", Units.Good);

        var result = session.Invoke("[pscustomobject]@{ LiteralPath = $args[0] } | Test-HermesExitPolicy", odd).Succeeded();

        Assert.Equal([true], result.Objects);
    }

    [Fact]
    public void Files_piped_to_New_HermesServiceDefinition_are_read_by_PSPath()
    {
        var result = session.Invoke("Get-Item -LiteralPath $args[0] | New-HermesServiceDefinition", Path.Combine(PowerShellSession.Examples, "hermes-gateway.service")).Succeeded();

        var definition = Assert.Single(result.Objects);
        Assert.Equal("HermesGateway.Core.Definition.ServiceDefinition", definition.GetType().FullName);
        Assert.Equal("hermes-gateway", PowerShellSession.Property(definition, "Name"));
        Assert.Equal("/home/hermes/.hermes", PowerShellSession.Property(definition, "HermesHome"));
    }

    [Fact]
    public void A_definition_piped_to_Compare_HermesServiceDefinition_binds_as_the_difference()
    {
        var result = session.Invoke(
            "$reference = New-HermesServiceDefinition -Profile a -Executable /usr/local/bin/hermes; " +
            "New-HermesServiceDefinition -Profile a -Executable /opt/hermes/bin/hermes | Compare-HermesServiceDefinition -ReferenceDefinition $reference").Succeeded();

        Assert.Contains(result.Objects, c => PowerShellSession.Property(c, "Setting") as string == "ExecStart");
    }

    public void Dispose()
    {
        session.Dispose();
        files.Dispose();
    }
}
