using System.Security.Cryptography;
using System.Text;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>
/// A checksum line written into every file the module installs, so a later install can tell its own untouched
/// file (safe to replace) from one a person edited or wrote (kept unless -Force, and then backed up).
/// </summary>
public static class FileStamp
{
    private const string Marker = "HermesGateway sha256:";

    public static string Apply(string text, ServicePlatform platform)
    {
        return ServiceFormats.For(platform).AddComment(text, Marker + Hash(text));
    }

    /// <summary>Ours and unchanged since we wrote it; false for files without a stamp or edited after.</summary>
    public static bool IsUntouched(string text)
    {
        var lines = text.Split('\n').ToList();
        var at = lines.FindIndex(l => l.Contains(Marker, StringComparison.Ordinal));
        if (at < 0)
        {
            return false;
        }

        var line = lines[at];
        var start = line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length;
        var recorded = new string(line[start..].TakeWhile(char.IsAsciiHexDigit).ToArray());
        lines.RemoveAt(at);
        return recorded.Length == 64 && string.Equals(recorded, Hash(string.Join('\n', lines)), StringComparison.Ordinal);
    }

    public static bool HasStamp(string text) => text.Contains(Marker, StringComparison.Ordinal);

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
}
