using System.Globalization;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

public enum SettingChangeKind
{
    Added,
    Removed,
    Changed,
}

/// <summary>One setting that differs: what -WhatIf and drift reports show.</summary>
public sealed record SettingChange(string Section, string Setting, string? Old, string? New, SettingChangeKind Kind)
{
    public override string ToString() => Kind switch
    {
        SettingChangeKind.Added => $"+ {Setting}={New}",
        SettingChangeKind.Removed => $"- {Setting}={Old}",
        _ => $"~ {Setting}={Old} → {New}",
    };
}

/// <summary>Differences between two definitions, or a definition and a file, in terms of settings, not lines.</summary>
public static class ServiceDiff
{
    public static IReadOnlyList<SettingChange> Compare(ServiceDefinition before, ServiceDefinition after) =>
        CompareText(ServiceFiles.Render(before), ServiceFiles.Render(after), after.Platform, "/" + after.FileName);

    /// <summary>What installing <paramref name="definition"/> over the file at <paramref name="path"/> would change.</summary>
    public static IReadOnlyList<SettingChange> CompareWithFile(string path, ServiceDefinition definition)
    {
        var bytes = TextFiles.ReadBytes(path);
        var current = PlistReader.LooksBinary(bytes) ? PlistWriter.ToXml(BinaryPlistReader.Parse(bytes, path)) : TextFiles.DecodeText(bytes, path);
        return CompareText(current, ServiceFiles.Render(definition), definition.Platform, path);
    }

    public static IReadOnlyList<SettingChange> CompareText(string before, string after, ServicePlatform platform, string path)
    {
        var old = Settings(before, platform, path);
        var @new = Settings(after, platform, path);
        var changes = new List<SettingChange>();
        foreach (var key in old.Keys.Concat(@new.Keys).Distinct())
        {
            var o = old.GetValueOrDefault(key) ?? [];
            var n = @new.GetValueOrDefault(key) ?? [];
            if (o.SequenceEqual(n) || (Unordered.Contains(key.Setting) && o.Order(StringComparer.Ordinal).SequenceEqual(n.Order(StringComparer.Ordinal))))
            {
                continue;
            }

            if (o.Count == 1 && n.Count == 1)
            {
                changes.Add(new(key.Section, key.Setting, o[0], n[0], SettingChangeKind.Changed));
                continue;
            }

            changes.AddRange(o.Except(n).Select(v => new SettingChange(key.Section, key.Setting, v, null, SettingChangeKind.Removed)));
            changes.AddRange(n.Except(o).Select(v => new SettingChange(key.Section, key.Setting, null, v, SettingChangeKind.Added)));
            if (o.Except(n).Any() || n.Except(o).Any())
            {
                continue;
            }

            // Same values in another order: order matters for list settings, so say so.
            changes.Add(new(key.Section, key.Setting, string.Join(" ", o), string.Join(" ", n), SettingChangeKind.Changed));
        }

        return changes;
    }

    private static Dictionary<(string Section, string Setting), List<string>> Settings(string text, ServicePlatform platform, string path)
    {
        var map = new Dictionary<(string, string), List<string>>();
        void Add(string section, string setting, string value)
        {
            if (!map.TryGetValue((section, setting), out var list))
            {
                map[(section, setting)] = list = [];
            }

            list.Add(value);
        }

        if (platform == ServicePlatform.Systemd)
        {
            foreach (var e in UnitFileDocument.Parse(text, path).Entries)
            {
                if (e.Value.Length == 0 && map.TryGetValue((e.Section, e.Key), out var reset))
                {
                    reset.Clear(); // an empty assignment resets a list
                    continue;
                }

                foreach (var value in Normalise(e))
                {
                    Add(e.Section, e.Key, value);
                }
            }
        }
        else if (PlistReader.ParseXml(text, path) is PlistDict dict)
        {
            Flatten(dict, string.Empty, Add);
        }

        return map;
    }

    /// <summary>
    /// Values as systemd reads them, so spelling does not count as change: one value per assignment of
    /// Environment= (unquoted) and per unit name of dependency lists.
    /// </summary>
    private static IEnumerable<string> Normalise(UnitEntry e) => e.Key switch
    {
        "Environment" when SystemdValues.TrySplitCommandLine(e.Value, out var prefix, out var words) && prefix.Length == 0 => words,
        _ when Unordered.Contains(e.Key) => e.Value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries),
        _ when e.Key.EndsWith("Sec", StringComparison.Ordinal) && SystemdValues.TryParseTimeSpan(e.Value, out var span) => [SystemdValues.FormatTimeSpan(span)],
        _ => [e.Value],
    };

    /// <summary>List settings whose order does not change what systemd does.</summary>
    private static readonly HashSet<string> Unordered = new(StringComparer.Ordinal)
    {
        "Environment", "After", "Before", "Wants", "Requires", "WantedBy", "RequiredBy",
    };

    private static void Flatten(PlistDict dict, string prefix, Action<string, string, string> add)
    {
        foreach (var key in dict.Keys)
        {
            var value = dict[key]!;
            if (value is PlistDict inner && inner.Entries.Length > 0)
            {
                Flatten(inner, prefix + key + ".", add);
            }
            else
            {
                add(string.Empty, prefix + key, Show(value));
            }
        }
    }

    private static string Show(PlistValue v) => v switch
    {
        PlistString s => s.Value,
        PlistInteger i => i.Value.ToString(CultureInfo.InvariantCulture),
        PlistReal r => r.Value.ToString("R", CultureInfo.InvariantCulture),
        PlistBoolean b => b.Value ? "true" : "false",
        PlistDate d => d.Value.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        PlistData d => Convert.ToBase64String(d.Value.AsSpan()),
        PlistArray a => "[" + string.Join(", ", a.Items.Select(Show)) + "]",
        PlistDict d => "{" + string.Join(", ", d.Keys.Select(k => k + " = " + Show(d[k]!))) + "}",
        _ => v.ToString()!,
    };
}
