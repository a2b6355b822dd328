using System.Globalization;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Platform;

/// <summary>Signals by name. Numbers differ between Linux and Darwin, so the engine reasons by name.</summary>
public enum UnixSignal
{
    SIGHUP,
    SIGINT,
    SIGQUIT,
    SIGILL,
    SIGTRAP,
    SIGABRT,
    SIGBUS,
    SIGFPE,
    SIGKILL,
    SIGUSR1,
    SIGSEGV,
    SIGUSR2,
    SIGPIPE,
    SIGALRM,
    SIGTERM,
    SIGSTKFLT,
    SIGCHLD,
    SIGCONT,
    SIGSTOP,
    SIGTSTP,
    SIGTTIN,
    SIGTTOU,
    SIGURG,
    SIGXCPU,
    SIGXFSZ,
    SIGVTALRM,
    SIGPROF,
    SIGWINCH,
    SIGIO,
    SIGPWR,
    SIGSYS,
    SIGEMT,
    SIGINFO,
}

/// <summary>What a process does by default when a signal arrives and it installed no handler.</summary>
public enum SignalDefaultAction
{
    Terminate,
    CoreDump,
    Ignore,
    Stop,
    Continue,
}

public enum SignalPlatform
{
    Linux,
    Darwin,
}

public static class UnixSignals
{
    private static readonly Dictionary<UnixSignal, int> LinuxNumbers = new()
    {
        [UnixSignal.SIGHUP] = 1, [UnixSignal.SIGINT] = 2, [UnixSignal.SIGQUIT] = 3, [UnixSignal.SIGILL] = 4,
        [UnixSignal.SIGTRAP] = 5, [UnixSignal.SIGABRT] = 6, [UnixSignal.SIGBUS] = 7, [UnixSignal.SIGFPE] = 8,
        [UnixSignal.SIGKILL] = 9, [UnixSignal.SIGUSR1] = 10, [UnixSignal.SIGSEGV] = 11, [UnixSignal.SIGUSR2] = 12,
        [UnixSignal.SIGPIPE] = 13, [UnixSignal.SIGALRM] = 14, [UnixSignal.SIGTERM] = 15, [UnixSignal.SIGSTKFLT] = 16,
        [UnixSignal.SIGCHLD] = 17, [UnixSignal.SIGCONT] = 18, [UnixSignal.SIGSTOP] = 19, [UnixSignal.SIGTSTP] = 20,
        [UnixSignal.SIGTTIN] = 21, [UnixSignal.SIGTTOU] = 22, [UnixSignal.SIGURG] = 23, [UnixSignal.SIGXCPU] = 24,
        [UnixSignal.SIGXFSZ] = 25, [UnixSignal.SIGVTALRM] = 26, [UnixSignal.SIGPROF] = 27, [UnixSignal.SIGWINCH] = 28,
        [UnixSignal.SIGIO] = 29, [UnixSignal.SIGPWR] = 30, [UnixSignal.SIGSYS] = 31,
    };

    private static readonly Dictionary<UnixSignal, int> DarwinNumbers = new()
    {
        [UnixSignal.SIGHUP] = 1, [UnixSignal.SIGINT] = 2, [UnixSignal.SIGQUIT] = 3, [UnixSignal.SIGILL] = 4,
        [UnixSignal.SIGTRAP] = 5, [UnixSignal.SIGABRT] = 6, [UnixSignal.SIGEMT] = 7, [UnixSignal.SIGFPE] = 8,
        [UnixSignal.SIGKILL] = 9, [UnixSignal.SIGBUS] = 10, [UnixSignal.SIGSEGV] = 11, [UnixSignal.SIGSYS] = 12,
        [UnixSignal.SIGPIPE] = 13, [UnixSignal.SIGALRM] = 14, [UnixSignal.SIGTERM] = 15, [UnixSignal.SIGURG] = 16,
        [UnixSignal.SIGSTOP] = 17, [UnixSignal.SIGTSTP] = 18, [UnixSignal.SIGCONT] = 19, [UnixSignal.SIGCHLD] = 20,
        [UnixSignal.SIGTTIN] = 21, [UnixSignal.SIGTTOU] = 22, [UnixSignal.SIGIO] = 23, [UnixSignal.SIGXCPU] = 24,
        [UnixSignal.SIGXFSZ] = 25, [UnixSignal.SIGVTALRM] = 26, [UnixSignal.SIGPROF] = 27, [UnixSignal.SIGWINCH] = 28,
        [UnixSignal.SIGINFO] = 29, [UnixSignal.SIGUSR1] = 30, [UnixSignal.SIGUSR2] = 31,
    };

    public static bool TryGetNumber(UnixSignal signal, SignalPlatform platform, out int number) =>
        (platform == SignalPlatform.Linux ? LinuxNumbers : DarwinNumbers).TryGetValue(signal, out number);

    public static int Number(UnixSignal signal, SignalPlatform platform) =>
        TryGetNumber(signal, platform, out var n)
            ? n
            : throw new HermesException(HermesErrorIds.SignalUnknown, HermesErrorCategory.InvalidArgument,
                $"{signal} does not exist on {platform}.", signal);

    public static bool TryFromNumber(int number, SignalPlatform platform, out UnixSignal signal)
    {
        foreach (var (s, n) in platform == SignalPlatform.Linux ? LinuxNumbers : DarwinNumbers)
        {
            if (n == number)
            {
                signal = s;
                return true;
            }
        }

        signal = default;
        return false;
    }

    /// <summary>Parses "SIGTERM", "TERM", "sigterm" or a number (read for the given platform).</summary>
    public static bool TryParse(string? text, SignalPlatform platform, out UnixSignal signal)
    {
        signal = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var t = text.Trim();
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return TryFromNumber(number, platform, out signal);
        }

        var name = t.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? t.ToUpperInvariant() : "SIG" + t.ToUpperInvariant();
        return Enum.TryParse(name, ignoreCase: false, out signal) && Enum.IsDefined(signal) && TryGetNumber(signal, platform, out _);
    }

    public static UnixSignal Parse(string? text, SignalPlatform platform = SignalPlatform.Linux) =>
        TryParse(text, platform, out var s)
            ? s
            : throw new HermesException(HermesErrorIds.SignalUnknown, HermesErrorCategory.InvalidArgument,
                $"'{text}' is not a signal name or number known on {platform} (expected e.g. SIGTERM, TERM or 15).", text);

    /// <summary>signal(7) default dispositions.</summary>
    public static SignalDefaultAction DefaultAction(UnixSignal signal) => signal switch
    {
        UnixSignal.SIGQUIT or UnixSignal.SIGILL or UnixSignal.SIGTRAP or UnixSignal.SIGABRT or UnixSignal.SIGBUS
            or UnixSignal.SIGFPE or UnixSignal.SIGSEGV or UnixSignal.SIGSYS or UnixSignal.SIGXCPU
            or UnixSignal.SIGXFSZ or UnixSignal.SIGEMT => SignalDefaultAction.CoreDump,
        UnixSignal.SIGCHLD or UnixSignal.SIGURG or UnixSignal.SIGWINCH or UnixSignal.SIGINFO => SignalDefaultAction.Ignore,
        UnixSignal.SIGSTOP or UnixSignal.SIGTSTP or UnixSignal.SIGTTIN or UnixSignal.SIGTTOU => SignalDefaultAction.Stop,
        UnixSignal.SIGCONT => SignalDefaultAction.Continue,
        _ => SignalDefaultAction.Terminate,
    };
}
