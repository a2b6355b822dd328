using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace HermesGateway.Core.Platform;

/// <summary>What became of a signal sent through a <see cref="IProcessHandle"/>.</summary>
public enum SignalDelivery
{
    /// <summary>The kernel delivered it to the very process the handle names.</summary>
    Delivered,

    /// <summary>That process has exited; nothing was signalled.</summary>
    ProcessGone,

    /// <summary>The kernel refused (no permission, no support for this kind of handle); nothing was signalled.</summary>
    Refused,
}

/// <summary>
/// A handle that names one process for as long as the handle is open, however soon its PID is reused: a signal sent
/// through it reaches that process or nobody, and its exit can be waited for without polling the PID.
/// </summary>
public interface IProcessHandle : IDisposable
{
    int Pid { get; }

    /// <summary>The process has exited (a zombie counts as exited where the handle can tell).</summary>
    bool HasExited { get; }

    SignalDelivery Signal(UnixSignal signal);

    /// <summary>Blocks until the process exits (true) or <paramref name="timeout"/> passes (false).</summary>
    bool WaitForExit(TimeSpan timeout);
}

/// <summary>
/// Linux PID file descriptors: <c>pidfd_open(2)</c> for a process of this PID namespace (pollable: the kernel wakes the
/// waiter at the exit), or an open <c>/proc/&lt;pid&gt;</c> directory of another namespace's procfs (signals through
/// <c>pidfd_send_signal(2)</c> all the same; its exit is seen by asking the kernel every millisecond).
/// </summary>
public sealed partial class PidFileDescriptor : IProcessHandle
{
    // syscall(2) is variadic: every argument goes as a full register (nint). The generic syscall table numbers (x86_64, arm64 and every other architecture .NET runs on).
    private const nint SysPidfdSendSignal = 424;
    private const nint SysPidfdOpen = 434;
    private const int ESRCH = 3;
    private const int OCloexec = 0x80000; // 02000000, the same on x86_64 and arm64
    private const short PollIn = 1;

    private readonly SafeFileHandle fd;
    private bool pollable;

    private PidFileDescriptor(SafeFileHandle fd, int pid, bool pollable)
    {
        this.fd = fd;
        this.pollable = pollable;
        Pid = pid;
    }

    public int Pid { get; }

    /// <summary>Whether the kernel wakes <see cref="WaitForExit"/> at the exit (a pidfd) rather than being asked each millisecond.</summary>
    public bool Pollable => pollable;

    /// <summary>
    /// Opens a handle on <paramref name="pid"/> as <paramref name="procRoot"/> numbers it; null when the process is gone,
    /// the platform has no such handles, or the kernel refuses.
    /// </summary>
    public static PidFileDescriptor? Open(string procRoot, int pid)
    {
        if (!OperatingSystem.IsLinux() || pid <= 0)
        {
            return null;
        }

        if (procRoot == "/proc")
        {
            var raw = PidfdOpen(SysPidfdOpen, pid, 0);
            if (raw >= 0)
            {
                return new PidFileDescriptor(new SafeFileHandle(raw, ownsHandle: true), pid, pollable: true);
            }
        }

        // Another namespace's procfs (or a kernel before 5.3): the /proc/<pid> directory is a PID file descriptor too,
        // where the kernel takes it as one (5.1+, and no seccomp filter in the way); else no handle at all.
        var dir = OpenFile(Path.Combine(procRoot, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)), OCloexec);
        if (dir < 0)
        {
            return null;
        }

        var handle = new PidFileDescriptor(new SafeFileHandle(dir, ownsHandle: true), pid, pollable: false);
        if (handle.Send(0) is 0 or ESRCH)
        {
            return handle;
        }

        handle.Dispose();
        return null;
    }

    public bool HasExited => (pollable ? Poll(0) : null) ?? Send(0) == ESRCH;

    public SignalDelivery Signal(UnixSignal signal)
    {
        var error = Send(UnixSignals.Number(signal, SignalPlatform.Linux));
        return error switch
        {
            0 => SignalDelivery.Delivered,
            ESRCH => SignalDelivery.ProcessGone,
            _ => SignalDelivery.Refused,
        };
    }

    /// <inheritdoc/>
    /// <remarks><see cref="Timeout.InfiniteTimeSpan"/> waits for as long as it takes.</remarks>
    public bool WaitForExit(TimeSpan timeout)
    {
        var infinite = timeout == Timeout.InfiniteTimeSpan;
        if (pollable && Poll(infinite ? -1 : (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue)) is { } exited)
        {
            return exited;
        }

        var deadline = infinite ? long.MaxValue : Environment.TickCount64 + (long)Math.Max(0, timeout.TotalMilliseconds);
        while (Send(0) != ESRCH)
        {
            if (Environment.TickCount64 >= deadline)
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }

    public void Dispose() => fd.Dispose();

    /// <summary>0, or the errno of pidfd_send_signal.</summary>
    private int Send(int signal)
    {
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            return PidfdSendSignal(SysPidfdSendSignal, fd.DangerousGetHandle(), signal, 0, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>Whether the process exited within the time; null when the kernel cannot poll this handle (the caller asks instead).</summary>
    private bool? Poll(int milliseconds)
    {
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            var entry = new PollEntry { Fd = (int)fd.DangerousGetHandle(), Events = PollIn };
            while (true)
            {
                var n = PollOne(ref entry, 1, milliseconds);
                if (n == 0)
                {
                    return false;
                }

                if (n > 0 && (entry.Revents & PollIn) != 0)
                {
                    return true;
                }

                if (n > 0)
                {
                    // POLLERR / POLLNVAL: not a pollable pidfd after all. From now on it is asked instead.
                    pollable = false;
                    return null;
                }

                if (Marshal.GetLastPInvokeError() != 4)
                {
                    // Not EINTR: the kernel cannot wait on this handle. From now on it is asked instead.
                    pollable = false;
                    return null;
                }
            }
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollEntry
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial int PidfdOpen(nint number, nint pid, nint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial int PidfdSendSignal(nint number, nint pidfd, nint signal, nint info, nint flags);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int OpenFile(string path, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int PollOne(ref PollEntry entry, nuint count, int milliseconds);
}
