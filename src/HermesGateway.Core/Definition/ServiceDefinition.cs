using System.Collections.Immutable;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>Where a service runs: systemd user or system scope, launchd agent or daemon.</summary>
public enum ServiceScope
{
    User,
    System,
    Agent,
    Daemon,
}

public sealed record EnvironmentVariable(string Name, string Value)
{
    public override string ToString() => $"{Name}={Value}";
}

/// <summary>A setting the definition does not model, kept as written so adopting a file loses nothing.</summary>
public sealed record ExtraUnitSetting(string Section, string Key, string Value)
{
    public override string ToString() => $"[{Section}] {Key}={Value}";
}

/// <summary>The restart-relevant settings of a systemd unit.</summary>
public sealed record SystemdRestartOptions
{
    public RestartPolicy Restart { get; init; } = RestartPolicy.OnFailure;

    public TimeSpan RestartSec { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>RestartSteps= (systemd 254+); 0 leaves it out.</summary>
    public int RestartSteps { get; init; }

    /// <summary>RestartMaxDelaySec= (systemd 254+); null leaves it out.</summary>
    public TimeSpan? RestartMaxDelay { get; init; }

    /// <summary>StartLimitIntervalSec=; null leaves systemd's default, zero disables the limit.</summary>
    public TimeSpan? StartLimitInterval { get; init; } = TimeSpan.Zero;

    /// <summary>StartLimitBurst=; null leaves systemd's default.</summary>
    public int? StartLimitBurst { get; init; }

    public ExitStatusSet SuccessExitStatus { get; init; } = ExitStatusSet.Of(75);

    public ExitStatusSet RestartForceExitStatus { get; init; } = ExitStatusSet.Of(75);

    public ExitStatusSet RestartPreventExitStatus { get; init; } = ExitStatusSet.Of(78);

    public KillMode KillMode { get; init; } = KillMode.Mixed;

    public UnixSignal KillSignal { get; init; } = UnixSignal.SIGTERM;

    /// <summary>Whether ExecStop= writes the gateway's planned-stop marker before systemd's SIGTERM.</summary>
    public bool MarkPlannedStop { get; init; } = true;

    /// <summary>
    /// Whether UnsetEnvironment=INVOCATION_ID hides systemd's invocation id from the gateway. Hermes 0.16 decides by
    /// INVOCATION_ID alone that a restart signal should exit 0 and be carried out by its own transient helper, which
    /// acts only for a user unit of its own name; without the id it exits 75, which this unit revives in every scope
    /// and under every name, and no second restarter runs.
    /// </summary>
    public bool HideInvocationId { get; init; } = true;

    /// <summary>
    /// Whether ExecStopPost= starts the unit again after a clean exit that the gateway recorded as a restart request
    /// (gateway_state.json: "stopped" with restart_requested). Hermes 0.16 ends a chat /restart with exit 0 on a host,
    /// which Restart=on-failure leaves dead; a gateway that exits with its restart code is revived by systemd and
    /// the reviver does nothing. It never acts while a job of the manager runs (systemctl stop or restart).
    /// </summary>
    public bool ReviveRequestedRestart { get; init; } = true;

    /// <summary>The signal ExecReload= sends to $MAINPID (the gateway's restart signal); null leaves ExecReload= out.</summary>
    public UnixSignal? ReloadSignal { get; init; } = UnixSignal.SIGUSR1;

    public ServiceType Type { get; init; } = ServiceType.Simple;

    public ImmutableArray<string> After { get; init; } = ["network-online.target"];

    public ImmutableArray<string> Wants { get; init; } = ["network-online.target"];

    public ImmutableArray<string> WantedBy { get; init; } = [];

    public bool Equals(SystemdRestartOptions? o) =>
        o is not null && Restart == o.Restart && RestartSec == o.RestartSec && RestartSteps == o.RestartSteps
        && RestartMaxDelay == o.RestartMaxDelay && StartLimitInterval == o.StartLimitInterval && StartLimitBurst == o.StartLimitBurst
        && SuccessExitStatus.Equals(o.SuccessExitStatus) && RestartForceExitStatus.Equals(o.RestartForceExitStatus)
        && RestartPreventExitStatus.Equals(o.RestartPreventExitStatus) && KillMode == o.KillMode && KillSignal == o.KillSignal
        && MarkPlannedStop == o.MarkPlannedStop && HideInvocationId == o.HideInvocationId && ReloadSignal == o.ReloadSignal && Type == o.Type
        && After.SequenceEqual(o.After) && Wants.SequenceEqual(o.Wants) && WantedBy.SequenceEqual(o.WantedBy);

    public override int GetHashCode() => HashCode.Combine(Restart, RestartSec, RestartSteps, KillMode);
}

/// <summary>The restart-relevant keys of a launchd job.</summary>
public sealed record LaunchdRestartOptions
{
    public LaunchdKeepAlive KeepAlive { get; init; } = new() { SuccessfulExit = false };

    public int ThrottleInterval { get; init; } = 5;

    public bool RunAtLoad { get; init; } = true;
}

/// <summary>
/// Everything that makes up one gateway service: what runs, as whom, where, with which environment, and how its
/// supervisor restarts and stops it. Renders to the exact unit or plist text, and is read back from one.
/// </summary>
public sealed record ServiceDefinition
{
    public ServicePlatform Platform { get; init; }

    public ServiceScope Scope { get; init; }

    /// <summary>The unit name without '.service', or the launchd Label.</summary>
    public string Name { get; init; } = string.Empty;

    public string? Profile { get; init; }

    /// <summary>Description= of a unit; launchd has none.</summary>
    public string? Description { get; init; }

    public string? HermesHome { get; init; }

    public string Executable { get; init; } = string.Empty;

    public ImmutableArray<string> Arguments { get; init; } = [];

    public string? WorkingDirectory { get; init; }

    /// <summary>Variables besides HERMES_HOME, in the order they are written.</summary>
    public ImmutableArray<EnvironmentVariable> Environment { get; init; } = [];

    public string? EnvironmentFile { get; init; }

    public string? User { get; init; }

    public string? Group { get; init; }

    public string? StandardOutPath { get; init; }

    public string? StandardErrorPath { get; init; }

    /// <summary>How long the supervisor waits before SIGKILL: TimeoutStopSec= or ExitTimeOut (MaxValue: no limit).</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>The drain budget this stop timeout leaves the gateway: StopTimeout less the headroom.</summary>
    public TimeSpan DrainTimeout => StopTimeout == TimeSpan.MaxValue ? TimeSpan.MaxValue
        : StopTimeout > ServiceDefinitionFactory.StopHeadroom ? StopTimeout - ServiceDefinitionFactory.StopHeadroom : TimeSpan.Zero;

    public SystemdRestartOptions? Systemd { get; init; }

    public LaunchdRestartOptions? Launchd { get; init; }

    public ImmutableArray<ExtraUnitSetting> ExtraUnitSettings { get; init; } = [];

    public ImmutableArray<KeyValuePair<string, PlistValue>> ExtraPlistKeys { get; init; } = [];

    /// <summary>The file the definition renders to.</summary>
    public string FileName => Name + ServiceFormats.For(Platform).Extension;

    /// <summary>The exact text of the unit file or plist.</summary>
    public string Render() => ServiceFiles.Render(this);

    /// <summary>Scenarios that no unit or plist setting can satisfy on this platform, and why.</summary>
    public IReadOnlyList<ScenarioLimitation> Limitations => ServiceFormats.For(Platform).Limitations;

    public bool Equals(ServiceDefinition? o) =>
        o is not null && Platform == o.Platform && Scope == o.Scope && Name == o.Name && Profile == o.Profile
        && Description == o.Description && HermesHome == o.HermesHome && Executable == o.Executable
        && Arguments.SequenceEqual(o.Arguments) && WorkingDirectory == o.WorkingDirectory && Environment.SequenceEqual(o.Environment)
        && EnvironmentFile == o.EnvironmentFile && User == o.User && Group == o.Group && StandardOutPath == o.StandardOutPath
        && StandardErrorPath == o.StandardErrorPath && StopTimeout == o.StopTimeout
        && Equals(Systemd, o.Systemd) && Equals(Launchd, o.Launchd) && ExtraUnitSettings.SequenceEqual(o.ExtraUnitSettings)
        && ExtraPlistKeys.Length == o.ExtraPlistKeys.Length
        && ExtraPlistKeys.Zip(o.ExtraPlistKeys).All(p => p.First.Key == p.Second.Key && Equals(p.First.Value, p.Second.Value));

    public override int GetHashCode() => HashCode.Combine(Platform, Scope, Name, Executable);
}

/// <summary>A lifecycle scenario a platform's supervisor cannot be configured to meet.</summary>
public sealed record ScenarioLimitation(LifecycleScenario Scenario, string Why);
