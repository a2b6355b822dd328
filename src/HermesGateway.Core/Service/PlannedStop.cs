using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
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

    /// <summary>How long a stop the gateway began itself is waited for before the supervisor is asked to stop it anyway.</summary>
    public static readonly TimeSpan MaxOwnStopWait = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Marks the stop of <paramref name="pid"/> as planned and, when the gateway takes the marker and stops by itself
    /// (Hermes 0.16 does within about 0.5 s), waits for that stop to end, so the supervisor's own stop (SIGTERM) does
    /// not hit it midway, which would make it exit 1. Under any supervisor, before its stop. True when the gateway
    /// stopped (or is stopping) by itself.
    /// </summary>
    public static bool MarkAndLetStop(string hermesHome, int pid, long? startTime, string what, IProcessTable processes, IEngineHost host)
    {
        if (TryMark(hermesHome, pid, startTime, what, host) is not { } marker)
        {
            return false;
        }

        host.WriteVerbose($"Planned-stop marker for PID {pid} written to {marker}.");
        if (!PlannedStopMarker.LetGatewayStop(hermesHome, pid, startTime, processes, MaxOwnStopWait, host.Cancellation))
        {
            return false;
        }

        host.WriteVerbose($"PID {pid} took the marker and stopped by itself.");
        return true;
    }
}
