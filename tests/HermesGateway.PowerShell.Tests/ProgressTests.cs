using System.Diagnostics;
using System.Management.Automation;
using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// Restart-HermesGateway's progress as the host receives it. Progress comes only from the restart's waits (the drain,
/// the supervisor bringing a new process, its health), so these tests give it a supervisor that answers: a fake
/// systemctl saying the unit runs as a PID no process has, and that never brings a new one.
/// </summary>
[Collection(ProcessStateGroup.Name)]
public sealed class ProgressTests : IDisposable
{
    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void A_restart_that_times_out_completes_the_progress_it_started()
    {
        InstallGateway("hermes-gateway");
        _ = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        var result = session.Invoke("Restart-HermesGateway -Name hermes-gateway -Force -Timeout 00:00:01 -Confirm:$false");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("HermesRestartTimeout,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.OperationTimeout, error.CategoryInfo.Category);
        var progress = session.Host.Recorded.Progress;
        Assert.Contains(progress, r => r.RecordType == ProgressRecordType.Processing && r.Activity.Contains("hermes-gateway", StringComparison.Ordinal));
        Assert.Equal(1, HostAssert.EveryActivityCompleted(progress));
        Assert.Equal(ProgressRecordType.Completed, progress[^1].RecordType);
    }

    [Fact]
    public void Restarting_two_services_completes_each_ones_progress_before_the_next_begins()
    {
        InstallGateway("hermes-gateway");
        InstallGateway("hermes-gateway-work");
        _ = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        var result = session.Invoke("Get-HermesService | Restart-HermesGateway -Force -Timeout 00:00:01 -Confirm:$false");

        Assert.Equal(2, result.Errors.Count);
        var progress = session.Host.Recorded.Progress;
        Assert.Equal(2, HostAssert.EveryActivityCompleted(progress));
        // One activity, closed, then the other: the second service's progress never mixes into the first's.
        var firstCompleted = progress.ToList().FindIndex(r => r.RecordType == ProgressRecordType.Completed);
        var first = progress.Take(firstCompleted + 1).Select(r => r.Activity).Distinct().ToList();
        var second = progress.Skip(firstCompleted + 1).Select(r => r.Activity).Distinct().ToList();
        Assert.Equal(
            ["Restarting hermes-gateway", "Restarting hermes-gateway-work"],
            first.Concat(second).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_restart_whose_supervisor_is_unreachable_fails_before_any_wait_and_shows_no_progress()
    {
        // The real systemctl and a user bus that answers nobody: identifying the gateway fails, so nothing is waited for.
        InstallGateway("hermes-gateway");

        var result = session.Invoke("Restart-HermesGateway -Name hermes-gateway -Confirm:$false");

        Assert.StartsWith("HermesNoUserBus,", Assert.Single(result.Errors).FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Empty(session.Host.Recorded.Progress);
    }

    [Fact]
    public void Stopping_a_restart_mid_wait_ends_it_at_once_and_frees_its_lock()
    {
        InstallGateway("hermes-gateway");
        _ = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);
        var parameters = new Dictionary<string, object?> { ["Name"] = "hermes-gateway", ["Force"] = true, ["Timeout"] = TimeSpan.FromMinutes(2), ["Confirm"] = false };

        var clock = Stopwatch.StartNew();
        using (var shell = session.StartCommand("Restart-HermesGateway", parameters, out var running))
        {
            // Ctrl+C once the restart is waiting for the supervisor (its first progress record).
            Assert.True(SpinWait.SpinUntil(() => session.Host.Recorded.Progress.Count > 0, TimeSpan.FromSeconds(30)), "The restart never reported progress.");
            shell.Stop();
            Assert.Throws<PipelineStoppedException>(() => shell.EndInvoke(running));
            Assert.Equal(PSInvocationState.Stopped, shell.InvocationStateInfo.State);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"Stopping took {clock.Elapsed}; the engine's wait did not see the cancellation.");

        // A restart lock left held would make this one wait for it instead of running (and timing out) at once.
        clock.Restart();
        var again = session.Invoke("Restart-HermesGateway -Name hermes-gateway -Force -Timeout 00:00:01 -Confirm:$false");
        Assert.StartsWith("HermesRestartTimeout,", Assert.Single(again.Errors).FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"The next restart took {clock.Elapsed}.");
    }

    /// <summary>A gateway unit whose HERMES_HOME (where a forced restart writes its planned-stop marker) is in the sandbox.</summary>
    private void InstallGateway(string name) =>
        sandbox.InstallUnit(name, Units.GoodWithHome(Path.Combine(sandbox.Root, name + "-home")));

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
