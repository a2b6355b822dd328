using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>A definition as the exact text of its unit file or plist, and a unit file or plist as a definition.</summary>
public static class ServiceFiles
{
    /// <summary>Room left for the checksum line the installer adds to every file it writes.</summary>
    private const int StampRoom = 256;

    /// <summary>
    /// The exact text. A file larger than this module reads (<see cref="TextFiles.MaxBytes"/>) is refused here, before
    /// anything is written: once installed, the module could neither check nor update it.
    /// </summary>
    public static string Render(ServiceDefinition definition)
    {
        var text = ServiceFormats.For(definition.Platform).Render(definition);
        var bytes = System.Text.Encoding.UTF8.GetByteCount(text);
        if (bytes > TextFiles.MaxBytes - StampRoom)
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"{definition.FileName} would be {bytes} bytes; this module reads unit files and plists of up to {TextFiles.MaxBytes} bytes, so it could not check or update it. Pass long values in a file the gateway reads instead.", definition.Name);
        }

        return text;
    }

    /// <summary>The definition as its supervisor would load it, for Test-HermesExitPolicy.</summary>
    public static ServiceConfiguration ToConfiguration(ServiceDefinition definition, int systemdVersion = SystemdUnitReader.DefaultVersion)
    {
        return ServiceFormats.For(definition.Platform).Parse(Render(definition), "/" + definition.FileName, systemdVersion);
    }

    /// <summary>Reads a unit (with its drop-ins) or a plist (XML or binary) into a definition.</summary>
    public static ServiceDefinition Read(string path, ServicePlatform? platform = null, int systemdVersion = SystemdUnitReader.DefaultVersion)
    {
        return ToDefinition(ServiceFormats.Read(path, platform, systemdVersion));
    }

    /// <summary>A unit or plist already read, as a definition.</summary>
    public static ServiceDefinition ToDefinition(ServiceConfiguration config, SpecifierContext? specifiers = null) =>
        ServiceFormats.For(config.Platform).ToDefinition(config, specifiers);
}
