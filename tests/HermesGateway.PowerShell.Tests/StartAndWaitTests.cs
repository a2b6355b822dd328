using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// Start-HermesGateway waits for the outcome, and Wait-HermesGateway waits for a state, against a stand-in systemctl
/// (and journalctl) on PATH.
/// </summary>
[Collection(ProcessStateGroup.Name)]
public sealed class StartAndWaitTests : IDisposable
{
    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    /// <summary>systemctl show after a start whose process (PID 4242) exited 78 and was left failed.</summary>
    private const string FailedWithConfigError =
        "LoadState=loaded\nActiveState=failed\nSubState=failed\nResult=exit-code\nMainPID=0\nExecMainPID=4242\nExecMainStartTimestamp=\nExecMainCode=1\nExecMainStatus=78\nNRestarts=0\nUnitFileState=enabled\nFragmentPath=\nRestartUSec=2s";

    [Fact]
    public void Start_into_a_configuration_error_is_an_error_at_once_with_the_exit_and_the_log_not_a_success()
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: true, afterStart: FailedWithConfigError, journal: "gateway starting\nconfig.yaml: no platform is configured\n");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = session.Invoke("Start-HermesGateway hermes-gateway");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), clock.Elapsed.ToString());
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("HermesGatewayExitedOnStart,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains("exit 78 (configuration error)", error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("config.yaml: no platform is configured", error.Exception.Message, StringComparison.Ordinal);
        Assert.Single(systemctl.Calls, c => c == "systemctl --user start -- hermes-gateway.service"); // not started again
        Assert.Contains(systemctl.Calls, c => c.StartsWith("journalctl --user-unit hermes-gateway.service -n 10 --no-pager -o cat", StringComparison.Ordinal));
    }

    [Fact]
    public void Start_NoWait_returns_after_the_start_as_before()
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: true, afterStart: FailedWithConfigError);

        session.Invoke("Start-HermesGateway hermes-gateway -NoWait").Succeeded();

        Assert.Single(systemctl.Calls, c => c == "systemctl --user start -- hermes-gateway.service");
    }

    [Fact]
    public void Wait_for_Stopped_on_an_inactive_unit_returns_at_once_and_PassThru_gives_the_service()
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        _ = new FakeSystemctl(sandbox, "inactive", 0, enabled: true);

        var result = session.Invoke("Wait-HermesGateway hermes-gateway -State Stopped -Timeout 0:0:5 -PassThru").Succeeded();

        Assert.Equal("hermes-gateway", PowerShellSession.Property(Assert.Single(result.Objects), "Name"));
    }

    [Fact]
    public void Wait_for_Running_on_a_unit_that_does_not_come_up_ends_in_HermesWaitTimeout_after_the_timeout()
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = session.Invoke("Get-HermesService hermes-gateway | Wait-HermesGateway -Timeout 0:0:2");

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(15));
        Assert.StartsWith("HermesWaitTimeout,", Assert.Single(result.Errors).FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.DoesNotContain(systemctl.Calls, c => !c.StartsWith("systemctl --user show ", StringComparison.Ordinal)); // a wait changes nothing
    }

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
