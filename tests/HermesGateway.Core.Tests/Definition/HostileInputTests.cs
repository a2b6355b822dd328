using System.Text.Json;

namespace HermesGateway.Core.Tests.Definition;

/// <summary>
/// The hostile corpus without a supervisor: each input is refused by the factory with its stable error id (and
/// nothing is produced), or renders to a file that our reader — and, for plists, Python's plistlib — reads back to
/// exactly the original value. Real systemd reads the systemd half in <see cref="SystemdAcceptanceTests"/>.
/// </summary>
public sealed class HostileInputTests
{
    public static TheoryData<string, ServicePlatform> Refused => Rows(refused: true);

    public static TheoryData<string, ServicePlatform> Accepted => Rows(refused: false);

    private static TheoryData<string, ServicePlatform> Rows(bool refused)
    {
        var rows = new TheoryData<string, ServicePlatform>();
        foreach (var input in HostileCorpus.All)
        {
            foreach (var platform in new[] { ServicePlatform.Systemd, ServicePlatform.Launchd })
            {
                if (input.Refusal(platform) is null != refused)
                {
                    rows.Add(input.Id, platform);
                }
            }
        }

        return rows;
    }

    [Fact]
    public void The_corpus_has_at_least_sixty_inputs_with_unique_ids_and_a_decision_for_both_platforms()
    {
        Assert.True(HostileCorpus.All.Length >= 60, $"only {HostileCorpus.All.Length} inputs");
        Assert.Equal(HostileCorpus.All.Length, HostileCorpus.ById.Count);
        var ids = new[] { HermesErrorIds.ValueNotRepresentable, HermesErrorIds.NameInvalid, HermesErrorIds.DefinitionInvalid };
        Assert.All(HostileCorpus.All, i => Assert.True(
            (i.SystemdRefusal is null || ids.Contains(i.SystemdRefusal)) && (i.LaunchdRefusal is null || ids.Contains(i.LaunchdRefusal)), i.Id));

        // Both outcomes occur for every kind of value, so neither half of the table is vacuous.
        Assert.Contains(HostileCorpus.All, i => i.SystemdRefusal is null);
        Assert.Contains(HostileCorpus.All, i => i.SystemdRefusal is not null);
        Assert.Contains(HostileCorpus.All, i => i.LaunchdRefusal is null);
        Assert.Contains(HostileCorpus.All, i => i.LaunchdRefusal is not null);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_refused_input_fails_with_its_stable_error_id_and_produces_nothing(string id, ServicePlatform platform)
    {
        var input = HostileCorpus.ById[id];
        var dir = Directory.CreateTempSubdirectory("hermes-hostile-");
        try
        {
            var request = HostileCorpus.Request(input, platform, dir.FullName);
            ServiceDefinition? produced = null;
            var error = Assert.Throws<HermesException>(() => produced = ServiceDefinitionFactory.Create(request));

            Assert.Equal(input.Refusal(platform), error.ErrorId);
            Assert.Null(produced);
            Assert.Empty(dir.EnumerateFileSystemInfos()); // nothing written
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public void An_accepted_input_reads_back_exactly_through_our_reader(string id, ServicePlatform platform)
    {
        var input = HostileCorpus.ById[id];
        var definition = ServiceDefinitionFactory.Create(HostileCorpus.Request(input, platform, HostileCorpus.OfflineRoot));
        var text = ServiceFiles.Render(definition);
        var dir = Directory.CreateTempSubdirectory("hermes-hostile-");
        try
        {
            var path = Path.Combine(dir.FullName, definition.FileName);
            File.WriteAllText(path, text, new UTF8Encoding(false));

            var back = ServiceFiles.Read(path, platform, 252);

            Assert.Equal(definition, back);
            Assert.Equal(text, ServiceFiles.Render(back));
            Assert.Equal(input.ValueIn(HostileCorpus.OfflineRoot), HostileValue(back, input));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public void The_renderer_refuses_what_the_factory_refuses_even_when_a_definition_is_built_by_hand(string id, ServicePlatform platform)
    {
        // The accepted value, swapped for each refused value of the same field on a hand-made definition: the
        // renderer is the last line of defence for definitions that never went through the factory.
        var input = HostileCorpus.ById[id];
        var definition = ServiceDefinitionFactory.Create(HostileCorpus.Request(input, platform, HostileCorpus.OfflineRoot));
        foreach (var bad in HostileCorpus.All.Where(i => i.Field == input.Field && i.Refusal(platform) == HermesErrorIds.ValueNotRepresentable))
        {
            var value = bad.ValueIn(HostileCorpus.OfflineRoot);
            var tampered = input.Field switch
            {
                HostileField.Argument => definition with { Arguments = definition.Arguments.Add(value) },
                HostileField.EnvironmentValue => definition with { Environment = [new("HOSTILE_VALUE", value)] },
                HostileField.WorkingDirectory => definition with { WorkingDirectory = value },
                HostileField.Executable => definition with { Executable = value },
                HostileField.StandardOutPath => definition with { StandardOutPath = value },
                HostileField.StandardErrorPath => definition with { StandardErrorPath = value },
                HostileField.EnvironmentFile => definition with { EnvironmentFile = value },
                _ => null,
            };
            if (tampered is null || value.Length == 0 || (input.Field == HostileField.Executable && !value.StartsWith('/') && platform == ServicePlatform.Launchd))
            {
                continue; // empty and relative values are the factory's to refuse
            }

            var error = Assert.Throws<HermesException>(() => ServiceFiles.Render(tampered));
            Assert.Equal(HermesErrorIds.ValueNotRepresentable, error.ErrorId);
        }
    }

    [Fact]
    public void Every_accepted_plist_reads_back_through_plistlib_with_the_same_values()
    {
        Plistlib.AssertEachReadsBack("hermes-hostile-plist-", HostileCorpus.Accepted(ServicePlatform.Launchd)
            .Select(input => (input.Id + ".plist", ServiceDefinitionFactory.Create(HostileCorpus.Request(input, ServicePlatform.Launchd, HostileCorpus.OfflineRoot)))));
    }

    /// <summary>Where the hostile value sits in a definition read back.</summary>
    internal static string? HostileValue(ServiceDefinition d, HostileInput input) => input.Field switch
    {
        HostileField.Name => d.Name,
        HostileField.Profile => d.Profile,
        HostileField.User => d.User,
        HostileField.Group => d.Group,
        HostileField.HermesHome => d.HermesHome,
        HostileField.Executable => d.Executable,
        HostileField.WorkingDirectory => d.WorkingDirectory,
        HostileField.EnvironmentFile => d.EnvironmentFile,
        HostileField.StandardOutPath => d.StandardOutPath,
        HostileField.StandardErrorPath => d.StandardErrorPath,
        HostileField.Argument => d.Arguments[^1],
        HostileField.EnvironmentValue => d.Environment.Single(v => v.Name == "HOSTILE_VALUE").Value,
        HostileField.EnvironmentName => d.Environment.Single(v => v.Name == input.Value).Name,
        _ => throw new ArgumentOutOfRangeException(nameof(input)),
    };
}

/// <summary>Python's plistlib as the independent reader: every string comes back as hex of its UTF-8 bytes.</summary>
internal static class Plistlib
{
    private const string Script =
        "import plistlib,sys,json\n" +
        "def h(v):\n" +
        "    if isinstance(v,str): return {'s':v.encode('utf-8','surrogatepass').hex()}\n" +
        "    if isinstance(v,bool): return {'b':v}\n" +
        "    if isinstance(v,int): return {'i':v}\n" +
        "    if isinstance(v,list): return {'a':[h(x) for x in v]}\n" +
        "    if isinstance(v,dict): return {'d':[[k.encode('utf-8','surrogatepass').hex(),h(x)] for k,x in v.items()]}\n" +
        "    return {'o':repr(v)}\n" +
        "out={}\n" +
        "for p in sys.argv[1:]:\n" +
        "    with open(p,'rb') as f: out[p]=h(plistlib.load(f))\n" +
        "json.dump(out,sys.stdout)\n";

    /// <summary>Each definition rendered to its own plist file, read back by plistlib, says exactly what the definition says.</summary>
    public static void AssertEachReadsBack(string folderPrefix, IEnumerable<(string FileName, ServiceDefinition Definition)> definitions)
    {
        var dir = Directory.CreateTempSubdirectory(folderPrefix);
        try
        {
            var expected = new Dictionary<string, ServiceDefinition>(StringComparer.Ordinal);
            foreach (var (fileName, d) in definitions)
            {
                var path = Path.Combine(dir.FullName, fileName);
                File.WriteAllText(path, ServiceFiles.Render(d), new UTF8Encoding(false));
                expected[path] = d;
            }

            var read = ReadAll(expected.Keys);
            Assert.All(expected, e => AssertSame(e.Value, read[e.Key], e.Key));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    public static Dictionary<string, JsonElement> ReadAll(IEnumerable<string> paths)
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.Fail("python3 (/usr/bin/python3) is needed as the independent plist reader and is missing.");
        }

        var result = Programs.Run("/usr/bin/python3", ["-c", Script, .. paths], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"plistlib refused a plist: {result.StandardError}");
        using var doc = JsonDocument.Parse(result.StandardOutput);
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
    }

    public static string Text(JsonElement v) => Encoding.UTF8.GetString(Convert.FromHexString(v.GetProperty("s").GetString()!));

    public static JsonElement? Key(JsonElement dict, string key)
    {
        foreach (var pair in dict.GetProperty("d").EnumerateArray())
        {
            if (Encoding.UTF8.GetString(Convert.FromHexString(pair[0].GetString()!)) == key)
            {
                return pair[1];
            }
        }

        return null;
    }

    /// <summary>The plist as plistlib read it says exactly what the definition says, with the right plist types.</summary>
    public static void AssertSame(ServiceDefinition d, JsonElement plist, string what)
    {
        string? Str(string key) => Key(plist, key) is { } v ? Text(v) : null;
        Assert.Equal(d.Name, Str("Label"));
        var args = Key(plist, "ProgramArguments")!.Value.GetProperty("a").EnumerateArray().Select(Text).ToList();
        Assert.Equal([d.Executable, .. d.Arguments], args);
        Assert.Equal(d.WorkingDirectory, Str("WorkingDirectory"));
        Assert.Equal(d.StandardOutPath, Str("StandardOutPath"));
        Assert.Equal(d.StandardErrorPath, Str("StandardErrorPath"));
        Assert.Equal(d.User, Str("UserName"));
        Assert.Equal(d.Group, Str("GroupName"));
        var env = Key(plist, "EnvironmentVariables")!.Value.GetProperty("d").EnumerateArray()
            .Select(p => (Encoding.UTF8.GetString(Convert.FromHexString(p[0].GetString()!)), Text(p[1]))).ToList();
        Assert.Equal([("HERMES_HOME", d.HermesHome!), .. d.Environment.Select(v => (v.Name, v.Value))], env);
        Assert.True(Key(plist, "RunAtLoad")!.Value.GetProperty("b").GetBoolean() == d.Launchd!.RunAtLoad, what);
        Assert.Equal(d.Launchd.ThrottleInterval, Key(plist, "ThrottleInterval")!.Value.GetProperty("i").GetInt64());
        var exitTimeOut = Key(plist, "ExitTimeOut")!.Value.GetProperty("i").GetInt64();
        Assert.Equal(d.StopTimeout == TimeSpan.MaxValue ? 0 : (long)Math.Ceiling(d.StopTimeout.TotalSeconds), exitTimeOut);
        Assert.Equal(JsonValueKind.Array, Key(plist, "KeepAlive")!.Value.GetProperty("d").ValueKind);
    }
}
