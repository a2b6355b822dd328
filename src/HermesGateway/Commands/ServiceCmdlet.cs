using System.Management.Automation;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Cmdlets that act on installed services, chosen by name.</summary>
public abstract class ServiceCmdlet : HermesCmdlet
{
    internal ServiceInstaller Installer => Engine.Installer;

    /// <summary>The installed services with these names (wildcards allowed); a name that matches none is an error for that name.</summary>
    internal IEnumerable<HermesService> ByName(IEnumerable<string> names)
    {
        var all = Installer.Find();
        foreach (var name in names)
        {
            // "relay.service" selects the unit relay, as systemctl reads it.
            var pattern = new WildcardPattern(Core.Definition.ServiceFormats.ServiceName(name), WildcardOptions.None);
            var matched = all.Where(s => pattern.IsMatch(s.Name)).ToList();
            if (matched.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(ToErrorRecord(new Core.Errors.HermesException(Core.Errors.HermesErrorIds.ServiceNotFound, Core.Errors.HermesErrorCategory.ObjectNotFound,
                    $"No Hermes gateway service named '{name}' is installed.", name)));
            }

            foreach (var s in matched)
            {
                yield return s;
            }
        }
    }
}
