using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Start-HermesGateway: starts installed gateways (a failed unit is reset first; an unloaded job is bootstrapped).</summary>
[Cmdlet(VerbsLifecycle.Start, "HermesGateway", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(HermesService))]
public sealed class StartHermesGatewayCommand : ServiceCmdlet
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
                Installer.Start(service, EngineHost);
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
