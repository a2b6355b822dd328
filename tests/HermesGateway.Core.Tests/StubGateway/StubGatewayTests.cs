using System.Text.Json.Nodes;

namespace HermesGateway.Core.Tests.StubGateway;

/// <summary>
/// The stub gateway (tests/stub-gateway/stub_gateway.py) keeps the Hermes gateway's process contract: its files,
/// its markers, its signals and its exit codes. Every test runs it as a real child process in a temporary
/// HERMES_HOME, signals only that child and kills whatever still runs when it ends.
/// </summary>
public sealed class StubGatewayTests : IDisposable
{
    private const string PlannedStop = ".gateway-planned-stop.json";
    private const string Takeover = ".gateway-takeover.json";

    private readonly StubHome home = new();

    public void Dispose() => this.home.Dispose();

    [StubGatewayFact]
    public void It_writes_gateway_pid_and_gateway_state_as_the_gateway_does()
    {
        var run = this.home.Start(arguments: ["gateway", "run", "--external-supervisor"]);
        var state = run.WaitForState(this.home, "running");
        var pidFile = this.home.ReadJson("gateway.pid");

        Assert.Equal(run.Pid, (int?)pidFile["pid"]);
        Assert.Equal("hermes-gateway", (string?)pidFile["kind"]);
        Assert.Equal(this.home.Dir, (string?)pidFile["hermes_home"]);
        var argv = pidFile["argv"]!.AsArray().Select(a => (string?)a).ToList();
        Assert.Equal([StubLocation.Script, "gateway", "run", "--external-supervisor"], argv);

        Assert.Equal(run.Pid, (int?)state["pid"]);
        Assert.Null((string?)state["exit_reason"]);
        Assert.False((bool?)state["restart_requested"]);
        Assert.Equal(TimeSpan.Zero, DateTimeOffset.Parse((string)state["updated_at"]!, CultureInfo.InvariantCulture).Offset);
        Assert.Equal(pidFile["start_time"]?.ToJsonString(), state["start_time"]?.ToJsonString());
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(StartTimeOf(run.Pid), (long?)pidFile["start_time"]);
        }
        else
        {
            Assert.Null(pidFile["start_time"]);
        }

        run.Signal(NativeMethods.SIGINT);
        Assert.Equal(0, run.WaitForExit());
    }

    [StubGatewayFact(linuxOnly: true)]
    public void Its_start_time_is_field_22_of_proc_pid_stat()
    {
        var run = this.home.Start();
        run.WaitForState(this.home, "starting");

        var expected = StartTimeOf(run.Pid);
        Assert.Equal(expected, (long?)this.home.ReadJson("gateway.pid")["start_time"]);
        Assert.Equal(expected, (long?)this.home.Events()[0]["start_time"]);
    }

    [StubGatewayFact]
    public void SIGINT_is_a_planned_stop_through_starting_running_draining_stopped_with_exit_0()
    {
        var run = this.home.Start();
        run.WaitForState(this.home, "running");

        run.Signal(NativeMethods.SIGINT);

        Assert.Equal(0, run.WaitForExit());
        Assert.Equal(["started", "state:starting", "state:running", "signal:SIGINT", "state:draining", "state:stopped", "exit:0"], Trace());
        var state = this.home.ReadJson("gateway_state.json");
        Assert.Equal("stopped", (string?)state["gateway_state"]);
        Assert.False((bool?)state["restart_requested"]);
        Assert.False(this.home.Exists("gateway.pid"));
    }

    [StubGatewayFact]
    public void SIGUSR1_drains_for_drain_seconds_then_exits_75()
    {
        this.home.WriteControl(new JsonObject { ["drain_seconds"] = 0.5 });
        var run = this.home.Start();
        run.WaitForState(this.home, "running");

        var clock = Stopwatch.StartNew();
        run.Signal(NativeMethods.SIGUSR1);
        var draining = run.WaitForState(this.home, "draining");
        var code = run.WaitForExit();
        clock.Stop();

        Assert.Equal(75, code);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.5), $"exited {clock.Elapsed.TotalSeconds:F3} s after SIGUSR1");
        Assert.True((bool?)draining["restart_requested"]);
        Assert.Equal(["started", "state:starting", "state:running", "signal:SIGUSR1", "state:draining", "state:stopped", "exit:75"], Trace());
        var events = this.home.Events();
        var drained = Time(events, "exit") - Time(events, "state", "draining");
        Assert.True(drained >= 0.5, $"drained {drained:F3} s");
        var state = this.home.ReadJson("gateway_state.json");
        Assert.Equal("stopped", (string?)state["gateway_state"]);
        Assert.True((bool?)state["restart_requested"]);
    }

    [StubGatewayFact]
    public void SIGTERM_without_a_planned_stop_marker_exits_1()
    {
        var run = this.home.Start();
        run.WaitForState(this.home, "running");

        run.Signal(NativeMethods.SIGTERM);

        Assert.Equal(1, run.WaitForExit());
        Assert.Contains("marker:planned-stop:False", Trace());
        Assert.Equal("exit:1", Trace()[^1]);
    }

    [StubGatewayFact]
    public void SIGTERM_with_a_matching_planned_stop_marker_exits_0_and_consumes_the_marker()
    {
        // The watcher is switched off so that the SIGTERM path (not the watcher) is the one that reads the marker.
        this.home.WriteControl(new JsonObject { ["marker_poll_seconds"] = 0 });
        var run = this.home.Start();
        run.WaitForState(this.home, "running");
        this.home.WriteMarker(PlannedStop, run.Pid, OwnStartTime(), DateTimeOffset.UtcNow, StubHome.PythonIsoFormat);

        run.Signal(NativeMethods.SIGTERM);

        Assert.Equal(0, run.WaitForExit());
        Assert.False(this.home.Exists(PlannedStop));
        Assert.Equal(["started", "state:starting", "state:running", "signal:SIGTERM", "marker:planned-stop:True", "state:draining", "state:stopped", "exit:0"], Trace());
    }

    [StubGatewayTheory]
    [InlineData("another pid", true)]
    [InlineData("older than 60 s", false)]
    [InlineData("not JSON", false)]
    [InlineData("no target_pid", false)]
    public void SIGTERM_with_a_marker_that_does_not_name_it_exits_1(string marker, bool markerStays)
    {
        var run = this.home.Start();
        run.WaitForState(this.home, "running");
        switch (marker)
        {
            case "another pid":
                this.home.WriteMarker(PlannedStop, int.MaxValue, null, DateTimeOffset.UtcNow);
                break;
            case "older than 60 s":
                this.home.WriteMarker(PlannedStop, run.Pid, OwnStartTime(), DateTimeOffset.UtcNow.AddSeconds(-61));
                break;
            case "not JSON":
                this.home.WriteRaw(PlannedStop, "{\"target_pid\": ");
                break;
            default:
                this.home.WriteRaw(PlannedStop, "{\"written_at\": \"" + DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture) + "\"}");
                break;
        }

        run.Signal(NativeMethods.SIGTERM);

        Assert.Equal(1, run.WaitForExit());
        Assert.Equal(markerStays, this.home.Exists(PlannedStop));
        Assert.DoesNotContain("marker:planned-stop:True", Trace());
    }

    [StubGatewayFact(linuxOnly: true)]
    public void SIGTERM_with_a_marker_for_its_pid_but_another_start_time_exits_1()
    {
        var run = this.home.Start();
        run.WaitForState(this.home, "running");
        this.home.WriteMarker(PlannedStop, run.Pid, StartTimeOf(run.Pid) - 1, DateTimeOffset.UtcNow);

        run.Signal(NativeMethods.SIGTERM);

        Assert.Equal(1, run.WaitForExit());
        Assert.True(this.home.Exists(PlannedStop));
    }

    [StubGatewayFact]
    public void A_marker_written_while_it_runs_stops_it_with_exit_0_within_a_second_without_any_signal()
    {
        var run = this.home.Start();
        run.WaitForState(this.home, "running");

        var clock = Stopwatch.StartNew();
        this.home.WriteMarker(PlannedStop, run.Pid, OwnStartTime(), DateTimeOffset.UtcNow);
        run.WaitForState(this.home, "draining", TimeSpan.FromSeconds(3));
        var noticed = clock.Elapsed;

        Assert.Equal(0, run.WaitForExit());
        // The watcher polls every 0.5 s; the bound leaves room for a loaded CI machine (without a watcher it never stops).
        Assert.True(noticed < TimeSpan.FromSeconds(3), $"the watcher took {noticed.TotalSeconds:F2} s");
        Assert.False(this.home.Exists(PlannedStop));
        var trace = Trace();
        Assert.DoesNotContain(trace, e => e.StartsWith("signal:", StringComparison.Ordinal));
        Assert.Equal(["marker:planned-stop:True", "state:draining", "state:stopped", "exit:0"], trace[^4..]);
        Assert.Equal("watcher", (string?)this.home.Events().Single(e => (string?)e["event"] == "marker")["by"]);
    }

    [StubGatewayFact]
    public void SIGTERM_with_a_takeover_marker_naming_it_exits_0()
    {
        var run = this.home.Start();
        run.WaitForState(this.home, "running");
        this.home.WriteMarker(Takeover, run.Pid, OwnStartTime(), DateTimeOffset.UtcNow, StubHome.PythonIsoFormat);

        run.Signal(NativeMethods.SIGTERM);

        Assert.Equal(0, run.WaitForExit());
        Assert.False(this.home.Exists(Takeover));
        Assert.Contains("marker:takeover:True", Trace());
    }

    /// <summary>
    /// .NET reports a death by signal N as exit code 128 + N, which a process could also produce with exit(139).
    /// So the crash is established twice over: the stub's log ends with its "crash" record and has no "exit" record
    /// (the stub writes one before every exit it makes itself), and a Python parent that waits for the stub
    /// reports waitpid's own verdict (returncode -11: WIFSIGNALED with SIGSEGV).
    /// </summary>
    [StubGatewayFact]
    public void Crash_mode_dies_of_SIGSEGV()
    {
        this.home.WriteControl(new JsonObject { ["mode"] = "crash", ["crash_after_seconds"] = 0.1 });

        var direct = this.home.Start();
        Assert.Equal(128 + NativeMethods.SIGSEGV, direct.WaitForExit());
        Assert.Equal(["started", "state:starting", "state:running", "crash"], Trace());
        Assert.True(this.home.Exists("gateway.pid"), "a crashed gateway leaves its PID file behind");

        File.Delete(this.home.PathOf("stub-events.jsonl"));
        var reaped = this.home.Start(reaped: true);
        Assert.Equal(0, reaped.WaitForExit());
        var verdict = JsonNode.Parse(reaped.Output.Split('\n').Single(l => l.StartsWith("reaper: ", StringComparison.Ordinal))["reaper: ".Length..])!;
        Assert.Equal(-NativeMethods.SIGSEGV, (int?)verdict["returncode"]);
        Assert.Equal(["started", "state:starting", "state:running", "crash"], Trace());
        Assert.Equal((int?)verdict["pid"], (int?)this.home.Events()[0]["pid"]);
    }

    [StubGatewayFact]
    public void SIGHUP_has_no_handler_so_it_kills_the_gateway()
    {
        var run = this.home.Start();
        run.WaitForState(this.home, "running");

        run.Signal(NativeMethods.SIGHUP);

        Assert.Equal(128 + NativeMethods.SIGHUP, run.WaitForExit());
        Assert.DoesNotContain(Trace(), e => e.StartsWith("exit:", StringComparison.Ordinal) || e.StartsWith("signal:", StringComparison.Ordinal));
    }

    [StubGatewayFact]
    public void Config_error_exits_78_with_state_startup_failed()
    {
        this.home.WriteControl(new JsonObject { ["mode"] = "config_error" });

        var run = this.home.Start();

        Assert.Equal(78, run.WaitForExit());
        Assert.Equal(["started", "state:starting", "state:startup_failed", "exit:78"], Trace());
        Assert.Equal("startup_failed", (string?)this.home.ReadJson("gateway_state.json")["gateway_state"]);
    }

    [StubGatewayFact]
    public void Fail_start_exits_1_with_state_startup_failed()
    {
        var run = this.home.Start(new Dictionary<string, string> { ["HERMES_STUB_MODE"] = "fail_start" });

        Assert.Equal(1, run.WaitForExit());
        Assert.Equal(["started", "state:starting", "state:startup_failed", "exit:1"], Trace());
        Assert.Equal("startup_failed", (string?)this.home.ReadJson("gateway_state.json")["gateway_state"]);
        Assert.False(this.home.Exists("gateway.pid"));
    }

    [StubGatewayFact]
    public void Fail_next_starts_fails_that_many_starts_then_runs_normally()
    {
        this.home.WriteControl(new JsonObject { ["fail_next_starts"] = 1, ["drain_seconds"] = 0.1 });

        var first = this.home.Start();
        Assert.Equal(1, first.WaitForExit());
        Assert.Equal("startup_failed", (string?)this.home.ReadJson("gateway_state.json")["gateway_state"]);
        var control = this.home.ReadJson("stub-control.json");
        Assert.Equal(0, (int?)control["fail_next_starts"]);
        Assert.Equal(0.1, (double?)control["drain_seconds"]);

        var second = this.home.Start();
        second.WaitForState(this.home, "running");
        second.Signal(NativeMethods.SIGUSR1);
        Assert.Equal(75, second.WaitForExit());
    }

    [StubGatewayFact]
    public void Hang_in_drain_is_ended_by_the_watchdog_with_exit_1()
    {
        this.home.WriteControl(new JsonObject { ["mode"] = "hang_in_drain", ["watchdog_seconds"] = 1 });
        var run = this.home.Start();
        run.WaitForState(this.home, "running");

        var clock = Stopwatch.StartNew();
        run.Signal(NativeMethods.SIGUSR1);
        var code = run.WaitForExit(TimeSpan.FromSeconds(5));

        Assert.Equal(1, code);
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.0, 6.0);
        Assert.Equal(["signal:SIGUSR1", "state:draining", "watchdog", "state:stopped", "exit:1"], Trace()[^5..]);
    }

    [StubGatewayFact]
    public void Exit_mode_exits_with_exit_code()
    {
        var run = this.home.Start(new Dictionary<string, string>
        {
            ["HERMES_STUB_MODE"] = "exit",
            ["HERMES_STUB_EXIT_CODE"] = "3",
            ["HERMES_STUB_EXIT_AFTER_SECONDS"] = "0.1",
        });

        Assert.Equal(3, run.WaitForExit());
        Assert.Equal("exit:3", Trace()[^1]);
    }

    [StubGatewayFact]
    public void The_control_file_wins_over_the_environment()
    {
        this.home.WriteControl(new JsonObject { ["mode"] = "config_error" });

        var run = this.home.Start(new Dictionary<string, string> { ["HERMES_STUB_MODE"] = "fail_start" });

        Assert.Equal(78, run.WaitForExit());
    }

    /// <summary>The command line of upstream's units and plists, run through the script's own #! line.</summary>
    [StubGatewayFact]
    public void It_takes_the_gateway_command_line_and_finds_the_profile_home_without_HERMES_HOME()
    {
        var run = this.home.Start(
            arguments: ["--profile", "work", "gateway", "run", "--external-supervisor", "--some-future-flag"],
            viaShebang: true,
            setHermesHome: false);
        var profileHome = Path.Combine(this.home.Root, ".hermes", "profiles", "work");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(profileHome, "gateway.pid")) && !run.Process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(10);
        }

        var pidFile = JsonNode.Parse(File.ReadAllText(Path.Combine(profileHome, "gateway.pid")))!;
        Assert.Equal(run.Pid, (int?)pidFile["pid"]);
        Assert.Equal(profileHome, (string?)pidFile["hermes_home"]);
        run.Signal(NativeMethods.SIGTERM);
        Assert.Equal(1, run.WaitForExit());
        var started = JsonNode.Parse(File.ReadLines(Path.Combine(profileHome, "stub-events.jsonl")).First())!;
        Assert.Equal("work", (string?)started["profile"]);
        Assert.True((bool?)started["supervised"]);
    }

    [StubGatewayTheory]
    [InlineData(null, null, false)]
    [InlineData("INVOCATION_ID", "5f1c0e2a9b7d4c3e8a6f1b2c3d4e5f60", true)]
    [InlineData("XPC_SERVICE_NAME", "ai.hermes.gateway", true)]
    [InlineData("XPC_SERVICE_NAME", "0", false)]
    [InlineData("HERMES_GATEWAY_EXTERNAL_SUPERVISOR", "on", true)]
    [InlineData("HERMES_GATEWAY_EXTERNAL_SUPERVISOR", "0", false)]
    public void It_knows_when_it_is_supervised(string? variable, string? value, bool supervised)
    {
        var environment = new Dictionary<string, string> { ["HERMES_STUB_START_SECONDS"] = "0" };
        if (variable is not null)
        {
            environment[variable] = value!;
        }

        var run = this.home.Start(environment);
        run.WaitForState(this.home, "running");
        run.Signal(NativeMethods.SIGINT);

        Assert.Equal(0, run.WaitForExit());
        Assert.Equal(supervised, (bool?)this.home.Events()[0]["supervised"]);
    }

    /// <summary>The events as short strings: "state:running", "signal:SIGTERM", "marker:planned-stop:True", "exit:0".</summary>
    private List<string> Trace() => this.home.Events().Select(e => (string?)e["event"] switch
    {
        "state" => "state:" + (string?)e["state"],
        "signal" => "signal:" + (string?)e["signal"],
        "marker" => $"marker:{(string?)e["kind"]}:{(bool?)e["matched"]}",
        "exit" => "exit:" + (int?)e["code"],
        var other => other ?? "?",
    }).ToList();

    private static double Time(IReadOnlyList<JsonObject> events, string name, string? state = null) =>
        (double)events.Single(e => (string?)e["event"] == name && (state is null || (string?)e["state"] == state))["time"]!;

    /// <summary>The start time a marker writer would put in target_start_time: field 22 on Linux, null elsewhere.</summary>
    private long? OwnStartTime() => OperatingSystem.IsLinux() ? (long?)this.home.ReadJson("gateway.pid")["start_time"] : null;

    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat, counted after the last ')' since the command name may hold any character.</summary>
    private static long StartTimeOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
    }
}
