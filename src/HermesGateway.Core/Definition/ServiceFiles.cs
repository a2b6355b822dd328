using HermesGateway.Core.Launchd;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>A definition as the exact text of its unit file or plist, and a unit file or plist as a definition.</summary>
public static class ServiceFiles
{
    public static string Render(ServiceDefinition definition) => definition.Platform == ServicePlatform.Systemd
        ? SystemdUnitRenderer.Render(definition)
        : LaunchdPlistRenderer.Render(definition);

    /// <summary>The definition as its supervisor would load it, for Test-HermesExitPolicy.</summary>
    public static ServiceConfiguration ToConfiguration(ServiceDefinition definition, int systemdVersion = SystemdUnitReader.DefaultVersion)
    {
        var text = Render(definition);
        var path = "/" + definition.FileName;
        return definition.Platform == ServicePlatform.Systemd
            ? ServiceConfiguration.FromUnit(SystemdUnitReader.Parse(text, path, systemdVersion))
            : ServiceConfiguration.FromJob(LaunchdJobReader.Parse(text, path));
    }

    /// <summary>Reads a unit (with its drop-ins) or a plist (XML or binary) into a definition.</summary>
    public static ServiceDefinition Read(string path, ServicePlatform? platform = null, int systemdVersion = SystemdUnitReader.DefaultVersion)
    {
        return ToDefinition(ServiceConfiguration.Read(path, platform, systemdVersion));
    }

    /// <summary>A unit or plist already read, as a definition.</summary>
    public static ServiceDefinition ToDefinition(ServiceConfiguration config) => config.Platform == ServicePlatform.Systemd
        ? SystemdDefinitionReader.FromUnit(config.Unit!)
        : LaunchdDefinitionReader.FromJob(config.Job!);
}
