using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace HermesGateway.Core.Platform;

/// <summary>
/// The libc calls a write into a directory another account controls needs: the directory opened once without
/// following a link, then every name in it created, renamed, read and removed relative to that descriptor (the *at()
/// calls), files created exclusively (never through a link), and modes set on open descriptors, never by path.
/// Flag and errno values differ between Linux (and between its architectures) and macOS; <see cref="Abi"/> has both.
/// </summary>
internal static unsafe partial class NativeFiles
{
    private const int ReadOnly = 0;
    private const int WriteOnly = 1;
    private const int SeekEnd = 2;
    private const int EINTR = 4;
    private const int EEXIST = 17;
    private const int ENOTDIR = 20;
    private const int EINVAL = 22;

    private static readonly Abi Native = Abi.ForThisProcess();

    /// <summary>
    /// Opens <paramref name="path"/> as a directory. As root it refuses a symbolic link as its last component (another
    /// account could have placed it to aim root's writes); an ordinary account follows its own links, as it could write
    /// wherever they lead anyway (a ~/.hermes that links elsewhere keeps working).
    /// </summary>
    public static SafeFileHandle OpenDirectory(string path)
    {
        var noFollow = Environment.IsPrivilegedProcess ? Native.NoFollow : 0;
        var fd = Retry(() => OpenAt(Native.CurrentDirectory, path, ReadOnly | Native.Directory | noFollow | Native.CloseOnExec, 0));
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        var errno = Marshal.GetLastPInvokeError();
        throw errno == Native.Loop || errno == ENOTDIR
            ? new IOException($"'{path}' is {(errno == Native.Loop ? "a symbolic link" : "not a directory")}; files are only written into a real directory, never through a link another account could have placed (give the directory's real path)", errno)
            : Error(errno, path);
    }

    /// <summary>Creates <paramref name="name"/> in <paramref name="directory"/> exclusively, mode 0600; null when the name is taken (by anything, a link included).</summary>
    public static SafeFileHandle? TryCreate(SafeFileHandle directory, string name)
    {
        var flags = WriteOnly | Native.Create | Native.Exclusive | Native.NoFollow | Native.CloseOnExec;
        var fd = Retry(() => OpenAt(Fd(directory), name, flags, 0b110_000_000));
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == EEXIST ? null : throw Error(errno, name);
    }

    /// <summary>Opens <paramref name="name"/> for reading without following a link (and without blocking on a FIFO); null when it is a link.</summary>
    public static SafeFileHandle? TryOpenRead(SafeFileHandle directory, string name)
    {
        var fd = Retry(() => OpenAt(Fd(directory), name, ReadOnly | Native.NoFollow | Native.NonBlock | Native.CloseOnExec, 0));
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == Native.Loop ? null : throw Error(errno, name);
    }

    /// <summary>The target of the link <paramref name="name"/>, or null when it is not a link.</summary>
    public static string? ReadLink(SafeFileHandle directory, string name)
    {
        var buffer = new byte[4096];
        nint length;
        fixed (byte* b = buffer)
        {
            var p = b;
            length = Retry(() => ReadLinkAt(Fd(directory), name, p, (nuint)buffer.Length));
        }

        if (length < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == EINVAL ? null : throw Error(errno, name);
        }

        return length >= buffer.Length ? throw new IOException($"'{name}' links to a path too long to keep") : System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    /// <summary>Creates the link <paramref name="name"/> → <paramref name="target"/>; false when the name is taken.</summary>
    public static bool TryLink(string target, SafeFileHandle directory, string name)
    {
        if (Retry(() => SymlinkAt(target, Fd(directory), name)) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == EEXIST ? false : throw Error(errno, name);
    }

    public static void Rename(SafeFileHandle directory, string from, string to)
    {
        if (Retry(() => RenameAt(Fd(directory), from, Fd(directory), to)) != 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), to);
        }
    }

    /// <summary>Removes the name (a link is removed, never followed); false when it could not be.</summary>
    public static bool TryUnlink(SafeFileHandle directory, string name) => Retry(() => UnlinkAt(Fd(directory), name, 0)) == 0;

    /// <summary>fsync(2): for a file, its data and mode; for a directory, the names renamed or created in it.</summary>
    public static void Sync(SafeFileHandle handle, string what)
    {
        if (Retry(() => Fsync(Fd(handle))) != 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), what);
        }
    }

    /// <summary>The size of a regular file; refuses what cannot be sought (a FIFO, a socket).</summary>
    public static long Size(SafeFileHandle file, string what)
    {
        var size = Lseek(Fd(file), 0, SeekEnd);
        return size >= 0 ? size : throw new IOException($"'{what}' is not a regular file", Marshal.GetLastPInvokeError());
    }

    /// <summary>
    /// The owner (uid) of <paramref name="path"/> itself, a link not followed; null when it cannot be told. Linux:
    /// statx(2), whose buffer layout is the same on every architecture (stx_uid at byte 20). macOS: lstat(2) with
    /// 64-bit inodes (st_uid at byte 16; the x86_64 symbol for that layout is lstat$INODE64).
    /// </summary>
    public static uint? OwnerOf(string path)
    {
        var buffer = stackalloc byte[256];
        if (OperatingSystem.IsLinux())
        {
            const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
            const uint StatxUid = 0x8;
            return Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxUid, buffer) == 0 && (*(uint*)buffer & StatxUid) != 0 ? *(uint*)(buffer + 20) : null;
        }

        if (OperatingSystem.IsMacOS())
        {
            var r = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? LstatInode64(path, buffer) : Lstat(path, buffer);
            return r == 0 ? *(uint*)(buffer + 16) : null;
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Lstat(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lstat$INODE64", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LstatInode64(string path, byte* buffer);

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static T Retry<T>(Func<T> call)
        where T : System.Numerics.INumber<T>
    {
        while (true)
        {
            var result = call();
            if (result >= T.Zero || Marshal.GetLastPInvokeError() != EINTR)
            {
                return result;
            }
        }
    }

    private static Exception Error(int errno, string what)
    {
        var message = $"'{what}': {Marshal.GetPInvokeErrorMessage(errno)}";
        return errno is 1 or 13 ? new UnauthorizedAccessException(message) : new IOException(message, errno);
    }

    private static int OpenAt(int directory, string path, int flags, int mode) =>
        Native.VariadicOnStack ? OpenAtApple(directory, path, flags, 0, 0, 0, 0, 0, mode) : OpenAtC(directory, path, flags, mode);

    [LibraryImport("libc", EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int OpenAtC(int directory, string path, int flags, int mode);

    // openat(2) is variadic. Apple's arm64 ABI passes variadic arguments on the stack, never in registers: five unused
    // register arguments after the three named ones put the mode where openat reads it (the first stack slot).
    [LibraryImport("libc", EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int OpenAtApple(int directory, string path, int flags, nint x3, nint x4, nint x5, nint x6, nint x7, nint mode);

    [LibraryImport("libc", EntryPoint = "readlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint ReadLinkAt(int directory, string path, byte* buffer, nuint size);

    [LibraryImport("libc", EntryPoint = "symlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SymlinkAt(string target, int directory, string path);

    [LibraryImport("libc", EntryPoint = "renameat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt(int fromDirectory, string from, int toDirectory, string to);

    [LibraryImport("libc", EntryPoint = "unlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int UnlinkAt(int directory, string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long Lseek(int fd, long offset, int whence);

    /// <summary>The values that differ: open(2) flags, AT_FDCWD, ELOOP, and how variadic arguments are passed.</summary>
    internal sealed record Abi(int Directory, int NoFollow, int CloseOnExec, int Create, int Exclusive, int NonBlock, int CurrentDirectory, int Loop, bool VariadicOnStack)
    {
        public static Abi ForThisProcess()
        {
            if (OperatingSystem.IsMacOS())
            {
                // Darwin's <sys/fcntl.h>: O_DIRECTORY 0x100000, O_NOFOLLOW 0x100, O_CLOEXEC 0x1000000; AT_FDCWD -2; ELOOP 62.
                return new Abi(0x100000, 0x100, 0x1000000, 0x200, 0x800, 0x4, -2, 62, RuntimeInformation.ProcessArchitecture == Architecture.Arm64);
            }

            // Linux: arm, arm64 and ppc64le define O_DIRECTORY and O_NOFOLLOW apart from the generic values (x64, x86, s390x, riscv64, ...).
            var armLike = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le;
            return new Abi(armLike ? 0x4000 : 0x10000, armLike ? 0x8000 : 0x20000, 0x80000, 0x40, 0x80, 0x800, -100, 40, VariadicOnStack: false);
        }
    }
}
