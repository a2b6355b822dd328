using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Systemd;

/// <summary>Parsers for systemd's value syntaxes (time spans, booleans, exit-status lists, command lines).</summary>
public static class SystemdValues
{
    private static readonly (string Unit, double Seconds)[] TimeUnits =
    [
        ("usec", 1e-6), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("msec", 1e-3), ("ms", 1e-3),
        ("seconds", 1), ("second", 1), ("sec", 1), ("s", 1),
        ("minutes", 60), ("minute", 60), ("min", 60), ("months", 2629800), ("month", 2629800), ("M", 2629800), ("m", 60),
        ("hours", 3600), ("hour", 3600), ("hr", 3600), ("h", 3600),
        ("days", 86400), ("day", 86400), ("d", 86400), ("weeks", 604800), ("week", 604800), ("w", 604800),
        ("years", 31557600), ("year", 31557600), ("y", 31557600),
    ];

    /// <summary>Exit-status names systemd accepts in *ExitStatus= lists (exit-status.c).</summary>
    private static readonly Dictionary<string, int> ExitStatusNames = new(StringComparer.Ordinal)
    {
        ["SUCCESS"] = 0, ["FAILURE"] = 1, ["INVALIDARGUMENT"] = 2, ["NOTIMPLEMENTED"] = 3, ["NOPERMISSION"] = 4,
        ["NOTINSTALLED"] = 5, ["NOTCONFIGURED"] = 6, ["NOTRUNNING"] = 7,
        ["USAGE"] = 64, ["DATAERR"] = 65, ["NOINPUT"] = 66, ["NOUSER"] = 67, ["NOHOST"] = 68, ["UNAVAILABLE"] = 69,
        ["SOFTWARE"] = 70, ["OSERR"] = 71, ["OSFILE"] = 72, ["CANTCREAT"] = 73, ["IOERR"] = 74, ["TEMPFAIL"] = 75,
        ["PROTOCOL"] = 76, ["NOPERM"] = 77, ["CONFIG"] = 78,
        ["CHDIR"] = 200, ["NICE"] = 201, ["FDS"] = 202, ["EXEC"] = 203, ["MEMORY"] = 204, ["LIMITS"] = 205,
        ["OOM_ADJUST"] = 206, ["SIGNAL_MASK"] = 207, ["STDIN"] = 208, ["STDOUT"] = 209, ["CHROOT"] = 210,
        ["IOPRIO"] = 211, ["TIMERSLACK"] = 212, ["SECUREBITS"] = 213, ["SETSCHEDULER"] = 214, ["CPUAFFINITY"] = 215,
        ["GROUP"] = 216, ["USER"] = 217, ["CAPABILITIES"] = 218, ["CGROUP"] = 219, ["SETSID"] = 220, ["CONFIRM"] = 221,
        ["STDERR"] = 222, ["PAM"] = 224, ["NETWORK"] = 225, ["NAMESPACE"] = 226, ["NO_NEW_PRIVILEGES"] = 227,
        ["SECCOMP"] = 228, ["SELINUX_CONTEXT"] = 229, ["PERSONALITY"] = 230, ["APPARMOR_PROFILE"] = 231,
        ["ADDRESS_FAMILIES"] = 232, ["RUNTIME_DIRECTORY"] = 233, ["CHOWN"] = 235, ["SMACK_PROCESS_LABEL"] = 236,
        ["KEYRING"] = 237, ["STATE_DIRECTORY"] = 238, ["CACHE_DIRECTORY"] = 239, ["LOGS_DIRECTORY"] = 240,
        ["CONFIGURATION_DIRECTORY"] = 241, ["NUMA_POLICY"] = 242, ["CREDENTIALS"] = 243, ["BPF"] = 245,
    };

    /// <summary>
    /// systemd's own exit statuses (200-245, EXIT_CHDIR ... EXIT_BPF, systemd.exec(5) "Process Exit Codes"): the step
    /// of setting up the service's process that failed before its command ran.
    /// </summary>
    private static readonly Dictionary<int, string> SystemdExitStatusNames =
        ExitStatusNames.Where(kv => kv.Value >= 200).ToDictionary(kv => kv.Value, kv => kv.Key);

    /// <summary>An exit status as systemctl shows it: "200/CHDIR" for systemd's own statuses, the number otherwise.</summary>
    public static string FormatExitStatus(int code) =>
        SystemdExitStatusNames.TryGetValue(code, out var name)
            ? code.ToString(CultureInfo.InvariantCulture) + "/" + name
            : code.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether systemd itself ended the process with this status, before the service's command ran.</summary>
    public static bool IsSystemdExitStatus(int code) => SystemdExitStatusNames.ContainsKey(code);

    /// <summary>A process ending under systemd: "exit 200/CHDIR", "exit 1", "killed by SIGKILL".</summary>
    public static string DescribeEnding(ProcessEnding ending) =>
        ending.Kind == EndingKind.Exited ? "exit " + FormatExitStatus(ending.ExitCode) : ending.ToString();

    /// <summary>systemd's USEC_INFINITY: 2^64 - 1 microseconds.</summary>
    private const double UsecInfinity = 18446744073709551615d;

    /// <summary>
    /// Parses a resource limit as LimitCORE= takes it ("infinity", a size with an optional K/M/G/T/P/E suffix of
    /// 1024, or "soft:hard"); <paramref name="soft"/> is the soft limit in bytes, ulong.MaxValue for infinity.
    /// </summary>
    public static bool TryParseResourceLimit(string text, out ulong soft)
    {
        soft = 0;
        var t = text.Trim();
        var colon = t.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0 && !TryParseSize(t[(colon + 1)..], out _))
        {
            return false;
        }

        return TryParseSize(colon >= 0 ? t[..colon] : t, out soft);

        static bool TryParseSize(string word, out ulong bytes)
        {
            bytes = 0;
            word = word.Trim();
            if (word == "infinity")
            {
                bytes = ulong.MaxValue;
                return true;
            }

            var factor = 1UL;
            if (word.Length > 0 && "KMGTPE".IndexOf(word[^1]) is var power and >= 0)
            {
                factor = 1UL << (10 * (power + 1));
                word = word[..^1];
            }

            if (word.Length == 0 || !word.All(char.IsAsciiDigit) || !ulong.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                return false;
            }

            bytes = n > ulong.MaxValue / factor ? ulong.MaxValue : n * factor;
            return true;
        }
    }

    /// <summary>Parses a time span; <paramref name="value"/> is null for "infinity" (and for spans too long to matter).</summary>
    public static bool TryParseTimeSpan(string text, out TimeSpan? value)
    {
        value = null;
        var t = text.Trim();
        if (t.Length == 0)
        {
            return false;
        }

        if (t == "infinity")
        {
            return true;
        }

        double total = 0;
        var i = 0;
        var any = false;
        while (i < t.Length)
        {
            while (i < t.Length && char.IsWhiteSpace(t[i]))
            {
                i++;
            }

            if (i >= t.Length)
            {
                break;
            }

            var start = i;
            while (i < t.Length && (char.IsAsciiDigit(t[i]) || t[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(t.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            while (i < t.Length && char.IsWhiteSpace(t[i]))
            {
                i++;
            }

            var unitStart = i;
            while (i < t.Length && !char.IsWhiteSpace(t[i]) && !char.IsAsciiDigit(t[i]) && t[i] != '.')
            {
                i++;
            }

            var unit = t[unitStart..i];
            double factor;
            if (unit.Length == 0)
            {
                factor = 1;
            }
            else
            {
                var match = Array.Find(TimeUnits, u => u.Unit == unit);
                if (match.Unit is null)
                {
                    return false;
                }

                factor = match.Seconds;
            }

            total += number * factor;
            any = true;
        }

        // parse_sec() refuses only what does not fit in 64-bit microseconds (-ERANGE); anything longer than a
        // TimeSpan holds (~29,000 years) is as good as infinity for every decision the models make.
        if (!any || !double.IsFinite(total) || total * 1e6 >= UsecInfinity)
        {
            return false;
        }

        var ticks = total * TimeSpan.TicksPerSecond;
        value = ticks >= long.MaxValue ? null : TimeSpan.FromTicks((long)Math.Round(ticks));
        return true;
    }

    /// <summary>Writes a time span the way systemd reads it back exactly: "90s", "100ms", "1500us"; null is "infinity".</summary>
    public static string FormatTimeSpan(TimeSpan? value)
    {
        if (value is not { } t || t == TimeSpan.MaxValue)
        {
            return "infinity";
        }

        var us = t.Ticks / 10;
        return us == 0 ? "0"
            : us % 1_000_000 == 0 ? $"{us / 1_000_000}s"
            : us % 1_000 == 0 ? $"{us / 1_000}ms"
            : $"{us}us";
    }

    /// <summary>Undoes the doubling of '%' (and, for command lines, of '$') that a renderer applies.</summary>
    public static string UnescapeSpecifiers(string value, bool dollars) =>
        (dollars ? value.Replace("$$", "$", StringComparison.Ordinal) : value).Replace("%%", "%", StringComparison.Ordinal);

    public static bool TryParseBoolean(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "1" or "yes" or "y" or "true" or "t" or "on":
                value = true;
                return true;
            case "0" or "no" or "n" or "false" or "f" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>One word of an *ExitStatus= list: a number 0–255, an exit-status name, or a signal name.</summary>
    public static bool TryParseExitStatusWord(string word, out int? code, out UnixSignal? signal)
    {
        code = null;
        signal = null;
        if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            if (n is >= 0 and <= 255)
            {
                code = n;
                return true;
            }

            return false;
        }

        if (ExitStatusNames.TryGetValue(word, out var named))
        {
            code = named;
            return true;
        }

        // signal_from_string(): "SIGTERM" or "TERM"; numbers were taken as exit codes above.
        if (word.Length > 0 && char.IsAsciiLetterUpper(word[0]) && UnixSignals.TryParse(word, SignalPlatform.Linux, out var s) && !word.Any(char.IsAsciiLetterLower))
        {
            signal = s;
            return true;
        }

        return false;
    }

    /// <summary>A signal setting (KillSignal= and friends): a name with or without SIG, or a number.</summary>
    public static bool TryParseSignal(string text, out UnixSignal signal) =>
        UnixSignals.TryParse(text, SignalPlatform.Linux, out signal) && !text.Any(char.IsAsciiLetterLower);

    /// <summary>Splits an Exec*= value into its prefix characters and words (systemd.service(5) "Command lines").</summary>
    public static bool TrySplitCommandLine(string value, out string prefixes, out ImmutableArray<string> words)
    {
        words = [];
        prefixes = string.Empty;
        var v = value.TrimStart();
        var p = 0;
        while (p < v.Length && "@-:+!".Contains(v[p], StringComparison.Ordinal))
        {
            p++;
        }

        prefixes = v[..p];
        var result = ImmutableArray.CreateBuilder<string>();
        var current = new StringBuilder();
        var inWord = false;
        var i = p;
        while (i < v.Length)
        {
            var c = v[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    result.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }

                i++;
                continue;
            }

            if ((c == '"' || c == '\'') && !inWord)
            {
                var quote = c;
                i++;
                var closed = false;
                while (i < v.Length)
                {
                    if (v[i] == '\\' && i + 1 < v.Length)
                    {
                        if (!TryUnescape(v, ref i, current))
                        {
                            return false;
                        }

                        continue;
                    }

                    if (v[i] == quote)
                    {
                        closed = true;
                        i++;
                        break;
                    }

                    current.Append(v[i]);
                    i++;
                }

                if (!closed || (i < v.Length && !char.IsWhiteSpace(v[i])))
                {
                    return false;
                }

                result.Add(current.ToString());
                current.Clear();
                continue;
            }

            if (c == '\\' && i + 1 < v.Length)
            {
                if (!TryUnescape(v, ref i, current))
                {
                    return false;
                }

                inWord = true;
                continue;
            }

            current.Append(c);
            inWord = true;
            i++;
        }

        if (inWord)
        {
            result.Add(current.ToString());
        }

        words = result.ToImmutable();
        return words.Length > 0;
    }

    /// <summary>The code point of \uXXXX or \UXXXXXXXX (cunescape_one()): not NUL, not a surrogate, at most U+10FFFF.</summary>
    private static bool TryCodePoint(string v, int start, int digits, out int code)
    {
        code = 0;
        return start + digits <= v.Length
            && int.TryParse(v.AsSpan(start, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code)
            && code is > 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF);
    }

    private static bool TryUnescape(string v, ref int i, StringBuilder into)
    {
        var e = v[i + 1];
        switch (e)
        {
            case 'n': into.Append('\n'); break;
            case 't': into.Append('\t'); break;
            case 'r': into.Append('\r'); break;
            case 'a': into.Append('\a'); break;
            case 'b': into.Append('\b'); break;
            case 'f': into.Append('\f'); break;
            case 'v': into.Append('\v'); break;
            case 's': into.Append(' '); break;
            case '\\' or '"' or '\'' or ';': into.Append(e); break;
            case 'x' when i + 3 < v.Length && int.TryParse(v.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex) && hex is > 0 and < 0x80:
                // \xNN is one byte; above 0x7F that byte is not a character of its own (not representable here).
                into.Append((char)hex);
                i += 4;
                return true;
            case 'u' or 'U' when TryCodePoint(v, i + 2, e == 'u' ? 4 : 8, out var code):
                into.Append(char.ConvertFromUtf32(code));
                i += e == 'u' ? 6 : 10;
                return true;
            default:
                return false;
        }

        i += 2;
        return true;
    }
}
