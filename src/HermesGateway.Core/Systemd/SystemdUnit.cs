using System.Collections.Immutable;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Systemd;

/// <summary>A service unit as systemd would load it: the file, its drop-ins in override order, the settings and the complaints.</summary>
public sealed record SystemdUnit(
    string Name,
    string Path,
    ImmutableArray<string> DropIns,
    int SystemdVersion,
    SystemdServiceSettings Settings,
    ImmutableArray<UnitEntry> Entries,
    ImmutableArray<UnitDiagnostic> Diagnostics)
{
    public bool LoadRefused => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Fatal);

    /// <summary>The unit's name without '.service', as the module names services.</summary>
    public string ServiceName => Name.EndsWith(".service", StringComparison.Ordinal) ? Name[..^".service".Length] : Name;
}
