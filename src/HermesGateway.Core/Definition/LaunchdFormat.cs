using System.Globalization;
using System.Text.RegularExpressions;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>launchd's property lists (launchd.plist(5)), XML or binary.</summary>
public sealed partial class LaunchdFormat : IServiceFormat
{
    public static readonly LaunchdFormat Instance = new();

    private static readonly ScenarioLimitation[] Unmet =
    [
        new(LifecycleScenario.ConfigError,
            "launchd has no equivalent of RestartPreventExitStatus=: KeepAlive tells only exit 0 from everything else, so a gateway that exits 78 (the documented contract) is relaunched like exit 1, every ThrottleInterval, forever (Hermes 0.16 exits 0 with 'startup_failed', which KeepAlive { SuccessfulExit = false } leaves stopped)"),
        new(LifecycleScenario.OnDemandOnlyRestart,
            "while the GUI domain is in on-demand-only mode launchd pends every KeepAlive respawn; only an explicit 'launchctl kickstart' after the exit brings the gateway back"),
    ];

    private LaunchdFormat()
    {
    }

    public ServicePlatform Platform => ServicePlatform.Launchd;

    public string Supervisor => "launchd";

    public string Noun => "plist";

    public string Extension => ".plist";

    public string BaseName => ServiceDefinitionFactory.LaunchdBaseLabel;

    public ServiceScope UserScope => ServiceScope.Agent;

    public ServiceScope SystemScope => ServiceScope.Daemon;

    public bool HasEnvironmentFile => false;

    public string MissingDirectoryEffect => "launchd cannot spawn it";

    public string EmptyDocument => "<plist version=\"1.0\"><dict/></plist>";

    public IReadOnlyList<ScenarioLimitation> Limitations => Unmet;

    public EvaluationOptions EvaluationOptionsFor(ServiceDefinition definition) => new();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*\\z")]
    private static partial Regex LabelRule();

    /// <summary>A label starting with a letter or digit.</summary>
    public void ValidateName(string name)
    {
        if (name.Length > 255 || !LabelRule().IsMatch(name))
        {
            throw new HermesException(HermesErrorIds.NameInvalid, HermesErrorCategory.InvalidArgument,
                $"'{name}' is not a valid launchd label (letters, digits, '.', '_' and '-', starting with a letter or digit).", name);
        }
    }

    public ServiceDefinition Complete(ServiceDefinition common, DefinitionRequest request, GatewayExitContract contract, TimeSpan drain) => common with
    {
        StandardOutPath = request.StandardOutPath ?? common.HermesHome + "/logs/gateway.log",
        StandardErrorPath = request.StandardErrorPath ?? common.HermesHome + "/logs/gateway.error.log",
        // ExitTimeOut is whole seconds: round up so the plist never waits less than asked.
        StopTimeout = TimeSpan.FromSeconds(Math.Ceiling((request.StopTimeout ?? drain + ServiceDefinitionFactory.StopHeadroom).TotalSeconds)),
        Launchd = new LaunchdRestartOptions(),
    };

    public string Render(ServiceDefinition definition) => LaunchdPlistRenderer.Render(definition);

    public ServiceConfiguration Parse(string text, string path, int systemdVersion) => new LaunchdConfiguration(LaunchdJobReader.Parse(text, path));

    public ServiceConfiguration ReadFile(string path, int systemdVersion) => new LaunchdConfiguration(LaunchdJobReader.ReadFile(path));

    public string ReadText(string path)
    {
        var bytes = TextFiles.ReadBytes(path);
        return PlistReader.LooksBinary(bytes) ? PlistWriter.ToXml(BinaryPlistReader.Parse(bytes, path)) : TextFiles.DecodeText(bytes, path);
    }

    public ServiceDefinition ToDefinition(ServiceConfiguration configuration, SpecifierContext? specifiers) =>
        LaunchdDefinitionReader.FromJob(((LaunchdConfiguration)configuration).Job);

    /// <summary>After the DOCTYPE (a comment before it would be invalid XML).</summary>
    public string AddComment(string text, string stamp)
    {
        var lines = text.Split('\n').ToList();
        lines.Insert(Math.Min(2, lines.Count), $"<!-- {stamp} -->");
        return string.Join('\n', lines);
    }

    /// <summary>Keys flattened with dots ("KeepAlive.SuccessfulExit"); a plist has no sections.</summary>
    public Dictionary<(string Section, string Setting), List<string>> Settings(string text, string path)
    {
        var map = new Dictionary<(string Section, string Setting), List<string>>();
        if (PlistReader.ParseXml(text, path) is PlistDict dict)
        {
            Flatten(dict, string.Empty, (section, setting, value) =>
            {
                if (!map.TryGetValue((section, setting), out var values))
                {
                    map[(section, setting)] = values = [];
                }

                values.Add(value);
            });
        }

        return map;
    }

    public bool IsUnordered(string setting) => false;

    private static void Flatten(PlistDict dict, string prefix, Action<string, string, string> add)
    {
        foreach (var key in dict.Keys)
        {
            var value = dict[key]!;
            if (value is PlistDict inner && inner.Entries.Length > 0)
            {
                Flatten(inner, prefix + key + ".", add);
            }
            else
            {
                add(string.Empty, prefix + key, Show(value));
            }
        }
    }

    private static string Show(PlistValue v) => v switch
    {
        PlistString s => s.Value,
        PlistInteger i => i.Value.ToString(CultureInfo.InvariantCulture),
        PlistReal r => r.Value.ToString("R", CultureInfo.InvariantCulture),
        PlistBoolean b => b.Value ? "true" : "false",
        PlistDate d => d.Value.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        PlistData d => Convert.ToBase64String(d.Value.AsSpan()),
        PlistArray a => "[" + string.Join(", ", a.Items.Select(Show)) + "]",
        PlistDict d => "{" + string.Join(", ", d.Keys.Select(k => k + " = " + Show(d[k]!))) + "}",
        _ => v.ToString()!,
    };
}
