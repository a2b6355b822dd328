namespace HermesGateway.Core.Tests.Systemd;

/// <summary>IgnoreSIGPIPE=, RestartSec=infinity and the bounds on run times and contract durations.</summary>
public sealed class SystemdNewerRulesTests
{
    [Theory]
    // IgnoreSIGPIPE=yes (the default) starts the process with SIGPIPE ignored, so kill -PIPE does nothing.
    [InlineData("", false)]
    [InlineData("IgnoreSIGPIPE=yes", false)]
    [InlineData("IgnoreSIGPIPE=no", true)]
    public void Kill_PIPE_ends_a_process_only_with_IgnoreSIGPIPE_no(string line, bool ends)
    {
        var model = Units.Model("Restart=on-failure", line);

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new ExternalSignal(UnixSignal.SIGPIPE), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.Equal(ends, o.Ending is not null);
        Assert.Equal(ends ? SystemdDecisionRule.RestartSetting : SystemdDecisionRule.StillRunning, o.Rule);
        if (ends)
        {
            // Death by SIGPIPE is clean for a daemon: inactive, not restarted under on-failure.
            Assert.Equal(ServiceResult.Success, o.Result);
            Assert.False(o.Revived);
        }
    }

    [Fact]
    public void RestartSec_infinity_waits_in_auto_restart_for_good()
    {
        var model = Units.Model("Restart=always", "RestartSec=infinity");

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(ProcessEnding.Exit(1)), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.False(o.Revived);
        Assert.Null(o.Delay);
        Assert.Equal(("activating", "auto-restart"), (o.Final.ActiveState, o.Final.SubState));
        Assert.Equal(ServiceResult.ExitCode, o.Result);
    }

    [Fact]
    public void A_run_time_beyond_the_bound_is_refused()
    {
        var config = new SystemdConfiguration(Units.Service("Restart=on-failure"));
        var tooLong = ExitPolicyEvaluator.MaxRunTime + TimeSpan.FromSeconds(1);

        Expect.Error(HermesErrorIds.EventInvalid, () => ExitPolicyEvaluator.Answer(config, new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: 1, RunTime: tooLong)));
        Assert.NotNull(ExitPolicyEvaluator.Answer(config, new SupervisorEventRequest(SupervisorEventKind.Exit, ExitCode: 1, RunTime: ExitPolicyEvaluator.MaxRunTime)));
    }

    [Theory]
    [InlineData(nameof(GatewayExitContract.DrainTimeout))]
    [InlineData(nameof(GatewayExitContract.PlannedStopMarkerValidity))]
    [InlineData(nameof(GatewayExitContract.FailedStartRunTime))]
    public void Contract_durations_beyond_the_bound_are_invalid(string property)
    {
        var tooLong = GatewayExitContract.MaxDuration + TimeSpan.FromSeconds(1);
        var c = property switch
        {
            nameof(GatewayExitContract.DrainTimeout) => new GatewayExitContract { DrainTimeout = tooLong },
            nameof(GatewayExitContract.PlannedStopMarkerValidity) => new GatewayExitContract { PlannedStopMarkerValidity = tooLong },
            _ => new GatewayExitContract { FailedStartRunTime = tooLong },
        };

        Expect.Error(HermesErrorIds.ExitContractInvalid, () => c.Validated());
    }
}
