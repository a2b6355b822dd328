namespace HermesGateway.Core.Tests.Platform;

/// <summary>ServiceConfiguration.Read on files that are not units or plists: a stable error id, never another exception.</summary>
public sealed class BadInputTests
{
    private const string Unit = "[Service]\nExecStart=/bin/true\n";
    private const string Plist = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>Label</key><string>x</string><key>Program</key><string>/bin/true</string></dict></plist>\n";

    [Theory]
    [InlineData("gw.service")]
    [InlineData("ai.hermes.gateway.plist")]
    [InlineData("no-extension")]
    public void A_missing_file_is_PathNotFound(string name)
    {
        using var dir = new TempDir();

        Expect.Error(HermesErrorIds.PathNotFound, () => ServiceFormats.Read(Path.Combine(dir.Path, name)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void No_path_is_PathNotFound(string path)
    {
        Expect.Error(HermesErrorIds.PathNotFound, () => ServiceFormats.Read(path));
    }

    [Theory]
    [InlineData("gw.service")]
    [InlineData("x.plist")]
    [InlineData("plain")]
    public void A_directory_is_FileUnreadable(string name)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, name));

        Expect.Error(HermesErrorIds.FileUnreadable, () => ServiceFormats.Read(Path.Combine(dir.Path, name)));
    }

    [Theory]
    [InlineData("gw.service", "")]
    [InlineData("gw.service", "   \n\t\r\n  ")]
    [InlineData("gw.service", "\uFEFF")]
    [InlineData("x.plist", "")]
    [InlineData("x.plist", "\n\n")]
    public void An_empty_or_blank_file_is_FileEmpty(string name, string text)
    {
        using var dir = new TempDir();

        Expect.Error(HermesErrorIds.FileEmpty, () => ServiceFormats.Read(dir.Write(name, text)));
    }

    public static TheoryData<string, byte[]> NotText() => new()
    {
        { "gw.service", [0x5B, 0x53, 0x00, 0x5D] },
        { "gw.service", "[Service]\nExecStart=/bin/true\0\n"u8.ToArray() },
        { "gw.service", [0xC3, 0x28, 0x0A] },
        { "gw.service", [0xFF, 0xFE, 0x5B, 0x00] },
        { "gw.service", [0x80, 0x81, 0x82, 0x83, 0x84] },
        { "x.plist", [0x3C, 0x70, 0xE2, 0x28, 0xA1, 0x3E] },
        { "x.plist", "<plist>\0</plist>"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(NotText))]
    public void Binary_bytes_NUL_bytes_and_invalid_UTF8_are_FileNotText(string name, byte[] bytes)
    {
        using var dir = new TempDir();

        Expect.Error(HermesErrorIds.FileNotText, () => ServiceFormats.Read(dir.WriteBytes(name, bytes)));
    }

    [Theory]
    [InlineData("just some words\n")]
    [InlineData("Restart=always\nExecStart=/bin/true\n")]
    [InlineData("# a comment only\n")]
    public void Text_without_a_section_header_as_a_service_is_UnitMalformed(string text)
    {
        using var dir = new TempDir();

        Expect.Error(HermesErrorIds.UnitMalformed, () => ServiceFormats.Read(dir.Write("gw.service", text)));
    }

    [Theory]
    [InlineData("gw.conf", "just some words\n")]
    [InlineData("gw", "Restart=always\n")]
    [InlineData("gw.txt", "{ \"json\": true }\n")]
    public void An_unknown_extension_with_content_that_is_neither_is_PlatformUnknown(string name, string text)
    {
        using var dir = new TempDir();

        Expect.Error(HermesErrorIds.PlatformUnknown, () => ServiceFormats.Read(dir.Write(name, text)));
    }

    [Fact]
    public void An_empty_file_with_no_telling_extension_is_FileEmpty_not_PlatformUnknown()
    {
        using var dir = new TempDir();

        Expect.Error(HermesErrorIds.FileEmpty, () => ServiceFormats.Read(dir.Write("gw.conf", "  \n")));
    }

    [Fact]
    public void Binary_bytes_with_no_telling_extension_are_FileNotText_not_PlatformUnknown()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "gw.bin");
        File.WriteAllBytes(path, [0x7F, 0x45, 0x4C, 0x46, 0x00, 0x01, 0xFF]);

        Expect.Error(HermesErrorIds.FileNotText, () => ServiceFormats.Read(path));
    }

    [Theory]
    [InlineData("gw", Unit, ServicePlatform.Systemd)]
    [InlineData("gw.conf", "# header\n[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n", ServicePlatform.Systemd)]
    [InlineData("job", Plist, ServicePlatform.Launchd)]
    [InlineData("job.xml", "\uFEFF<plist version=\"1.0\"><dict><key>Label</key><string>x</string><key>Program</key><string>/bin/true</string></dict></plist>", ServicePlatform.Launchd)]
    public void Without_an_extension_the_platform_comes_from_the_content(string name, string text, ServicePlatform platform)
    {
        using var dir = new TempDir();

        Assert.Equal(platform, ServiceFormats.Read(dir.Write(name, text)).Platform);
    }

    [Fact]
    public void An_explicit_platform_overrides_the_extension()
    {
        using var dir = new TempDir();

        Assert.Equal(ServicePlatform.Systemd, ServiceFormats.Read(dir.Write("gw.plist", Unit), ServicePlatform.Systemd).Platform);
    }

    [Fact]
    public void A_broken_binary_plist_without_an_extension_is_read_as_launchd_and_refused()
    {
        using var dir = new TempDir();

        Expect.Error(HermesErrorIds.PlistMalformed, () => ServiceFormats.Read(dir.WriteBytes("job", [.. "bplist00"u8, 0xD0, 0x08])));
    }

    [Theory]
    [InlineData("gw.service")]
    [InlineData("x.plist")]
    [InlineData("plain")]
    public void A_file_over_1_MiB_is_FileTooLarge(string name)
    {
        using var dir = new TempDir();
        var text = "[Service]\nExecStart=/bin/true\n" + new string('#', 1024 * 1024) + "\n";

        Expect.Error(HermesErrorIds.FileTooLarge, () => ServiceFormats.Read(dir.Write(name, text)));
    }

    [Fact]
    public void A_file_of_exactly_1_MiB_is_read()
    {
        using var dir = new TempDir();
        var head = "[Service]\nExecStart=/bin/true\n#";
        var text = head + new string('x', 1024 * 1024 - head.Length);

        Assert.Equal(ServicePlatform.Systemd, ServiceFormats.Read(dir.Write("gw.service", text)).Platform);
    }

    [Theory]
    [InlineData("gw.service")]
    [InlineData("x.plist")]
    [InlineData("plain")]
    public void Random_bytes_raise_only_HermesException(string name)
    {
        using var dir = new TempDir();
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var bytes = new byte[random.Next(0, 512)];
            random.NextBytes(bytes);
            var path = dir.WriteBytes($"{seed}-{name}", bytes);

            AssertOnlyHermesErrors(path, seed);
        }
    }

    [Theory]
    [InlineData("gw.service")]
    [InlineData("plain")]
    public void Random_unit_like_text_raises_only_HermesException(string name)
    {
        string[] keys = ["Restart", "RestartSec", "SuccessExitStatus", "RestartForceExitStatus", "RestartPreventExitStatus", "ExecStart", "ExecStop", "Type",
            "TimeoutStopSec", "KillSignal", "StartLimitBurst", "StartLimitIntervalSec", "RemainAfterExit", "OOMPolicy", "RestartSteps", "RestartMaxDelaySec", "Bogus", string.Empty];
        string[] values = ["", "always", "on-failure", "oneshot", "0", "75", "SIGTERM", "infinity", "1min 30s", "-1", "1e400", "99999999999999999999", "\"", "\\x", "/bin/true",
            "-/bin/x \"a b\"", "bin/x", "TEMPFAIL SIGKILL 300", "=", "\\", "[Service]", "é", "5 parsecs", ".", "1.2.3"];
        string[] sections = ["[Unit]", "[Service]", "[Install]", "[X-Y]", "[", "[]", "[Foo]"];
        using var dir = new TempDir();
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var lines = new List<string> { sections[random.Next(sections.Length)] };
            for (var i = random.Next(1, 20); i > 0; i--)
            {
                lines.Add(random.Next(8) switch
                {
                    0 => sections[random.Next(sections.Length)],
                    1 => "# " + values[random.Next(values.Length)],
                    2 => keys[random.Next(keys.Length)] + "=" + values[random.Next(values.Length)] + " \\",
                    _ => keys[random.Next(keys.Length)] + "=" + values[random.Next(values.Length)],
                });
            }

            var path = dir.Write($"{seed}-{name}", string.Join('\n', lines));
            AssertOnlyHermesErrors(path, seed);
        }
    }

    [Fact]
    public void Random_plist_like_text_raises_only_HermesException()
    {
        string[] parts = ["<dict>", "</dict>", "<array>", "</array>", "<key>Label</key>", "<key>KeepAlive</key>", "<key>ThrottleInterval</key>", "<key>ProgramArguments</key>",
            "<string>x</string>", "<string>/bin/true</string>", "<integer>10</integer>", "<integer>ten</integer>", "<true/>", "<false/>", "<real>1.5</real>", "<data>AA==</data>",
            "<date>2020-01-01T00:00:00Z</date>", "&", "text", "<![CDATA[x]]>", "<!-- c -->", "<key>", "</key>", "<integer>99999999999999999999</integer>"];
        using var dir = new TempDir();
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var body = string.Concat(Enumerable.Range(0, random.Next(0, 25)).Select(_ => parts[random.Next(parts.Length)]));
            var path = dir.Write($"{seed}.plist", "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>" + body + "</dict></plist>");
            AssertOnlyHermesErrors(path, seed);
        }
    }

    private static void AssertOnlyHermesErrors(string path, int seed)
    {
        try
        {
            var config = ServiceFormats.Read(path);
            Assert.NotNull(config.Name);
            if (!config.LoadRefused)
            {
                // A configuration that loads must also evaluate without surprises.
                Assert.NotEmpty(ExitPolicyEvaluator.Evaluate(config));
            }
        }
        catch (HermesException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"seed {seed}: {path} raised {e.GetType().Name}: {e.Message}");
        }
    }
}
