using System.Collections.Immutable;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Systemd;

public enum ServiceType
{
    Simple,
    Exec,
    Forking,
    Oneshot,
    Dbus,
    Notify,
    NotifyReload,
    Idle,
}

public enum RestartPolicy
{
    No,
    OnSuccess,
    OnFailure,
    OnAbnormal,
    OnWatchdog,
    OnAbort,
    Always,
}

public enum KillMode
{
    ControlGroup,
    Mixed,
    Process,
    None,
}

public enum OomPolicy
{
    Continue,
    Stop,
    Kill,
}

/// <summary>systemd's Result= of a service run.</summary>
public enum ServiceResult
{
    Success,
    ExitCode,
    Signal,
    CoreDump,
    Timeout,
    Watchdog,
    OomKill,
    StartLimitHit,
    Protocol,
    Resources,
    ExecCondition,
}

/// <summary>ExecMainCode: the si_code of the main process' end (CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3).</summary>
public enum ExecMainCode
{
    None = 0,
    Exited = 1,
    Killed = 2,
    Dumped = 3,
}

public static class SystemdNames
{
    public static string Of(ServiceResult r) => r switch
    {
        ServiceResult.Success => "success",
        ServiceResult.ExitCode => "exit-code",
        ServiceResult.Signal => "signal",
        ServiceResult.CoreDump => "core-dump",
        ServiceResult.Timeout => "timeout",
        ServiceResult.Watchdog => "watchdog",
        ServiceResult.OomKill => "oom-kill",
        ServiceResult.StartLimitHit => "start-limit-hit",
        ServiceResult.Protocol => "protocol",
        ServiceResult.Resources => "resources",
        _ => "exec-condition",
    };

    public static bool TryParseResult(string text, out ServiceResult result) => TryParse(text, Of, out result);

    /// <summary>The value systemd names <paramref name="text"/>, read with the same table <paramref name="name"/> writes with.</summary>
    public static bool TryParse<T>(string text, Func<T, string> name, out T value)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (name(candidate) == text)
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }

    public static string Of(RestartPolicy r) => r switch
    {
        RestartPolicy.No => "no",
        RestartPolicy.OnSuccess => "on-success",
        RestartPolicy.OnFailure => "on-failure",
        RestartPolicy.OnAbnormal => "on-abnormal",
        RestartPolicy.OnWatchdog => "on-watchdog",
        RestartPolicy.OnAbort => "on-abort",
        _ => "always",
    };

    public static string Of(ServiceType t) => t switch
    {
        ServiceType.NotifyReload => "notify-reload",
        _ => t.ToString().ToLowerInvariant(),
    };

    public static string Of(KillMode k) => k switch
    {
        KillMode.ControlGroup => "control-group",
        _ => k.ToString().ToLowerInvariant(),
    };

    public static string Of(OomPolicy p) => p.ToString().ToLowerInvariant();
}

/// <summary>A list of exit statuses and signals, as SuccessExitStatus=, RestartPreventExitStatus= and RestartForceExitStatus= hold.</summary>
public sealed record ExitStatusSet(ImmutableSortedSet<int> Codes, ImmutableSortedSet<UnixSignal> Signals)
{
    public static ExitStatusSet Empty { get; } = new(ImmutableSortedSet<int>.Empty, ImmutableSortedSet<UnixSignal>.Empty);

    public bool IsEmpty => Codes.IsEmpty && Signals.IsEmpty;

    public bool ContainsCode(int code) => Codes.Contains(code);

    public bool ContainsSignal(UnixSignal signal) => Signals.Contains(signal);

    public ExitStatusSet WithCode(int code) => this with { Codes = Codes.Add(code) };

    public ExitStatusSet WithSignal(UnixSignal signal) => this with { Signals = Signals.Add(signal) };

    public ExitStatusSet Union(ExitStatusSet other) => new(Codes.Union(other.Codes), Signals.Union(other.Signals));

    public bool Equals(ExitStatusSet? other) => other is not null && Codes.SetEquals(other.Codes) && Signals.SetEquals(other.Signals);

    public override int GetHashCode() => HashCode.Combine(Codes.Count, Signals.Count, Codes.FirstOrDefault(), Signals.FirstOrDefault());

    public override string ToString() => string.Join(' ', Codes.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).Concat(Signals.Select(s => s.ToString())));

    public static ExitStatusSet Of(params int[] codes) => new(ImmutableSortedSet.CreateRange(codes), ImmutableSortedSet<UnixSignal>.Empty);
}

/// <summary>The restart-relevant settings of a service unit after all files and drop-ins are applied.</summary>
public sealed record SystemdServiceSettings
{
    public static readonly TimeSpan DefaultRestartSec = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan DefaultTimeoutStopSec = TimeSpan.FromSeconds(90);
    public static readonly TimeSpan DefaultTimeoutStartSec = TimeSpan.FromSeconds(90);
    public static readonly TimeSpan DefaultStartLimitInterval = TimeSpan.FromSeconds(10);
    public const int DefaultStartLimitBurst = 5;

    public ServiceType Type { get; init; } = ServiceType.Simple;

    public RestartPolicy Restart { get; init; } = RestartPolicy.No;

    public TimeSpan RestartSec { get; init; } = DefaultRestartSec;

    /// <summary>RestartSteps= (systemd 254+); 0 when unset.</summary>
    public int RestartSteps { get; init; }

    /// <summary>RestartMaxDelaySec= (systemd 254+); null when unset (infinity).</summary>
    public TimeSpan? RestartMaxDelaySec { get; init; }

    public ExitStatusSet SuccessExitStatus { get; init; } = ExitStatusSet.Empty;

    public ExitStatusSet RestartPreventExitStatus { get; init; } = ExitStatusSet.Empty;

    public ExitStatusSet RestartForceExitStatus { get; init; } = ExitStatusSet.Empty;

    public bool RemainAfterExit { get; init; }

    /// <summary>TimeoutStopSec=; null means infinity.</summary>
    public TimeSpan? TimeoutStopSec { get; init; } = DefaultTimeoutStopSec;

    /// <summary>TimeoutStartSec= (TimeoutSec= sets it too); null means infinity. Only a start that waits for readiness (Type=notify) can time out.</summary>
    public TimeSpan? TimeoutStartSec { get; init; } = DefaultTimeoutStartSec;

    /// <summary>WatchdogSec=; null when unset (no watchdog).</summary>
    public TimeSpan? WatchdogSec { get; init; }

    /// <summary>WatchdogSignal= (default SIGABRT): what the manager sends when the watchdog expires.</summary>
    public UnixSignal WatchdogSignal { get; init; } = UnixSignal.SIGABRT;

    /// <summary>TimeoutAbortSec=; null when unset, which means TimeoutStopSec=.</summary>
    public TimeSpan? TimeoutAbortSec { get; init; }

    /// <summary>Whether TimeoutAbortSec= was set at all (it may be set to infinity, which is also null).</summary>
    public bool TimeoutAbortSet { get; init; }

    /// <summary>RuntimeMaxSec=; null means infinity (no limit).</summary>
    public TimeSpan? RuntimeMaxSec { get; init; }

    /// <summary>The soft RLIMIT_CORE from LimitCORE= in bytes (ulong.MaxValue = infinity); null when unset: the manager's DefaultLimitCORE= (0 soft on Debian 12's 252).</summary>
    public ulong? LimitCoreSoft { get; init; }

    /// <summary>The watchdog's abort timeout: TimeoutAbortSec= when set, else TimeoutStopSec=.</summary>
    public TimeSpan? EffectiveTimeoutAbortSec => TimeoutAbortSet ? TimeoutAbortSec : TimeoutStopSec;

    /// <summary>Whether the start job waits for the process to say READY=1 (Type=notify, notify-reload).</summary>
    public bool WaitsForReady => Type is ServiceType.Notify or ServiceType.NotifyReload;

    public bool SendSigkill { get; init; } = true;

    /// <summary>IgnoreSIGPIPE= (default yes): the service starts with SIGPIPE ignored.</summary>
    public bool IgnoreSigpipe { get; init; } = true;

    public UnixSignal KillSignal { get; init; } = UnixSignal.SIGTERM;

    public UnixSignal? RestartKillSignal { get; init; }

    public UnixSignal FinalKillSignal { get; init; } = UnixSignal.SIGKILL;

    public KillMode KillMode { get; init; } = KillMode.ControlGroup;

    public OomPolicy OomPolicy { get; init; } = OomPolicy.Stop;

    /// <summary>StartLimitIntervalSec=; zero disables the limit.</summary>
    public TimeSpan StartLimitInterval { get; init; } = DefaultStartLimitInterval;

    /// <summary>StartLimitBurst=; zero disables the limit.</summary>
    public int StartLimitBurst { get; init; } = DefaultStartLimitBurst;

    public ImmutableArray<string> ExecStart { get; init; } = [];

    /// <summary>True when the (last) ExecStart= carries the '-' prefix: its failure is ignored.</summary>
    public bool ExecStartIgnoresFailure { get; init; }

    public ImmutableArray<string> ExecStop { get; init; } = [];

    public ImmutableArray<string> ExecStopPost { get; init; } = [];

    public ImmutableArray<string> ExecReload { get; init; } = [];

    /// <summary>UnsetEnvironment= words, in order (names, or NAME=VALUE assignments).</summary>
    public ImmutableArray<string> UnsetEnvironment { get; init; } = [];

    public bool StartLimitDisabled => StartLimitInterval == TimeSpan.Zero || StartLimitBurst == 0;

    /// <summary>The signal the stop half of 'systemctl restart' sends.</summary>
    public UnixSignal EffectiveRestartKillSignal => RestartKillSignal ?? KillSignal;
}
