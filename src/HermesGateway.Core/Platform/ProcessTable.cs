using System.Runtime.InteropServices;

namespace HermesGateway.Core.Platform;

/// <summary>The seam for looking at processes: whether a PID exists, and when it started (to tell a reused PID apart).</summary>
public interface IProcessTable
{
    bool IsAlive(int pid);

    /// <summary>The start time the gateway itself records (Linux: /proc/&lt;pid&gt;/stat field 22), or null where unknown.</summary>
    long? StartTime(int pid);
}

/// <summary>This machine's processes.</summary>
public sealed class LocalProcessTable : IProcessTable
{
    public static readonly LocalProcessTable Instance = new();

    public bool IsAlive(int pid) => ProcessTable.IsAlive(pid);

    public long? StartTime(int pid) => Policy.ProcessStartTime.Read(pid);
}

/// <summary>Looks at processes without touching them.</summary>
public static partial class ProcessTable
{
    private const int ESRCH = 3;

    /// <summary>kill(pid, 0): true while the PID exists (even if owned by someone else).</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        return Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != ESRCH;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
