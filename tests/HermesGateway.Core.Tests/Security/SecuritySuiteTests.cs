using System.Reflection;
using System.Text.RegularExpressions;

namespace HermesGateway.Core.Tests.Security;

/// <summary>The README's figure for the security suite is the number of attack cases this assembly runs.</summary>
public sealed partial class SecuritySuiteTests
{
    [Fact]
    public void The_README_figure_counts_every_attack_case()
    {
        var cases = 0;
        foreach (var method in typeof(SecuritySuiteTests).Assembly.GetTypes().SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance)))
        {
            var attack = method.GetCustomAttributesData().Any(a => a.AttributeType == typeof(TraitAttribute)
                && a.ConstructorArguments.Select(c => c.Value as string).SequenceEqual(["Category", "Attack"]));
            if (!attack)
            {
                continue;
            }

            // A theory counts each of its rows; the attack theories take theirs inline.
            var rows = method.GetCustomAttributes<InlineDataAttribute>().Count();
            Assert.False(method.GetCustomAttributes<MemberDataAttribute>().Any(), $"{method.Name}: count its MemberData rows here");
            cases += rows > 0 ? rows : 1;
        }

        var root = Definition.GoldenCases.RepoRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var figure = Figure().Match(readme);
        Assert.True(figure.Success, "README has no 'N attacks tried, 0 succeeded' figure");
        Assert.Equal(cases, int.Parse(figure.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        // The release notes say it too (CHANGELOG and the manifest carry the same text).
        foreach (var file in new[] { "CHANGELOG.md", "HermesGateway.psd1" })
        {
            var notes = NotesFigure().Match(File.ReadAllText(Path.Combine(root, file)));
            Assert.True(notes.Success, $"{file} has no 'security suite: N attacks' figure");
            Assert.Equal(cases, int.Parse(notes.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [GeneratedRegex(@"\*\*(\d+) attacks tried, 0 succeeded\*\*")]
    private static partial Regex Figure();

    [GeneratedRegex(@"security suite: (\d+) attacks, 0 succeeded")]
    private static partial Regex NotesFigure();
}
