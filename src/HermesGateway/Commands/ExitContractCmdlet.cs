using System.Management.Automation;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Commands;

/// <summary>Cmdlets that take the gateway's exit contract: Hermes' defaults, or other codes for another gateway.</summary>
public abstract class ExitContractCmdlet : HermesCmdlet
{
    [Parameter]
    [ValidateRange(0, 255)]
    public int? RestartExitCode { get; set; }

    [Parameter]
    [ValidateRange(0, 255)]
    public int? UnexpectedExitCode { get; set; }

    [Parameter]
    [ValidateRange(0, 255)]
    public int? PlannedStopExitCode { get; set; }

    [Parameter]
    [ValidateRange(0, 255)]
    public int? ConfigErrorExitCode { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(SignalNameCompleter))]
    public string? RestartSignal { get; set; }

    [Parameter]
    public TimeSpan? DrainTimeout { get; set; }

    internal GatewayExitContract BuildContract()
    {
        var c = GatewayExitContract.Hermes;
        c = c with
        {
            RestartExitCode = RestartExitCode ?? c.RestartExitCode,
            UnexpectedExitCode = UnexpectedExitCode ?? c.UnexpectedExitCode,
            PlannedStopExitCode = PlannedStopExitCode ?? c.PlannedStopExitCode,
            ConfigErrorExitCode = ConfigErrorExitCode ?? c.ConfigErrorExitCode,
            RestartSignal = RestartSignal is null ? c.RestartSignal : UnixSignals.Parse(RestartSignal),
            DrainTimeout = DrainTimeout ?? c.DrainTimeout,
        };
        return c.Validated();
    }
}
