using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Uninstall-HermesService: a planned stop, disable or bootout, the file removed (a backup kept), reload.</summary>
[Cmdlet(VerbsLifecycle.Uninstall, "HermesService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(UninstallResult))]
public sealed class UninstallHermesServiceCommand : ServiceFilterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(InstalledServiceNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var service in Selected(Name))
        {
            try
            {
                var result = Installer.Uninstall(service.Identity, EngineHost);
                if (PassThru && result is not null)
                {
                    WriteObject(result);
                }
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
        }
    }
}
