using HermesGateway.Core.Definition;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>One installed gateway service and how it stands: what Get-HermesService returns.</summary>
public sealed record HermesService
{
    public required string Name { get; init; }

    public required ServicePlatform Platform { get; init; }

    public required ServiceScope Scope { get; init; }

    public required string Path { get; init; }

    /// <summary>ActiveState (systemd) or the launchd state ("running", "not running", "not loaded").</summary>
    public required string State { get; init; }

    public string? SubState { get; init; }

    public int? Pid { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public TimeSpan? Uptime { get; init; }

    /// <summary>The last ending: "75", "SIGKILL", with the contract's word for it.</summary>
    public string? LastExit { get; init; }

    public int? Restarts { get; init; }

    public bool? Enabled { get; init; }

    public string? HermesHome { get; init; }

    /// <summary>"none", "N settings", or why drift could not be judged.</summary>
    public required string Drift { get; init; }

    public IReadOnlyList<SettingChange> DriftChanges { get; init; } = [];

    /// <summary>"11/14 ok": how many lifecycle scenarios the installed file meets.</summary>
    public required string Policy { get; init; }

    public IReadOnlyList<ScenarioVerdict> PolicyVerdicts { get; init; } = [];

    public bool InstalledByModule { get; init; }

    public ServiceDefinition? Definition { get; init; }

    /// <summary>The service as the engine's actions take it.</summary>
    public ServiceIdentity Identity => new(Name, Platform, Scope, Path)
    {
        HermesHome = HermesHome,
        User = Definition?.User,
        DrainTimeout = Definition?.DrainTimeout,
        StopTimeout = Definition?.StopTimeout,
        LogPath = Definition?.StandardErrorPath,
    };
}
