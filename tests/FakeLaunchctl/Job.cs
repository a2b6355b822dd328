using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;

namespace HermesGateway.FakeLaunchctl;

internal enum JobState
{
    NotRunning,
    Running,
    SpawnScheduled,
    Pending,
}

/// <summary>One run of a job's program: a child of the daemon, in its own session (setsid), so PGID = PID.</summary>
internal sealed class Instance(int pid, DateTime startedAt, long? startTicks)
{
    public int Pid { get; } = pid;

    public DateTime StartedAt { get; } = startedAt;

    public long? StartTicks { get; } = startTicks;

    /// <summary>launchd itself is stopping it (bootout, kickstart -k): not a crash, whatever the signal.</summary>
    public bool StoppedByLaunchd { get; set; }

    /// <summary>When launchd escalates to SIGKILL (ExitTimeOut after its SIGTERM).</summary>
    public DateTime? KillAt { get; set; }
}

/// <summary>A loaded job: the plist as LaunchdJobReader read it, and what launchd remembers about its runs.</summary>
internal sealed class Job(DomainTarget domain, string plistPath, LaunchdJob definition)
{
    public DomainTarget Domain { get; } = domain;

    public string PlistPath { get; } = plistPath;

    public LaunchdJob Definition { get; } = definition;

    public string Label => Definition.Settings.Label;

    public string Target => LaunchctlClient.Target(Domain.Name, Label);

    public JobState State { get; set; }

    public Instance? Instance { get; set; }

    public DateTime? SpawnAt { get; set; }

    public string? PendingReason { get; set; }

    public int Runs { get; set; }

    /// <summary>The last ending as launchd saw it (after SeenByLaunchd).</summary>
    public ProcessEnding? LastEnding { get; set; }

    /// <summary>The program could not be run at all (launchd's "78: EX_CONFIG").</summary>
    public bool LastExConfig { get; set; }

    public DateTime? LastSpawnAt { get; set; }

    public DateTime? LastExitAt { get; set; }

    public TimeSpan? LastRanFor { get; set; }

    public TimeSpan? LastDelay { get; set; }

    public bool DemandedOnce { get; set; }

    public bool BootingOut { get; set; }

    public bool RestartAfterStop { get; set; }

    public string Decision { get; set; } = string.Empty;
}
