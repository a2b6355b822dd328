using System.Collections.Immutable;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Policy;

public enum ServicePlatform
{
    Systemd,
    Launchd,
}

public static class ServicePlatforms
{
    /// <summary>The supervisor of this machine: launchd on macOS, systemd elsewhere.</summary>
    public static ServicePlatform Native => OperatingSystem.IsMacOS() ? ServicePlatform.Launchd : ServicePlatform.Systemd;
}

/// <summary>A unit or plist as its supervisor would load it: what the exit policy is tested against.</summary>
public sealed record ServiceConfiguration
{
    private ServiceConfiguration(ServicePlatform platform, string name, string path, SystemdUnit? unit, LaunchdJob? job)
    {
        Platform = platform;
        Name = name;
        Path = path;
        Unit = unit;
        Job = job;
    }

    public ServicePlatform Platform { get; }

    /// <summary>The unit name without '.service', or the job's Label.</summary>
    public string Name { get; }

    public string Path { get; }

    public SystemdUnit? Unit { get; }

    public LaunchdJob? Job { get; }

    public ImmutableArray<UnitDiagnostic> Diagnostics => Unit?.Diagnostics ?? Job!.Diagnostics;

    public bool LoadRefused => Unit?.LoadRefused ?? Job!.LoadRefused;

    public static ServiceConfiguration FromUnit(SystemdUnit unit) =>
        new(ServicePlatform.Systemd, unit.Name.EndsWith(".service", StringComparison.Ordinal) ? unit.Name[..^8] : unit.Name, unit.Path, unit, null);

    public static ServiceConfiguration FromJob(LaunchdJob job) =>
        new(ServicePlatform.Launchd, job.Settings.Label.Length > 0 ? job.Settings.Label : System.IO.Path.GetFileNameWithoutExtension(job.Path), job.Path, null, job);

    /// <summary>Reads a unit file or plist; the platform comes from the name or the content unless given.</summary>
    public static ServiceConfiguration Read(string path, ServicePlatform? platform = null, int systemdVersion = SystemdUnitReader.DefaultVersion)
    {
        var chosen = platform ?? InferPlatform(path);
        return chosen == ServicePlatform.Systemd
            ? FromUnit(SystemdUnitReader.ReadFile(path, systemdVersion))
            : FromJob(LaunchdJobReader.ReadFile(path));
    }

    public static ServicePlatform InferPlatform(string path)
    {
        var ext = System.IO.Path.GetExtension(path);
        if (ext.Equals(".plist", StringComparison.OrdinalIgnoreCase))
        {
            return ServicePlatform.Launchd;
        }

        if (ext.Equals(".service", StringComparison.OrdinalIgnoreCase))
        {
            return ServicePlatform.Systemd;
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
