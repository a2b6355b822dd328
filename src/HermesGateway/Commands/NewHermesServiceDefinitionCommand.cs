using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Policy;

namespace HermesGateway.Commands;

/// <summary>New-HermesServiceDefinition: a gateway service as an object, with Hermes' conventions as defaults, or read from an existing file.</summary>
[Cmdlet(VerbsCommon.New, "HermesServiceDefinition", DefaultParameterSetName = ParametersSet)]
[OutputType(typeof(ServiceDefinition))]
public sealed class NewHermesServiceDefinitionCommand : DefinitionParametersCmdlet
{
    private const string FromFileSet = "FromFile";

    [Parameter(Mandatory = true, ParameterSetName = FromFileSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    [Parameter(ParameterSetName = FromFileSet)]
    public ServicePlatform? FilePlatform { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == FromFileSet)
        {
            foreach (var path in ResolvePaths(LiteralPath, literal: true))
            {
                try
                {
                    WriteObject(ServiceFiles.Read(path, FilePlatform, SystemdVersion));
                }
                catch (HermesException e)
                {
                    WriteError(ToErrorRecord(e));
                }
            }

            return;
        }

        try
        {
            WriteObject(ServiceDefinitionFactory.Create(BuildRequest()));
        }
        catch (HermesException e)
        {
            ThrowTerminatingError(ToErrorRecord(e));
        }
    }
}
