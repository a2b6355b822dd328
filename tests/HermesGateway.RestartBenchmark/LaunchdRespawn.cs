using HermesGateway.Core.Definition;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.RestartBenchmark;

/// <summary>
/// (c) launchd without kickstart, modelled (there is no launchd here): the job as this module writes it (KeepAlive
/// {SuccessfulExit=false}) with the given ThrottleInterval; the gateway gets SIGUSR1 after the run time measured
/// in one of our restarts, drains as the stub did, exits 75, and launchd respawns it after the delay its model
/// predicts; the new instance then needs the stub's measured start-up. No tool overhead is added.
/// </summary>
internal static class LaunchdRespawn
{
    public static (double Downtime, double Total, bool Relaunched, string Why) Model(Sample measured, int throttleInterval)
    {
        var settings = new LaunchdJobSettings
        {
            Label = ServiceDefinitionFactory.LaunchdBaseLabel,
            KeepAlive = new LaunchdRestartOptions().KeepAlive,
            RunAtLoad = true,
            ThrottleInterval = throttleInterval,
        };
        var model = new LaunchdModel(settings);
        var behavior = new DrainingStub(TimeSpan.FromSeconds(measured.Drain));
        var outcome = model.Apply(new LaunchdExternalSignal(UnixSignal.SIGUSR1, TimeSpan.FromSeconds(measured.RanBeforeSignal)), behavior);
        if (!outcome.Revived || outcome.Delay is not { } delay)
        {
            return (double.NaN, double.NaN, false, outcome.Explanation);
        }

        var downtime = delay.TotalSeconds + measured.StartUp;
        return (downtime, measured.Drain + downtime, true, outcome.Explanation);
    }

    /// <summary>The stub's reaction to the restart signal: it drains for the measured time and exits 75.</summary>
    private sealed class DrainingStub(TimeSpan drain) : IProcessBehavior
    {
        public SignalResponse OnSignal(UnixSignal signal, bool plannedStopMarked) => signal == UnixSignal.SIGUSR1
            ? new SignalResponse(ProcessEnding.Exit(GatewayExitContract.Hermes.RestartExitCode), drain, "drains, then exits 75 (restart)")
            : GatewayExitContract.Hermes.OnSignal(signal, plannedStopMarked);
    }
}
