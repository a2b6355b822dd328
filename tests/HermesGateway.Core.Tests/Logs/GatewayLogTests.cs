namespace HermesGateway.Core.Tests.Logs;

/// <summary>Get-HermesGatewayLog's engine: journalctl's JSON lines, its arguments and failures, launchd's log files, and streaming.</summary>
public sealed class GatewayLogTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private static ServiceEnvironment Environment(uint uid = 0, string user = "root") => new()
    {
        Home = "/nonexistent-home",
        Uid = uid,
        UserName = user,
        DbusSessionBusAddress = "unix:path=/run/user/0/bus",
    };

    [Fact]
    public void A_json_line_gives_time_pid_level_and_message()
    {
        var r = Journal.Parse("""{"__REALTIME_TIMESTAMP":"1796306081825403","_PID":"4121","PRIORITY":"3","MESSAGE":"gateway: draining","_SYSTEMD_UNIT":"x.service"}""")!;

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1796306081825).AddTicks(4030), r.Time);
        Assert.Equal((4121, 3, "gateway: draining"), (r.Pid, r.Priority, r.Message));
    }

    [Fact]
    public void A_message_that_is_not_utf8_comes_as_bytes_and_is_decoded_with_replacement_characters()
    {
        // journalctl -o json prints a MESSAGE that is not valid UTF-8 as an array of its bytes: "bad\xffbytes".
        var r = Journal.Parse("""{"__REALTIME_TIMESTAMP":"1","MESSAGE":[98,97,100,255,98,121,116,101,115],"PRIORITY":"6"}""")!;

        Assert.Equal("bad\uFFFDbytes", r.Message);
        Assert.Equal(GatewayLogLevel.Information, (GatewayLogLevel)r.Priority!.Value);
    }

    [Fact]
    public void Missing_or_odd_fields_are_null_and_a_field_set_twice_keeps_its_last_value()
    {
        var bare = Journal.Parse("""{"MESSAGE":null}""")!;
        Assert.Equal((null, null, null, string.Empty), (bare.Time, bare.Pid, bare.Priority, bare.Message));

        var odd = Journal.Parse("""{"__REALTIME_TIMESTAMP":"soon","_PID":"-4","PRIORITY":"9","MESSAGE":["first","second"]}""")!;
        Assert.Equal((null, null, null, "second"), (odd.Time, odd.Pid, odd.Priority, odd.Message));

        Assert.Null(Journal.Parse("-- No entries --"));
        Assert.Null(Journal.Parse("{not json"));
        Assert.Null(Journal.Parse(string.Empty));
    }

    [Fact]
    public void The_arguments_select_a_system_unit_the_callers_user_unit_or_another_accounts_by_uid()
    {
        var since = DateTimeOffset.FromUnixTimeSeconds(1796306000);
        Assert.Equal(["--no-pager", "-o", "json", "--output-fields=__REALTIME_TIMESTAMP,_PID,PRIORITY,MESSAGE", "-u", "gw.service", "-n", "5", "--since", "@1796306000", "-f"],
            Journal.Arguments("gw.service", user: false, uid: null, tail: 5, since: since, follow: true));
        Assert.Equal(["--no-pager", "-o", "json", "--output-fields=__REALTIME_TIMESTAMP,_PID,PRIORITY,MESSAGE", "--user-unit", "gw.service"],
            Journal.Arguments("gw.service", user: true, uid: null, tail: null, since: null, follow: false));
        Assert.Equal(["--no-pager", "-o", "json", "--output-fields=__REALTIME_TIMESTAMP,_PID,PRIORITY,MESSAGE", "_SYSTEMD_USER_UNIT=gw.service", "_UID=1000"],
            Journal.Arguments("gw.service", user: true, uid: 1000, tail: null, since: null, follow: false));
    }

    [Fact]
    public void The_journal_of_a_unit_becomes_entries_tagged_with_the_service()
    {
        var runner = new RecordingRunner().On((f, _) => f == "journalctl", stdout:
            "{\"__REALTIME_TIMESTAMP\":\"1000000\",\"_PID\":\"7\",\"PRIORITY\":\"4\",\"MESSAGE\":\"slow\"}\n{\"__REALTIME_TIMESTAMP\":\"2000000\",\"_PID\":\"1\",\"PRIORITY\":\"6\",\"MESSAGE\":\"gw.service: Deactivated successfully.\"}\n");
        var service = new ServiceIdentity("gw", ServicePlatform.Systemd, ServiceScope.System, "/etc/systemd/system/gw.service");

        var entries = new GatewayLog(runner, Environment()).Read(service, new GatewayLogRequest(Tail: 2), CancellationToken.None).ToList();

        Assert.Equal("journalctl --no-pager -o json --output-fields=__REALTIME_TIMESTAMP,_PID,PRIORITY,MESSAGE -u gw.service -n 2", Assert.Single(runner.Calls));
        Assert.Equal(
            [new HermesGatewayLogEntry(DateTimeOffset.FromUnixTimeSeconds(1), "gw", 7, GatewayLogLevel.Warning, "slow"),
             new HermesGatewayLogEntry(DateTimeOffset.FromUnixTimeSeconds(2), "gw", 1, GatewayLogLevel.Information, "gw.service: Deactivated successfully.")],
            entries);
    }

    [Fact]
    public void Root_reading_another_accounts_user_unit_matches_that_accounts_uid()
    {
        var runner = new RecordingRunner().OnArgs("id -u -- alice", stdout: "1001\n");
        var service = new ServiceIdentity("gw", ServicePlatform.Systemd, ServiceScope.User, "/home/alice/.config/systemd/user/gw.service") { Owner = "alice" };

        _ = new GatewayLog(runner, Environment()).Read(service, new GatewayLogRequest(), CancellationToken.None).ToList();

        Assert.Contains(runner.Calls, c => c.StartsWith("journalctl ", StringComparison.Ordinal) && c.EndsWith(" _SYSTEMD_USER_UNIT=gw.service _UID=1001", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(127, "journalctl: No such file or directory", HermesErrorIds.JournalUnavailable)]
    [InlineData(1, "Hint: You are currently not seeing messages from other users and the system.\nNo journal files were opened due to insufficient permissions.", HermesErrorIds.PermissionDenied)]
    [InlineData(1, "Failed to add match '_UID=x': Invalid argument", HermesErrorIds.JournalUnavailable)]
    public void A_failing_journalctl_is_an_error_with_a_stable_id(int exitCode, string stderr, string errorId)
    {
        var runner = new RecordingRunner().On((f, _) => f == "journalctl", exitCode: exitCode, stderr: stderr);
        var service = new ServiceIdentity("gw", ServicePlatform.Systemd, ServiceScope.System, "/x/gw.service");

        Expect.Error(errorId, () => new GatewayLog(runner, Environment()).Read(service, new GatewayLogRequest(), CancellationToken.None).ToList());
    }

    [Fact]
    public void A_negative_tail_or_following_several_services_is_refused_before_anything_runs()
    {
        Expect.Error(HermesErrorIds.OptionInvalid, () => GatewayLog.Check(new GatewayLogRequest(Tail: -1), 1));
        Expect.Error(HermesErrorIds.OptionInvalid, () => GatewayLog.Check(new GatewayLogRequest(Follow: true), 2));
        GatewayLog.Check(new GatewayLogRequest(Follow: true), 1);
    }

    [Fact]
    public void Following_streams_lines_as_they_come_and_cancelling_kills_the_child_without_a_hang()
    {
        var pidFile = Path.Combine(dir.Path, "child.pid");
        using var cancel = new CancellationTokenSource();
        var seen = new List<string>();
        var watch = Stopwatch.StartNew();
        var e = Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var line in SystemProcessRunner.Instance.StreamLines("/bin/sh", ["-c", $"echo $$ > {pidFile}; echo one; sleep 0.3; echo two; exec sleep 60"], _ => { }, cancel.Token))
            {
                seen.Add(line);
                if (line == "two")
                {
                    // The second line arrived while the child still runs: it was streamed, not collected at exit.
                    cancel.Cancel();
                }
            }
        });

        Assert.Equal(["one", "two"], seen);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), $"PID {pid} still runs");
        Assert.NotNull(e);
    }

    [Fact]
    public void A_streamed_program_that_ends_reports_its_exit_code_and_error_output()
    {
        ProcessResult? exited = null;
        var lines = SystemProcessRunner.Instance.StreamLines("/bin/sh", ["-c", "echo out; echo oops >&2; exit 3"], r => exited = r).ToList();

        Assert.Equal(["out"], lines);
        Assert.Equal((3, "oops"), (exited!.ExitCode, exited.StandardError.Trim()));
    }

    [Fact]
    public void A_launchd_jobs_log_files_are_read_tail_per_file_stdout_as_information_stderr_unknown()
    {
        var (service, stdout, stderr) = LaunchdJob();
        File.WriteAllText(stdout, "one\ntwo\nthree\n");
        File.WriteAllBytes(stderr, [.. "warn\n"u8, (byte)'b', 0xff, (byte)'\n', .. "partial"u8]);

        var entries = new GatewayLog(new RecordingRunner(), Environment()).Read(service, new GatewayLogRequest(Tail: 2), CancellationToken.None).ToList();

        Assert.Equal(
            [new HermesGatewayLogEntry(null, "ai.hermes.gateway", null, GatewayLogLevel.Information, "two") { Stream = "stdout" },
             new HermesGatewayLogEntry(null, "ai.hermes.gateway", null, GatewayLogLevel.Information, "three") { Stream = "stdout" },
             new HermesGatewayLogEntry(null, "ai.hermes.gateway", null, null, "b\uFFFD") { Stream = "stderr" },
             new HermesGatewayLogEntry(null, "ai.hermes.gateway", null, null, "partial") { Stream = "stderr" }],
            entries);

        File.SetLastWriteTimeUtc(stdout, DateTime.UtcNow.AddHours(-2));
        var since = new GatewayLog(new RecordingRunner(), Environment()).Read(service, new GatewayLogRequest(Since: DateTimeOffset.UtcNow.AddHours(-1)), CancellationToken.None).ToList();
        Assert.All(since, e => Assert.Equal("stderr", e.Stream));
    }

    [Fact]
    public void A_launchd_log_file_that_is_a_link_is_not_followed()
    {
        var (service, stdout, stderr) = LaunchdJob();
        var secret = dir.Write("secret.txt", "do not show\n");
        File.CreateSymbolicLink(stdout, secret);
        File.WriteAllText(stderr, "real\n");

        var entries = new GatewayLog(new RecordingRunner(), Environment()).Read(service, new GatewayLogRequest(), CancellationToken.None).ToList();

        Assert.Equal(["real"], entries.Select(e => e.Message));
    }

    [Fact]
    public void Following_a_launchd_log_file_gives_the_lines_appended_later_until_cancelled()
    {
        var (service, stdout, _) = LaunchdJob();
        File.WriteAllText(stdout, "old\n");
        using var cancel = new CancellationTokenSource();
        var seen = new List<string>();
        var log = new GatewayLog(new RecordingRunner(), Environment()) { PollInterval = TimeSpan.FromMilliseconds(50) };

        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var e in log.Read(service, new GatewayLogRequest(Follow: true), cancel.Token))
            {
                seen.Add(e.Message);
                if (e.Message == "old")
                {
                    File.AppendAllText(stdout, "new 1\nnew");
                }
                else if (e.Message == "new 1")
                {
                    File.AppendAllText(stdout, " 2\n");
                }
                else
                {
                    cancel.Cancel();
                }
            }
        });

        Assert.Equal(["old", "new 1", "new 2"], seen);
    }

    private (ServiceIdentity Service, string Stdout, string Stderr) LaunchdJob()
    {
        var stdout = Path.Combine(dir.Path, "logs", "gateway.log");
        var stderr = Path.Combine(dir.Path, "logs", "gateway.error.log");
        Directory.CreateDirectory(Path.GetDirectoryName(stdout)!);
        var d = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Launchd,
            Scope = ServiceScope.Agent,
            Executable = "/usr/local/bin/hermes",
            HermesHome = Path.Combine(dir.Path, ".hermes"),
            StandardOutPath = stdout,
            StandardErrorPath = stderr,
        });
        var plist = dir.Write(d.FileName, ServiceFiles.Render(d));
        return (new ServiceIdentity(d.Name, ServicePlatform.Launchd, ServiceScope.Agent, plist), stdout, stderr);
    }
}
