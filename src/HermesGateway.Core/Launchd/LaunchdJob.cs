using System.Collections.Immutable;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Launchd;

/// <summary>KeepAlive: a boolean, or a dictionary of conditions that launchd ORs.</summary>
public sealed record LaunchdKeepAlive
{
    public static LaunchdKeepAlive Never { get; } = new();

    public static LaunchdKeepAlive Always { get; } = new() { Unconditional = true };

    public bool Unconditional { get; init; }

    public bool? SuccessfulExit { get; init; }

    public bool? Crashed { get; init; }

    public ImmutableSortedDictionary<string, bool> PathState { get; init; } = ImmutableSortedDictionary<string, bool>.Empty;

    public ImmutableSortedDictionary<string, bool> OtherJobEnabled { get; init; } = ImmutableSortedDictionary<string, bool>.Empty;

    public bool AfterInitialDemand { get; init; }

    public bool IsDictionary => !Unconditional && (SuccessfulExit is not null || Crashed is not null || !PathState.IsEmpty || !OtherJobEnabled.IsEmpty || AfterInitialDemand);

    public bool KeepsAlive => Unconditional || IsDictionary;

    public bool Equals(LaunchdKeepAlive? o) =>
        o is not null && Unconditional == o.Unconditional && SuccessfulExit == o.SuccessfulExit && Crashed == o.Crashed
        && AfterInitialDemand == o.AfterInitialDemand && PathState.SequenceEqual(o.PathState) && OtherJobEnabled.SequenceEqual(o.OtherJobEnabled);

    public override int GetHashCode() => HashCode.Combine(Unconditional, SuccessfulExit, Crashed, AfterInitialDemand);

    public override string ToString()
    {
        if (Unconditional)
        {
            return "true";
        }

        if (!IsDictionary)
        {
            return "false";
        }

        var parts = new List<string>();
        if (SuccessfulExit is { } se)
        {
            parts.Add($"SuccessfulExit={se.ToString().ToLowerInvariant()}");
        }

        if (Crashed is { } c)
        {
            parts.Add($"Crashed={c.ToString().ToLowerInvariant()}");
        }

        parts.AddRange(PathState.Select(p => $"PathState[{p.Key}]={p.Value.ToString().ToLowerInvariant()}"));
        parts.AddRange(OtherJobEnabled.Select(p => $"OtherJobEnabled[{p.Key}]={p.Value.ToString().ToLowerInvariant()}"));
        if (AfterInitialDemand)
        {
            parts.Add("AfterInitialDemand=true");
        }

        return "{" + string.Join(", ", parts) + "}";
    }
}

/// <summary>The restart-relevant keys of a launchd job.</summary>
public sealed record LaunchdJobSettings
{
    public const int DefaultThrottleInterval = 10;

    /// <summary>launchd.plist(5) says "system-defined"; launchd-842 used 20 s, recent macOS dumps show 5 s.</summary>
    public const int AssumedDefaultExitTimeOut = 20;

    public string Label { get; init; } = string.Empty;

    public string? Program { get; init; }

    public ImmutableArray<string> ProgramArguments { get; init; } = [];

    public LaunchdKeepAlive KeepAlive { get; init; } = LaunchdKeepAlive.Never;

    public bool RunAtLoad { get; init; }

    public int ThrottleInterval { get; init; } = DefaultThrottleInterval;

    /// <summary>ExitTimeOut; null when the plist leaves it to the system.</summary>
    public int? ExitTimeOut { get; init; }

    public bool LaunchOnlyOnce { get; init; }

    /// <summary>The plist's <c>Disabled</c> key: a hint to launchctl not to load the job (docs/models.md §2.7).</summary>
    public bool Disabled { get; init; }

    /// <summary>
    /// <c>EnableTransactions</c>: the job promises to track open transactions; with none open launchd may stop it with
    /// SIGKILL instead of SIGTERM (docs/models.md §2.5).
    /// </summary>
    public bool EnableTransactions { get; init; }

    /// <summary><c>AbandonProcessGroup</c>: launchd does not signal the job's process group when the job dies (docs/models.md §2.8).</summary>
    public bool AbandonProcessGroup { get; init; }

    public string? UserName { get; init; }

    public string? ProcessType { get; init; }

    /// <summary>
    /// The executable launchd spawns, when it is a path: <see cref="Program"/>, or <c>ProgramArguments[0]</c> when
    /// Program is absent and it is absolute (a bare name is looked up on PATH, so it is not a path). Null otherwise.
    /// </summary>
    public string? ProgramPath => Program ?? (ProgramArguments.Length > 0 && ProgramArguments[0].StartsWith('/') ? ProgramArguments[0] : null);

    /// <summary>
    /// True when ProgramArguments run the gateway under Hermes' stderr-timestamp wrapper, which turns exit 78 into 0
    /// and a death by signal into exit 128+signal before launchd sees them.
    /// </summary>
    public bool WrapperRewritesExits => ProgramArguments.Any(a => a.Contains("stderr_timestamp", StringComparison.Ordinal));
}

/// <summary>A plist as launchd would load it, with what launchd would ignore or refuse.</summary>
public sealed record LaunchdJob(string Path, LaunchdJobSettings Settings, PlistDict Document, ImmutableArray<UnitDiagnostic> Diagnostics)
{
    public bool LoadRefused => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Fatal);
}
