namespace HermesGateway.Core.Tests.Launchd;

/// <summary>launchd.plist(5) XML as launchd would load it (docs/models.md §2.4).</summary>
public sealed class PlistReaderTests
{
    private const string Header = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n";

    private static string Plist(string dictBody) => Header + "<plist version=\"1.0\">\n<dict>\n" + dictBody + "\n</dict>\n</plist>\n";

    private const string Minimal = "<key>Label</key><string>ai.hermes.gateway</string><key>ProgramArguments</key><array><string>/usr/bin/hermes</string></array>";

    private static LaunchdJob Parse(string dictBody) => LaunchdJobReader.Parse(Plist(Minimal + dictBody), "/test/ai.hermes.gateway.plist");

    [Theory]
    [InlineData(Header)]
    [InlineData("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple Computer//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n")]
    [InlineData("")]
    public void The_Apple_DOCTYPE_old_or_new_or_none_is_accepted(string header)
    {
        var job = LaunchdJobReader.Parse(header + "<plist version=\"1.0\"><dict>" + Minimal + "</dict></plist>", "/test/x.plist");

        Assert.Empty(job.Diagnostics);
        Assert.Equal("ai.hermes.gateway", job.Settings.Label);
    }

    [Fact]
    public void The_upstream_example_reads_as_upstream_wrote_it()
    {
        var job = LaunchdJobReader.ReadFile(Path.Combine(AppContext.BaseDirectory, "examples", "ai.hermes.gateway.plist"));
        var s = job.Settings;

        Assert.Empty(job.Diagnostics);
        Assert.Equal("ai.hermes.gateway", s.Label);
        Assert.Equal("--external-supervisor", s.ProgramArguments[^1]);
        Assert.True(s.RunAtLoad);
        Assert.True(s.KeepAlive.Unconditional);
        Assert.Equal(30, s.ThrottleInterval);
        Assert.Equal(25, s.ExitTimeOut);
        Assert.False(s.WrapperRewritesExits);
    }

    [Theory]
    [InlineData("<key>KeepAlive</key><true/>", "true")]
    [InlineData("<key>KeepAlive</key><false/>", "false")]
    [InlineData("", "false")]
    [InlineData("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>", "{SuccessfulExit=false}")]
    [InlineData("<key>KeepAlive</key><dict><key>Crashed</key><true/><key>SuccessfulExit</key><true/></dict>", "{SuccessfulExit=true, Crashed=true}")]
    [InlineData("<key>KeepAlive</key><dict><key>PathState</key><dict><key>/tmp/a</key><true/></dict></dict>", "{PathState[/tmp/a]=true}")]
    [InlineData("<key>KeepAlive</key><dict><key>OtherJobEnabled</key><dict><key>com.x</key><false/></dict></dict>", "{OtherJobEnabled[com.x]=false}")]
    [InlineData("<key>KeepAlive</key><dict><key>AfterInitialDemand</key><true/></dict>", "{AfterInitialDemand=true}")]
    public void KeepAlive_is_read_as_a_boolean_or_a_dictionary(string keepAlive, string text)
    {
        var job = Parse(keepAlive);

        Assert.Empty(job.Diagnostics);
        Assert.Equal(text, job.Settings.KeepAlive.ToString());
    }

    [Theory]
    [InlineData("<key>KeepAlive</key><string>true</string>", "KeepAlive")]
    [InlineData("<key>KeepAlive</key><integer>1</integer>", "KeepAlive")]
    [InlineData("<key>RunAtLoad</key><string>yes</string>", "RunAtLoad")]
    [InlineData("<key>ThrottleInterval</key><string>10</string>", "ThrottleInterval")]
    [InlineData("<key>ThrottleInterval</key><integer>-5</integer>", "ThrottleInterval")]
    [InlineData("<key>ExitTimeOut</key><real>2.5</real>", "ExitTimeOut")]
    [InlineData("<key>LaunchOnlyOnce</key><integer>1</integer>", "LaunchOnlyOnce")]
    [InlineData("<key>KeepAlive</key><dict><key>NetworkState</key><true/></dict>", "KeepAlive")]
    [InlineData("<key>KeepAlive</key><dict><key>Crashd</key><true/></dict>", "KeepAlive")]
    [InlineData("<key>TimeOut</key><integer>30</integer>", "TimeOut")]
    public void Wrong_types_and_dead_keys_warn_and_are_ignored(string body, string key)
    {
        var job = Parse(body);
        var defaults = Parse(string.Empty).Settings;

        var w = Assert.Single(job.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, w.Severity);
        Assert.Equal(key, w.Key);
        Assert.False(job.LoadRefused);
        Assert.Equal(defaults.KeepAlive.ToString(), job.Settings.KeepAlive.ToString());
        Assert.Equal(defaults.ThrottleInterval, job.Settings.ThrottleInterval);
        Assert.Equal(defaults.RunAtLoad, job.Settings.RunAtLoad);
        Assert.Equal(defaults.ExitTimeOut, job.Settings.ExitTimeOut);
        Assert.Equal(defaults.LaunchOnlyOnce, job.Settings.LaunchOnlyOnce);
    }

    [Fact]
    public void ProgramArguments_with_values_that_are_not_strings_warns_and_keeps_the_strings()
    {
        var job = LaunchdJobReader.Parse(Plist("<key>Label</key><string>x</string><key>ProgramArguments</key><array><string>/bin/a</string><integer>3</integer><string>b</string></array>"), "/t/x.plist");

        Assert.Single(job.Diagnostics);
        Assert.Equal(["/bin/a", "b"], job.Settings.ProgramArguments.ToArray());
    }

    [Theory]
    [InlineData("<key>ProgramArguments</key><array><string>/bin/true</string></array>", "Label")]
    [InlineData("<key>Label</key><string></string><key>ProgramArguments</key><array><string>/bin/true</string></array>", "Label")]
    [InlineData("<key>Label</key><integer>3</integer><key>ProgramArguments</key><array><string>/bin/true</string></array>", "Label")]
    [InlineData("<key>Label</key><string>x</string>", "ProgramArguments")]
    [InlineData("<key>Label</key><string>x</string><key>ProgramArguments</key><array/>", "ProgramArguments")]
    [InlineData("<key>Label</key><string>x</string><key>Program</key><string>bin/hermes</string>", "Program")]
    public void A_job_without_a_label_or_a_program_is_refused(string body, string key)
    {
        var job = LaunchdJobReader.Parse(Plist(body), "/test/x.plist");

        Assert.True(job.LoadRefused);
        Assert.Contains(job.Diagnostics, d => d.Severity == DiagnosticSeverity.Fatal && d.Key == key);
    }

    [Fact]
    public void An_absolute_Program_alone_is_enough()
    {
        var job = LaunchdJobReader.Parse(Plist("<key>Label</key><string>x</string><key>Program</key><string>/usr/bin/hermes</string>"), "/test/x.plist");

        Assert.False(job.LoadRefused);
        Assert.Equal("/usr/bin/hermes", job.Settings.Program);
    }

    [Theory]
    // plistlib rejects each of these (docs/models.md §2.4).
    [InlineData("<key>ThrottleInterval</key><integer>ten</integer>")]
    [InlineData("<key>ThrottleInterval</key>")]
    [InlineData("<key>WorkingDirectory</key><string>/a & b</string>")]
    [InlineData("<key>A</key><key>B</key><string>c</string>")]
    [InlineData("<string>no key</string>")]
    [InlineData("<key>X</key><real>fast</real>")]
    [InlineData("<key>X</key><date>yesterday</date>")]
    [InlineData("<key>X</key><data>!!!not base64!!!</data>")]
    [InlineData("<key>X</key><thing/>")]
    [InlineData("<key>X</key><true>yes</true>")]
    [InlineData("<key>X</key><array>stray text</array>")]
    [InlineData("<key>X</key><string>unclosed")]
    public void Malformed_plists_are_refused_with_PlistMalformed(string body)
    {
        Expect.Error(HermesErrorIds.PlistMalformed, () => Parse(body));
    }

    [Theory]
    [InlineData("<plist version=\"1.0\"></plist>")]
    [InlineData("<plist version=\"1.0\"><dict/><dict/></plist>")]
    [InlineData("<notplist><dict/></notplist>")]
    [InlineData("<plist version=\"1.0\">stray<dict/></plist>")]
    [InlineData("just text")]
    [InlineData("<plist>")]
    public void Documents_that_are_not_one_property_list_are_malformed(string text)
    {
        Expect.Error(HermesErrorIds.PlistMalformed, () => LaunchdJobReader.Parse(text, "/test/x.plist"));
    }

    [Theory]
    [InlineData("<array><string>a</string></array>")]
    [InlineData("<string>ai.hermes.gateway</string>")]
    [InlineData("<integer>3</integer>")]
    [InlineData("<true/>")]
    public void A_top_level_value_that_is_not_a_dictionary_is_not_a_job(string value)
    {
        Expect.Error(HermesErrorIds.PlistNotAJob, () => LaunchdJobReader.Parse(Header + "<plist version=\"1.0\">" + value + "</plist>", "/test/x.plist"));
    }

    [Fact]
    public void A_truncated_binary_plist_is_refused_as_malformed()
    {
        using var dir = new TempDir();
        var bytes = "bplist00"u8.ToArray().Concat(new byte[] { 0xD1, 0x01, 0x02, 0x55, 0x4C, 0x61, 0x62, 0x65, 0x6C, 0x00, 0x08 }).ToArray();
        var path = dir.WriteBytes("ai.hermes.gateway.plist", bytes);

        Expect.Error(HermesErrorIds.PlistMalformed, () => LaunchdJobReader.ReadFile(path));
    }

    [Fact]
    public void A_repeated_key_takes_the_last_value()
    {
        var job = Parse("<key>ThrottleInterval</key><integer>5</integer><key>ThrottleInterval</key><integer>60</integer>");

        Assert.Equal(60, job.Settings.ThrottleInterval);
    }

    [Theory]
    [InlineData("<integer>0x1E</integer>", 30L)]
    [InlineData("<integer> 42 </integer>", 42L)]
    [InlineData("<integer>-7</integer>", -7L)]
    public void Integers_are_decimal_or_hex(string xml, long value)
    {
        var v = PlistReader.ParseXml("<plist version=\"1.0\">" + xml + "</plist>", "/t");

        Assert.Equal(value, Assert.IsType<PlistInteger>(v).Value);
    }

    [Fact]
    public void Escaped_entities_in_strings_are_decoded()
    {
        var job = Parse("<key>WorkingDirectory</key><string>/a &amp; b &lt;c&gt;</string>");

        Assert.Equal("/a & b <c>", Assert.IsType<PlistString>(job.Document["WorkingDirectory"]).Value);
    }

    [Fact]
    public void A_plist_that_is_not_XML_is_reported_once_with_its_line_and_position_in_one_sentence()
    {
        var e = Expect.Error(HermesErrorIds.PlistMalformed, () => PlistReader.ParseXml("not xml", "/test/x.plist"));

        Assert.DoesNotContain("..", e.Message, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(e.Message, "position 1"));
        Assert.EndsWith(".", e.Message, StringComparison.Ordinal);
    }
}
