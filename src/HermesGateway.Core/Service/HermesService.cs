using HermesGateway.Core.Definition;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>
/// One installed gateway service and how it stands: what Get-HermesService returns. Its public properties are flat
/// (text, numbers, booleans, times, lists of flat records), so ConvertTo-Json at its default depth gives a small,
/// complete object with no depth warning; the deep parts (the definition, every scenario's verdict) are methods.
/// </summary>
public sealed record HermesService
{
    public required string Name { get; init; }

    public required ServicePlatform Platform { get; init; }

    public required ServiceScope Scope { get; init; }

    public required string Path { get; init; }

    /// <summary>The account whose user manager (launchd: GUI domain) runs it, for a user-scope service; null for a system one.</summary>
    public string? Owner { get; init; }

    /// <summary>
    /// ActiveState (systemd) or the launchd state ("running", "not running", "not loaded"); "crash-loop" when
    /// <see cref="CrashLoop"/> (the supervisor's own word is then <see cref="ActiveState"/>).
    /// </summary>
    public required string State { get; init; }

    /// <summary>The supervisor's own state word (systemd's ActiveState, launchd's state), whatever <see cref="State"/> says.</summary>
    public string? ActiveState { get; init; }

    /// <summary>The supervisor is restarting a gateway that keeps failing: systemd's auto-restart after a failed run.</summary>
    public bool? CrashLoop { get; init; }

    public string? SubState { get; init; }

    public int? Pid { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public TimeSpan? Uptime { get; init; }

    /// <summary>The last ending: "75", "SIGKILL", with the contract's word for it.</summary>
    public string? LastExit { get; init; }

    /// <summary>The last exit code (null when the process was killed by a signal, or has not ended).</summary>
    public int? LastExitCode { get; init; }

    /// <summary>The signal that ended the last run ("SIGKILL"), null when it exited.</summary>
    public string? LastExitSignal { get; init; }

    /// <summary>What the last ending means under the gateway's exit contract (or systemd's for its own 2xx codes).</summary>
    public string? LastExitMeaning { get; init; }

    public int? Restarts { get; init; }

    public bool? Enabled { get; init; }

    public string? HermesHome { get; init; }

    /// <summary>"none", "N settings", or why drift could not be judged.</summary>
    public required string Drift { get; init; }

    /// <summary>True when the file differs from what this module would write for the same gateway; null when that could not be judged.</summary>
    public bool? Drifted { get; init; }

    /// <summary>The changed settings (flat: section, setting, old, new, kind).</summary>
    public IReadOnlyList<SettingChange> DriftChanges { get; init; } = [];

    /// <summary>"11/14 ok": how many lifecycle scenarios the installed file meets.</summary>
    public required string Policy { get; init; }

    /// <summary>True when the installed file meets every lifecycle scenario; null when it could not be read.</summary>
    public bool? PolicyOk { get; init; }

    /// <summary>The lifecycle scenarios the installed file does not meet.</summary>
    public IReadOnlyList<string> PolicyFailed { get; init; } = [];

    /// <summary>Every lifecycle scenario's verdict (what Test-HermesExitPolicy -Detailed gives for the file).</summary>
    public IReadOnlyList<ScenarioVerdict> GetPolicyVerdicts() => PolicyVerdicts;

    internal IReadOnlyList<ScenarioVerdict> PolicyVerdicts { get; init; } = [];

    public bool InstalledByModule { get; init; }

    /// <summary>The installed file read as a definition (what New-HermesServiceDefinition would produce); null when unreadable.</summary>
    public ServiceDefinition? GetDefinition() => Definition;

    internal ServiceDefinition? Definition { get; init; }

    /// <summary>The service as the engine's actions take it.</summary>
    internal ServiceIdentity Identity => new(Name, Platform, Scope, Path)
    {
        HermesHome = HermesHome,
        Owner = Owner,
        User = Definition?.User,
        DrainTimeout = Definition?.DrainTimeout,
        StopTimeout = Definition?.StopTimeout,
        LogPath = Definition?.StandardErrorPath,
    };
}
