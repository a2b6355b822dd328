using System.Text;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Platform;

/// <summary>Writes files so a reader sees the old content or the new, never half of either.</summary>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Temp file in the same directory, flushed to disk, mode set, then renamed over the target.</summary>
    public static void Write(string path, string content, UnixFileMode mode)
    {
        var dir = Path.GetDirectoryName(path) ?? throw new ArgumentException("A file path needs a directory.", nameof(path));
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = mode,
            }))
            {
                stream.Write(Utf8.GetBytes(content));
                stream.Flush(flushToDisk: true);
            }

            File.SetUnixFileMode(temp, mode); // the umask may have narrowed the create mode

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new HermesException(e is UnauthorizedAccessException ? HermesErrorIds.PermissionDenied : HermesErrorIds.FileWriteFailed,
                e is UnauthorizedAccessException ? HermesErrorCategory.PermissionDenied : HermesErrorCategory.InvalidOperation,
                $"'{path}' could not be written: {e.Message}", path, e);
        }
    }

    /// <summary>Copies a file to a sibling backup named after the time, keeping its mode; returns the backup's path.</summary>
    public static string Backup(string path, DateTimeOffset now)
    {
        var backup = $"{path}.{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.bak";
        for (var n = 1; File.Exists(backup); n++)
        {
            backup = $"{path}.{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{n}.bak";
        }

        try
        {
            File.Copy(path, backup);
            File.SetUnixFileMode(backup, File.GetUnixFileMode(path));

            return backup;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HermesException(e is UnauthorizedAccessException ? HermesErrorIds.PermissionDenied : HermesErrorIds.FileWriteFailed,
                e is UnauthorizedAccessException ? HermesErrorCategory.PermissionDenied : HermesErrorCategory.InvalidOperation,
                $"'{path}' could not be backed up to '{backup}': {e.Message}", path, e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
