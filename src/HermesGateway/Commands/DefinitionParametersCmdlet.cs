using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Commands;

/// <summary>The parameters that describe a gateway service, shared by New-HermesServiceDefinition and Install-HermesService.</summary>
public abstract class DefinitionParametersCmdlet : ExitContractCmdlet
{
    protected const string ParametersSet = "Parameters";

    [Parameter(ParameterSetName = ParametersSet)]
    public ServicePlatform? Platform { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    public ServiceScope? Scope { get; set; }

    [Parameter(ParameterSetName = ParametersSet, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    public string? Profile { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? Description { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? HermesHome { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? Executable { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [AllowEmptyCollection]
    public string[]? ArgumentList { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    public IDictionary? Environment { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? EnvironmentFile { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? Group { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? StandardOutPath { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public string? StandardErrorPath { get; set; }

    [Parameter(ParameterSetName = ParametersSet)]
    public TimeSpan? StopTimeout { get; set; }

    [Parameter]
    [ValidateRange(SystemdUnitReader.MinimumVersion, 999)]
    public int SystemdVersion { get; set; } = SystemdUnitReader.DefaultVersion;

    /// <summary>The request these parameters describe; unbound ones take Hermes' conventions.</summary>
    internal DefinitionRequest BuildRequest(ServiceDefinition? basis = null)
    {
        var request = basis is null ? new DefinitionRequest() : DefinitionRequest.From(basis);
        string? Resolve(string? path) => path is null ? null : ResolveLiteralPath(path);
        var platform = Platform ?? basis?.Platform ?? ServiceFormats.Native;
        return request with
        {
            Platform = platform,
            Scope = Scope ?? request.Scope,
            Name = Name ?? request.Name,
            Profile = Profile ?? request.Profile,
            Description = Description ?? request.Description,
            HermesHome = Resolve(HermesHome) ?? request.HermesHome,
            HomeDirectory = request.HomeDirectory ?? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile),
            Executable = Resolve(Executable) ?? (request.Executable.Length > 0 ? request.Executable : ExecutableLocator.Find("hermes", System.Environment.GetEnvironmentVariable("PATH"))),
            Arguments = ArgumentList ?? request.Arguments,
            WorkingDirectory = Resolve(WorkingDirectory) ?? request.WorkingDirectory,
            Environment = ToVariables(Environment) ?? request.Environment,
            EnvironmentFile = Resolve(EnvironmentFile) ?? request.EnvironmentFile,
            User = User ?? request.User,
            Group = Group ?? request.Group,
            StandardOutPath = Resolve(StandardOutPath) ?? request.StandardOutPath,
            StandardErrorPath = Resolve(StandardErrorPath) ?? request.StandardErrorPath,
            DrainTimeout = DrainTimeout ?? request.DrainTimeout,
            StopTimeout = StopTimeout ?? request.StopTimeout,
            SystemdVersion = SystemdVersion,
            Contract = BuildContract(),
        };
    }

    /// <summary>An ordered dictionary keeps its order; a plain hashtable is sorted by name so output is deterministic.</summary>
    internal static List<EnvironmentVariable>? ToVariables(IDictionary? dictionary)
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
