using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;

namespace HermesGateway.Commands;

/// <summary>Compare-HermesServiceDefinition: which settings differ between two definitions, or a definition and a file.</summary>
[Cmdlet(VerbsData.Compare, "HermesServiceDefinition", DefaultParameterSetName = DefinitionSet)]
[OutputType(typeof(SettingChange))]
public sealed class CompareHermesServiceDefinitionCommand : HermesCmdlet
{
    private const string DefinitionSet = "Definition";
    private const string FileSet = "File";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DefinitionSet)]
    [ValidateNotNull]
    public ServiceDefinition? ReferenceDefinition { get; set; }

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = FileSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string? LiteralPath { get; set; }

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [ValidateNotNull]
    public ServiceDefinition? DifferenceDefinition { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var changes = ParameterSetName == FileSet
                ? ServiceDiff.CompareWithFile(ResolveLiteralPath(LiteralPath!), DifferenceDefinition!)
                : ServiceDiff.Compare(ReferenceDefinition!, DifferenceDefinition!);
            WriteObject(changes, enumerateCollection: true);
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
        }
    }
}
