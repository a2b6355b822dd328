using HermesGateway.Core.Errors;
using System.Runtime.InteropServices;

namespace HermesGateway.Core.Platform;

/// <summary>The seam for looking at processes: whether a PID exists, and when it started (to tell a reused PID apart).</summary>
public interface IProcessTable
{
    bool IsAlive(int pid);

    /// <summary>The start time the gateway itself records (Linux: /proc/&lt;pid&gt;/stat field 22), or null where unknown.</summary>
    long? StartTime(int pid);

    /// <summary>The parent PID, or null when the process is gone or the platform does not tell.</summary>
    int? ParentPid(int pid);

    /// <summary>The process' cgroup v2 path (Linux: /proc/&lt;pid&gt;/cgroup), or null where there is none.</summary>
    string? ControlGroup(int pid);

    /// <summary>
    /// A handle that keeps naming this process even after its PID is reused (Linux: a pidfd); null where the platform
    /// has none or the process is gone. The caller proves it is the right process after opening it (see
    /// <see cref="ProcessTable.OpenProven"/>).
    /// </summary>
    IProcessHandle? Open(int pid) => null;
}

/// <summary>
/// This machine's processes, read from a procfs: /proc, or another PID namespace's (a container's or a sandbox's
/// /proc/&lt;its init&gt;/root/proc), whose PIDs it then speaks.
/// </summary>
public sealed class LocalProcessTable : IProcessTable
{
    public static readonly LocalProcessTable Instance = new("/proc");

    /// <summary>A table over <paramref name="procRoot"/>; refused when no procfs can be read there (every PID namespace has a 1).</summary>
    public LocalProcessTable(string procRoot)
    {
        ProcRoot = procRoot;
        if (procRoot != "/proc" && !File.Exists(Path.Combine(procRoot, "1", "stat")))
        {
            // Unreadable (no such namespace, no ptrace access to its init) would read as "every process is gone".
            throw new HermesException(HermesErrorIds.PathNotFound, HermesErrorCategory.InvalidArgument,
                $"'{procRoot}' is not a readable procfs (no 1/stat in it).", procRoot);
        }
    }

    public string ProcRoot { get; }

    private bool Own => ProcRoot == "/proc";

    public bool IsAlive(int pid) => Own ? ProcessTable.IsAlive(pid) : pid > 0 && Directory.Exists(Path.Combine(ProcRoot, Number(pid)));

    public long? StartTime(int pid) => Read(pid, "stat") is { } stat ? ProcessStartTime.Parse(stat) : null;

    public int? ParentPid(int pid)
    {
        if (OperatingSystem.IsMacOS())
        {
            return Own ? DarwinProcesses.ParentPid(pid) : null;
        }

        if (Read(pid, "stat") is not { } stat)
        {
            return null;
        }

        var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 1 && int.TryParse(fields[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ppid) ? ppid : null;
    }

    public string? ControlGroup(int pid) => Read(pid, "cgroup") is { } text ? ProcessTable.ParseControlGroup(text) : null;

    public IProcessHandle? Open(int pid) => PidFileDescriptor.Open(ProcRoot, pid);

    private static string Number(int pid) => pid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private string? Read(int pid, string file)
    {
        if (pid <= 0)
        {
            return null;
        }

        try
        {
            return File.ReadAllText(Path.Combine(ProcRoot, Number(pid), file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
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

    /// <summary>The unified (v2) entry "0::/path" of /proc/&lt;pid&gt;/cgroup, else the name=systemd one.</summary>
    public static string? ParseControlGroup(string text)
    {
        string? fallback = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("0::", StringComparison.Ordinal))
            {
                return line[3..].Trim();
            }

            if (line.Contains(":name=systemd:", StringComparison.Ordinal))
            {
                fallback = line[(line.LastIndexOf(':') + 1)..].Trim();
            }
        }

        return fallback;
    }

    /// <summary>
    /// A handle on <paramref name="pid"/> that is proven to name the process <paramref name="isTheOne"/> accepts (its
    /// start time, its cgroup): the facts are read after the handle is opened and the process is still alive after
    /// they were read, so they are its facts and not a later holder's of the same PID. Null when no handle can be
    /// opened, the process is gone, or the facts do not match.
    /// </summary>
    public static IProcessHandle? OpenProven(IProcessTable table, int pid, long? startTime, Func<int, bool> isTheOne)
    {
        var handle = table.Open(pid);
        if (handle is null)
        {
            return null;
        }

        var proven = startTime is not null && table.StartTime(pid) == startTime && isTheOne(pid) && !handle.HasExited;
        if (!proven)
        {
            handle.Dispose();
            return null;
        }

        return handle;
    }

    /// <summary>Whether <paramref name="ancestor"/> is the process itself or one of its parents.</summary>
    public static bool IsSelfOrAncestor(IProcessTable table, int ancestor, int pid)
    {
        for (var (current, hops) = (pid, 0); current > 1 && hops < 256; hops++)
        {
            if (current == ancestor)
            {
                return true;
            }

            if (table.ParentPid(current) is not { } parent)
            {
                return false;
            }

            current = parent;
        }

        return false;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

/// <summary>macOS has no procfs: the kernel's process info (libproc's proc_pidinfo, PROC_PIDT_SHORTBSDINFO).</summary>
internal static partial class DarwinProcesses
{
    // The short BSD info: allowed for any process, not only the caller's own user's (a parent chain may pass root's).
    private const int PidTaskShortBsdInfo = 13;

    // struct proc_bsdshortinfo (sys/proc_info.h): pid, ppid, pgid, status, comm[16], then 8 uint32 (flags, ids, rfu).
    private const int ShortBsdInfoSize = 64;
    private const int ParentPidOffset = 4;

    public static int? ParentPid(int pid)
    {
        if (pid <= 0)
        {
            return null;
        }

        Span<byte> info = stackalloc byte[ShortBsdInfoSize];
        int n;
        unsafe
        {
            fixed (byte* buffer = info)
            {
                n = ProcPidInfo(pid, PidTaskShortBsdInfo, 0, buffer, ShortBsdInfoSize);
            }
        }

        return n == ShortBsdInfoSize ? (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(info[ParentPidOffset..]) : null;
    }

    [LibraryImport("libc", EntryPoint = "proc_pidinfo", SetLastError = true)]
    private static unsafe partial int ProcPidInfo(int pid, int flavor, ulong arg, byte* buffer, int size);
}
