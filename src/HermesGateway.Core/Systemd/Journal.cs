using System.Globalization;
using System.Text;
using System.Text.Json;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Systemd;

/// <summary>One journal entry as 'journalctl -o json' prints it: only what a log view needs.</summary>
/// <param name="Time">__REALTIME_TIMESTAMP (microseconds since the epoch); null when missing</param>
/// <param name="Pid">_PID; null when missing (a line systemd itself logged about the unit has systemd's)</param>
/// <param name="Priority">PRIORITY, syslog's 0 (emerg) to 7 (debug); null when missing</param>
/// <param name="Message">MESSAGE; when it was not valid UTF-8 (json prints it as an array of bytes), decoded with U+FFFD for the invalid bytes</param>
public sealed record JournalRecord(DateTimeOffset? Time, int? Pid, int? Priority, string Message);

/// <summary>journalctl: the arguments that select a unit's entries, and the parser of its JSON lines.</summary>
public static class Journal
{
    /// <summary>
    /// The arguments for a unit's entries: <c>-u unit</c> (a system unit); <c>--user-unit unit</c> (the caller's own user
    /// unit); or, for another account's user unit (root reading it), the matches 'journalctl --user-unit' adds for its
    /// own uid, with <paramref name="uid"/>: _SYSTEMD_USER_UNIT= and _UID=. Then -n, --since "@unix seconds", -f.
    /// </summary>
    public static IReadOnlyList<string> Arguments(string unit, bool user, uint? uid, int? tail, DateTimeOffset? since, bool follow)
    {
        var args = new List<string> { "--no-pager", "-o", "json", "--output-fields=__REALTIME_TIMESTAMP,_PID,PRIORITY,MESSAGE" };
        if (!user)
        {
            args.AddRange(["-u", unit]);
        }
        else if (uid is null)
        {
            args.AddRange(["--user-unit", unit]);
        }
        else
        {
            args.AddRange(["_SYSTEMD_USER_UNIT=" + unit, "_UID=" + uid.Value.ToString(CultureInfo.InvariantCulture)]);
        }

        if (tail is { } n)
        {
            args.AddRange(["-n", n.ToString(CultureInfo.InvariantCulture)]);
        }

        if (since is { } s)
        {
            args.AddRange(["--since", "@" + s.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)]);
        }

        if (follow)
        {
            args.Add("-f");
        }

        return args;
    }

    /// <summary>
    /// One line of 'journalctl -o json'. Fields may be strings, arrays of bytes (a value that is not UTF-8, or too
    /// long), null (a value too large to print), or arrays of those (a field set more than once: the last counts).
    /// Null when the line is not a JSON object (journalctl's own "-- No entries --" and the like).
    /// </summary>
    public static JournalRecord? Parse(string line)
    {
        if (line.Length == 0 || line[0] != '{')
        {
            return null;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException)
        {
            return null;
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var time = Number(root, "__REALTIME_TIMESTAMP") is { } us && us >= 0 && us / 1000 <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
                ? DateTimeOffset.FromUnixTimeMilliseconds(us / 1000).AddTicks(us % 1000 * 10)
                : (DateTimeOffset?)null;
            var pid = Number(root, "_PID") is { } p && p is > 0 and <= int.MaxValue ? (int)p : (int?)null;
            var priority = Number(root, "PRIORITY") is { } pr && pr is >= 0 and <= 7 ? (int)pr : (int?)null;
            return new JournalRecord(time, pid, priority, Text(root, "MESSAGE") ?? string.Empty);
        }
    }

    /// <summary>journalctl's error as a stable id: not installed, no permission to read the journal, anything else.</summary>
    public static HermesException Failure(int exitCode, string standardError, string unit)
    {
        var err = standardError.Trim();
        if (exitCode == 127)
        {
            return new HermesException(HermesErrorIds.JournalUnavailable, HermesErrorCategory.ObjectNotFound,
                $"journalctl is not available here: {err}", unit);
        }

        if (err.Contains("Permission denied", StringComparison.OrdinalIgnoreCase) || err.Contains("No journal files were opened due to insufficient permissions", StringComparison.OrdinalIgnoreCase))
        {
            return new HermesException(HermesErrorIds.PermissionDenied, HermesErrorCategory.PermissionDenied,
                $"The journal of {unit} cannot be read by this account ({err}): run as root, or as a member of the systemd-journal or adm group.", unit);
        }

        return new HermesException(HermesErrorIds.JournalUnavailable, HermesErrorCategory.InvalidOperation,
            $"journalctl failed ({exitCode}): {err}", unit);
    }

    private static JsonElement? Last(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return null;
        }

        // A field set more than once is an array of values (strings, byte arrays or nulls): the last one counts.
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 && value[0].ValueKind is JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Null)
        {
            value = value[value.GetArrayLength() - 1];
        }

        return value;
    }

    private static long? Number(JsonElement root, string name) =>
        Text(root, name) is { } s && long.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string? Text(JsonElement root, string name)
    {
        var value = Last(root, name);
        switch (value?.ValueKind)
        {
            case JsonValueKind.String:
                return value.Value.GetString();
            case JsonValueKind.Array:
                var bytes = new List<byte>();
                foreach (var b in value.Value.EnumerateArray())
                {
                    if (b.ValueKind != JsonValueKind.Number || !b.TryGetByte(out var one))
                    {
                        return null;
                    }

                    bytes.Add(one);
                }

                // Not UTF-8 as a whole: each invalid byte becomes U+FFFD, the rest is kept.
                return new UTF8Encoding(false, false).GetString([.. bytes]);
            default:
                return null;
        }
    }
}
