using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Commands;

/// <summary>New-HermesServiceDefinition: a gateway service as an object, with Hermes' conventions as defaults, or read from an existing file.</summary>
[Cmdlet(VerbsCommon.New, "HermesServiceDefinition", DefaultParameterSetName = NewSet)]
[OutputType(typeof(ServiceDefinition))]
public sealed class NewHermesServiceDefinitionCommand : ExitContractCmdlet
{
    private const string NewSet = "New";
    private const string FromFileSet = "FromFile";

    [Parameter(ParameterSetName = NewSet)]
    public ServicePlatform? Platform { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    public ServiceScope? Scope { get; set; }

    [Parameter(ParameterSetName = NewSet, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? Profile { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? Description { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? HermesHome { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? Executable { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [AllowEmptyCollection]
    public string[]? ArgumentList { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    public IDictionary? Environment { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? EnvironmentFile { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? Group { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? StandardOutPath { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    [ValidateNotNullOrEmpty]
    public string? StandardErrorPath { get; set; }

    [Parameter(ParameterSetName = NewSet)]
    public TimeSpan? StopTimeout { get; set; }

    [Parameter]
    [ValidateRange(SystemdUnitReader.MinimumVersion, 999)]
    public int SystemdVersion { get; set; } = SystemdUnitReader.DefaultVersion;

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
            var platform = Platform ?? (OperatingSystem.IsMacOS() ? ServicePlatform.Launchd : ServicePlatform.Systemd);
            var request = new DefinitionRequest
            {
                Platform = platform,
                Scope = Scope,
                Name = Name,
                Profile = Profile,
                Description = Description,
                HermesHome = HermesHome is null ? null : GetUnresolvedProviderPathFromPSPath(HermesHome),
                HomeDirectory = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile),
                Executable = Executable is null ? ExecutableLocator.Find("hermes", System.Environment.GetEnvironmentVariable("PATH")) : GetUnresolvedProviderPathFromPSPath(Executable),
                Arguments = ArgumentList,
                WorkingDirectory = WorkingDirectory is null ? null : GetUnresolvedProviderPathFromPSPath(WorkingDirectory),
                Environment = ToVariables(Environment),
                EnvironmentFile = EnvironmentFile is null ? null : GetUnresolvedProviderPathFromPSPath(EnvironmentFile),
                User = User,
                Group = Group,
                StandardOutPath = StandardOutPath is null ? null : GetUnresolvedProviderPathFromPSPath(StandardOutPath),
                StandardErrorPath = StandardErrorPath is null ? null : GetUnresolvedProviderPathFromPSPath(StandardErrorPath),
                DrainTimeout = DrainTimeout,
                StopTimeout = StopTimeout,
                SystemdVersion = SystemdVersion,
                Contract = BuildContract(),
            };
            WriteObject(ServiceDefinitionFactory.Create(request));
        }
        catch (HermesException e)
        {
            ThrowTerminatingError(ToErrorRecord(e));
        }
    }

    /// <summary>An ordered dictionary keeps its order; a plain hashtable is sorted by name so output is deterministic.</summary>
    private static List<EnvironmentVariable>? ToVariables(IDictionary? dictionary)
    {
        if (dictionary is null)
        {
            return null;
        }

        var pairs = dictionary.Cast<DictionaryEntry>().Select(e => new EnvironmentVariable(
            e.Key?.ToString() ?? string.Empty,
            LanguagePrimitives.ConvertTo<string>(e.Value is PSObject p ? p.BaseObject : e.Value) ?? string.Empty));
        return dictionary is IOrderedDictionary ? [.. pairs] : [.. pairs.OrderBy(v => v.Name, StringComparer.Ordinal)];
    }
}
