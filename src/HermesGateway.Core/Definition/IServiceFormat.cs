using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>
/// One supervisor's file format: what its files are called, how a definition is written as one and read back, how it
/// is compared, and what it cannot express. <see cref="ServiceFormats"/> picks the implementation once, from the
/// platform; outside the supervisors' own code, only it and ServiceManagers ask which supervisor it is.
/// </summary>
public interface IServiceFormat
{
    ServicePlatform Platform { get; }

    /// <summary>The supervisor as messages name it: "systemd", "launchd".</summary>
    string Supervisor { get; }

    /// <summary>The file as messages name it: "unit", "plist".</summary>
    string Noun { get; }

    /// <summary>The file name's extension, with its dot.</summary>
    string Extension { get; }

    /// <summary>Hermes' own name for the gateway's service, before any "-profile".</summary>
    string BaseName { get; }

    /// <summary>The scope a user's own service has (systemd: User; launchd: Agent).</summary>
    ServiceScope UserScope { get; }

    /// <summary>The scope of a machine-wide service that runs as a named account (systemd: System; launchd: Daemon).</summary>
    ServiceScope SystemScope { get; }

    /// <summary>Whether the format can point the gateway at a file of environment variables.</summary>
    bool HasEnvironmentFile { get; }

    /// <summary>What the supervisor does when the working directory is missing, for the error that refuses a start.</summary>
    string MissingDirectoryEffect { get; }

    /// <summary>The smallest file the supervisor would load, for an install that has to replace an unreadable one.</summary>
    string EmptyDocument { get; }

    /// <summary>The evaluation a definition of this format is judged with (systemd: the oldest version that reads all its settings).</summary>
    EvaluationOptions EvaluationOptionsFor(ServiceDefinition definition);

    /// <summary>Scenarios that no setting of this format can satisfy, and why.</summary>
    IReadOnlyList<ScenarioLimitation> Limitations { get; }

    /// <summary>Refuses a name the supervisor would not take (HermesException NameInvalid).</summary>
    void ValidateName(string name);

    /// <summary>The settings only this supervisor has, chosen for a new definition whose common fields are set.</summary>
    ServiceDefinition Complete(ServiceDefinition common, DefinitionRequest request, GatewayExitContract contract, TimeSpan drain);

    /// <summary>The exact text of the file (no size check: <see cref="ServiceFiles.Render"/> adds it).</summary>
    string Render(ServiceDefinition definition);

    /// <summary>The text as the supervisor would load it.</summary>
    ServiceConfiguration Parse(string text, string path, int systemdVersion);

    /// <summary>The file (and, for a unit, its drop-ins) as the supervisor would load it.</summary>
    ServiceConfiguration ReadFile(string path, int systemdVersion);

    /// <summary>The file as text (a binary plist as its XML form), for comparing settings.</summary>
    string ReadText(string path);

    /// <summary>A file already read, as a definition; <paramref name="specifiers"/> resolve a unit's %-specifiers.</summary>
    ServiceDefinition ToDefinition(ServiceConfiguration configuration, SpecifierContext? specifiers);

    /// <summary>The text with <paramref name="stamp"/> added as a comment where the format allows one near the top.</summary>
    string AddComment(string text, string stamp);

    /// <summary>Every setting of the text, as (section, setting) → values, in the supervisor's own reading.</summary>
    Dictionary<(string Section, string Setting), List<string>> Settings(string text, string path);

    /// <summary>Whether the order of a list setting's values changes nothing for the supervisor.</summary>
    bool IsUnordered(string setting);
}
