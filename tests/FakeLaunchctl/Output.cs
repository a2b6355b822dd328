using System.Globalization;
using System.Text;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.FakeLaunchctl;

/// <summary>launchctl's texts. The print format "is NOT API" (launchctl(1)); the stable fields are reproduced.</summary>
internal static class Output
{
    public const string Header = "# fake-launchctl: a TEST DOUBLE of launchctl/launchd on Linux (HermesGateway tests), not Apple's launchctl";

    public static WireResponse NotFound(Command c) => c.Verb switch
    {
        Verb.Bootout => new WireResponse(LaunchctlClient.ServiceNotFound, string.Empty, "Boot-out failed: 113: Could not find specified service\n"),
        Verb.Kill => new WireResponse(LaunchctlClient.ServiceNotFound, string.Empty, "Could not kill service: 113: Could not find specified service\n"),
        _ => new WireResponse(LaunchctlClient.ServiceNotFound, string.Empty, $"Could not find service \"{c.Service!.Label}\" in domain for {c.Domain.Description}\n"),
    };

    public static string Disabled(DomainTarget domain, IReadOnlyDictionary<string, bool> entries)
    {
        var sb = new StringBuilder(Header).Append('\n').Append("disabled services = {\n");
        foreach (var (label, disabled) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            sb.Append("\t\"").Append(label).Append("\" => ").Append(disabled ? "disabled" : "enabled").Append('\n');
        }

        sb.Append("}\n");
        if (domain.Kind != LaunchdDomainKind.System)
        {
            sb.Append("login item associations = {\n}\n");
        }

        return sb.ToString();
    }

    public static string Domain(DomainTarget domain, IReadOnlyList<(string Label, int? Pid, string LastExit)> services)
    {
        var sb = new StringBuilder(Header).Append('\n');
        sb.Append(domain.Name).Append(" = {\n");
        sb.Append("\ttype = ").Append(domain.Kind switch { LaunchdDomainKind.Gui => "login", LaunchdDomainKind.User => "user", _ => "system" }).Append('\n');
        sb.Append("\thandle = ").Append(domain.Uid.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("\tactive count = ").Append(services.Count(s => s.Pid is not null).ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("\tservices = {\n");
        foreach (var (label, pid, lastExit) in services)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\t\t{(pid is { } p ? p.ToString(CultureInfo.InvariantCulture) : "0"),8} {lastExit,8} \t{label}\n");
        }

        sb.Append("\t}\n}\n");
        return sb.ToString();
    }

    /// <summary>print &lt;domain&gt;/&lt;label&gt;: launchctl's stable fields, then the double's own "fake ..." lines.</summary>
    public static string Service(Job j)
    {
        static string Ms(DateTime? t) => t is { } v ? new DateTimeOffset(v).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : "-";
        var s = j.Definition.Settings;
        var doc = j.Definition.Document;
        var sb = new StringBuilder(Output.Header).Append('\n');
        void Line(string text) => sb.Append('\t').Append(text).Append('\n');
        sb.Append(j.Target).Append(" = {\n");
        Line($"active count = {(j.Instance is null ? "0" : "1")}");
        Line($"path = {j.PlistPath}");
        Line($"type = {(j.Domain.Kind == LaunchdDomainKind.System ? "LaunchDaemon" : "LaunchAgent")}");
        Line($"state = {(j.Instance is not null ? "running" : j.State == JobState.SpawnScheduled ? "spawn scheduled" : "not running")}");
        sb.Append('\n');
        Line($"program = {s.Program ?? (s.ProgramArguments.IsEmpty ? "(none)" : s.ProgramArguments[0])}");
        Line("arguments = {");
        foreach (var a in s.ProgramArguments)
        {
            Line("\t" + a);
        }

        Line("}");
        sb.Append('\n');
        if (doc["WorkingDirectory"] is PlistString wd)
        {
            Line($"working directory = {wd.Value}");
        }

        if (doc["StandardOutPath"] is PlistString so)
        {
            Line($"stdout path = {so.Value}");
        }

        if (doc["StandardErrorPath"] is PlistString se)
        {
            Line($"stderr path = {se.Value}");
        }

        Line("environment = {");
        foreach (var (k, v) in JobProcess.Environment(j).Where(e => e.Key != "PATH" || doc["EnvironmentVariables"] is PlistDict))
        {
            Line($"\t{k} => {v}");
        }

        Line("}");
        sb.Append('\n');
        Line($"domain = {j.Domain.Name}");
        Line($"runs = {j.Runs.ToString(CultureInfo.InvariantCulture)}");
        if (j.Instance is { } i)
        {
            Line($"pid = {i.Pid.ToString(CultureInfo.InvariantCulture)}");
        }

        Line(Output.LastExit(j.LastEnding, j.LastExConfig));
        sb.Append('\n');
        Line($"minimum runtime = {s.ThrottleInterval.ToString(CultureInfo.InvariantCulture)}");
        Line($"exit timeout = {(s.ExitTimeOut ?? LaunchdJobSettings.AssumedDefaultExitTimeOut).ToString(CultureInfo.InvariantCulture)}");
        var properties = new List<string>();
        if (s.KeepAlive.KeepsAlive)
        {
            properties.Add("keepalive");
        }

        if (s.RunAtLoad)
        {
            properties.Add("runatload");
        }

        if (s.LaunchOnlyOnce)
        {
            properties.Add("launch only once");
        }

        Line($"properties = {(properties.Count == 0 ? "(none)" : string.Join(" | ", properties))}");
        sb.Append('\n');
        Line("fake (test double) fields, in ms since the epoch:");
        Line($"fake state = {(j.BootingOut ? "booting out" : j.RestartAfterStop ? "kickstart -k in progress" : j.State switch { JobState.Pending => "pending spawn (" + j.PendingReason + ")", JobState.SpawnScheduled => "spawn scheduled", JobState.Running => "running", _ => "not running" })}");
        Line($"fake last spawn at = {Ms(j.LastSpawnAt)}");
        Line($"fake last exit at = {Ms(j.LastExitAt)}");
        Line($"fake last ran for = {(j.LastRanFor is { } r ? ((long)r.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : "-")}");
        Line($"fake respawn delay = {(j.LastDelay is { } d ? ((long)d.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : "-")}");
        Line($"fake spawn at = {Ms(j.SpawnAt)}");
        Line($"fake decision = {j.Decision}");
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>"Killed: 9": the Darwin name and number, as launchctl prints a terminating signal.</summary>
    public static string SignalText(UnixSignal s)
    {
        var name = s switch
        {
            UnixSignal.SIGHUP => "Hangup", UnixSignal.SIGINT => "Interrupt", UnixSignal.SIGQUIT => "Quit",
            UnixSignal.SIGILL => "Illegal instruction", UnixSignal.SIGTRAP => "Trace/BPT trap", UnixSignal.SIGABRT => "Abort trap",
            UnixSignal.SIGEMT => "EMT trap", UnixSignal.SIGFPE => "Floating point exception", UnixSignal.SIGKILL => "Killed",
            UnixSignal.SIGBUS => "Bus error", UnixSignal.SIGSEGV => "Segmentation fault", UnixSignal.SIGSYS => "Bad system call",
            UnixSignal.SIGPIPE => "Broken pipe", UnixSignal.SIGALRM => "Alarm clock", UnixSignal.SIGTERM => "Terminated",
            UnixSignal.SIGURG => "Urgent I/O condition", UnixSignal.SIGSTOP => "Suspended (signal)", UnixSignal.SIGTSTP => "Suspended",
            UnixSignal.SIGCONT => "Continued", UnixSignal.SIGCHLD => "Child exited", UnixSignal.SIGTTIN => "Stopped (tty input)",
            UnixSignal.SIGTTOU => "Stopped (tty output)", UnixSignal.SIGIO => "I/O possible", UnixSignal.SIGXCPU => "Cputime limit exceeded",
            UnixSignal.SIGXFSZ => "Filesize limit exceeded", UnixSignal.SIGVTALRM => "Virtual timer expired",
            UnixSignal.SIGPROF => "Profiling timer expired", UnixSignal.SIGWINCH => "Window size changes",
            UnixSignal.SIGINFO => "Information request", UnixSignal.SIGUSR1 => "User defined signal 1",
            UnixSignal.SIGUSR2 => "User defined signal 2", _ => s.ToString(),
        };
        return UnixSignals.TryGetNumber(s, SignalPlatform.Darwin, out var n)
            ? $"{name}: {n.ToString(CultureInfo.InvariantCulture)}"
            : $"{name}: {UnixSignals.Number(s, SignalPlatform.Linux).ToString(CultureInfo.InvariantCulture)} (Linux only)";
    }

    public static string LastExit(ProcessEnding? e, bool exConfig) => e switch
    {
        null => "last exit code = (never exited)",
        { Kind: EndingKind.Exited } when exConfig => $"last exit code = {e.ExitCode.ToString(CultureInfo.InvariantCulture)}: EX_CONFIG",
        { Kind: EndingKind.Exited } => $"last exit code = {e.ExitCode.ToString(CultureInfo.InvariantCulture)}",
        _ => $"last terminating signal = {SignalText(e.Signal!.Value)}",
    };

    /// <summary>"-9" or "0": launchctl list's last-exit column (negative: a signal, Darwin numbering).</summary>
    public static string LastExitColumn(ProcessEnding? e) => e switch
    {
        null => "-",
        { Kind: EndingKind.Exited } => e.ExitCode.ToString(CultureInfo.InvariantCulture),
        _ => UnixSignals.TryGetNumber(e.Signal!.Value, SignalPlatform.Darwin, out var n) ? (-n).ToString(CultureInfo.InvariantCulture) : "-1",
    };
}
