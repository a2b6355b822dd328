using System.Security.Cryptography;
using System.Text;
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
        var hash = Hash(text);
        var lines = text.Split('\n').ToList();
        // After the header comment of a unit; after the DOCTYPE of a plist (a comment before it would be invalid XML).
        var at = platform == ServicePlatform.Systemd ? 1 : 2;
        lines.Insert(Math.Min(at, lines.Count), platform == ServicePlatform.Systemd ? $"# {Marker}{hash}" : $"<!-- {Marker}{hash} -->");
        return string.Join('\n', lines);
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
