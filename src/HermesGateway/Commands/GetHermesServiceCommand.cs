using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Get-HermesService: the installed Hermes gateways (this module's and upstream's) and how they stand.</summary>
[Cmdlet(VerbsCommon.Get, "HermesService")]
[OutputType(typeof(HermesService))]
public sealed class GetHermesServiceCommand : ServiceCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(InstalledServiceNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        try
        {
            foreach (var service in ByName(Name))
            {
                WriteObject(service);
            }
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
        }
    }
}
