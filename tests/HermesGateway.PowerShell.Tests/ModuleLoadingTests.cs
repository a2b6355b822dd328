using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>The runspace runs the module as built, not a copy this test project compiled against.</summary>
public sealed class ModuleLoadingTests : IDisposable
{
    private readonly PowerShellSession session = new();

    [Fact]
    public void The_cmdlets_and_their_engine_load_from_the_built_module_folder()
    {
        var result = session.Invoke("""
            (Get-Command Test-HermesExitPolicy).ImplementingType.Assembly.Location
            [HermesGateway.Core.Errors.HermesErrorIds].Assembly.Location
            (Get-Module HermesGateway).Path
            """).Succeeded();

        var folder = Path.GetDirectoryName(PowerShellSession.ModuleManifest)!;
        Assert.Equal<object>(
            [Path.Combine(folder, "HermesGateway.dll"), Path.Combine(folder, "HermesGateway.Core.dll"), Path.Combine(folder, "HermesGateway.dll")],
            result.Objects);
        Assert.All(
            AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name is "HermesGateway" or "HermesGateway.Core"),
            a => Assert.Equal(folder, Path.GetDirectoryName(a.Location)));
    }

    public void Dispose() => session.Dispose();
}
