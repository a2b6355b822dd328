using System.Globalization;
using System.Text.Json;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Policy;

/// <summary>
/// The file that tells the gateway a SIGTERM is a planned stop: $HERMES_HOME/.gateway-planned-stop.json with the
/// target's PID and start time. The gateway honours it for 60 s and exits 0 instead of 1.
/// </summary>
public static class PlannedStopMarker
{
    public const string FileName = ".gateway-planned-stop.json";

    public static string PathIn(string hermesHome) => System.IO.Path.Combine(hermesHome, FileName);

    /// <summary>Writes the marker for <paramref name="pid"/> atomically, readable by the gateway's account (it holds no secret).</summary>
    public static string Write(string hermesHome, int pid, long? startTime, int stopperPid, DateTimeOffset now)
    {
        var json = JsonSerializer.Serialize(new
        {
            target_pid = pid,
            target_start_time = startTime,
            stopper_pid = stopperPid,
            written_at = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture),
        });
        var path = PathIn(hermesHome);
        AtomicFile.Write(path, json + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return path;
    }
}

/// <summary>Process facts the gateway itself uses to recognise a marker meant for it.</summary>
public static class ProcessStartTime
{
    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat (clock ticks since boot), or null where /proc has no such file.</summary>
    public static long? Read(int pid)
    {
        try
        {
            return Parse(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Field 22 of a /proc/&lt;pid&gt;/stat line; the command name may hold spaces and parentheses.</summary>
    public static long? Parse(string stat)
    {
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
}
