using HermesGateway.Core.Errors;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Definition;

/// <summary>The one place that picks a supervisor's file format: by platform, by this machine, or by a file.</summary>
public static class ServiceFormats
{
    public static IReadOnlyList<IServiceFormat> All { get; } = [SystemdFormat.Instance, LaunchdFormat.Instance];

    /// <summary>The supervisor of this machine: launchd on macOS, systemd elsewhere.</summary>
    public static ServicePlatform Native => OperatingSystem.IsMacOS() ? ServicePlatform.Launchd : ServicePlatform.Systemd;

    public static IServiceFormat For(ServicePlatform platform) =>
        All.FirstOrDefault(f => f.Platform == platform) ?? throw new ArgumentOutOfRangeException(nameof(platform), platform, "No such supervisor.");

    /// <summary>
    /// A service name as given, with its file suffix (".service", ".plist") taken off: "relay.service" names the unit
    /// relay, as systemctl reads it. Any other text is returned as it is. With <paramref name="only"/>, only that
    /// format's suffix is taken off.
    /// </summary>
    public static string ServiceName(string given, IServiceFormat? only = null) =>
        (only is null ? All : [only]).FirstOrDefault(f => given.Length > f.Extension.Length && given.EndsWith(f.Extension, StringComparison.Ordinal)) is { } format
            ? given[..^format.Extension.Length]
            : given;

    /// <summary>Reads a unit file or plist; the platform comes from the name or the content unless given.</summary>
    public static ServiceConfiguration Read(string path, ServicePlatform? platform = null, int systemdVersion = EvaluationOptions.DefaultSystemdVersion) =>
        For(platform ?? InferPlatform(path)).ReadFile(path, systemdVersion);

    /// <summary>The platform of a file, from its extension, else from its content (HermesException PlatformUnknown).</summary>
    public static ServicePlatform InferPlatform(string path)
    {
        var ext = System.IO.Path.GetExtension(path);
        if (All.FirstOrDefault(f => ext.Equals(f.Extension, StringComparison.OrdinalIgnoreCase)) is { } named)
        {
            return named.Platform;
        }

        var bytes = TextFiles.ReadBytes(path);
        if (PlistReader.LooksBinary(bytes))
        {
            return ServicePlatform.Launchd;
        }

        // Empty files and binary garbage get their own, more precise errors before the guess.
        var text = TextFiles.DecodeText(bytes, path);
        var head = text[..Math.Min(text.Length, 4096)].TrimStart(' ', '\t', '\r', '\n');
        if (head.StartsWith("<?xml", StringComparison.Ordinal) || head.StartsWith("<!DOCTYPE plist", StringComparison.Ordinal) || head.StartsWith("<plist", StringComparison.Ordinal))
        {
            return ServicePlatform.Launchd;
        }

        if (head.Contains("[Service]", StringComparison.Ordinal) || head.Contains("[Unit]", StringComparison.Ordinal))
        {
            return ServicePlatform.Systemd;
        }

        throw new HermesException(HermesErrorIds.PlatformUnknown, HermesErrorCategory.InvalidData,
            $"Cannot tell whether '{path}' is a systemd unit or a launchd plist; name it *.service or *.plist, or give -Platform.", path);
    }
}
