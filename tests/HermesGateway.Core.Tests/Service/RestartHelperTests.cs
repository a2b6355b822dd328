namespace HermesGateway.Core.Tests.Service;

public sealed class RestartHelperTests
{
    /// <summary>Issue 13, item 2: the helper restarted by name alone, so a user and a system unit of that name both.</summary>
    [Fact]
    public void The_helper_is_pwsh_restarting_the_same_service_with_the_module_by_path()
    {
        var command = RestartHelper.PwshCommand("/opt/microsoft/powershell/7/pwsh", "/home/hermes/.local/share/powershell/Modules/HermesGateway/0.1.0/HermesGateway.psd1",
            new ServiceIdentity("hermes-gateway-work", ServicePlatform.Systemd, ServiceScope.User, "/home/hermes/.config/systemd/user/hermes-gateway-work.service") { Owner = "hermes" });

        Assert.Equal(
            ["/opt/microsoft/powershell/7/pwsh", "-NoProfile", "-NonInteractive", "-Command",
             "Import-Module -Name '/home/hermes/.local/share/powershell/Modules/HermesGateway/0.1.0/HermesGateway.psd1'; Restart-HermesGateway -Name 'hermes-gateway-work' -Scope User -Owner 'hermes' -PassThru -Confirm:$false -Verbose | Format-List | Out-String -Width 200"],
            command);
    }

    [Fact]
    public void A_quote_in_the_module_path_stays_inside_its_string()
    {
        var script = RestartHelper.PwshCommand("pwsh", "/Users/o'brien/Modules/HermesGateway.psd1", new ServiceIdentity("hermes-gateway", ServicePlatform.Launchd, ServiceScope.Agent, "/Users/o'brien/Library/LaunchAgents/hermes-gateway.plist"))[4];

        Assert.StartsWith("Import-Module -Name '/Users/o''brien/Modules/HermesGateway.psd1'; ", script, StringComparison.Ordinal);
    }
}
