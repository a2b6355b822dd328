using System.Management.Automation;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>
/// Stop-HermesGateway: a planned stop: the planned-stop marker for the running PID, then the supervisor stops it
/// (launchd: bootout, so KeepAlive cannot respawn it).
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "HermesGateway", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(HermesService))]
public sealed class StopHermesGatewayCommand : ServiceActionCmdlet
{
    private protected override bool NamesRequiredForSeveral => true;

    private protected override void Act(HermesService service) => Installer.Stop(service.Identity, EngineHost);
}
