using System.Text.RegularExpressions;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>systemd's unit files (systemd.unit(5), systemd.service(5)).</summary>
public sealed partial class SystemdFormat : IServiceFormat
{
    public static readonly SystemdFormat Instance = new();

    private SystemdFormat()
    {
    }

    public ServicePlatform Platform => ServicePlatform.Systemd;

    public string Supervisor => "systemd";

    public string Noun => "unit";

    public string Extension => ".service";

    public string BaseName => ServiceDefinitionFactory.SystemdBaseName;

    public ServiceScope UserScope => ServiceScope.User;

    public ServiceScope SystemScope => ServiceScope.System;

    public bool HasEnvironmentFile => true;

    public string MissingDirectoryEffect => "systemd ends every start with status 200/CHDIR and retries it forever";

    public string EmptyDocument => "[Service]\n";

    public IReadOnlyList<ScenarioLimitation> Limitations => [];

    /// <summary>RestartSteps= (and with it the exponential delay) came with systemd 254; without it, 252's rules.</summary>
    public EvaluationOptions EvaluationOptionsFor(ServiceDefinition definition) =>
        new() { SystemdVersion = definition.Systemd is { RestartSteps: > 0 } ? 254 : EvaluationOptions.DefaultSystemdVersion };

    [GeneratedRegex("^[A-Za-z0-9:_.\\\\-]+\\z")]
    private static partial Regex UnitNameRule();

    /// <summary>
    /// A unit name (no '@', at most 255 characters with '.service') that does not start with '-', which systemctl and
    /// the unit's own ExecStopPost= would read as an option.
    /// </summary>
    public void ValidateName(string name)
    {
        if (name.Length + Extension.Length > 255 || !UnitNameRule().IsMatch(name) || name.StartsWith('-') || name.Contains('@', StringComparison.Ordinal))
        {
            throw new HermesException(HermesErrorIds.NameInvalid, HermesErrorCategory.InvalidArgument,
                $"'{name}' is not a valid service unit name (letters, digits, ':', '_', '.', '-' and '\\', not starting with '-', which systemctl would read as an option; no '@'; at most 255 characters with '.service').", name);
        }
    }

    public ServiceDefinition Complete(ServiceDefinition common, DefinitionRequest request, GatewayExitContract contract, TimeSpan drain) => common with
    {
        Description = request.Description ?? "Hermes Agent gateway" + (request.Profile is null ? string.Empty : $" ({request.Profile})"),
        StopTimeout = request.StopTimeout ?? drain + ServiceDefinitionFactory.StopHeadroom,
        Systemd = Defaults(request.SystemdVersion, contract, common.Scope == SystemScope),
    };

    /// <summary>
    /// The systemd restart settings, chosen with the model (see the tests that weigh the alternatives): planned
    /// restarts forced and successful, configuration errors prevented, no start limit that could abandon a crash
    /// loop, and a restart delay short enough for planned restarts but long enough to back off. From 254 the delay
    /// grows exponentially, capped at the 5 s a planned restart may wait (NRestarts only grows between manual
    /// starts, so a larger cap would slow every later planned restart).
    /// </summary>
    public static SystemdRestartOptions Defaults(int version, GatewayExitContract contract, bool systemScope) => new()
    {
        Restart = RestartPolicy.OnFailure,
        RestartSec = version >= 254 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(2),
        RestartSteps = version >= 254 ? 3 : 0,
        RestartMaxDelay = version >= 254 ? TimeSpan.FromSeconds(5) : null,
        StartLimitInterval = TimeSpan.Zero,
        SuccessExitStatus = ExitStatusSet.Of(contract.RestartExitCode),
        RestartForceExitStatus = ExitStatusSet.Of(contract.RestartExitCode),
        // A configuration-error code shared with the planned stop (Hermes 0.16: 0) is not restarted by on-failure anyway;
        // the documented 78 is then kept, so the unit also holds for a gateway that exits with it.
        RestartPreventExitStatus = ExitStatusSet.Of(contract.ConfigErrorIsPlannedStopCode ? GatewayExitContract.Documented.ConfigErrorExitCode : contract.ConfigErrorExitCode),
        KillMode = KillMode.Mixed,
        KillSignal = contract.StopSignal,
        ReloadSignal = contract.RestartSignal,
        WantedBy = [systemScope ? "multi-user.target" : "default.target"],
    };

    public string Render(ServiceDefinition definition) => SystemdUnitRenderer.Render(definition);

    public ServiceConfiguration Parse(string text, string path, int systemdVersion) => new SystemdConfiguration(SystemdUnitReader.Parse(text, path, systemdVersion));

    public ServiceConfiguration ReadFile(string path, int systemdVersion) => new SystemdConfiguration(SystemdUnitReader.ReadFile(path, systemdVersion));

    public string ReadText(string path) => TextFiles.DecodeText(TextFiles.ReadBytes(path), path);

    public ServiceDefinition ToDefinition(ServiceConfiguration configuration, SpecifierContext? specifiers) =>
        SystemdDefinitionReader.FromUnit(((SystemdConfiguration)configuration).Unit, specifiers);

    /// <summary>After the header comment of the unit.</summary>
    public string AddComment(string text, string stamp)
    {
        var lines = text.Split('\n').ToList();
        lines.Insert(Math.Min(1, lines.Count), "# " + stamp);
        return string.Join('\n', lines);
    }

    /// <summary>Assignments in file order; an empty assignment resets a list, as systemd reads it.</summary>
    public Dictionary<(string Section, string Setting), List<string>> Settings(string text, string path)
    {
        var map = new Dictionary<(string Section, string Setting), List<string>>();
        foreach (var e in UnitFileDocument.Parse(text, path).Entries)
        {
            if (e.Value.Length == 0 && map.TryGetValue((e.Section, e.Key), out var reset))
            {
                reset.Clear(); // an empty assignment resets a list
                continue;
            }

            foreach (var value in Normalise(e))
            {
                if (!map.TryGetValue((e.Section, e.Key), out var values))
                {
                    map[(e.Section, e.Key)] = values = [];
                }

                values.Add(value);
            }
        }

        return map;
    }

    public bool IsUnordered(string setting) => Unordered.Contains(setting);

    /// <summary>
    /// Values as systemd reads them, so spelling does not count as change: one value per assignment of
    /// Environment= (unquoted) and per unit name of dependency lists.
    /// </summary>
    private static IEnumerable<string> Normalise(UnitEntry e) => e.Key switch
    {
        "Environment" when SystemdValues.TrySplitCommandLine(e.Value, out var prefix, out var words) && prefix.Length == 0 => words,
        _ when Unordered.Contains(e.Key) => e.Value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries),
        _ when e.Key.EndsWith("Sec", StringComparison.Ordinal) && SystemdValues.TryParseTimeSpan(e.Value, out var span) => [SystemdValues.FormatTimeSpan(span)],
        _ => [e.Value],
    };

    /// <summary>List settings whose order does not change what systemd does.</summary>
    private static readonly HashSet<string> Unordered = new(StringComparer.Ordinal)
    {
        "Environment", "After", "Before", "Wants", "Requires", "WantedBy", "RequiredBy",
    };
}
