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
}

/// <summary>This machine's processes.</summary>
public sealed class LocalProcessTable : IProcessTable
{
    public static readonly LocalProcessTable Instance = new();

    public bool IsAlive(int pid) => ProcessTable.IsAlive(pid);

    public long? StartTime(int pid) => Policy.ProcessStartTime.Read(pid);

    public int? ParentPid(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 1 && int.TryParse(fields[1], out var ppid) ? ppid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public string? ControlGroup(int pid)
    {
        try
        {
            return ProcessTable.ParseControlGroup(File.ReadAllText($"/proc/{pid}/cgroup"));
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
