using System.Collections.Immutable;
using System.Text;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Systemd;

/// <summary>One assignment as written, with where it was written.</summary>
public sealed record UnitEntry(string Section, string Key, string Value, string File, int Line);

/// <summary>The syntax of one unit file or drop-in (systemd.syntax(7)): sections, assignments, comments, continuations.</summary>
public sealed record UnitFileDocument(string Path, ImmutableArray<UnitEntry> Entries, ImmutableArray<string> Sections, ImmutableArray<UnitDiagnostic> Diagnostics)
{
    public static UnitFileDocument Parse(string text, string path, bool requireSection = true)
    {
        var entries = ImmutableArray.CreateBuilder<UnitEntry>();
        var sections = ImmutableArray.CreateBuilder<string>();
        var diagnostics = ImmutableArray.CreateBuilder<UnitDiagnostic>();
        string? section = null;
        var ignoringSection = false;
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var continuation = new StringBuilder();
        var continuationStart = 0;

        for (var i = 0; i < lines.Length; i++)
        {
            var raw = lines[i];
            var lineNo = i + 1;
            var trimmed = raw.Trim(' ', '\t', '\r');

            if (continuation.Length > 0)
            {
                // Comment lines inside a continued assignment are skipped (systemd.syntax(7)).
                if (trimmed.StartsWith('#') || trimmed.StartsWith(';'))
                {
                    continue;
                }
            }
            else if (trimmed.Length == 0 || trimmed.StartsWith('#') || trimmed.StartsWith(';'))
            {
                continue;
            }

            if (trimmed.EndsWith('\\') && !trimmed.EndsWith("\\\\", StringComparison.Ordinal) && i + 1 < lines.Length)
            {
                if (continuation.Length == 0)
                {
                    continuationStart = lineNo;
                }

                continuation.Append(trimmed, 0, trimmed.Length - 1).Append(' ');
                continue;
            }

            var line = trimmed;
            var at = lineNo;
            if (continuation.Length > 0)
            {
                line = continuation.Append(trimmed).ToString();
                at = continuationStart;
                continuation.Clear();
            }

            if (line.StartsWith('['))
            {
                if (!line.EndsWith(']') || line.Length < 3)
                {
                    diagnostics.Add(new(DiagnosticSeverity.Warning, path, at, section, null, $"Invalid section header '{line}'"));
                    section = null;
                    ignoringSection = true;
                    continue;
                }

                section = line[1..^1];
                sections.Add(section);
                ignoringSection = section.StartsWith("X-", StringComparison.Ordinal);
                continue;
            }

            if (section is null)
            {
                diagnostics.Add(new(DiagnosticSeverity.Warning, path, at, null, null, "Assignment outside of section. Ignoring."));
                continue;
            }

            if (ignoringSection)
            {
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                diagnostics.Add(new(DiagnosticSeverity.Warning, path, at, section, null, eq == 0 ? "Missing key name before '=', ignoring line." : "Missing '=', ignoring line."));
                continue;
            }

            var key = line[..eq].TrimEnd(' ', '\t');
            var value = line[(eq + 1)..].TrimStart(' ', '\t');
            entries.Add(new UnitEntry(section, key, value, path, at));
        }

        if (sections.Count == 0 && requireSection)
        {
            throw new HermesException(HermesErrorIds.UnitMalformed, HermesErrorCategory.InvalidData,
                $"'{path}' has no [Section] header; it is not a systemd unit file.", path);
        }

        return new UnitFileDocument(path, entries.ToImmutable(), sections.ToImmutable(), diagnostics.ToImmutable());
    }
}
