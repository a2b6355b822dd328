using System.Globalization;

namespace HermesGateway.Core.Platform;

/// <summary>When a process started, as the gateway itself records it: what tells a PID reused by another process from the one a marker or lock names.</summary>
public static class ProcessStartTime
{
    /// <summary>
    /// Field 22 of /proc/&lt;pid&gt;/stat (clock ticks since boot), or null where /proc has no such file;
    /// <paramref name="procRoot"/> names another PID namespace's procfs.
    /// </summary>
    public static long? Read(int pid, string procRoot = "/proc")
    {
        try
        {
            return Parse(File.ReadAllText($"{procRoot}/{pid}/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Field 22 of a /proc/&lt;pid&gt;/stat line; the command name may hold spaces and parentheses.</summary>
    public static long? Parse(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        // After the command name: field 3 (state) is the first; field 22 is the 20th.
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 20 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }
}
