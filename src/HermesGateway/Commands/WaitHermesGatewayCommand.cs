using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Wait-HermesGateway: waits until installed gateways run healthy, or are stopped; an error for each that is not in time.</summary>
[Cmdlet(VerbsLifecycle.Wait, "HermesGateway", DefaultParameterSetName = NameSet)]
[OutputType(typeof(HermesService))]
public sealed class WaitHermesGatewayCommand : ServiceSelectionCmdlet
{
    /// <summary>Running (the supervisor runs it and it reports itself running) or Stopped (inactive, failed, not loaded).</summary>
    [Parameter]
    public GatewayWaitState State { get; set; } = GatewayWaitState.Running;

    /// <summary>How long to wait, for all the services together.</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = GatewayWaiter.DefaultTimeout;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private DateTimeOffset deadline;

    protected override void BeginProcessing()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument, "-Timeout must be positive.", Timeout)));
        }

        deadline = Engine.Clock.GetUtcNow() + Timeout;
        base.BeginProcessing();
    }

    protected override void ProcessRecord()
    {
        foreach (var service in Selected())
        {
            try
            {
                var left = deadline - Engine.Clock.GetUtcNow();
                Engine.Waiter.Wait(service.Identity, State, left > TimeSpan.Zero ? left : TimeSpan.Zero, EngineHost);
                if (PassThru)
                {
                    WriteObject(ServiceInstaller.Status(service.Path, service.Scope, Installer.For(service.Identity)));
                }
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
            finally
            {
                EngineHost.CompleteProgress();
            }
        }
    }
}
