using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Start- and Stop-HermesGateway: the services by name or from the pipeline, one action each, the state after it with -PassThru.</summary>
public abstract class ServiceActionCmdlet : ServiceCmdlet
{
    protected const string NameSet = "Name";
    protected const string InputObjectSet = "InputObject";

    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public HermesService[] InputObject { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected abstract void Act(HermesService service);

    protected override void ProcessRecord()
    {
        foreach (var service in ParameterSetName == NameSet ? ByName(Name) : InputObject)
        {
            try
            {
                Act(service);
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
