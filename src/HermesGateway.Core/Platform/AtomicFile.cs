using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using HermesGateway.Core.Errors;
using Microsoft.Win32.SafeHandles;

namespace HermesGateway.Core.Platform;

/// <summary>
/// Writes files so a reader sees the old content or the new, never half of either — and so that the account owning
/// the directory (often not the caller: the module runs as root and writes into a service user's HERMES_HOME) cannot
/// turn the write against the caller. The directory is opened once, refusing a link as its last component; every
/// name in it is then created (exclusively, never through a link), renamed and removed relative to that descriptor;
/// modes are set on open descriptors, never by path; and the file and then the directory are fsynced, so the new
/// name survives a crash right after the rename.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>The largest file <see cref="Backup(string, DateTimeOffset)"/> copies or <see cref="ReadRegular"/> reads.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    private const UnixFileMode PermissionBits = (UnixFileMode)0b111_111_111;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// A temp file of a random name in the same directory, created exclusively with mode 0600, given
    /// <paramref name="mode"/> on its descriptor, written, fsynced, renamed over the target; then the directory fsynced.
    /// </summary>
    public static void Write(string path, string content, UnixFileMode mode)
    {
        var (dir, name) = Split(path);
        try
        {
            Directory.CreateDirectory(dir);
            using var directory = NativeFiles.OpenDirectory(dir);
            var bytes = Utf8.GetBytes(content);
            var temp = Create(directory, _ => $".{name}.{RandomNumberGenerator.GetHexString(16, lowercase: true)}.tmp", file => Fill(file, bytes, mode, dir));
            try
            {
                NativeFiles.Rename(directory, temp, name);
            }
            catch
            {
                NativeFiles.TryUnlink(directory, temp);
                throw;
            }

            NativeFiles.Sync(directory, dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failed(e, $"'{path}' could not be written: {e.Message}", path);
        }
    }

    /// <summary>A backup that keeps the file's permission bits (never set-id bits) and every earlier backup.</summary>
    public static string Backup(string path, DateTimeOffset now) => Backup(path, now, mode: null, keep: 0);

    /// <summary>
    /// Keeps the file's current content as a sibling named after the time (<c>NAME.yyyyMMddTHHmmssZ.bak</c>; when that
    /// name is taken, by anything, a random part is added: the name is never written through). A link is kept as a
    /// link to the same target: nothing is read through it. Mode <paramref name="mode"/>, or the file's own permission
    /// bits without set-id bits. With <paramref name="keep"/> above 0, older backups of the file beyond that many
    /// (the new one counted) are removed; with <paramref name="prunable"/>, only those regular files whose content it
    /// accepts are (the others, and links, are kept whatever their number). Returns the backup's path.
    /// </summary>
    public static string Backup(string path, DateTimeOffset now, UnixFileMode? mode, int keep, Func<byte[], bool>? prunable = null)
    {
        var (dir, name) = Split(path);
        var stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string Candidate(int attempt) => attempt == 0 ? $"{name}.{stamp}.bak" : $"{name}.{stamp}.{RandomNumberGenerator.GetHexString(16, lowercase: true)}.bak";
        try
        {
            using var directory = NativeFiles.OpenDirectory(dir);
            string backup;
            using (var source = NativeFiles.TryOpenRead(directory, name))
            {
                if (source is null)
                {
                    var target = NativeFiles.ReadLink(directory, name) ?? throw new IOException($"'{path}' changed while it was being backed up");
                    backup = Unique(Candidate, candidate => NativeFiles.TryLink(target, directory, candidate));
                }
                else
                {
                    var bytes = ReadAll(source, path);
                    var backupMode = mode ?? (File.GetUnixFileMode(source) & PermissionBits);
                    backup = Create(directory, Candidate, file => Fill(file, bytes, backupMode, dir));
                }
            }

            NativeFiles.Sync(directory, dir);
            if (keep > 0)
            {
                Prune(dir, directory, name, backup, keep, prunable);
            }

            return Path.Combine(dir, backup);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failed(e, $"'{path}' could not be backed up: {e.Message}", path);
        }
    }

    /// <summary>
    /// The content of <paramref name="path"/> when it is a regular file (not a link, not a FIFO or device) of at most
    /// <see cref="MaxBytes"/> in a directory that is not a link; null otherwise or when it does not exist.
    /// </summary>
    public static byte[]? ReadRegular(string path)
    {
        try
        {
            var (dir, name) = Split(path);
            using var directory = NativeFiles.OpenDirectory(dir);
            using var file = NativeFiles.TryOpenRead(directory, name);
            return file is null ? null : ReadAll(file, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The first bytes (at most <paramref name="count"/>) of <paramref name="path"/> when it is a regular file (not a
    /// link, not a FIFO or device) in a directory that is not a link; null otherwise. For a look at a file's head in a
    /// directory another account owns: nothing is followed, and nothing can make the read block.
    /// </summary>
    public static byte[]? ReadRegularHead(string path, int count)
    {
        try
        {
            var (dir, name) = Split(path);
            using var directory = NativeFiles.OpenDirectory(dir);
            using var file = NativeFiles.TryOpenRead(directory, name);
            if (file is null)
            {
                return null;
            }

            _ = NativeFiles.Size(file, path); // refuses what cannot be sought: a FIFO, a socket
            var head = new byte[count];
            var read = RandomAccess.Read(file, head, 0);
            return head[..read];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The names <see cref="Backup(string, DateTimeOffset, UnixFileMode?, int, Func{byte[], bool})"/> gives, and the "-N" ones of earlier versions.</summary>
    public static bool IsBackupOf(string fileName, string backupName) =>
        backupName.Length > fileName.Length + 1 && backupName.StartsWith(fileName + ".", StringComparison.Ordinal)
        && BackupSuffix().IsMatch(backupName.AsSpan(fileName.Length));

    private static (string Dir, string Name) Split(string path)
    {
        var full = Path.GetFullPath(path);
        var name = Path.GetFileName(full);
        var dir = Path.GetDirectoryName(full);
        return dir is null || name.Length == 0 ? throw new ArgumentException("A file path needs a directory and a name.", nameof(path)) : (dir, name);
    }

    /// <summary>Creates a new file under the first free candidate name and fills it; on a failure while filling, removes it.</summary>
    private static string Create(SafeFileHandle directory, Func<int, string> candidate, Action<SafeFileHandle> fill) =>
        Unique(candidate, name =>
        {
            using var file = NativeFiles.TryCreate(directory, name);
            if (file is null)
            {
                return false;
            }

            try
            {
                fill(file);
                return true;
            }
            catch
            {
                NativeFiles.TryUnlink(directory, name);
                throw;
            }
        });

    private static string Unique(Func<int, string> candidate, Func<string, bool> tryCreate)
    {
        for (var attempt = 0; attempt < 16; attempt++)
        {
            var name = candidate(attempt);
            if (tryCreate(name))
            {
                return name;
            }
        }

        throw new IOException("no free name for a new file: every name tried was taken");
    }

    /// <summary>Mode on the descriptor first (not narrowed by the umask), then the content, then fsync.</summary>
    private static void Fill(SafeFileHandle file, byte[] bytes, UnixFileMode mode, string what)
    {
        File.SetUnixFileMode(file, mode);
        RandomAccess.Write(file, bytes, 0);
        NativeFiles.Sync(file, what);
    }

    private static byte[] ReadAll(SafeFileHandle file, string path)
    {
        var size = NativeFiles.Size(file, path);
        if (size > MaxBytes)
        {
            throw new IOException($"'{path}' is {size} bytes; files larger than {MaxBytes} bytes are not copied");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = RandomAccess.Read(file, chunk, buffer.Length)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes)
            {
                throw new IOException($"'{path}' grew past {MaxBytes} bytes while it was read");
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Removes all but the newest <paramref name="keep"/> backups of <paramref name="name"/> (<paramref name="newest"/> among them).</summary>
    private static void Prune(string dir, SafeFileHandle directory, string name, string newest, int keep, Func<byte[], bool>? prunable)
    {
        bool MayGo(string n)
        {
            if (prunable is null)
            {
                return true;
            }

            using var file = NativeFiles.TryOpenRead(directory, n);
            return file is not null && prunable(ReadAll(file, Path.Combine(dir, n)));
        }

        // Listed by path, removed relative to the descriptor: even a directory swapped since it was opened only
        // names entries; what is removed is an entry of the opened directory, and a link is removed, not followed.
        var older = Directory.EnumerateFileSystemEntries(dir)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(n => n != newest && IsBackupOf(name, n) && MayGo(n))
            .OrderByDescending(n => n[(name.Length + 1)..(name.Length + 17)], StringComparer.Ordinal)
            .Skip(keep - 1);
        foreach (var n in older)
        {
            NativeFiles.TryUnlink(directory, n);
        }
    }

    private static HermesException Failed(Exception e, string message, string path) =>
        new(e is UnauthorizedAccessException ? HermesErrorIds.PermissionDenied : HermesErrorIds.FileWriteFailed,
            e is UnauthorizedAccessException ? HermesErrorCategory.PermissionDenied : HermesErrorCategory.InvalidOperation,
            message, path, e);

    [GeneratedRegex(@"^\.[0-9]{8}T[0-9]{6}Z(-[0-9]+|\.[0-9a-f]{16})?\.bak$", RegexOptions.CultureInvariant)]
    private static partial Regex BackupSuffix();
}
