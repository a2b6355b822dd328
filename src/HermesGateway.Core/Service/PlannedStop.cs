using HermesGateway.Core.Errors;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>The first step of every planned stop the engine makes (stop, uninstall, the supervisor's own restart): the marker.</summary>
internal static class PlannedStop
{
    /// <summary>
    /// Writes the planned-stop marker for <paramref name="pid"/> into <paramref name="hermesHome"/>. A marker that cannot be
    /// written (a full disk, a folder in its place) is said, not thrown: a stop that could not be marked still stops.
    /// Null when nothing was written.
    /// </summary>
    public static string? TryMark(string hermesHome, int pid, long? startTime, string what, IEngineHost host)
    {
        try
        {
            return PlannedStopMarker.Write(hermesHome, pid, startTime, Environment.ProcessId, host.Now);
        }
        catch (HermesException e) when (e.ErrorId is HermesErrorIds.FileWriteFailed or HermesErrorIds.PermissionDenied)
        {
            host.WriteWarning($"The planned-stop marker for {what} (PID {pid}) could not be written ({e.Message}); it is stopped anyway, and the gateway will see the stop as unplanned.");
            return null;
        }
    }
}
