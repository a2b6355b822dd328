using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Compare-HermesServiceDefinition: which settings differ between two definitions, or a definition and a file.</summary>
[Cmdlet(VerbsData.Compare, "HermesServiceDefinition", DefaultParameterSetName = DefinitionSet)]
[OutputType(typeof(SettingChange))]
public sealed class CompareHermesServiceDefinitionCommand : HermesCmdlet
{
    private const string DefinitionSet = "Definition";
    private const string FileSet = "File";
    private const string ServiceSet = "Service";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DefinitionSet)]
    [ValidateNotNull]
    public ServiceDefinition? ReferenceDefinition { get; set; }

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = FileSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string? LiteralPath { get; set; }

    /// <summary>An installed service (from Get-HermesService): its file is the reference.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ServiceSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public HermesService? Service { get; set; }

    /// <summary>The new side; for an installed service, by default what this module would write for it (its drift).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ParameterSetName = DefinitionSet)]
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ParameterSetName = FileSet)]
    [Parameter(Position = 1, ParameterSetName = ServiceSet)]
    [ValidateNotNull]
    public ServiceDefinition? DifferenceDefinition { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var changes = ParameterSetName switch
            {
                FileSet => ServiceDiff.CompareWithFile(ResolveLiteralPath(LiteralPath!), DifferenceDefinition!),
                ServiceSet when DifferenceDefinition is null => Service!.DriftChanges,
                ServiceSet => ServiceDiff.CompareWithFile(Service!.Path, DifferenceDefinition),
                _ => ServiceDiff.Compare(ReferenceDefinition!, DifferenceDefinition!),
            };
            WriteObject(changes, enumerateCollection: true);
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
        }
    }
}
