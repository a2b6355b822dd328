using HermesGateway.Core.Definition;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>
/// Which installed service an action is about, and the little the engine needs to know of it: the input of every
/// engine call that acts on a service. <see cref="HermesService"/> (what Get-HermesService shows) is output only; its
/// <see cref="HermesService.Identity"/> is this.
/// </summary>
/// <param name="Name">the unit name without '.service', or the job's label</param>
/// <param name="Platform">its supervisor</param>
/// <param name="Scope">user or system unit; agent or daemon</param>
/// <param name="Path">the unit file or plist</param>
public sealed record ServiceIdentity(string Name, ServicePlatform Platform, ServiceScope Scope, string Path)
{
    /// <summary>The gateway's HERMES_HOME, where the planned-stop marker and its state file live; null when the file sets none.</summary>
    public string? HermesHome { get; init; }

    /// <summary>
    /// The account whose user manager (launchd: GUI domain) runs a user-scope service (user unit, agent); null for a
    /// system-scope one. With <see cref="Name"/>, <see cref="Platform"/>, <see cref="Scope"/> and <see cref="Path"/> it
    /// says which one service an action is about: two accounts' hermes-gateway, or a user's and the system's, are
    /// never mistaken for each other.
    /// </summary>
    public string? Owner { get; init; }

    /// <summary>The account a system service runs as; null for a user's own service.</summary>
    public string? User { get; init; }

    /// <summary>The drain budget the installed file leaves the gateway (its stop timeout less the headroom); null when unknown.</summary>
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>How long the supervisor gives a stop before SIGKILL (TimeoutStopSec=, ExitTimeOut); null when unknown.</summary>
    public TimeSpan? StopTimeout { get; init; }

    /// <summary>Where the gateway's standard error goes when the file says (a plist's StandardErrorPath); null otherwise.</summary>
    public string? LogPath { get; init; }
}
