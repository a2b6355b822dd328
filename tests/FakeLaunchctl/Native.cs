using System.Runtime.InteropServices;

namespace HermesGateway.FakeLaunchctl;

/// <summary>The few libc calls a launchd needs: spawn without the runtime's Process (so wait statuses stay exact), wait, signal.</summary>
internal static partial class Native
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    private const int EINTR = 4;
    private const int PPid = 1;
    private const int WEXITED = 4;
    private const int WNOWAIT = 0x01000000;

    /// <summary>posix_spawn(path, argv, envp): returns the child's PID, or throws with errno.</summary>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp)
    {
        var strings = new List<IntPtr>();
        try
        {
            IntPtr[] Block(IReadOnlyList<string> items)
            {
                var block = new IntPtr[items.Count + 1];
                for (var i = 0; i < items.Count; i++)
                {
                    block[i] = Marshal.StringToCoTaskMemUTF8(items[i]);
                    strings.Add(block[i]);
                }

                return block;
            }

            var rc = PosixSpawn(out var pid, path, IntPtr.Zero, IntPtr.Zero, Block(argv), Block(envp));
            if (rc != 0)
            {
                throw new IOException($"posix_spawn({path}) failed: errno {rc}");
            }

            return pid;
        }
        finally
        {
            foreach (var p in strings)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    /// <summary>Blocks until the child has ended, leaving it a zombie (its PID and process group cannot be reused yet).</summary>
    public static bool WaitExitedNoReap(int pid)
    {
        var info = new byte[128];
        while (true)
        {
            if (WaitId(PPid, pid, info, WEXITED | WNOWAIT) == 0)
            {
                return true;
            }

            if (Marshal.GetLastPInvokeError() != EINTR)
            {
                return false;
            }
        }
    }

    /// <summary>Reaps the child and returns its raw wait status, or null if it is not our child.</summary>
    public static int? Reap(int pid)
    {
        while (true)
        {
            var rc = WaitPid(pid, out var status, 0);
            if (rc == pid)
            {
                return status;
            }

            if (Marshal.GetLastPInvokeError() != EINTR)
            {
                return null;
            }
        }
    }

    public static bool Signal(int pid, int signal) => pid > 0 && Kill(pid, signal) == 0;

    /// <summary>killpg: the job's process group (the job is a session leader, so its PGID is its PID).</summary>
    public static bool SignalGroup(int pgid, int signal) => pgid > 0 && Kill(-pgid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int PosixSpawn(out int pid, string path, IntPtr fileActions, IntPtr attributes, IntPtr[] argv, IntPtr[] envp);

    [LibraryImport("libc", EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitId(int idType, int id, byte[] info, int options);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, out int status, int options);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();
}
