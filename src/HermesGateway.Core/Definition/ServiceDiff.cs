using HermesGateway.Core.Policy;

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
        var current = ServiceFormats.For(definition.Platform).ReadText(path);
        return CompareText(current, ServiceFiles.Render(definition), definition.Platform, path);
    }

    public static IReadOnlyList<SettingChange> CompareText(string before, string after, ServicePlatform platform, string path)
    {
        var format = ServiceFormats.For(platform);
        var old = format.Settings(before, path);
        var @new = format.Settings(after, path);
        var changes = new List<SettingChange>();
        foreach (var key in old.Keys.Concat(@new.Keys).Distinct())
        {
            var o = old.GetValueOrDefault(key) ?? [];
            var n = @new.GetValueOrDefault(key) ?? [];
            if (o.SequenceEqual(n) || (format.IsUnordered(key.Setting) && o.Order(StringComparer.Ordinal).SequenceEqual(n.Order(StringComparer.Ordinal))))
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
}
