using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>Pipeline binding of the service cmdlets, against gateways installed in a scratch HOME.</summary>
[Collection(ProcessStateGroup.Name)]
public sealed class ServicePipelineTests : IDisposable
{
    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void Strings_piped_to_Get_HermesService_bind_to_Name()
    {
        sandbox.InstallUpstreamUnit();
        sandbox.InstallUnit("hermes-gateway-work", Units.Good);

        var result = session.InvokeCommand("Get-HermesService", input: ["hermes-gateway-work", "hermes-gateway"]).Succeeded();

        Assert.Equal(["hermes-gateway-work", "hermes-gateway"], result.Objects.Select(s => PowerShellSession.Property(s, "Name")));
        Assert.All(result.Objects, s => Assert.Equal("HermesGateway.Core.Service.HermesService", s.GetType().FullName));
    }

    [Fact]
    public void Objects_with_a_Name_property_bind_to_Restart_HermesGateway()
    {
        sandbox.InstallUpstreamUnit();
        sandbox.InstallUnit("hermes-gateway-work", Units.Good);

        session.Invoke("[pscustomobject]@{ Name = 'hermes-gateway-work' } | Restart-HermesGateway -WhatIf").Succeeded();

        var whatIf = Assert.Single(HostAssert.WhatIfLines(session.Host));
        Assert.Contains("hermes-gateway-work", whatIf, StringComparison.Ordinal);
    }

    [Fact]
    public void Get_HermesService_output_binds_to_Uninstall_HermesService_as_InputObject()
    {
        var unit = sandbox.InstallUpstreamUnit();

        session.Invoke("Get-HermesService | Uninstall-HermesService -WhatIf").Succeeded();

        Assert.Contains(unit, Assert.Single(HostAssert.WhatIfLines(session.Host)), StringComparison.Ordinal);
        Assert.True(File.Exists(unit));
    }

    [Fact]
    public void Piped_definitions_bind_to_Install_HermesService()
    {
        session.Invoke("New-HermesServiceDefinition -Profile piped -Executable /usr/local/bin/hermes | Install-HermesService -WhatIf").Succeeded();

        var whatIf = Assert.Single(HostAssert.WhatIfLines(session.Host));
        Assert.Contains(Path.Combine(sandbox.UnitDirectory, "hermes-gateway-piped.service"), whatIf, StringComparison.Ordinal);
        Assert.Contains("--profile piped", whatIf, StringComparison.Ordinal);
        Assert.Empty(sandbox.FilesUnderHome());
    }

    [Theory]
    [InlineData("Restart-HermesGateway")]
    [InlineData("Start-HermesGateway")]
    [InlineData("Stop-HermesGateway")]
    [InlineData("Uninstall-HermesService")]
    public void Strings_piped_bind_to_Name_as_with_Restart_Service(string command)
    {
        sandbox.InstallUpstreamUnit();
        _ = new FakeSystemctl(sandbox, command == "Start-HermesGateway" ? "inactive" : "active", FakeSystemctl.NoSuchProcess, enabled: true);

        session.InvokeCommand(command, new Dictionary<string, object?> { ["WhatIf"] = true }, ["hermes-gateway"]).Succeeded();

        Assert.Single(HostAssert.WhatIfLines(session.Host));
    }

    /// <summary>Issue 13, item 13: Get-HermesService output did not bind to Install-HermesService.</summary>
    [Fact]
    public void Get_HermesService_output_binds_to_Install_HermesService_by_its_definition()
    {
        var unit = sandbox.InstallUpstreamUnit();

        session.Invoke("Get-HermesService | Install-HermesService -Force -WhatIf").Succeeded();

        var whatIf = Assert.Single(HostAssert.WhatIfLines(session.Host));
        Assert.Contains("Update unit " + unit, whatIf, StringComparison.Ordinal);
        Assert.Contains("TimeoutStopSec=70s", whatIf, StringComparison.Ordinal);
    }

    /// <summary>Issue 13, item 13: nor to Compare-HermesServiceDefinition; now the installed file is the reference.</summary>
    [Fact]
    public void Get_HermesService_output_binds_to_Compare_HermesServiceDefinition_as_the_reference()
    {
        sandbox.InstallUpstreamUnit();

        var drift = session.Invoke("Get-HermesService | Compare-HermesServiceDefinition").Succeeded().Objects;
        var expected = session.Invoke("(Get-HermesService).DriftChanges").Succeeded().Objects;
        var against = session.Invoke("Get-HermesService | Compare-HermesServiceDefinition -DifferenceDefinition (New-HermesServiceDefinition -Executable /usr/local/bin/hermes -StopTimeout 0:5:0)").Succeeded().Objects;

        Assert.NotEmpty(drift);
        Assert.Equal(expected.Select(c => c.ToString()), drift.Select(c => c.ToString()));
        Assert.Contains(against, c => c.ToString()!.Contains("TimeoutStopSec=70s → 300s", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
