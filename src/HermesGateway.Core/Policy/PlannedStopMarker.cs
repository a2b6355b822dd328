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

    /// <summary>How long a gateway that watches for the marker may take to notice it (Hermes 0.16 looks every 0.5 s).</summary>
    public static readonly TimeSpan TakeWindow = TimeSpan.FromSeconds(1.5);

    /// <summary>
    /// After the marker for <paramref name="pid"/> was written: a gateway that watches for it (Hermes 0.16) takes it and
    /// stops by itself, and a SIGTERM in the middle of that stop would make it exit 1 — so when it took the marker and
    /// its stop began, waits (up to <paramref name="maxStop"/>) for that process to end. True when it stopped or is
    /// stopping by itself; false when the stop is the supervisor's to make (the marker waits for a SIGTERM, or the
    /// gateway deleted it without stopping: stale or not its own).
    /// </summary>
    public static bool LetGatewayStop(string hermesHome, int pid, long? startTime, IProcessTable processes, TimeSpan maxStop, CancellationToken cancellation)
    {
        bool Same() => processes.IsAlive(pid) && processes.StartTime(pid) == startTime;
        if (!WaitTaken(hermesHome, TakeWindow, cancellation)
            || !Poll.Until(() => !Same() || StopUnderway(hermesHome, pid), TimeSpan.FromSeconds(1), cancellation))
        {
            return false;
        }

        Poll.Until(() => !Same(), maxStop, cancellation);
        return true;
    }

    /// <summary>
    /// Waits up to <paramref name="window"/> for the gateway to take (delete) the marker; true when it did, false when
    /// the marker is still there (a gateway that reads it only on SIGTERM).
    /// </summary>
    public static bool WaitTaken(string hermesHome, TimeSpan window, CancellationToken cancellation)
    {
        var path = PathIn(hermesHome);
        return Poll.Until(() => !File.Exists(path), window, cancellation);
    }

    /// <summary>The gateway's gateway_state.json says this PID is draining or stopped: a stop is under way.</summary>
    public static bool StopUnderway(string hermesHome, int pid) =>
        GatewayStateFile.Read(hermesHome) is { State: "draining" or "stopped" } s && s.Pid == pid;

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
