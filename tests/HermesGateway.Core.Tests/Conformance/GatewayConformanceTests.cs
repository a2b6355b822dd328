using Xunit.Abstractions;

namespace HermesGateway.Core.Tests.Conformance;

/// <summary>
/// GatewayConformance against the real Hermes 0.16 (its measured contract, docs/hermes-0.16-contract.md) and against the
/// stub gateway (the documented contract), its refusals of bad input, and its rows when the assumed contract is wrong.
/// </summary>
public sealed class GatewayConformanceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("hermes-conformance-test-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [RealGatewayFact]
    public void The_real_gateway_0_16_ends_every_scenario_as_measured_and_the_learned_contract_says_so()
    {
        var report = GatewayConformance.Run(new ConformanceRequest
        {
            Executable = RealGatewayTests.Launcher,
            TempRoot = temp,
            Progress = p => output.WriteLine($"{p.Completed}/{p.Total} {p.Activity}"),
        });
        Log(report);

        // docs/hermes-0.16-contract.md, section 1: 2a, 2b, 3a, 3b, 3c, 3d, 3e, 4, 5a, 6b.
        var measured = new Dictionary<ConformanceScenario, int>
        {
            [ConformanceScenario.RestartSignal] = 75,
            [ConformanceScenario.SupervisedRestartSignal] = 0,
            [ConformanceScenario.StopSignal] = 1,
            [ConformanceScenario.PlannedStopSignal] = 0,
            [ConformanceScenario.PlannedStopMarkerAlone] = 0,
            [ConformanceScenario.StaleMarker] = 1,
            [ConformanceScenario.MalformedMarker] = 1,
            [ConformanceScenario.Interrupt] = 0,
            [ConformanceScenario.SecondInstance] = 1,
            [ConformanceScenario.ConfigError] = 1,
        };
        Assert.Equal(Enum.GetValues<ConformanceScenario>().Length, report.Rows.Count);
        foreach (var (scenario, code) in measured)
        {
            var row = report.Rows.Single(r => r.Scenario == scenario);
            Assert.True(ProcessEnding.Exit(code) == row.ObservedEnding, $"{scenario}: expected exit {code}, observed {row.Observed} ({row.Note})");
        }

        var startUp = report.Rows.Single(r => r.Scenario == ConformanceScenario.StartUp);
        Assert.Equal(ConformanceVerdict.Match, startUp.Verdict);
        Assert.InRange(startUp.Milliseconds!.Value, 1, 30_000);

        // gateway_state left behind: "stopped" for planned ends, "running" after an unplanned SIGTERM (on purpose, in 0.16).
        Assert.Equal("stopped", Row(report, ConformanceScenario.PlannedStopSignal).GatewayState);
        Assert.Equal("running", Row(report, ConformanceScenario.StopSignal).GatewayState);
        Assert.Contains("first", Row(report, ConformanceScenario.SecondInstance).Note, StringComparison.Ordinal);
        Assert.Contains("cannot tell", Row(report, ConformanceScenario.ConfigError).Note, StringComparison.Ordinal);

        // Every row is what Hermes016 says.
        Assert.All(report.Rows, r => Assert.Equal(ConformanceVerdict.Match, r.Verdict));
        Assert.True(report.Conforms);

        var learned = report.Contract;
        Assert.Equal("measured", learned.Name);
        Assert.StartsWith($"measured by Test-HermesGatewayConformance on {RealGatewayTests.Launcher} at ", learned.Source, StringComparison.Ordinal);
        Assert.Equal((75, 0, 0, 1), (learned.RestartExitCode, learned.SupervisedRestartExitCode!.Value, learned.PlannedStopExitCode, learned.UnexpectedExitCode));
        Assert.Equal(GatewayExitContract.Hermes016.ConfigErrorExitCode, learned.ConfigErrorExitCode);
        Assert.Contains(report.Notes, n => n.Contains("kept from the assumed contract", StringComparison.Ordinal));
        Assert.Equal("0.16.0", report.Version);
        Assert.True(report.Duration < TimeSpan.FromSeconds(60), $"the run took {report.Duration.TotalSeconds:0.0} s");
        AssertCleanedUp(report);
    }

    [StubGatewayFact(linuxOnly: true)]
    public void The_stub_gateway_keeps_the_documented_contract()
    {
        var report = GatewayConformance.Run(new ConformanceRequest
        {
            Executable = StubLauncher(),
            Contract = GatewayExitContract.Documented,
            TempRoot = temp,
            ScenarioTimeout = TimeSpan.FromSeconds(20),
        });
        Log(report);

        Assert.All(report.Rows, r => Assert.True(r.Verdict == ConformanceVerdict.Match, $"{r.Scenario}: expected {r.Expected}, observed {r.Observed} ({r.Note})"));
        Assert.True(report.Conforms);
        Assert.Equal(ProcessEnding.Exit(75), Row(report, ConformanceScenario.SupervisedRestartSignal).ObservedEnding);
        Assert.Equal(ProcessEnding.Exit(78), Row(report, ConformanceScenario.ConfigError).ObservedEnding);
        Assert.Equal("startup_failed", Row(report, ConformanceScenario.ConfigError).GatewayState);

        var learned = report.Contract;
        Assert.Equal((75, (int?)null, 0, 1, 78), (learned.RestartExitCode, learned.SupervisedRestartExitCode, learned.PlannedStopExitCode, learned.UnexpectedExitCode, learned.ConfigErrorExitCode));
        Assert.Equal(GatewayExitContract.Documented with { Name = learned.Name, Source = learned.Source }, learned);
        Assert.Null(report.Version); // the stub knows no --version
        AssertCleanedUp(report);
    }

    /// <summary>
    /// Issue 10 item 4, the differential: the stub in its 'hermes-0.16' mode (which models the single-instance lock and
    /// profiles itself) and the real gateway give the same ending, and leave the same gateway_state, in every
    /// conformance scenario; and both conform to the measured contract.
    /// </summary>
    [RealGatewayFact]
    public void The_stub_s_0_16_mode_and_the_real_gateway_answer_every_scenario_alike()
    {
        var stub = Path.Combine(temp, "stub-gateway-016");
        File.WriteAllText(stub, $$"""
            #!/bin/sh
            export HERMES_STUB_CONTRACT=hermes-0.16
            exec '{{StubLocation.Python}}' '{{StubLocation.Script}}' "$@"

            """);
        File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        GatewayConformanceReport Run(string executable) => GatewayConformance.Run(new ConformanceRequest
        {
            Executable = executable,
            Contract = GatewayExitContract.Hermes016,
            TempRoot = temp,
            ScenarioTimeout = TimeSpan.FromSeconds(30),
        });

        var real = Run(RealGatewayTests.Launcher);
        var twin = Run(stub);
        Log(real);
        Log(twin);

        Assert.Equal(real.Rows.Select(r => r.Scenario), twin.Rows.Select(r => r.Scenario));
        foreach (var (r, t) in real.Rows.Zip(twin.Rows))
        {
            // The state word and what follows it, PIDs aside ("running (PID 11496)").
            static string? Shape(string? state) => state is null ? null : System.Text.RegularExpressions.Regex.Replace(state, "[0-9]+", "N");
            Assert.True(Equals(r.ObservedEnding, t.ObservedEnding) && Shape(r.GatewayState) == Shape(t.GatewayState),
                $"{r.Scenario}: real {r.Observed} ('{r.GatewayState}'), stub {t.Observed} ('{t.GatewayState}')");
        }

        Assert.True(real.Conforms);
        Assert.True(twin.Conforms);
        Assert.Equal(real.Contract with { Source = twin.Contract.Source }, twin.Contract);
    }

    [StubGatewayFact(linuxOnly: true)]
    public void An_assumed_contract_the_gateway_does_not_keep_gives_rows_that_differ_with_both_endings()
    {
        var assumed = GatewayExitContract.Hermes016 with { UnexpectedExitCode = 3 };
        var report = GatewayConformance.Run(new ConformanceRequest
        {
            Executable = StubLauncher(),
            Contract = assumed,
            TempRoot = temp,
            Scenarios = [ConformanceScenario.SupervisedRestartSignal, ConformanceScenario.StopSignal, ConformanceScenario.Interrupt],
        });
        Log(report);

        Assert.Equal([ConformanceScenario.SupervisedRestartSignal, ConformanceScenario.StopSignal, ConformanceScenario.Interrupt], report.Rows.Select(r => r.Scenario));
        var supervised = Row(report, ConformanceScenario.SupervisedRestartSignal);
        Assert.Equal((ConformanceVerdict.Differs, ProcessEnding.Exit(0), ProcessEnding.Exit(75)), (supervised.Verdict, supervised.ExpectedEnding, supervised.ObservedEnding));
        Assert.StartsWith("exits 0", supervised.Expected, StringComparison.Ordinal);
        Assert.StartsWith("exit 75 after ", supervised.Observed, StringComparison.Ordinal);
        var stop = Row(report, ConformanceScenario.StopSignal);
        Assert.Equal((ConformanceVerdict.Differs, ProcessEnding.Exit(3), ProcessEnding.Exit(1)), (stop.Verdict, stop.ExpectedEnding, stop.ObservedEnding));
        Assert.Equal(ConformanceVerdict.Match, Row(report, ConformanceScenario.Interrupt).Verdict);
        Assert.False(report.Conforms);

        // What was measured wins over the assumed contract; the rest is the assumed contract's.
        Assert.Equal(1, report.Contract.UnexpectedExitCode);
        Assert.Null(report.Contract.SupervisedRestartExitCode); // 75 with INVOCATION_ID, the same as the (unmeasured) restart code
        Assert.Equal(assumed.RestartExitCode, report.Contract.RestartExitCode);
        Assert.Equal(assumed.DrainTimeout, report.Contract.DrainTimeout);
        Assert.Contains(report.Notes, n => n.StartsWith("RestartExitCode 75: not measured", StringComparison.Ordinal));
        AssertCleanedUp(report);
    }

    [StubGatewayFact(linuxOnly: true)]
    public void A_gateway_that_never_ends_is_not_observed_and_is_killed_at_the_timeout()
    {
        var report = GatewayConformance.Run(new ConformanceRequest
        {
            Executable = StubLauncher("export HERMES_STUB_MODE=hang_in_drain"),
            Contract = GatewayExitContract.Documented,
            TempRoot = temp,
            ScenarioTimeout = TimeSpan.FromSeconds(3),
            Scenarios = [ConformanceScenario.StopSignal],
        });
        Log(report);

        var row = Assert.Single(report.Rows);
        Assert.Equal(ConformanceVerdict.NotObserved, row.Verdict);
        Assert.Null(row.ObservedEnding);
        Assert.Contains("then killed", row.Observed, StringComparison.Ordinal);
        Assert.Equal(GatewayExitContract.Documented.UnexpectedExitCode, report.Contract.UnexpectedExitCode);
        AssertCleanedUp(report);
    }

    [StubGatewayFact(linuxOnly: true)]
    public void A_cancelled_run_kills_its_gateways_and_deletes_its_scratch_directory()
    {
        using var cancel = new CancellationTokenSource();
        var request = new ConformanceRequest
        {
            Executable = StubLauncher(),
            Contract = GatewayExitContract.Documented,
            TempRoot = temp,
            Scenarios = [ConformanceScenario.PlannedStopMarkerAlone, ConformanceScenario.SecondInstance],
            Progress = p =>
            {
                if (p.Activity.Contains("running after", StringComparison.Ordinal))
                {
                    cancel.Cancel();
                }
            },
            Cancellation = cancel.Token,
        };

        Assert.ThrowsAny<OperationCanceledException>(() => GatewayConformance.Run(request));
        Assert.Empty(Directory.EnumerateDirectories(temp));
    }

    [Fact]
    public void Bad_executables_are_refused_with_stable_ids()
    {
        Assert.Equal(HermesErrorIds.ExecutableNotFound, Refused(Path.Combine(temp, "no-such-gateway")));
        Assert.Equal(HermesErrorIds.OptionInvalid, Refused("hermes"));
        Assert.Equal(HermesErrorIds.OptionInvalid, Refused("./bin/hermes"));
        Assert.Equal(HermesErrorIds.ExecutableNotFound, Refused(temp));
        var plain = Path.Combine(temp, "not-executable");
        File.WriteAllText(plain, "#!/bin/sh\n");
        File.SetUnixFileMode(plain, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(HermesErrorIds.PermissionDenied, Refused(plain));

        var e = Assert.Throws<HermesException>(() => GatewayConformance.Run(new ConformanceRequest { Executable = "/bin/sh", ScenarioTimeout = TimeSpan.Zero }));
        Assert.Equal(HermesErrorIds.OptionInvalid, e.ErrorId);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(temp), p => Path.GetFileName(p).StartsWith("hermes-conformance-", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Hermes Agent v0.16.0 (2026.6.5)\nProject: /x\nPython: 3.11.2", "0.16.0")]
    [InlineData("hermes 1.2", "1.2")]
    [InlineData("usage: hermes [-h]", null)]
    public void The_version_is_read_from_the_first_line_that_has_one(string text, string? version) =>
        Assert.Equal(version, GatewayConformance.ParseVersion(text));

    [Theory]
    [InlineData(0x0000, "exit 0")]
    [InlineData(0x4b00, "exit 75")]
    [InlineData(0x000f, "killed by SIGTERM")]
    [InlineData(0x008b, "killed by SIGSEGV (core dumped)")]
    public void Wait_statuses_are_decoded_into_exits_and_signals(int status, string ending)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the statuses above use Linux signal numbers
        }

        Assert.Equal(ending, SpawnedProcess.Decode(status).ToString());
    }

    private string Refused(string executable) =>
        Assert.Throws<HermesException>(() => GatewayConformance.Run(new ConformanceRequest { Executable = executable, TempRoot = temp })).ErrorId;

    private static ConformanceRow Row(GatewayConformanceReport report, ConformanceScenario scenario) => report.Rows.Single(r => r.Scenario == scenario);

    /// <summary>
    /// The stub gateway as a whole gateway for a conformance run (its README: it models neither the single-instance check
    /// nor Hermes' profile lookup): a second start on a HERMES_HOME whose gateway.pid names a live process exits 1, and
    /// '--profile' (the run's configuration error) turns on the stub's config_error mode, the documented exit 78.
    /// </summary>
    private string StubLauncher(string extra = "")
    {
        var path = Path.Combine(temp, "stub-gateway-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(path, $$"""
            #!/bin/sh
            {{extra}}
            if [ "$1" = "--profile" ]; then
              export HERMES_STUB_MODE=config_error
            fi
            if [ -f "$HERMES_HOME/gateway.pid" ]; then
              pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$HERMES_HOME/gateway.pid")
              if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                echo "Another gateway instance is already running (PID $pid)."
                exit 1
              fi
            fi
            exec '{{StubLocation.Python}}' '{{StubLocation.Script}}' "$@"

            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>No gateway the run started still lives, and its private scratch directory is gone.</summary>
    private void AssertCleanedUp(GatewayConformanceReport report)
    {
        Assert.Empty(Directory.EnumerateDirectories(temp));
        foreach (var pid in report.Rows.Select(r => r.Pid).OfType<int>())
        {
            // A PID may be reused by then, but not by a gateway with this run's (deleted) HERMES_HOME.
            var alive = ProcessTable.IsAlive(pid) && TryRead($"/proc/{pid}/environ").Contains(temp, StringComparison.Ordinal);
            Assert.False(alive, $"PID {pid} still runs");
        }
    }

    private static string TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private void Log(GatewayConformanceReport report)
    {
        output.WriteLine($"{report.Executable} {report.Version} against '{report.Assumed.Name}': conforms {report.Conforms}, {report.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
        foreach (var r in report.Rows)
        {
            output.WriteLine($"{r.Scenario,-24} {r.Verdict,-11} expected {r.Expected}; observed {r.Observed}; state {r.GatewayState}; {r.Note}");
        }

        foreach (var n in report.Notes)
        {
            output.WriteLine("  " + n);
        }
    }
}

/// <summary>
/// A fact that needs the real gateway: skipped only where the fixture or its Debian packages are absent (as
/// <see cref="RealGatewayTheoryAttribute"/>), so a fixture that is present but broken fails the test.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RealGatewayFactAttribute : FactAttribute
{
    public RealGatewayFactAttribute()
    {
        Skip = new RealGatewayTheoryAttribute().Skip;
    }
}
