using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Stop-HermesGateway: a planned stop: the planned-stop marker for the running PID, then the supervisor stops it (launchd: bootout, so KeepAlive cannot respawn it).</summary>
[Cmdlet(VerbsLifecycle.Stop, "HermesGateway", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(HermesService))]
public sealed class StopHermesGatewayCommand : ServiceCmdlet
{
    private const string NameSet = "Name";
    private const string InputObjectSet = "InputObject";

    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public HermesService[] InputObject { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var service in ParameterSetName == NameSet ? ByName(Name) : InputObject)
        {
            try
            {
                Installer.Stop(service, EngineHost);
                if (PassThru)
                {
                    WriteObject(ServiceInstaller.Status(service.Path, service.Scope, Installer.For(service.Platform)));
                }
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
        }
    }
}
