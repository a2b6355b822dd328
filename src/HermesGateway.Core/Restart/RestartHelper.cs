namespace HermesGateway.Core.Restart;

/// <summary>The command a hand-off runs outside the gateway: the same restart again, by pwsh, non-interactively.</summary>
public static class RestartHelper
{
    /// <summary>
    /// <paramref name="pwsh"/> importing the module from <paramref name="manifest"/> and restarting <paramref name="name"/>,
    /// its result and each step written out for the helper's log. Both values go into the script as single-quoted
    /// PowerShell strings (a quote doubled), never as code.
    /// </summary>
    public static IReadOnlyList<string> PwshCommand(string pwsh, string manifest, string name)
    {
        var script = $"Import-Module -Name {Quote(manifest)}; Restart-HermesGateway -Name {Quote(name)} -PassThru -Confirm:$false -Verbose | Format-List | Out-String -Width 200";
        return [pwsh, "-NoProfile", "-NonInteractive", "-Command", script];
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
