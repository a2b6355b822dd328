using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Cmdlets acting on installed gateways chosen by name (wildcards; default all) or piped from Get-HermesService.</summary>
public abstract class ServiceSelectionCmdlet : ServiceCmdlet
{
    protected const string NameSet = "Name";
    protected const string InputObjectSet = "InputObject";

    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(InstalledServiceNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public HermesService[] InputObject { get; set; } = [];

    /// <summary>The services this call is about, as the parameter set says.</summary>
    internal IEnumerable<HermesService> Selected() => ParameterSetName == NameSet ? ByName(Name) : InputObject;
}

/// <summary>Start- and Stop-HermesGateway: the services by name or from the pipeline, one action each, the state after it with -PassThru.</summary>
public abstract class ServiceActionCmdlet : ServiceSelectionCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected abstract void Act(HermesService service);

    protected override void ProcessRecord()
    {
        foreach (var service in Selected())
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
