using System.Diagnostics;
using System.Management.Automation;
using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// Test-HermesGatewayConformance hosted in-process, against the stub gateway (tests/stub-gateway): its progress is
/// completed, its report's Contract is passed on as an object, and Ctrl+C ends the run at once with every gateway it
/// started gone.
/// </summary>
public sealed class ConformanceTests : IDisposable
{
    private readonly ScratchFolder files = new();
    private readonly PowerShellSession session = new();
    private readonly string tag = Guid.NewGuid().ToString("N");

    [Fact]
    public void The_report_comes_with_completed_progress_and_its_contract_is_passed_on()
    {
        var launcher = StubLauncher();
        var first = session.InvokeCommand("Test-HermesGatewayConformance", new Dictionary<string, object?>
        {
            ["Executable"] = launcher,
            ["Contract"] = "documented",
            ["Scenario"] = new[] { "RestartSignal", "StopSignal" },
        }).Succeeded();

        // The engine's types come from the module's own load context: read them through PowerShell's properties.
        var report = Assert.Single(first.Objects);
        Assert.Equal("HermesGateway.Core.Conformance.GatewayConformanceReport", report.GetType().FullName);
        Assert.Equal(true, PowerShellSession.Property(report, "Conforms"));
        var contract = PowerShellSession.Property(report, "Contract");
        Assert.Equal("HermesGateway.Core.Policy.GatewayExitContract", contract?.GetType().FullName);
        var progress = session.Host.Recorded.Progress;
        Assert.Contains(progress, r => r.RecordType == ProgressRecordType.Processing && r.StatusDescription.Contains("RestartSignal", StringComparison.Ordinal));
        Assert.Equal(1, HostAssert.EveryActivityCompleted(progress));
        Assert.Equal(ProgressRecordType.Completed, progress[^1].RecordType);

        var second = session.InvokeCommand("Test-HermesGatewayConformance", new Dictionary<string, object?>
        {
            ["Executable"] = launcher,
            ["Contract"] = contract,
            ["Scenario"] = new[] { "Interrupt" },
        }).Succeeded();
        var assumed = PowerShellSession.Property(Assert.Single(second.Objects), "Assumed");
        Assert.Same(contract, assumed);
        Assert.Equal("measured", PowerShellSession.Property(assumed, "Name"));
    }

    [Fact]
    public void Stopping_a_run_ends_it_at_once_and_leaves_no_gateway_running()
    {
        var parameters = new Dictionary<string, object?> { ["Executable"] = StubLauncher("export HERMES_STUB_MODE=hang_in_drain"), ["Contract"] = "documented", ["TimeoutSec"] = 120 };
        var clock = Stopwatch.StartNew();
        using (var shell = session.StartCommand("Test-HermesGatewayConformance", parameters, out var running))
        {
            // Ctrl+C once a gateway runs (and then hangs in its drain: only the stop can end the run early).
            Assert.True(SpinWait.SpinUntil(() => session.Host.Recorded.Progress.Any(r => r.StatusDescription.Contains("running after", StringComparison.Ordinal)), TimeSpan.FromSeconds(60)),
                "No gateway ever reported running.");
            clock.Restart();
            shell.Stop();
            Assert.Throws<PipelineStoppedException>(() => shell.EndInvoke(running));
            Assert.Equal(PSInvocationState.Stopped, shell.InvocationStateInfo.State);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"Stopping took {clock.Elapsed}.");
        Assert.Empty(Tagged());
    }

    public void Dispose()
    {
        session.Dispose();
        files.Dispose();
    }

    /// <summary>PIDs of processes whose environment carries this test's tag: the stub gateways its runs started.</summary>
    private List<int> Tagged()
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "environ")).Contains(tag, StringComparison.Ordinal))
                    {
                        found.Add(pid);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // gone, or not ours
                }
            }
        }

        return found;
    }

    /// <summary>The stub gateway behind a launcher that tags its environment and execs the real python3 (so the PID is the stub's).</summary>
    private string StubLauncher(string extra = "")
    {
        var info = new ProcessStartInfo("python3", ["-c", "import sys; print(sys.executable)"]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var probe = Process.Start(info)!;
        var python = probe.StandardOutput.ReadToEnd().Trim();
        probe.WaitForExit();
        var script = Path.Combine(PowerShellSession.RepoRoot, "tests", "stub-gateway", "stub_gateway.py");
        var path = files.Write("stub-gateway", $"#!/bin/sh\nexport HERMES_CONFORMANCE_TEST_TAG={tag}\n{extra}\nexec '{python}' '{script}' \"$@\"\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
