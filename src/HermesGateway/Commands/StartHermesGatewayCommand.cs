using System.Management.Automation;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Start-HermesGateway: starts installed gateways (a failed unit is reset first; an unloaded job is bootstrapped).</summary>
[Cmdlet(VerbsLifecycle.Start, "HermesGateway", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(HermesService))]
public sealed class StartHermesGatewayCommand : ServiceActionCmdlet
{
    private protected override void Act(HermesService service) => Installer.Start(service.Identity, EngineHost);
}
