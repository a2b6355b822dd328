namespace HermesGateway.Core.Tests.Service;

/// <summary>When Get-HermesService calls a unit a crash loop: systemd restarting it after a failed run, not after a planned one.</summary>
public sealed class CrashLoopTests
{
    private static SystemdUnitStatus Status(string active, string sub, int code, int status, int restarts) =>
        new("hermes-gateway.service", "loaded", active, sub, "exit-code", 0, null, code, status, restarts, "enabled", string.Empty);

    [Theory]
    [InlineData("activating", "auto-restart", 1, 1, 3, true)] // exit 1, waiting out RestartSec=
    [InlineData("activating", "auto-restart", 2, 9, 1, true)] // killed by SIGKILL
    [InlineData("activating", "start", 1, 1, 4, true)] // starting again after restarts, the last run failed
    [InlineData("activating", "auto-restart", 1, 75, 1, false)] // a planned restart passes through auto-restart
    [InlineData("activating", "auto-restart", 1, 0, 1, false)] // a planned stop (Restart=always)
    [InlineData("activating", "start", 1, 1, 0, false)] // the first start: no restart yet
    [InlineData("active", "running", 1, 1, 3, false)] // back up and running
    [InlineData("failed", "failed", 1, 1, 5, false)] // given up (start limit): failed, not a loop
    public void A_crash_loop_is_a_restart_after_a_failed_run(string active, string sub, int code, int status, int restarts, bool loop) =>
        Assert.Equal(loop, SystemdServiceManager.IsCrashLoop(Status(active, sub, code, status, restarts), GatewayExitContract.Hermes));
}
