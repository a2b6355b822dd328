using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>What New-HermesServiceDefinition was asked for; anything left null takes Hermes' convention.</summary>
public sealed record DefinitionRequest
{
    public ServicePlatform Platform { get; init; }

    public ServiceScope? Scope { get; init; }

    public string? Name { get; init; }

    public string? Profile { get; init; }

    public string? Description { get; init; }

    public string? HermesHome { get; init; }

    /// <summary>The home directory of the user the gateway runs as (for the default HERMES_HOME of user services).</summary>
    public string? HomeDirectory { get; init; }

    public string Executable { get; init; } = string.Empty;

    /// <summary>Arguments instead of the default '[--profile P] gateway run'.</summary>
    public IReadOnlyList<string>? Arguments { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to add to (or override in) the defaults PATH and HERMES_S6_SUPERVISED_CHILD.</summary>
    public IReadOnlyList<EnvironmentVariable>? Environment { get; init; }

    public string? EnvironmentFile { get; init; }

    public string? User { get; init; }

    public string? Group { get; init; }

    public string? StandardOutPath { get; init; }

    public string? StandardErrorPath { get; init; }

    public TimeSpan? DrainTimeout { get; init; }

    public TimeSpan? StopTimeout { get; init; }

    public int SystemdVersion { get; init; } = SystemdUnitReader.DefaultVersion;

    public GatewayExitContract? Contract { get; init; }

    private const string RetiredFlag = "--external-supervisor";
    private const string RetiredVariable = "HERMES_SUPERVISED_CHILD";

    /// <summary>
    /// The identity of an existing service (what runs, where, as whom, with which environment) as a request, so the
    /// module's current defaults can be applied to it: what drift is measured against and what an update installs.
    /// </summary>
    /// <remarks>
    /// Two settings earlier versions wrote are dropped, so drift shows them and an update removes them:
    /// '--external-supervisor', which Hermes 0.16 refuses (exit 2 at every start), and HERMES_SUPERVISED_CHILD, which
    /// nothing reads (HERMES_S6_SUPERVISED_CHILD replaces it).
    /// </remarks>
    public static DefinitionRequest From(ServiceDefinition d) => new()
    {
        Platform = d.Platform,
        Scope = d.Scope,
        Name = d.Name,
        Profile = d.Profile,
        Description = d.Description,
        HermesHome = d.HermesHome,
        Executable = d.Executable,
        Arguments = [.. d.Arguments.Where(a => a != RetiredFlag)],
        WorkingDirectory = d.WorkingDirectory,
        Environment = [.. d.Environment.Where(v => v.Name != RetiredVariable)],
        EnvironmentFile = d.EnvironmentFile,
        User = d.User,
        Group = d.Group,
        StandardOutPath = d.StandardOutPath,
        StandardErrorPath = d.StandardErrorPath,

        // A longer stop timeout is a deliberate drain budget and kept; a shorter one is what kills drains (stale units).
        StopTimeout = d.StopTimeout >= GatewayExitContract.Hermes.DrainTimeout + ServiceDefinitionFactory.StopHeadroom ? d.StopTimeout : null,
    };
}
