using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>
/// Start-HermesGateway: starts installed gateways (a failed unit is reset first; an unloaded job is bootstrapped) and
/// waits until each reports itself running, or fails with its exit and last log lines.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "HermesGateway", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(HermesService))]
public sealed class StartHermesGatewayCommand : ServiceActionCmdlet
{
    /// <summary>How long the gateway may take to report itself running (as Restart-HermesGateway's -Timeout).</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = GatewayWaiter.DefaultTimeout;

    /// <summary>Start without waiting for the gateway to come up.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    protected override void BeginProcessing()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument, "-Timeout must be positive.", Timeout)));
        }

        base.BeginProcessing();
    }

    private protected override void Act(HermesService service)
    {
        try
        {
            Engine.Waiter.Start(service.Identity, NoWait ? null : Timeout, EngineHost);
        }
        finally
        {
            EngineHost.CompleteProgress();
        }
    }
}
