using System.Runtime.InteropServices;

namespace HermesGateway.Core.Platform;

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
