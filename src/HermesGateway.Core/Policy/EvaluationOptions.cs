using System.Collections.Immutable;

namespace HermesGateway.Core.Policy;

/// <summary>Knobs of the evaluation that are not in the unit or plist.</summary>
public sealed record EvaluationOptions
{
    /// <summary>The systemd version whose rules are modelled when none is given: Debian 12's, the one this module is proven on.</summary>
    public const int DefaultSystemdVersion = 252;

    public int SystemdVersion { get; init; } = DefaultSystemdVersion;

    /// <summary>The longest wait that still counts as "revived at once".</summary>
    public TimeSpan ReviveWithin { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The shortest delay between crash-loop attempts that counts as backing off.</summary>
    public TimeSpan CrashLoopMinDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a crash loop is followed before it is called "never abandoned".</summary>
    public TimeSpan CrashLoopHorizon { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How many planned restarts the burst scenario makes, one after another.</summary>
    public int RestartBurstCount { get; init; } = 6;

    /// <summary>How long the gateway runs between restarts in the burst scenario.</summary>
    public TimeSpan RestartBurstRunTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the gateway has been running when a single event hits it.</summary>
    public TimeSpan SteadyRunTime { get; init; } = TimeSpan.FromHours(1);

    public LaunchdDomain LaunchdDomain { get; init; } = LaunchdDomain.GuiDefault;
}

public enum LaunchdDomainKind
{
    /// <summary>gui/&lt;uid&gt;: a logged-in Aqua session.</summary>
    Gui,

    /// <summary>user/&lt;uid&gt;: no GUI session.</summary>
    User,

    /// <summary>system: LaunchDaemons.</summary>
    System,
}

/// <summary>Facts about the domain a job lives in that decide relaunches but are not in the plist.</summary>
public sealed record LaunchdDomain
{
    public static LaunchdDomain GuiDefault { get; } = new();

    public LaunchdDomainKind Kind { get; init; } = LaunchdDomainKind.Gui;

    /// <summary>A GUI domain in on-demand-only mode (macOS update staged, login restore): KeepAlive spawns are pended.</summary>
    public bool OnDemandOnly { get; init; }

    public bool ShuttingDown { get; init; }

    public ImmutableHashSet<string> ExistingPaths { get; init; } = ImmutableHashSet<string>.Empty;

    public ImmutableHashSet<string> LoadedJobs { get; init; } = ImmutableHashSet<string>.Empty;

    /// <summary>The job's program, whatever its path, does not exist here: every spawn fails (docs/models.md §2.6).</summary>
    public bool ProgramMissing { get; init; }

    /// <summary>The job's label is disabled in this domain (launchctl disable; docs/models.md §2.7).</summary>
    public bool JobDisabled { get; init; }

    /// <summary>
    /// Program paths that do not exist on the modelled machine. A job whose program path (its <c>Program</c>, or an
    /// absolute <c>ProgramArguments[0]</c>) is listed here cannot be spawned: every spawn fails (docs/models.md §2.6).
    /// Empty by default, so every program is taken to exist (unlike <see cref="ExistingPaths"/>, which only feeds
    /// <c>KeepAlive.PathState</c>).
    /// </summary>
    public ImmutableHashSet<string> MissingPrograms { get; init; } = ImmutableHashSet<string>.Empty;

    /// <summary>
    /// Labels disabled in this domain with <c>launchctl disable &lt;domain&gt;/&lt;label&gt;</c> (launchd's override
    /// database, not the plist). <c>launchctl bootstrap</c> does not load a disabled label, so the job never runs
    /// (docs/models.md §2.7).
    /// </summary>
    public ImmutableHashSet<string> DisabledJobs { get; init; } = ImmutableHashSet<string>.Empty;
}
