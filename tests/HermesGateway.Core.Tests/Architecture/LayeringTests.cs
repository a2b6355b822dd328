using System.Text.RegularExpressions;

namespace HermesGateway.Core.Tests.Architecture;

/// <summary>
/// The engine's layering, read from its source: which namespace uses which (a 'using' or a qualified name), that the
/// uses form no cycle, and that the choice between systemd and launchd is made only inside their implementations.
/// </summary>
public sealed partial class LayeringTests
{
    private const string Root = "HermesGateway.Core";

    /// <summary>The one place that picks a supervisor's file format (by platform, this machine, a file).</summary>
    private const string Chooser = "Definition/ServiceFormats.cs";

    /// <summary>The one place that picks a supervisor's manager.</summary>
    private const string ManagerChooser = "Service/ServiceManagers.cs";

    /// <summary>
    /// Whether a file may name a platform or test for one: the two supervisors' folders, the implementations named
    /// after their supervisor (SystemdFormat, LaunchdServiceManager, ...), the two choosers, and the operating-system
    /// layer (Platform/, whose macOS tests are about libc, not about a supervisor).
    /// </summary>
    private static bool MayNamePlatform(string relative) =>
        relative == Chooser || relative == ManagerChooser || relative.StartsWith("Platform/", StringComparison.Ordinal)
        || relative.StartsWith("Systemd/", StringComparison.Ordinal) || relative.StartsWith("Launchd/", StringComparison.Ordinal)
        || Path.GetFileName(relative).StartsWith("Systemd", StringComparison.Ordinal) || Path.GetFileName(relative).StartsWith("Launchd", StringComparison.Ordinal);

    [Fact]
    public void No_namespace_of_the_engine_depends_on_itself_through_another()
    {
        var uses = NamespaceUses();
        var cycles = new List<string>();
        foreach (var start in uses.Keys)
        {
            foreach (var path in PathsBack(uses, start))
            {
                cycles.Add(string.Join(" -> ", path));
            }
        }

        Assert.True(cycles.Count == 0, "namespace cycles:\n" + string.Join('\n', cycles.Distinct().Order()));
    }

    [Fact]
    public void The_layers_are_the_ones_the_readme_names()
    {
        // Lower layers never use higher ones; README's Architecture section lists them in this order.
        string[] layers = ["Errors", "Platform", "Policy", "Systemd|Launchd", "Definition", "Service", "Restart", "Conformance|Engine|Fleet"];
        int Layer(string ns) => Array.FindIndex(layers, l => l.Split('|').Contains(ns));
        var uses = NamespaceUses();
        var upward = (from pair in uses
                      from used in pair.Value
                      where Layer(used) > Layer(pair.Key)
                      select $"{pair.Key} uses {used}").ToList();
        Assert.All(uses.Keys.Concat(uses.Values.SelectMany(v => v)), ns => Assert.True(Layer(ns) >= 0, $"{ns} is in no layer"));
        Assert.True(upward.Count == 0, string.Join('\n', upward));
    }

    [Fact]
    public void Only_the_supervisor_implementations_branch_on_the_platform()
    {
        var offenders = (from file in SourceFiles()
                         let relative = Path.GetRelativePath(CoreFolder, file).Replace('\\', '/')
                         where !MayNamePlatform(relative)
                         from line in File.ReadLines(file).Select((text, index) => (text, index))
                         where PlatformCase().IsMatch(line.text) && !line.text.TrimStart().StartsWith("//", StringComparison.Ordinal)
                         select $"{relative}:{line.index + 1}: {line.text.Trim()}").ToList();
        Assert.True(offenders.Count == 0, "platform branches outside the implementations:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void The_checks_see_a_cycle_and_a_branch_when_there_is_one()
    {
        var uses = new Dictionary<string, HashSet<string>> { ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["A"], ["D"] = ["A"] };
        Assert.Single(PathsBack(uses, "A"));
        Assert.Empty(PathsBack(uses, "D"));
        Assert.Matches(PlatformCase(), "var x = p == ServicePlatform.Systemd ? 1 : 2;");
        Assert.DoesNotMatch(PlatformCase(), "var x = ServiceFormats.For(p).Noun;");
        Assert.Matches(PlatformCase(), "new(environment.IsMacOS ? new LaunchdServiceManager(runner) : new SystemdServiceManager(runner))");
        Assert.True(MayNamePlatform("Service/SystemdServiceManager.cs") && MayNamePlatform(Chooser) && !MayNamePlatform("Service/ServiceInstaller.cs"));
    }

    private static string CoreFolder => Path.Combine(Definition.GoldenCases.RepoRoot(), "src", Root);

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(CoreFolder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    /// <summary>For each namespace below HermesGateway.Core, the other such namespaces its files use.</summary>
    private static Dictionary<string, HashSet<string>> NamespaceUses()
    {
        var namespaces = SourceFiles().Select(f => Declared(File.ReadAllText(f))).Where(n => n is not null).Select(n => n!).ToHashSet();
        var uses = namespaces.ToDictionary(n => n, _ => new HashSet<string>());
        foreach (var file in SourceFiles())
        {
            var text = File.ReadAllText(file);
            var own = Declared(text);
            if (own is null)
            {
                continue;
            }

            foreach (Match m in UsingOf().Matches(text))
            {
                uses[own].Add(m.Groups[1].Value);
            }

            var code = Comment().Replace(StringLiteral().Replace(text, "\"\""), string.Empty);
            foreach (Match m in QualifiedName().Matches(code))
            {
                if (namespaces.Contains(m.Groups[1].Value))
                {
                    uses[own].Add(m.Groups[1].Value);
                }
            }

            uses[own].Remove(own);
        }

        return uses;
    }

    /// <summary>Every simple path of uses that leads from <paramref name="start"/> back to it.</summary>
    private static List<List<string>> PathsBack(Dictionary<string, HashSet<string>> uses, string start)
    {
        var found = new List<List<string>>();
        void Walk(List<string> path)
        {
            foreach (var next in uses.GetValueOrDefault(path[^1]) ?? [])
            {
                if (next == start)
                {
                    found.Add([.. path, next]);
                }
                else if (!path.Contains(next) && string.CompareOrdinal(next, start) > 0)
                {
                    Walk([.. path, next]);
                }
            }
        }

        Walk([start]);
        return found;
    }

    private static string? Declared(string text) => NamespaceOf().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"^namespace HermesGateway\.Core\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceOf();

    [GeneratedRegex(@"^using (?:static )?HermesGateway\.Core\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingOf();

    [GeneratedRegex(@"(?<![\w.])(?:HermesGateway\.Core\.)?(\w+)\.[A-Z]\w*")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"//.*$", RegexOptions.Multiline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"ServicePlatform\.(Systemd|Launchd)\b|\bIsMacOS\b|new (Systemd|Launchd)\w*\(")]
    private static partial Regex PlatformCase();
}
