namespace HermesGateway.Core.Tests.Definition;

/// <summary>
/// Property-style round trip over generated definitions (fixed seed, so a failure is reproducible by its index):
/// for every platform, scope, profile, environment, awkward-but-representable arguments, stop timeout and systemd
/// version, reading the written file gives back an equal definition, and rendering is deterministic.
/// </summary>
public sealed class RoundTripPropertyTests
{
    private const int Seed = 20_250_611;
    private const int Count = 300;

    /// <summary>Characters every renderer must carry in arguments and environment values.</summary>
    private const string Awkward = "aZ09 %$;'\"\\<>&]]>\t=:{}#-é日😀\u0085\u007f";

    /// <summary>Path characters: no '$', quotes or backslash (systemd refuses those in an executable), no control characters.</summary>
    private const string PathCharacters = "aZ09 %;<>&]]>=:{}#-_.é日😀";

    private static readonly int[] Versions = [252, 254, 256];

    public static TheoryData<int> Indices => new(Enumerable.Range(0, Count));

    [Theory]
    [MemberData(nameof(Indices))]
    public void A_generated_definition_reads_back_equal_and_renders_deterministically(int index)
    {
        var request = Generate(index);
        var definition = ServiceDefinitionFactory.Create(request);
        var text = ServiceFiles.Render(definition);

        Assert.Equal(text, ServiceFiles.Render(definition));
        Assert.Equal(text, ServiceFiles.Render(ServiceDefinitionFactory.Create(request)));

        var dir = Directory.CreateTempSubdirectory("hermes-roundtrip-");
        try
        {
            var path = Path.Combine(dir.FullName, definition.FileName);
            File.WriteAllText(path, text, new UTF8Encoding(false));
            var back = ServiceFiles.Read(path, definition.Platform, request.SystemdVersion);

            Assert.True(definition.Equals(back), $"#{index} ({definition.Platform} {definition.Scope}) did not read back equal:\n{text}");
            Assert.Equal(text, ServiceFiles.Render(back));
            Assert.Empty(ServiceDiff.Compare(definition, back));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_generator_covers_every_platform_scope_version_and_both_argument_forms()
    {
        var requests = Enumerable.Range(0, Count).Select(Generate).ToList();
        Assert.All(new[] { ServiceScope.User, ServiceScope.System, ServiceScope.Agent, ServiceScope.Daemon },
            s => Assert.Contains(requests, r => r.Scope == s));
        Assert.All(Versions, v => Assert.Contains(requests, r => r.Platform == ServicePlatform.Systemd && r.SystemdVersion == v));
        Assert.Contains(requests, r => r.Arguments is null);
        Assert.Contains(requests, r => r.Arguments is { Count: > 2 });
        Assert.Contains(requests, r => r.Profile is not null);
        Assert.Contains(requests, r => r.StopTimeout is not null);
        Assert.Contains(requests, r => r.Environment is { Count: > 1 });
    }

    [Fact]
    public void Every_generated_plist_reads_back_through_plistlib_with_the_same_values()
    {
        Plistlib.AssertEachReadsBack("hermes-roundtrip-plist-", Enumerable.Range(0, Count)
            .Select(index => (Index: index, Request: Generate(index)))
            .Where(g => g.Request.Platform == ServicePlatform.Launchd)
            .Select(g => ($"{g.Index}.plist", ServiceDefinitionFactory.Create(g.Request))));
    }

    internal static DefinitionRequest Generate(int index)
    {
        var rng = new Random(Seed + index);
        var systemd = rng.Next(2) == 0;
        var system = rng.Next(3) == 0;
        var scope = systemd ? (system ? ServiceScope.System : ServiceScope.User) : (system ? ServiceScope.Daemon : ServiceScope.Agent);
        var profile = rng.Next(3) == 0 ? Profile(rng) : null;
        var executable = AbsolutePath(rng);

        List<string>? arguments = null;
        if (rng.Next(2) == 0)
        {
            arguments = [];
            if (profile is not null)
            {
                arguments.AddRange(["--profile", profile]); // the reader takes the profile from here
            }

            arguments.AddRange(Enumerable.Range(0, rng.Next(6)).Select(_ => Text(rng, Awkward, 0, 12)));
        }

        var environment = Enumerable.Range(0, rng.Next(5))
            .Select(_ => new EnvironmentVariable(EnvironmentName(rng), Text(rng, Awkward, 0, 16)))
            .ToList();

        var useHome = !system && rng.Next(3) == 0;
        TimeSpan? stop = rng.Next(3) switch
        {
            0 => null,
            1 => TimeSpan.FromSeconds(rng.Next(0, 100_000)),
            _ => TimeSpan.FromTicks(rng.NextInt64(0, TimeSpan.TicksPerDay * 3) / 10 * 10), // whole microseconds
        };

        return new DefinitionRequest
        {
            Platform = systemd ? ServicePlatform.Systemd : ServicePlatform.Launchd,
            Scope = scope,
            Profile = profile,
            Name = rng.Next(4) == 0 ? (systemd ? "svc-" : "org.example.") + Text(rng, "abc019_-", 1, 10) : null,
            Description = systemd && rng.Next(3) == 0 ? "d" + Text(rng, Awkward.Replace("\t", string.Empty, StringComparison.Ordinal), 0, 20) + "e" : null,
            HermesHome = useHome ? null : AbsolutePath(rng),
            HomeDirectory = useHome ? AbsolutePath(rng) : null,
            Executable = executable,
            Arguments = arguments,
            WorkingDirectory = rng.Next(3) == 0 ? AbsolutePath(rng) : null,
            Environment = environment,
            EnvironmentFile = systemd && rng.Next(3) == 0 ? AbsolutePath(rng) : null,
            User = system ? Account(rng) : null,
            Group = system && rng.Next(2) == 0 ? Account(rng) : null,
            StandardOutPath = rng.Next(3) == 0 ? AbsolutePath(rng) : null,
            StandardErrorPath = rng.Next(3) == 0 ? AbsolutePath(rng) : null,
            StopTimeout = stop,
            DrainTimeout = stop is null && rng.Next(2) == 0 ? TimeSpan.FromSeconds(rng.Next(0, 3600)) : null,
            SystemdVersion = systemd ? Versions[rng.Next(Versions.Length)] : 252,
        };
    }

    private static string Text(Random rng, string alphabet, int min, int max)
    {
        // Pick whole text elements so an emoji is never split into a lone surrogate.
        var elements = System.Globalization.StringInfo.GetTextElementEnumerator(alphabet);
        var list = new List<string>();
        while (elements.MoveNext())
        {
            list.Add((string)elements.Current);
        }

        var sb = new StringBuilder();
        for (var i = rng.Next(min, max + 1); i > 0; i--)
        {
            sb.Append(list[rng.Next(list.Count)]);
        }

        return sb.ToString();
    }

    private static string AbsolutePath(Random rng)
    {
        var segments = Enumerable.Range(0, rng.Next(1, 4)).Select(_ =>
        {
            var s = Text(rng, PathCharacters, 1, 8).Trim();
            return s.Length == 0 || s is "." or ".." ? "x" : s;
        });
        return "/" + string.Join('/', segments);
    }

    private static string Profile(Random rng) => Text(rng, "abcxyz019", 1, 1) + Text(rng, "abcxyz019_-", 0, 10);

    private static string Account(Random rng) => rng.Next(4) == 0 ? rng.Next(1, 65_000).ToString(System.Globalization.CultureInfo.InvariantCulture) : "u" + Text(rng, "abcxyz019_-", 0, 10);

    private static string EnvironmentName(Random rng)
    {
        string name;
        do
        {
            name = Text(rng, "ABCXYZ_", 1, 1) + Text(rng, "ABCXYZ019_", 0, 8);
        }
        while (name == "HERMES_HOME");

        return name;
    }
}
