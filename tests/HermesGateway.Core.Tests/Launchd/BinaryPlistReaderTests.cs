using System.Buffers.Binary;

namespace HermesGateway.Core.Tests.Launchd;

/// <summary>
/// BinaryPlistReader against fixtures Python's plistlib wrote (each binary fixture has an XML twin of the same
/// object), hand-built documents, and hostile input: truncations, mutations, cycles, huge counts, deep nesting.
/// </summary>
public sealed class BinaryPlistReaderTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Launchd", "Fixtures", name);

    private static byte[] FixtureBytes(string name) => File.ReadAllBytes(Fixture(name));

    private static PlistValue Parse(byte[] bytes) => BinaryPlistReader.Parse(bytes, "/test/x.plist");

    // ---- plistlib fixtures -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("ai.hermes.gateway")]
    [InlineData("every-type")]
    [InlineData("shared-containers")]
    public void A_binary_plist_reads_as_the_same_values_as_its_XML_twin(string name)
    {
        var binary = Parse(FixtureBytes(name + ".binary.plist"));
        var xml = PlistReader.ParseXml(File.ReadAllText(Fixture(name + ".xml.plist")), Fixture(name + ".xml.plist"));

        PlistCanon.Equal(xml, binary);
    }

    [Fact]
    public void A_binary_job_gives_the_same_settings_as_its_XML_twin()
    {
        var binary = LaunchdJobReader.ReadFile(Fixture("ai.hermes.gateway.binary.plist"));
        var xml = LaunchdJobReader.ReadFile(Fixture("ai.hermes.gateway.xml.plist"));
        var s = binary.Settings;

        Assert.Empty(binary.Diagnostics);
        Assert.Empty(xml.Diagnostics);
        Assert.Equal(xml.Settings with { ProgramArguments = [] }, s with { ProgramArguments = [] });
        Assert.Equal(xml.Settings.ProgramArguments.ToArray(), s.ProgramArguments.ToArray());
        Assert.Equal("ai.hermes.gateway", s.Label);
        Assert.Equal("--external-supervisor", s.ProgramArguments[^1]);
        Assert.Equal("{SuccessfulExit=false}", s.KeepAlive.ToString());
        Assert.True(s.RunAtLoad);
        Assert.Equal(30, s.ThrottleInterval);
        Assert.Equal(25, s.ExitTimeOut);
        Assert.Equal(new PlistString("/Users/hermes/.hermes"), ((PlistDict)binary.Document["EnvironmentVariables"]!)["HERMES_HOME"]);
        PlistCanon.Equal(xml.Document, binary.Document);
    }

    [Fact]
    public void Every_type_holds_the_values_plistlib_was_given()
    {
        var root = (PlistDict)Parse(FixtureBytes("every-type.binary.plist"));
        var integers = ((PlistArray)root["integers"]!).Items.Select(v => ((PlistInteger)v).Value).ToArray();
        var dates = ((PlistArray)root["dates"]!).Items.Select(v => ((PlistDate)v).Value).ToArray();
        var strings = ((PlistArray)root["strings"]!).Items.Select(v => ((PlistString)v).Value).ToArray();
        var data = ((PlistArray)root["data"]!).Items.Select(v => ((PlistData)v).Value).ToArray();

        Assert.Contains(long.MaxValue, integers);
        Assert.Contains(long.MinValue, integers);
        Assert.Contains(uint.MaxValue, integers);
        Assert.Contains(-255L, integers);
        Assert.Equal(new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero), dates[0]);
        Assert.Equal(new DateTimeOffset(1900, 2, 28, 23, 59, 59, TimeSpan.Zero), dates[3]);
        Assert.Equal(new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero), dates[4]);
        Assert.Equal(new[] { "", "plain ascii", "café", "日本語", "emoji 😀🚀", "tab\tnew\nline", "& < > ]]> \" '", new string('x', 300) }, strings);
        Assert.Empty(data[0]);
        Assert.Equal(512, data[2].Length);
        Assert.Equal(new PlistString("value"), root["ünicode key 🔑"]);
        Assert.Empty(((PlistArray)root["empty array"]!).Items);
        Assert.Empty(((PlistDict)root["empty dict"]!).Entries);
        Assert.Equal(40, ((PlistDict)root["big dict"]!).Entries.Length);
        Assert.Equal(-0.0, ((PlistReal)((PlistArray)root["reals"]!).Items[0]).Value);
        Assert.True(double.IsNegative(((PlistReal)((PlistArray)root["reals"]!).Items[0]).Value));
    }

    [Fact]
    public void Infinities_and_NaN_are_read()
    {
        var reals = ((PlistArray)Parse(FixtureBytes("special-reals.binary.plist"))).Items.Select(v => ((PlistReal)v).Value).ToArray();

        Assert.Equal(new[] { double.PositiveInfinity, double.NegativeInfinity }, reals[..2]);
        Assert.True(double.IsNaN(reals[2]));
    }

    [Fact]
    public void An_integer_beyond_the_signed_64_bit_range_is_malformed_as_in_XML()
    {
        Expect.Error(HermesErrorIds.PlistMalformed, () => Parse(FixtureBytes("uint64-max.binary.plist")));
        Expect.Error(HermesErrorIds.PlistMalformed, () => PlistReader.ParseXml("<plist><integer>18446744073709551615</integer></plist>", "/test/x.plist"));
    }

    [Fact]
    public void A_binary_plist_whose_top_level_is_not_a_dictionary_is_not_a_job()
    {
        Expect.Error(HermesErrorIds.PlistNotAJob, () => LaunchdJobReader.ReadFile(Fixture("top-level-array.binary.plist")));
    }

    [Fact]
    public void A_broken_binary_job_file_is_malformed()
    {
        using var dir = new TempDir();
        var bytes = FixtureBytes("ai.hermes.gateway.binary.plist");

        Expect.Error(HermesErrorIds.PlistMalformed, () => LaunchdJobReader.ReadFile(dir.WriteBytes("a.plist", bytes[..^1])));
        Expect.Error(HermesErrorIds.PlistMalformed, () => LaunchdJobReader.ReadFile(dir.WriteBytes("b.plist", [.. "bplist00"u8, 0xD0, 0x08])));
        Expect.Error(HermesErrorIds.PlistMalformed, () => LaunchdJobReader.ReadFile(dir.WriteBytes("c.plist", [.. "bplist01"u8, .. bytes[8..]])));
        Expect.Error(HermesErrorIds.PlistMalformed, () => LaunchdJobReader.ReadFile(dir.WriteBytes("d.plist", [.. "bplist"u8])));
    }

    // ---- hand-built documents ----------------------------------------------------------------------------------

    /// <summary>A bplist00 document of the given objects, in order, with 1-byte offsets and references unless told.</summary>
    private static byte[] Build(IReadOnlyList<byte[]> objects, int top = 0, int offsetSize = 1, int refSize = 1, ulong? objectCount = null, ulong? offsetTable = null, Action<byte[]>? tweak = null)
    {
        var bytes = new List<byte>("bplist00"u8.ToArray());
        var offsets = new List<int>();
        foreach (var o in objects)
        {
            offsets.Add(bytes.Count);
            bytes.AddRange(o);
        }

        var table = bytes.Count;
        foreach (var offset in offsets)
        {
            Assert.True(offsetSize is 0 or >= 4 || offset >> (8 * offsetSize) == 0, $"offset {offset} does not fit {offsetSize} bytes");
            for (var k = offsetSize - 1; k >= 0; k--)
            {
                bytes.Add(k < 4 ? (byte)(offset >> (8 * k)) : (byte)0);
            }
        }

        var trailer = new byte[32];
        trailer[6] = (byte)offsetSize;
        trailer[7] = (byte)refSize;
        BinaryPrimitives.WriteUInt64BigEndian(trailer.AsSpan(8), objectCount ?? (ulong)objects.Count);
        BinaryPrimitives.WriteUInt64BigEndian(trailer.AsSpan(16), (ulong)top);
        BinaryPrimitives.WriteUInt64BigEndian(trailer.AsSpan(24), offsetTable ?? (ulong)table);
        bytes.AddRange(trailer);
        var result = bytes.ToArray();
        tweak?.Invoke(result);
        return result;
    }

    private static byte[] Ascii(string s) => [(byte)(0x50 | s.Length), .. Encoding.ASCII.GetBytes(s)];

    [Fact]
    public void Every_marker_the_format_has_for_plist_values_is_read()
    {
        var doc = Build(
        [
            [0xDA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
            Ascii("f"), Ascii("t"), Ascii("u16"), Ascii("i16"), Ascii("r4"), Ascii("set"), Ascii("utf8"), Ascii("long"), Ascii("big"), Ascii("neg"),
            [0x08],
            [0x09],
            [0x63, 0x00, 0x68, 0xD8, 0x3D, 0xDE, 0x00],
            [0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5],
            [0x22, 0x3F, 0xC0, 0x00, 0x00],
            [0xC2, 11, 12],
            [0x73, 0xC3, 0xA9, 0x21],
            [0x5F, 0x10, 0x14, .. "abcdefghijklmnopqrst"u8],
            [0x13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            [0x14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE],
        ]);

        var d = (PlistDict)Parse(doc);

        Assert.Equal(new PlistBoolean(false), d["f"]);
        Assert.Equal(new PlistBoolean(true), d["t"]);
        Assert.Equal(new PlistString("h😀"), d["u16"]);
        Assert.Equal(new PlistInteger(5), d["i16"]);
        Assert.Equal(new PlistReal(1.5), d["r4"]);
        PlistCanon.Equal(new PlistArray([new PlistBoolean(false), new PlistBoolean(true)]), d["set"]!);
        Assert.Equal(new PlistString("é!"), d["utf8"]);
        Assert.Equal(new PlistString("abcdefghijklmnopqrst"), d["long"]);
        Assert.Equal(new PlistInteger(-1), d["big"]);
        Assert.Equal(new PlistInteger(-2), d["neg"]);
    }

    [Fact]
    public void Small_integers_are_unsigned_and_8_byte_ones_signed()
    {
        Assert.Equal(new PlistInteger(255), Parse(Build([[0x10, 0xFF]])));
        Assert.Equal(new PlistInteger(65535), Parse(Build([[0x11, 0xFF, 0xFF]])));
        Assert.Equal(new PlistInteger(uint.MaxValue), Parse(Build([[0x12, 0xFF, 0xFF, 0xFF, 0xFF]])));
        Assert.Equal(new PlistInteger(long.MinValue), Parse(Build([[0x13, 0x80, 0, 0, 0, 0, 0, 0, 0]])));
    }

    [Fact]
    public void A_repeated_key_keeps_both_entries_in_order_and_the_last_wins()
    {
        var d = (PlistDict)Parse(Build([[0xD2, 1, 1, 2, 3], Ascii("k"), [0x10, 1], [0x10, 2]]));

        Assert.Equal(2, d.Entries.Length);
        Assert.Equal(new PlistInteger(1), d.Entries[0].Value);
        Assert.Equal(new PlistInteger(2), d["k"]);
    }

    [Fact]
    public void Wide_offsets_and_references_are_read()
    {
        var d = (PlistDict)Parse(Build([[0xD1, 0, 1, 0, 2], Ascii("k"), [0x10, 7]], offsetSize: 8, refSize: 2));

        Assert.Equal(new PlistInteger(7), d["k"]);
    }

    [Fact]
    public void Nesting_as_deep_as_the_XML_reader_allows_is_read_and_one_level_more_is_refused()
    {
        static byte[] Nested(int levels) => Build([.. Enumerable.Range(0, levels - 1).Select(i => new byte[] { 0xA1, (byte)(i + 1) }), Ascii("leaf")], offsetSize: 2);
        static string NestedXml(int levels) => "<plist>" + string.Concat(Enumerable.Repeat("<array>", levels - 1)) + "<string>leaf</string>" + string.Concat(Enumerable.Repeat("</array>", levels - 1)) + "</plist>";

        PlistCanon.Equal(PlistReader.ParseXml(NestedXml(PlistReader.MaxDepth), "/x"), Parse(Nested(PlistReader.MaxDepth)));
        Expect.Error(HermesErrorIds.PlistMalformed, () => PlistReader.ParseXml(NestedXml(PlistReader.MaxDepth + 1), "/x"));
        Expect.Error(HermesErrorIds.PlistMalformed, () => Parse(Nested(PlistReader.MaxDepth + 1)));
        Expect.Error(HermesErrorIds.PlistMalformed, () => Parse(Nested(200)));
    }

    // ---- hostile documents ---------------------------------------------------------------------------------------

    private static byte[] Huge(byte marker, byte countMarker, params byte[] count) => Build([[marker, countMarker, .. count]]);

    public static TheoryData<string> HostileCases => new(HostileDocuments.Keys);

    private static readonly Dictionary<string, byte[]> HostileDocuments = new()
    {
        ["an array that contains itself"] = Build([[0xA1, 0]]),
        ["two arrays that contain each other"] = Build([[0xA1, 1], [0xA1, 0]]),
        ["a dictionary that contains itself"] = Build([[0xD1, 1, 0], Ascii("k")]),
        ["a dictionary whose key is itself"] = Build([[0xD1, 0, 1], Ascii("k")]),
        ["a dictionary with an integer key"] = Build([[0xD1, 1, 1], [0x10, 1]]),
        ["a dictionary with an array key"] = Build([[0xD1, 1, 1], [0xA0]]),
        ["an array of 2^63-1 elements"] = Huge(0xAF, 0x13, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
        ["an array of -1 elements"] = Huge(0xAF, 0x13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
        ["a dictionary of 2^32-1 entries"] = Huge(0xDF, 0x12, 0xFF, 0xFF, 0xFF, 0xFF),
        ["data of 2^31 bytes"] = Huge(0x4F, 0x12, 0x80, 0x00, 0x00, 0x00),
        ["an ASCII string of 65535 bytes"] = Huge(0x5F, 0x11, 0xFF, 0xFF),
        ["a UTF-16 string of 2^62 characters"] = Huge(0x6F, 0x13, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
        ["a count given by a 16-byte integer"] = Huge(0x5F, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
        ["a count given by a string"] = Huge(0x5F, 0x51, 0x41),
        ["a count marker past the objects"] = Build([[0x5F]]),
        ["an array referring past the objects"] = Build([[0xA1, 5]]),
        ["an array whose references run into the offset table"] = Build([[0xA3, 0]]),
        ["an offset pointing past the file"] = Build([[0x09]], tweak: b => b[9] = 0xFF),
        ["an offset pointing into the header"] = Build([[0x09]], tweak: b => b[9] = 0x00),
        ["an offset pointing into the offset table"] = Build([[0x09]], tweak: b => b[9] = 9),
        ["an 8-byte offset of 2^64-1"] = Build([[0x09]], offsetSize: 8, tweak: b => b.AsSpan(9, 8).Fill(0xFF)),
        ["a top object beyond the objects"] = Build([[0x09]], top: 1),
        ["a top object of 2^64-1"] = Build([[0x09]], top: -1),
        ["2^63 objects"] = Build([[0x09]], objectCount: 1UL << 63),
        ["no objects"] = Build([[0x09]], objectCount: 0),
        ["more objects than the offset table holds"] = Build([[0x09]], objectCount: 2),
        ["an offset table past the file"] = Build([[0x09]], offsetTable: 1UL << 40),
        ["an offset table of 2^64-1"] = Build([[0x09]], offsetTable: ulong.MaxValue),
        ["an offset table inside the header"] = Build([[0x09]], offsetTable: 3),
        ["an offset table at the trailer"] = Build([[0x09]], offsetTable: 10),
        ["0-byte offsets"] = Build([[0x09]], offsetSize: 0),
        ["9-byte offsets"] = Build([[0x09]], offsetSize: 9),
        ["0-byte references"] = Build([[0xA0]], refSize: 0),
        ["9-byte references"] = Build([[0xA0]], refSize: 9),
        ["null"] = Build([[0x00]]),
        ["fill"] = Build([[0x0F]]),
        ["an unknown 0x0 marker"] = Build([[0x0C]]),
        ["a UID"] = Build([[0x80, 0x01]]),
        ["an ordered set"] = Build([[0xB0]]),
        ["marker 0x9"] = Build([[0x90]]),
        ["marker 0xE"] = Build([[0xE0]]),
        ["marker 0xF"] = Build([[0xF0]]),
        ["a 32-byte integer"] = Build([[0x15, .. new byte[32]]]),
        ["a 2^15-byte integer"] = Build([[0x1F]]),
        ["an 8-byte integer cut short"] = Build([[0x13, 0x01]]),
        ["a 2-byte real"] = Build([[0x21, 0, 0]]),
        ["a 16-byte real"] = Build([[0x24, .. new byte[16]]]),
        ["a 4-byte date"] = Build([[0x32, 0, 0, 0, 0]]),
        ["a NaN date"] = Build([[0x33, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0]]),
        ["an infinite date"] = Build([[0x33, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0]]),
        ["a date in year 10000"] = Build([[0x33, 0x43, 0x00, 0, 0, 0, 0, 0, 0]]),
        ["a date 1e300 s before 2001"] = Build([[0x33, 0xFE, 0x37, 0xE4, 0x3C, 0x88, 0x00, 0x75, 0x9C]]),
        ["an ASCII string with a byte above 0x7F"] = Build([[0x52, 0x41, 0xE9]]),
        ["a UTF-16 string with a lone high surrogate"] = Build([[0x61, 0xD8, 0x3D]]),
        ["a UTF-16 string with a lone low surrogate"] = Build([[0x62, 0xDE, 0x00, 0x00, 0x41]]),
        ["a UTF-8 string that is not UTF-8"] = Build([[0x72, 0xC3, 0x28]]),
        ["a UTF-8 string with an encoded surrogate"] = Build([[0x73, 0xED, 0xA0, 0x80]]),
        ["a dictionary key that is not valid UTF-16"] = Build([[0xD1, 1, 2], [0x61, 0xDC, 0x00], [0x09]]),
        ["a string cut short by the offset table"] = Build([[0x5A, 0x41]]),
        ["the version bplist01"] = Build([[0x09]], tweak: b => b[7] = (byte)'1'),
        ["a file of 40 bytes"] = [.. "bplist00"u8, .. new byte[32]],
        ["only the header"] = [.. "bplist00"u8],
        ["nothing"] = [],
        ["references shared exponentially"] = Build([.. Enumerable.Range(0, 40).Select(i => (byte[])[0xAF, 0x10, 16, .. Enumerable.Repeat((byte)(i + 1), 16)]), Ascii("x")], offsetSize: 2),
        ["a dictionary shared exponentially"] = Build([.. Enumerable.Range(0, 40).Select(i => new byte[] { 0xD2, 41, 42, (byte)(i + 1), (byte)(i + 1) }), Ascii("x"), Ascii("a"), Ascii("b")], top: 0),
    };

    [Theory]
    [MemberData(nameof(HostileCases))]
    public void Hostile_documents_are_malformed(string name)
    {
        var bytes = HostileDocuments[name];
        var clock = Stopwatch.StartNew();

        Expect.Error(HermesErrorIds.PlistMalformed, () => Parse(bytes));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{name} took {clock.Elapsed}");
    }

    /// <summary>Either a value — which the job reader and the writer then take without surprise — or PlistMalformed; nothing else, and quickly.</summary>
    private static void Survives(byte[] bytes, string what)
    {
        var clock = Stopwatch.StartNew();
        PlistValue value;
        try
        {
            value = Parse(bytes);
        }
        catch (HermesException e)
        {
            Assert.True(e.ErrorId == HermesErrorIds.PlistMalformed, $"{what}: {e.ErrorId}");
            return;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} escaped: {e}");
            return;
        }

        if (value is PlistDict dict)
        {
            LaunchdJobReader.FromDictionary(dict, "/fuzz");
        }

        try
        {
            PlistReader.ParseXml(PlistWriter.ToXml(value), "/fuzz");
        }
        catch (HermesException e)
        {
            Assert.True(e.ErrorId == HermesErrorIds.ValueNotRepresentable, $"{what}: writing it back gave {e.ErrorId}");
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{what} took {clock.Elapsed}");
    }

    public static TheoryData<string> BinaryFixtures => new("ai.hermes.gateway.binary.plist", "every-type.binary.plist", "shared-containers.binary.plist", "special-reals.binary.plist");

    [Theory]
    [MemberData(nameof(BinaryFixtures))]
    public void Every_truncation_of_a_valid_file_is_malformed_or_parses(string name)
    {
        var bytes = FixtureBytes(name);
        for (var length = 0; length < bytes.Length; length++)
        {
            Survives(bytes[..length], $"{name} cut to {length} bytes");
            Survives(bytes[(bytes.Length - length)..], $"{name} without its first {bytes.Length - length} bytes");
        }
    }

    [Theory]
    [MemberData(nameof(BinaryFixtures))]
    public void Every_single_byte_change_of_a_valid_file_is_malformed_or_parses(string name)
    {
        var bytes = FixtureBytes(name);
        for (var i = 0; i < bytes.Length; i++)
        {
            var original = bytes[i];
            foreach (var b in new[] { 0x00, 0xFF, original ^ 0x01, original ^ 0x80, original ^ 0x0F, original ^ 0xF0, original + 1, original - 1, 0x0F, 0x7F })
            {
                bytes[i] = (byte)b;
                Survives(bytes, $"{name} with byte {i} set to 0x{(byte)b:X2}");
            }

            bytes[i] = original;
        }
    }

    [Theory]
    [InlineData("ai.hermes.gateway.binary.plist", 1)]
    [InlineData("every-type.binary.plist", 2)]
    public void Thousands_of_random_mutations_are_malformed_or_parse(string name, int seed)
    {
        var random = new Random(seed);
        var original = FixtureBytes(name);
        for (var round = 0; round < 4000; round++)
        {
            var bytes = (byte[])original.Clone();
            var changes = random.Next(1, 6);
            for (var c = 0; c < changes; c++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            Survives(bytes, $"{name} mutation {round}");
        }
    }

    [Fact]
    public void Random_bytes_after_the_header_are_malformed_or_parse()
    {
        var random = new Random(3);
        for (var round = 0; round < 4000; round++)
        {
            var bytes = new byte[random.Next(8, 200)];
            random.NextBytes(bytes);
            "bplist00"u8.CopyTo(bytes);

            Survives(bytes, $"random document {round}");
        }
    }
}
