using System.Text;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Platform;

/// <summary>Reads the service files the engine inspects, turning every way that can fail into a stable error id.</summary>
public static class TextFiles
{
    public const int MaxBytes = 1024 * 1024;

    private static readonly System.Buffers.SearchValues<byte> Blank = System.Buffers.SearchValues.Create(" \t\r\n"u8);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] ReadBytes(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new HermesException(HermesErrorIds.PathNotFound, HermesErrorCategory.InvalidArgument, "No path was given.", path);
        }

        if (Directory.Exists(path))
        {
            throw new HermesException(HermesErrorIds.FileUnreadable, HermesErrorCategory.InvalidArgument, $"'{path}' is a directory, not a unit file or plist.", path);
        }

        if (!File.Exists(path))
        {
            throw new HermesException(HermesErrorIds.PathNotFound, HermesErrorCategory.ObjectNotFound, $"'{path}' does not exist.", path);
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.CanSeek && stream.Length > MaxBytes)
            {
                throw new HermesException(HermesErrorIds.FileTooLarge, HermesErrorCategory.InvalidData,
                    $"'{path}' is {stream.Length} bytes; a unit file or plist larger than {MaxBytes} bytes is not read.", path);
            }

            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HermesException(HermesErrorIds.FileUnreadable, HermesErrorCategory.ReadError, $"'{path}' cannot be read: {e.Message}", path, e);
        }
    }

    /// <summary>Decodes strict UTF-8 text; refuses empty files and files that are not text.</summary>
    public static string DecodeText(byte[] bytes, string path)
    {
        var start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        if (bytes.Length - start == 0 || bytes.AsSpan(start).IndexOfAnyExcept(Blank) < 0)
        {
            throw new HermesException(HermesErrorIds.FileEmpty, HermesErrorCategory.InvalidData, $"'{path}' is empty.", path);
        }

        if (bytes.AsSpan(start).IndexOf((byte)0) >= 0)
        {
            throw new HermesException(HermesErrorIds.FileNotText, HermesErrorCategory.InvalidData, $"'{path}' contains NUL bytes; it is not a text file.", path);
        }

        try
        {
            return StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException e)
        {
            throw new HermesException(HermesErrorIds.FileNotText, HermesErrorCategory.InvalidData, $"'{path}' is not valid UTF-8 text.", path, e);
        }
    }

    public static string ReadText(string path) => DecodeText(ReadBytes(path), path);
}
