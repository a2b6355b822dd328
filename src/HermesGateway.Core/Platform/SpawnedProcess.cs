using System.Diagnostics;
using System.Runtime.InteropServices;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Platform;

/// <summary>
/// A child process started with posix_spawn(3) and reaped by this object alone (not by System.Diagnostics.Process,
/// which reports a death by signal as exit 128+N): stdin, stdout and stderr opened on files, an environment of its own,
/// default dispositions and an empty signal mask for the signals a gateway handles, and a process group of its own, so
/// a terminal's Ctrl+C does not reach it and a timeout can end it with everything it started in its group. Its PID
/// cannot be reused before <see cref="TryReap"/> has seen it end, so signalling it through <see cref="Signal"/> never
/// reaches another process.
/// </summary>
public sealed partial class SpawnedProcess : IDisposable
{
    private const int WNOHANG = 1;
    private const int ECHILD = 10;
    private const int EINTR = 4;
    private const short PosixSpawnSetPgroup = 0x02;
    private const short PosixSpawnSetSigDefault = 0x04;
    private const short PosixSpawnSetSigMask = 0x08;

    // Opaque libc structures, allocated larger than any libc's (glibc: 80 and 336 bytes, sigset_t 128; macOS: a pointer, 4).
    private const int OpaqueSize = 1024;

    private readonly object gate = new();
    private ProcessEnding? ending;

    private SpawnedProcess(int pid, long startedTimestamp)
    {
        Pid = pid;
        StartedTimestamp = startedTimestamp;
    }

    public int Pid { get; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> just before the spawn.</summary>
    public long StartedTimestamp { get; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the end was seen (within a few milliseconds of it), else null.</summary>
    public long? ExitedTimestamp { get; private set; }

    /// <summary>True when another reaper took its exit status first (<see cref="Ending"/> is then exit -1, unknown).</summary>
    public bool ReapedElsewhere { get; private set; }

    /// <summary>How it ended, once reaped; null while it runs.</summary>
    public ProcessEnding? Ending
    {
        get
        {
            lock (gate)
            {
                return ending;
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="path"/> (an absolute path, not searched on PATH) with <paramref name="arguments"/> after
    /// argv[0] = path, exactly <paramref name="environment"/>, stdin from <paramref name="stdinPath"/> and stdout and stderr
    /// written (created or truncated, mode 0600) to the two files.
    /// </summary>
    public static SpawnedProcess Start(string path, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment,
        string stdinPath, string stdoutPath, string stderrPath)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new HermesException(HermesErrorIds.PlatformUnknown, HermesErrorCategory.NotImplemented, "Spawning a gateway needs a POSIX system.", path);
        }

        var linux = OperatingSystem.IsLinux();
        var oCreat = linux ? 0x40 : 0x200;
        var oTrunc = linux ? 0x200 : 0x400;
        const int oWronly = 1;

        var argv = new List<string> { path };
        argv.AddRange(arguments);
        var envp = environment.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        var unmanaged = new List<nint>();
        var fileActions = Marshal.AllocHGlobal(OpaqueSize);
        var attributes = Marshal.AllocHGlobal(OpaqueSize);
        var defaults = Marshal.AllocHGlobal(OpaqueSize);
        var mask = Marshal.AllocHGlobal(OpaqueSize);
        var actionsReady = false;
        var attributesReady = false;
        try
        {
            var argvBlock = StringArray(argv, unmanaged);
            var envpBlock = StringArray(envp, unmanaged);
            Check(FileActionsInit(fileActions), "posix_spawn_file_actions_init");
            actionsReady = true;
            Check(FileActionsAddOpen(fileActions, 0, stdinPath, 0, 0), "posix_spawn_file_actions_addopen");
            Check(FileActionsAddOpen(fileActions, 1, stdoutPath, oWronly | oCreat | oTrunc, 0x180), "posix_spawn_file_actions_addopen");
            Check(FileActionsAddOpen(fileActions, 2, stderrPath, oWronly | oCreat | oTrunc, 0x180), "posix_spawn_file_actions_addopen");

            Check(AttrInit(attributes), "posix_spawnattr_init");
            attributesReady = true;
            _ = SigEmptySet(mask);
            _ = SigEmptySet(defaults);
            foreach (var s in new[] { UnixSignal.SIGHUP, UnixSignal.SIGINT, UnixSignal.SIGQUIT, UnixSignal.SIGTERM, UnixSignal.SIGUSR1, UnixSignal.SIGUSR2, UnixSignal.SIGPIPE })
            {
                _ = SigAddSet(defaults, UnixSignals.Number(s, linux ? SignalPlatform.Linux : SignalPlatform.Darwin));
            }

            Check(AttrSetSigMask(attributes, mask), "posix_spawnattr_setsigmask");
            Check(AttrSetSigDefault(attributes, defaults), "posix_spawnattr_setsigdefault");
            Check(AttrSetPgroup(attributes, 0), "posix_spawnattr_setpgroup");
            Check(AttrSetFlags(attributes, PosixSpawnSetPgroup | PosixSpawnSetSigDefault | PosixSpawnSetSigMask), "posix_spawnattr_setflags");

            var started = Stopwatch.GetTimestamp();
            var error = PosixSpawn(out var pid, path, fileActions, attributes, argvBlock, envpBlock);
            if (error != 0)
            {
                throw new HermesException(error == 2 ? HermesErrorIds.ExecutableNotFound : HermesErrorIds.PermissionDenied,
                    error == 2 ? HermesErrorCategory.ObjectNotFound : HermesErrorCategory.PermissionDenied,
                    $"Cannot start '{path}': {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).", path);
            }

            return new SpawnedProcess(pid, started);
        }
        finally
        {
            if (actionsReady)
            {
                _ = FileActionsDestroy(fileActions);
            }

            if (attributesReady)
            {
                _ = AttrDestroy(attributes);
            }

            foreach (var p in unmanaged)
            {
                Marshal.FreeCoTaskMem(p);
            }

            Marshal.FreeHGlobal(fileActions);
            Marshal.FreeHGlobal(attributes);
            Marshal.FreeHGlobal(defaults);
            Marshal.FreeHGlobal(mask);
        }
    }

    /// <summary>Milliseconds from the spawn to <paramref name="timestamp"/>.</summary>
    public long MillisecondsSinceStart(long timestamp) => (long)Stopwatch.GetElapsedTime(StartedTimestamp, timestamp).TotalMilliseconds;

    /// <summary>Sees whether it ended (and reaps it): true once it has.</summary>
    public bool TryReap()
    {
        lock (gate)
        {
            if (ending is not null)
            {
                return true;
            }

            int status;
            int result;
            do
            {
                result = WaitPid(Pid, out status, WNOHANG);
            }
            while (result < 0 && Marshal.GetLastPInvokeError() == EINTR);

            if (result == 0)
            {
                return false;
            }

            ExitedTimestamp = Stopwatch.GetTimestamp();
            if (result < 0)
            {
                // ECHILD: someone else reaped it (a process-wide reaper); it is gone, but how it ended is lost.
                ReapedElsewhere = Marshal.GetLastPInvokeError() == ECHILD;
                ending = ProcessEnding.Exit(-1);
                return true;
            }

            ending = Decode(status);
            return true;
        }
    }

    /// <summary>Waits until it ends (true) or <paramref name="timeout"/> passes (false); cancellation throws.</summary>
    public bool WaitForExit(TimeSpan timeout, CancellationToken cancellation)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!TryReap())
        {
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                return false;
            }

            // Not the token's WaitHandle: its source may already be disposed by a caller that gave up.
            cancellation.ThrowIfCancellationRequested();
            Thread.Sleep(5);
        }

        return true;
    }

    /// <summary>Sends a signal to this child, unless it has already been seen to end.</summary>
    public SignalDelivery Signal(UnixSignal signal)
    {
        lock (gate)
        {
            if (ending is not null || TryReapLocked())
            {
                return SignalDelivery.ProcessGone;
            }

            return Kill(Pid, Number(signal)) == 0 ? SignalDelivery.Delivered : SignalDelivery.Refused;
        }
    }

    /// <summary>
    /// SIGKILL to its process group (it and whatever it started there) while it is still unreaped, so the group is
    /// still its own, then waits for it; nothing is signalled once it has been reaped.
    /// </summary>
    public void KillGroup()
    {
        lock (gate)
        {
            if (ending is null && !TryReapLocked())
            {
                var number = Number(UnixSignal.SIGKILL);
                _ = Kill(-Pid, number);
                _ = Kill(Pid, number);
            }
        }

        WaitForExit(TimeSpan.FromSeconds(10), CancellationToken.None);
    }

    /// <summary>Kills it if it still runs; a child is never left behind.</summary>
    public void Dispose() => KillGroup();

    internal static ProcessEnding Decode(int status)
    {
        var low = status & 0x7f;
        if (low == 0)
        {
            return ProcessEnding.Exit((status >> 8) & 0xff);
        }

        var platform = OperatingSystem.IsLinux() ? SignalPlatform.Linux : SignalPlatform.Darwin;
        return UnixSignals.TryFromNumber(low, platform, out var signal)
            ? ProcessEnding.KilledBy(signal, (status & 0x80) != 0)
            : ProcessEnding.Exit(128 + low);
    }

    private static int Number(UnixSignal signal) => UnixSignals.Number(signal, OperatingSystem.IsLinux() ? SignalPlatform.Linux : SignalPlatform.Darwin);

    // The lock is re-entrant (Monitor): the same reaping path serves callers that hold it.
    private bool TryReapLocked() => TryReap();

    /// <summary>A NULL-terminated char*[] in unmanaged memory; every block allocated goes to <paramref name="unmanaged"/>.</summary>
    private static nint StringArray(List<string> strings, List<nint> unmanaged)
    {
        var block = Marshal.AllocCoTaskMem(nint.Size * (strings.Count + 1));
        unmanaged.Add(block);
        for (var i = 0; i < strings.Count; i++)
        {
            var s = Marshal.StringToCoTaskMemUTF8(strings[i]);
            unmanaged.Add(s);
            Marshal.WriteIntPtr(block, i * nint.Size, s);
        }

        Marshal.WriteIntPtr(block, strings.Count * nint.Size, 0);
        return block;
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new HermesException(HermesErrorIds.ServiceManagerFailed, HermesErrorCategory.InvalidOperation,
                $"{what} failed: {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).", what);
        }
    }

    [LibraryImport("libc", EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int PosixSpawn(out int pid, string path, nint fileActions, nint attributes, nint argv, nint envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(nint actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FileActionsAddOpen(nint actions, int fd, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(nint actions);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static partial int AttrInit(nint attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int AttrDestroy(nint attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int AttrSetFlags(nint attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setpgroup")]
    private static partial int AttrSetPgroup(nint attributes, int pgroup);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int AttrSetSigMask(nint attributes, nint mask);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int AttrSetSigDefault(nint attributes, nint signals);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    private static partial int SigEmptySet(nint set);

    [LibraryImport("libc", EntryPoint = "sigaddset")]
    private static partial int SigAddSet(nint set, int signal);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, out int status, int options);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
