namespace HermesGateway.Core.Tests.Systemd;

/// <summary>
/// The unit reader (systemd.syntax(7), systemd.unit(5)). Rows marked "verify 252" were checked against the machine's
/// 'systemd-analyze verify' (systemd 252.38) on temporary files with ExecStart=/bin/true: the same warnings, fatal errors
/// and exit codes as noted.
/// </summary>
public sealed class UnitReaderTests
{
    private static IEnumerable<UnitDiagnostic> Warnings(SystemdUnit u) => u.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning);

    private static IEnumerable<UnitDiagnostic> Fatals(SystemdUnit u) => u.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Fatal);

    /// <summary>Settings compared by value: the command lists are immutable arrays, which records compare by reference.</summary>
    private static void AssertSameSettings(SystemdServiceSettings expected, SystemdServiceSettings actual)
    {
        static SystemdServiceSettings Bare(SystemdServiceSettings s) => s with { ExecStart = [], ExecStop = [], ExecStopPost = [], ExecReload = [] };

        Assert.Equal(Bare(expected), Bare(actual));
        Assert.Equal(expected.ExecStart.ToArray(), actual.ExecStart.ToArray());
        Assert.Equal(expected.ExecStop.ToArray(), actual.ExecStop.ToArray());
        Assert.Equal(expected.ExecStopPost.ToArray(), actual.ExecStopPost.ToArray());
        Assert.Equal(expected.ExecReload.ToArray(), actual.ExecReload.ToArray());
    }

    [Fact]
    public void Comments_with_hash_and_semicolon_and_blank_lines_are_ignored()
    {
        var unit = Units.Text("# a comment\n; another\n\n[Service]\n  # indented comment\nExecStart=/bin/true\n;Restart=always\n#Restart=always\nRestart=on-failure\n");

        Assert.Empty(unit.Diagnostics);
        Assert.Equal(RestartPolicy.OnFailure, unit.Settings.Restart);
    }

    [Fact]
    public void A_trailing_backslash_continues_the_line_and_comments_inside_are_skipped()
    {
        // verify 252: "SuccessExitStatus=TERM 75 \ / # c / 78" loads without a warning.
        var unit = Units.Text("[Service]\nExecStart=/bin/true \\\n  --flag\nSuccessExitStatus=TERM 75 \\\n# c\n  78\nRestart=always\n");

        Assert.Empty(unit.Diagnostics);
        Assert.Equal(ExitStatusSet.Of(75, 78).WithSignal(UnixSignal.SIGTERM), unit.Settings.SuccessExitStatus);
        Assert.Contains("--flag", Assert.Single(unit.Settings.ExecStart), StringComparison.Ordinal);
        Assert.Equal(RestartPolicy.Always, unit.Settings.Restart);
    }

    [Fact]
    public void A_continued_assignment_reports_the_line_it_started_on()
    {
        var unit = Units.Text("[Service]\nExecStart=/bin/true\nBogus=a \\\n b\n");

        Assert.Equal(3, Assert.Single(unit.Diagnostics).Line);
    }

    [Fact]
    public void Repeated_scalar_keys_keep_the_last_value()
    {
        var unit = Units.Service("Restart=always", "Restart=on-failure", "RestartSec=1", "RestartSec=7");

        Assert.Equal(RestartPolicy.OnFailure, unit.Settings.Restart);
        Assert.Equal(TimeSpan.FromSeconds(7), unit.Settings.RestartSec);
    }

    [Theory]
    [InlineData("SuccessExitStatus")]
    [InlineData("RestartForceExitStatus")]
    [InlineData("RestartPreventExitStatus")]
    public void Repeated_list_keys_accumulate_and_an_empty_assignment_resets_them(string key)
    {
        static ExitStatusSet Of(SystemdUnit u, string key) => key switch
        {
            "SuccessExitStatus" => u.Settings.SuccessExitStatus,
            "RestartForceExitStatus" => u.Settings.RestartForceExitStatus,
            _ => u.Settings.RestartPreventExitStatus,
        };

        Assert.Equal(ExitStatusSet.Of(1, 2, 3), Of(Units.Service($"{key}=1 2", $"{key}=3"), key));
        Assert.Equal(ExitStatusSet.Of(3), Of(Units.Service($"{key}=1 2", $"{key}=", $"{key}=3"), key));
        Assert.True(Of(Units.Service($"{key}=1 2", $"{key}="), key).IsEmpty);
    }

    [Fact]
    public void An_empty_ExecStart_resets_the_list_so_a_simple_service_has_one_command()
    {
        // verify 252: ExecStart=/bin/true, ExecStart=, ExecStart=/bin/true x → rc=0.
        var unit = Units.Text("[Service]\nExecStart=-/bin/true\nExecStart=\nExecStart=/bin/false\n");

        Assert.False(unit.LoadRefused);
        Assert.Equal("/bin/false", Assert.Single(unit.Settings.ExecStart));
        Assert.False(unit.Settings.ExecStartIgnoresFailure);
    }

    [Fact]
    public void Drop_ins_are_applied_after_the_unit_in_file_name_order()
    {
        using var dir = new TempDir();
        var path = dir.Write("gw.service", "[Unit]\nStartLimitBurst=9\n[Service]\nExecStart=/bin/true\nRestart=always\nRestartSec=5\nSuccessExitStatus=75\n");
        // Written in reverse order, so a reader that took directory order would get it wrong.
        dir.Write("gw.service.d/20-b.conf", "[Service]\nRestartSec=20\nSuccessExitStatus=\nSuccessExitStatus=78\n");
        dir.Write("gw.service.d/10-a.conf", "[Service]\nRestart=on-failure\nRestartSec=10\nSuccessExitStatus=76\n");
        dir.Write("gw.service.d/ignored.txt", "[Service]\nRestart=no\n");

        var unit = SystemdUnitReader.ReadFile(path);

        Assert.Equal(RestartPolicy.OnFailure, unit.Settings.Restart);
        Assert.Equal(TimeSpan.FromSeconds(20), unit.Settings.RestartSec);
        Assert.Equal(ExitStatusSet.Of(78), unit.Settings.SuccessExitStatus);
        Assert.Equal(9, unit.Settings.StartLimitBurst);
        Assert.Equal(["10-a.conf", "20-b.conf"], unit.DropIns.Select(Path.GetFileName));
    }

    [Fact]
    public void A_drop_in_can_make_the_unit_unloadable()
    {
        // verify 252: Restart=always in the unit plus Type=oneshot in a drop-in → "bad unit file setting", rc=1.
        using var dir = new TempDir();
        var path = dir.Write("gw.service", "[Service]\nExecStart=/bin/true\nRestart=always\n");
        dir.Write("gw.service.d/10.conf", "[Service]\nType=oneshot\n");

        Assert.True(SystemdUnitReader.ReadFile(path).LoadRefused);
    }

    [Fact]
    public void Empty_and_comment_only_drop_ins_are_accepted()
    {
        // verify 252: an empty drop-in and one holding only a comment load silently; a bad key in a third still warns.
        using var dir = new TempDir();
        var path = dir.Write("gw.service", "[Service]\nExecStart=/bin/true\nRestart=always\n");
        dir.Write("gw.service.d/05-empty.conf", string.Empty);
        dir.Write("gw.service.d/07-comment.conf", "# only a comment\n");
        dir.Write("gw.service.d/10-a.conf", "[Service]\nBogusKey=1\n");

        var unit = SystemdUnitReader.ReadFile(path);

        Assert.Equal(3, unit.DropIns.Length);
        var warning = Assert.Single(unit.Diagnostics);
        Assert.Equal("BogusKey", warning.Key);
        Assert.Equal(RestartPolicy.Always, unit.Settings.Restart);
    }

    [Fact]
    public void Drop_ins_in_an_extra_directory_win_over_same_named_ones_beside_the_unit()
    {
        using var dir = new TempDir();
        var path = dir.Write("unit/gw.service", "[Service]\nExecStart=/bin/true\n");
        dir.Write("unit/gw.service.d/10.conf", "[Service]\nRestart=always\n");
        dir.Write("etc/gw.service.d/10.conf", "[Service]\nRestart=on-abort\n");

        var unit = SystemdUnitReader.ReadFile(path, extraDropInDirectories: [Path.Combine(dir.Path, "etc")]);

        Assert.Equal(RestartPolicy.OnAbort, unit.Settings.Restart);
    }

    [Fact]
    public void Dash_prefix_and_type_drop_ins_apply_and_the_unit_specific_one_wins_a_name_clash()
    {
        // Checked on systemd 252 in sde2e: for a-b.service, 05-y.conf in service.d/, 10-x.conf in a-b.service.d/ and
        // 15-p.conf in a-.service.d/ all apply in that order (RestartSec=7s, Description from the prefix drop-in);
        // when the prefix drop-in is also named 10-x.conf, the unit-specific one masks it.
        using var dir = new TempDir();
        var path = dir.Write("u/a-b.service", "[Service]\nExecStart=/bin/sleep 100\n");
        dir.Write("u/service.d/05-y.conf", "[Service]\nRestart=on-abort\nRestartSec=9\n");
        dir.Write("u/a-b.service.d/10-x.conf", "[Service]\nRestartSec=3\n");
        dir.Write("u/a-.service.d/15-p.conf", "[Service]\nRestartSec=7\n");
        dir.Write("u/a-.service.d/10-x.conf", "[Service]\nRestart=always\n");

        var unit = SystemdUnitReader.ReadFile(path);

        Assert.Equal(["05-y.conf", "10-x.conf", "15-p.conf"], unit.DropIns.Select(Path.GetFileName));
        Assert.Contains("a-b.service.d", unit.DropIns[1], StringComparison.Ordinal);
        Assert.Equal(RestartPolicy.OnAbort, unit.Settings.Restart);
        Assert.Equal(TimeSpan.FromSeconds(7), unit.Settings.RestartSec);
    }

    [Theory]
    [InlineData("hermes-gateway-work.service", new[] { "hermes-gateway-work.service.d", "hermes-gateway-.service.d", "hermes-.service.d", "service.d" })]
    [InlineData("gw.service", new[] { "gw.service.d", "service.d" })]
    [InlineData("a-.service", new[] { "a-.service.d", "service.d" })]
    public void Drop_in_directories_are_listed_most_specific_first(string unit, string[] expected) =>
        Assert.Equal(expected, SystemdUnitReader.DropInDirectoryNames(unit));

    [Fact]
    public void StartLimitIntervalSec_in_Unit_works()
    {
        var unit = Units.Text("[Unit]\nStartLimitIntervalSec=30\nStartLimitBurst=2\n[Service]\nExecStart=/bin/true\n");

        Assert.Empty(unit.Diagnostics);
        Assert.Equal(TimeSpan.FromSeconds(30), unit.Settings.StartLimitInterval);
        Assert.Equal(2, unit.Settings.StartLimitBurst);
    }

    [Fact]
    public void StartLimitIntervalSec_in_Service_is_an_unknown_key_and_ignored()
    {
        // verify 252: "Unknown key 'StartLimitIntervalSec' in section [Service], ignoring." (rc=0).
        var unit = Units.Service("StartLimitIntervalSec=0");

        var w = Assert.Single(unit.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, w.Severity);
        Assert.Equal("StartLimitIntervalSec", w.Key);
        Assert.Equal(SystemdServiceSettings.DefaultStartLimitInterval, unit.Settings.StartLimitInterval);
        Assert.False(unit.Settings.StartLimitDisabled);
    }

    [Fact]
    public void The_old_names_StartLimitInterval_and_StartLimitBurst_work_in_Service()
    {
        var unit = Units.Service("StartLimitInterval=20", "StartLimitBurst=3");

        Assert.Empty(unit.Diagnostics);
        Assert.Equal(TimeSpan.FromSeconds(20), unit.Settings.StartLimitInterval);
        Assert.Equal(3, unit.Settings.StartLimitBurst);
    }

    [Theory]
    // verify 252 for each: a warning, the value stays at its default, exit code 0.
    [InlineData("Restart=sometimes")]
    [InlineData("RestartSec=abc")]
    [InlineData("RestartSec=-1")]
    [InlineData("RestartSec=99999999999999999999")]
    [InlineData("KillSignal=sigterm")]
    [InlineData("OOMPolicy=bogus")]
    [InlineData("RemainAfterExit=maybe")]
    [InlineData("StartLimitBurst=-1")]
    [InlineData("StartLimitBurst=x")]
    [InlineData("StartLimitInterval=y")]
    [InlineData("TimeoutStopSec=soon")]
    [InlineData("Type=notify-reload")]
    [InlineData("KillMode=gently")]
    [InlineData("SendSIGKILL=perhaps")]
    [InlineData("Bogus=1")]
    [InlineData("ExecStopPost=-bin/x")]
    [InlineData("ExecStop=-/bin/x \"unbalanced")]
    public void Unknown_keys_and_bad_values_warn_and_leave_the_setting_unchanged(string line)
    {
        var unit = Units.Service(line);
        var defaults = Units.Service().Settings;

        var w = Assert.Single(unit.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, w.Severity);
        Assert.Equal(line[..line.IndexOf('=', StringComparison.Ordinal)], w.Key);
        Assert.False(unit.LoadRefused);
        AssertSameSettings(defaults, unit.Settings);
    }

    [Theory]
    [InlineData("RestartSec=5", "RestartSec=abc")]
    [InlineData("Restart=on-failure", "Restart=sometimes")]
    [InlineData("KillSignal=SIGINT", "KillSignal=sigterm")]
    [InlineData("SuccessExitStatus=75", "SuccessExitStatus=300")]
    public void A_bad_value_keeps_the_value_set_before_it(string good, string bad)
    {
        AssertSameSettings(Units.Service(good).Settings, Units.Service(good, bad).Settings);
    }

    [Fact]
    public void Bad_words_in_an_exit_status_list_are_skipped_and_the_rest_is_kept()
    {
        // verify 252: "Failed to parse value, ignoring: 300" and "... bogus"; TEMPFAIL, CONFIG, SIGUSR1, TERM are accepted.
        var unit = Units.Service("SuccessExitStatus=TEMPFAIL CONFIG SIGUSR1 TERM 300 bogus");

        Assert.Equal(2, Warnings(unit).Count());
        Assert.Equal(ExitStatusSet.Of(75, 78).WithSignal(UnixSignal.SIGUSR1).WithSignal(UnixSignal.SIGTERM), unit.Settings.SuccessExitStatus);
    }

    [Theory]
    // verify 252 / systemd-analyze exit-status: TEMPFAIL=75, CONFIG=78, EXEC=203, SUCCESS=0, FAILURE=1.
    [InlineData("TEMPFAIL", 75)]
    [InlineData("CONFIG", 78)]
    [InlineData("EXEC", 203)]
    [InlineData("SUCCESS", 0)]
    [InlineData("FAILURE", 1)]
    [InlineData("USAGE", 64)]
    [InlineData("0", 0)]
    [InlineData("255", 255)]
    public void Exit_status_names_and_numbers_are_exit_codes(string word, int code)
    {
        Assert.Equal(ExitStatusSet.Of(code), Units.Service($"RestartPreventExitStatus={word}").Settings.RestartPreventExitStatus);
    }

    [Theory]
    // verify 252: "SIGKILL" and "KILL" are accepted, "sigkill" warns.
    [InlineData("SIGKILL", UnixSignal.SIGKILL)]
    [InlineData("KILL", UnixSignal.SIGKILL)]
    [InlineData("SIGUSR1", UnixSignal.SIGUSR1)]
    [InlineData("HUP", UnixSignal.SIGHUP)]
    public void Signal_names_in_lists_are_signals(string word, UnixSignal signal)
    {
        var set = Units.Service($"RestartForceExitStatus={word}").Settings.RestartForceExitStatus;

        Assert.Empty(set.Codes);
        Assert.Equal(signal, Assert.Single(set.Signals));
    }

    [Theory]
    [InlineData("sigkill")]
    [InlineData("256")]
    [InlineData("-1")]
    [InlineData("SIGNOPE")]
    [InlineData("tempfail")]
    public void Words_that_are_neither_warn(string word)
    {
        var unit = Units.Service($"RestartForceExitStatus={word}");

        Assert.Single(Warnings(unit));
        Assert.True(unit.Settings.RestartForceExitStatus.IsEmpty);
    }

    [Theory]
    [InlineData("KillSignal=SIGINT", UnixSignal.SIGINT)]
    [InlineData("KillSignal=INT", UnixSignal.SIGINT)]
    [InlineData("KillSignal=15", UnixSignal.SIGTERM)]
    [InlineData("KillSignal=10", UnixSignal.SIGUSR1)]
    public void KillSignal_takes_names_and_linux_numbers(string line, UnixSignal signal)
    {
        // verify 252: KillSignal=15 and KillSignal=TERM are accepted silently.
        var unit = Units.Service(line);

        Assert.Empty(unit.Diagnostics);
        Assert.Equal(signal, unit.Settings.KillSignal);
    }

    [Theory]
    // systemd-analyze timespan on 252: 5 → 5 s, 1min 30s → 90 s, 100ms → 0.1 s, 1.5 → 1.5 s, 1min30s → 90 s, 1m → 60 s, 1M → 2629800 s.
    [InlineData("5", 5.0)]
    [InlineData("5s", 5.0)]
    [InlineData("5 s", 5.0)]
    [InlineData("1min 30s", 90.0)]
    [InlineData("1min30s", 90.0)]
    [InlineData("100ms", 0.1)]
    [InlineData("1.5s", 1.5)]
    [InlineData("1.5", 1.5)]
    [InlineData("0", 0.0)]
    [InlineData("2h", 7200.0)]
    [InlineData("1m", 60.0)]
    [InlineData("1M", 2629800.0)]
    [InlineData("1y", 31557600.0)]
    [InlineData("500us", 0.0005)]
    public void Time_spans_follow_systemd_time_syntax(string text, double seconds)
    {
        Assert.True(SystemdValues.TryParseTimeSpan(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
        Assert.Equal(TimeSpan.FromSeconds(seconds), Units.Service($"RestartSec={text}").Settings.RestartSec);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("5 parsecs")]
    [InlineData("")]
    [InlineData("99999999999999999999")]
    public void Time_spans_systemd_rejects_are_rejected(string text)
    {
        Assert.False(SystemdValues.TryParseTimeSpan(text, out _));
    }

    [Fact]
    public void Infinity_is_a_time_span_without_a_value()
    {
        Assert.True(SystemdValues.TryParseTimeSpan("infinity", out var value));
        Assert.Null(value);
    }

    [Theory]
    [InlineData("TimeoutStopSec=0")]
    [InlineData("TimeoutStopSec=infinity")]
    [InlineData("TimeoutSec=0")]
    public void TimeoutStopSec_zero_or_infinity_means_no_stop_timeout(string line)
    {
        Assert.Null(Units.Service(line).Settings.TimeoutStopSec);
    }

    [Theory]
    [InlineData("TimeoutStopSec=1min 30s", 90)]
    [InlineData("TimeoutSec=70", 70)]
    [InlineData("", 90)]
    public void TimeoutStopSec_takes_a_time_span_and_defaults_to_90_s(string line, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Units.Service(line).Settings.TimeoutStopSec);
    }

    [Theory]
    // verify 252 for each: "... Refusing." / "bad unit file setting", rc=1.
    [InlineData(252, "[Service]\nType=oneshot\nExecStart=/bin/true\nRestart=always\n")]
    [InlineData(252, "[Service]\nType=oneshot\nExecStart=/bin/true\nRestart=on-success\n")]
    [InlineData(252, "[Service]\nType=oneshot\nExecStart=/bin/true\nRestartForceExitStatus=75\n")]
    [InlineData(252, "[Service]\nType=simple\n")]
    [InlineData(252, "[Service]\nExecStart=/bin/true\nExecStart=/bin/true\n")]
    [InlineData(252, "[Service]\nExecStart=bin/true\n")]
    [InlineData(252, "[Service]\nExecStart=/bin/true\nExecStop=bin/true\n")]
    [InlineData(252, "[Service]\nExecStart=/bin/true\nExecReload=bin/kill\n")]
    [InlineData(252, "[Service]\nExecStart=/bin/true \"unterminated\n")]
    [InlineData(256, "[Service]\nType=oneshot\nExecStart=/bin/true\nRestart=always\n")]
    [InlineData(256, "[Service]\nExecStart=/bin/true\nExecStart=/bin/true\n")]
    public void Settings_systemd_refuses_make_the_unit_unloadable(int version, string text)
    {
        var unit = Units.Text(text, version);

        Assert.True(unit.LoadRefused);
        Assert.NotEmpty(Fatals(unit));
    }

    [Theory]
    // verify 252: oneshot with two ExecStart= and Restart=on-failure loads (rc=0); a bare executable name is accepted.
    [InlineData(252, "[Service]\nType=oneshot\nExecStart=/bin/true\nExecStart=/bin/true\nRestart=on-failure\n")]
    [InlineData(252, "[Service]\nExecStart=true\n")]
    [InlineData(252, "[Service]\nType=oneshot\nExecStop=/bin/true\n")]
    [InlineData(256, "[Service]\nType=oneshot\nExecStart=/bin/true\nRestartForceExitStatus=75\n")]
    public void Settings_systemd_accepts_load(int version, string text)
    {
        Assert.False(Units.Text(text, version).LoadRefused);
    }

    [Fact]
    public void RestartSteps_is_unknown_on_252()
    {
        // verify 252: "Unknown key 'RestartSteps' in section [Service], ignoring." and the same for RestartMaxDelaySec.
        var unit = Units.ServiceOn(252, "RestartSteps=5", "RestartMaxDelaySec=60");

        Assert.Equal(["RestartSteps", "RestartMaxDelaySec"], Warnings(unit).Select(w => w.Key));
        Assert.Equal(0, unit.Settings.RestartSteps);
        Assert.Null(unit.Settings.RestartMaxDelaySec);
    }

    [Fact]
    public void RestartSteps_is_known_on_254()
    {
        var unit = Units.ServiceOn(254, "RestartSteps=5", "RestartMaxDelaySec=60");

        Assert.Empty(unit.Diagnostics);
        Assert.Equal(5, unit.Settings.RestartSteps);
        Assert.Equal(TimeSpan.FromSeconds(60), unit.Settings.RestartMaxDelaySec);
    }

    [Fact]
    public void RestartSteps_without_RestartMaxDelaySec_warns_and_is_ignored_on_254()
    {
        var unit = Units.ServiceOn(254, "RestartSteps=5");

        Assert.Single(Warnings(unit));
        Assert.Equal(0, unit.Settings.RestartSteps);
    }

    [Fact]
    public void RestartMaxDelaySec_below_RestartSec_lowers_RestartSec_on_254()
    {
        var unit = Units.ServiceOn(254, "RestartSec=30", "RestartSteps=3", "RestartMaxDelaySec=10");

        Assert.Single(Warnings(unit));
        Assert.Equal(TimeSpan.FromSeconds(10), unit.Settings.RestartSec);
    }

    [Fact]
    public void Assignments_outside_a_section_and_unknown_sections_warn()
    {
        // verify 252: "Assignment outside of section. Ignoring." and "Unknown section 'Foo'. Ignoring."
        var unit = Units.Text("Restart=always\n[Service]\nExecStart=/bin/true\n[Foo]\nA=b\n");

        Assert.Equal(2, Warnings(unit).Count());
        Assert.Equal(RestartPolicy.No, unit.Settings.Restart);
    }

    [Fact]
    public void X_sections_are_ignored_silently()
    {
        var unit = Units.Text("[Service]\nExecStart=/bin/true\n[X-Hermes]\nRestart=always\n");

        Assert.Empty(unit.Diagnostics);
        Assert.Equal(RestartPolicy.No, unit.Settings.Restart);
    }

    [Theory]
    [InlineData("# only comments\n; here\n")]
    [InlineData("Restart=always\n")]
    public void A_unit_with_no_section_header_is_malformed(string text)
    {
        Expect.Error(HermesErrorIds.UnitMalformed, () => Units.Text(text));
    }

    [Theory]
    [InlineData(239)]
    [InlineData(0)]
    [InlineData(1000)]
    public void Versions_outside_the_modelled_range_are_refused(int version)
    {
        Expect.Error(HermesErrorIds.SystemdVersionUnsupported, () => Units.ServiceOn(version));
    }

    [Fact]
    public void The_upstream_example_loads_without_complaint()
    {
        var unit = SystemdUnitReader.ReadFile(Path.Combine(AppContext.BaseDirectory, "examples", "hermes-gateway.service"));
        var s = unit.Settings;

        Assert.Empty(unit.Diagnostics);
        Assert.Equal(RestartPolicy.Always, s.Restart);
        Assert.Equal(TimeSpan.FromSeconds(5), s.RestartSec);
        Assert.True(s.StartLimitDisabled);
        Assert.Equal(ExitStatusSet.Of(75), s.RestartForceExitStatus);
        Assert.Equal(ExitStatusSet.Of(75), s.SuccessExitStatus);
        Assert.Equal(ExitStatusSet.Of(78), s.RestartPreventExitStatus);
        Assert.Equal(KillMode.Mixed, s.KillMode);
        Assert.Equal(TimeSpan.FromSeconds(70), s.TimeoutStopSec);
        Assert.Empty(s.ExecStop);
    }
}
