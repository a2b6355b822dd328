using HermesGateway.Core.Service;

namespace HermesGateway.Core.Restart;

/// <summary>The command a hand-off runs outside the gateway: the same restart again, by pwsh, non-interactively.</summary>
public static class RestartHelper
{
    /// <summary>
    /// <paramref name="pwsh"/> importing the module from <paramref name="manifest"/> and restarting exactly
    /// <paramref name="service"/> (its name, scope and owner: never a namesake of another scope or account), its result and
    /// each step written out for the helper's log. Values go into the script as single-quoted PowerShell strings (a
    /// quote doubled), never as code.
    /// </summary>
    public static IReadOnlyList<string> PwshCommand(string pwsh, string manifest, ServiceIdentity service)
    {
        var owner = service.Owner is null ? string.Empty : $" -Owner {Quote(service.Owner)}";
        var script = $"Import-Module -Name {Quote(manifest)}; Restart-HermesGateway -Name {Quote(service.Name)} -Scope {service.Scope}{owner} -PassThru -Confirm:$false -Verbose | Format-List | Out-String -Width 200";
        return [pwsh, "-NoProfile", "-NonInteractive", "-Command", script];
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
