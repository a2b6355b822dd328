using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Cmdlets that act on installed services, chosen by name (and scope, owner, file).</summary>
public abstract class ServiceCmdlet : HermesCmdlet
{
    internal ServiceInstaller Installer => Engine.Installer;

    /// <summary>
    /// The installed services with these names (wildcards allowed) that are also in <paramref name="scope"/>, run by
    /// <paramref name="owner"/>'s user manager, and read from <paramref name="path"/>, where given; a name that matches
    /// none is an error for that name. Name, scope, owner and path together address exactly one service.
    /// </summary>
    internal IEnumerable<HermesService> ByName(IEnumerable<string> names, ServiceScope? scope, string? owner, string? path)
    {
        var all = Installer.Find().Where(s =>
            (scope is null || s.Scope == scope)
            && (owner is null || string.Equals(s.Owner, owner, StringComparison.Ordinal))
            && (path is null || string.Equals(s.Path, path, StringComparison.Ordinal))).ToList();
        foreach (var name in names)
        {
            // "relay.service" selects the unit relay, as systemctl reads it.
            var pattern = new WildcardPattern(ServiceFormats.ServiceName(name), WildcardOptions.None);
            var matched = all.Where(s => pattern.IsMatch(s.Name)).ToList();
            if (matched.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                var where = string.Concat(
                    scope is null ? string.Empty : $" in {scope} scope",
                    owner is null ? string.Empty : $" for {owner}",
                    path is null ? string.Empty : $" at {path}");
                WriteError(ToErrorRecord(new HermesException(HermesErrorIds.ServiceNotFound, HermesErrorCategory.ObjectNotFound,
                    $"No Hermes gateway service named '{name}' is installed{where}.", name)));
            }

            foreach (var s in matched)
            {
                yield return s;
            }
        }
    }

    /// <summary>
    /// The services <paramref name="find"/> selects, all looked up before any is acted on; a failure of the lookup is an
    /// error record with its own id (never an exception escaping the cmdlet with a bare HermesException id).
    /// </summary>
    internal IReadOnlyList<HermesService> Listed(Func<IEnumerable<HermesService>> find)
    {
        try
        {
            return [.. find()];
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
            return [];
        }
    }

    /// <summary>
    /// Null when <paramref name="computerName"/> (an object's PSComputerName: it came through remoting) is empty or names
    /// this computer; else the error that refuses to act here on a service another computer described.
    /// </summary>
    internal static HermesException? RemoteObjectError(string? computerName, string? name)
    {
        if (string.IsNullOrEmpty(computerName) || IsThisComputer(computerName))
        {
            return null;
        }

        return new HermesException(HermesErrorIds.RemoteObject, HermesErrorCategory.InvalidArgument,
            $"This object describes the service '{name}' on {computerName}, not on this computer ({Environment.MachineName}); act on it there: -Session with a session to {computerName} and -Name '{name}' (Restart-HermesGateway, Install-HermesService, Get-HermesService), or Invoke-Command.", name);
    }

    private static bool IsThisComputer(string computerName)
    {
        if (computerName is "." or "localhost" or "127.0.0.1" or "::1")
        {
            return true;
        }

        string host;
        try
        {
            host = System.Net.Dns.GetHostName();
        }
        catch (System.Net.Sockets.SocketException)
        {
            host = Environment.MachineName;
        }

        // Exactly this computer's name: a name that only looks like it (another domain's host of the same short name) is not.
        return string.Equals(computerName, host, StringComparison.OrdinalIgnoreCase)
            || string.Equals(computerName, Environment.MachineName, StringComparison.OrdinalIgnoreCase);
    }
}
