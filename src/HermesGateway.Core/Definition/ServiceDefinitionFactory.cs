using System.Collections.Immutable;
using System.Text.RegularExpressions;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>Builds definitions with Hermes' conventions, checking every value before anything is rendered.</summary>
public static partial class ServiceDefinitionFactory
{
    /// <summary>Time the supervisor waits beyond the gateway's own shutdown deadline before SIGKILL.</summary>
    public static readonly TimeSpan StopHeadroom = TimeSpan.FromSeconds(30);

    public const string SystemdBaseName = "hermes-gateway";
    public const string LaunchdBaseLabel = "ai.hermes.gateway";

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}\\z")]
    private static partial Regex ProfileRule();

    [GeneratedRegex("^([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10})\\z")]
    private static partial Regex AccountRule();

    /// <summary>Hermes' own name for a profile's service: hermes-gateway[-profile] (systemd), ai.hermes.gateway[-profile] (launchd).</summary>
    public static string DefaultName(ServicePlatform platform, string? profile) =>
        ServiceFormats.For(platform).BaseName + (profile is null ? string.Empty : "-" + profile);

    /// <summary>Hermes' own name for a profile's service under every supervisor (a host decides which one it runs).</summary>
    public static IReadOnlyList<string> DefaultNames(string? profile) => [.. ServiceFormats.All.Select(f => DefaultName(f.Platform, profile))];

    /// <summary>Whether <paramref name="name"/> is a name Hermes accepts for a profile.</summary>
    public static bool IsProfileName(string? name) => name is not null && ProfileRule().IsMatch(name);

    /// <summary>Hermes' default HERMES_HOME for a user: ~/.hermes, or ~/.hermes/profiles/&lt;profile&gt; for a profile.</summary>
    public static string DefaultHermesHome(string homeDirectory, string? profile) =>
        homeDirectory.TrimEnd('/') + "/.hermes" + (profile is null ? string.Empty : "/profiles/" + profile);

    public static ServiceDefinition Create(DefinitionRequest r)
    {
        var contract = (r.Contract ?? GatewayExitContract.Hermes).Validated();
        SystemdUnitReader.ValidateVersion(r.SystemdVersion);
        var format = ServiceFormats.For(r.Platform);
        var scope = r.Scope ?? format.UserScope;
        if (scope != format.UserScope && scope != format.SystemScope)
        {
            throw Invalid($"Scope {scope} does not exist for {r.Platform}: systemd has User and System, launchd has Agent and Daemon.", scope);
        }

        var system = scope == format.SystemScope;
        if (r.Profile is not null && !IsProfileName(r.Profile))
        {
            throw new HermesException(HermesErrorIds.NameInvalid, HermesErrorCategory.InvalidArgument,
                $"Profile '{r.Profile}' does not match Hermes' profile rule ^[a-z0-9][a-z0-9_-]{{0,63}}$.", r.Profile);
        }

        // "relay.service" names the unit relay, as systemctl reads it (not relay.service.service).
        var name = r.Name is { } given ? ServiceFormats.ServiceName(given, format) : DefaultName(r.Platform, r.Profile);
        format.ValidateName(name);

        if (system && string.IsNullOrEmpty(r.User))
        {
            throw Invalid($"A {scope} service needs -User: the gateway should not run as root.", scope);
        }

        if (!system && (r.User is not null || r.Group is not null))
        {
            throw Invalid($"A {scope} service runs as its own user; -User and -Group are for {format.SystemScope} scope.", scope);
        }

        foreach (var (what, account) in new[] { ("User", r.User), ("Group", r.Group) })
        {
            if (account is not null && !AccountRule().IsMatch(account))
            {
                throw new HermesException(HermesErrorIds.NameInvalid, HermesErrorCategory.InvalidArgument,
                    $"{what} '{account}' is not a valid account name (lower-case letters, digits, '_' and '-', or a numeric id).", account);
            }
        }

        var home = r.HermesHome;
        if (home is null)
        {
            if (system || string.IsNullOrEmpty(r.HomeDirectory))
            {
                throw Invalid($"Give -HermesHome: the {scope} service's user home is not known here.", scope);
            }

            home = DefaultHermesHome(r.HomeDirectory, r.Profile);
        }

        RequireAbsolute(home, "HermesHome");
        RequireAbsolute(r.Executable, "Executable");
        var arguments = r.Arguments?.ToImmutableArray() ?? DefaultArguments(r.Profile);
        if (arguments.Contains("--replace"))
        {
            throw Invalid("The gateway must not be started with --replace under a supervisor: it would fight the instance it supervises.", arguments);
        }

        if (!format.HasEnvironmentFile && r.EnvironmentFile is not null)
        {
            throw Invalid($"{format.Supervisor} has no environment file; pass the variables with -Environment.", r.EnvironmentFile);
        }

        var environment = MergeEnvironment(r.Executable, r.Environment);
        var drain = r.DrainTimeout ?? contract.DrainTimeout;
        if (drain < TimeSpan.Zero || drain > GatewayExitContract.MaxDuration || r.StopTimeout < TimeSpan.Zero || r.StopTimeout > GatewayExitContract.MaxDuration)
        {
            throw Invalid($"Drain and stop timeouts are between 0 and {GatewayExitContract.MaxDuration.TotalDays:0} days.", drain);
        }

        var common = new ServiceDefinition
        {
            Platform = r.Platform,
            Scope = scope,
            Name = name,
            Profile = r.Profile,
            HermesHome = home,
            Executable = r.Executable,
            Arguments = arguments,
            WorkingDirectory = r.WorkingDirectory ?? home,
            Environment = environment,
            EnvironmentFile = r.EnvironmentFile,
            User = r.User,
            Group = r.Group,
            StandardOutPath = r.StandardOutPath,
            StandardErrorPath = r.StandardErrorPath,
        };
        var definition = format.Complete(common, r, contract, drain);

        // Render once now: a value no unit or plist can carry fails here, before anything is written.
        _ = ServiceFiles.Render(definition);
        return definition;
    }

    public static ImmutableArray<string> DefaultArguments(string? profile)
    {
        var args = ImmutableArray.CreateBuilder<string>();
        if (profile is not null)
        {
            args.Add("--profile");
            args.Add(profile);
        }

        // No '--external-supervisor' under launchd: Hermes 0.16 has no such flag (argparse exits 2 at every start), and
        // launchd's XPC_SERVICE_NAME already tells the gateway that a supervisor runs it.
        args.Add("gateway");
        args.Add("run");
        return args.ToImmutable();
    }

    private static ImmutableArray<EnvironmentVariable> MergeEnvironment(string executable, IReadOnlyList<EnvironmentVariable>? extra)
    {
        var dir = executable[..Math.Max(1, executable.LastIndexOf('/'))];
        var list = new List<EnvironmentVariable>
        {
            new("PATH", string.Join(':', new[] { dir, "/usr/local/bin", "/usr/bin", "/bin" }.Distinct())),
            // Hermes 0.16 reads this as "a supervisor runs me": no refusal because a service for this profile
            // already runs (that service is this one), and no following of ~/.hermes/active_profile.
            new("HERMES_S6_SUPERVISED_CHILD", "1"),
        };
        foreach (var v in extra ?? [])
        {
            if (!SystemdEscaping.IsEnvironmentName(v.Name))
            {
                throw new HermesException(HermesErrorIds.NameInvalid, HermesErrorCategory.InvalidArgument,
                    $"'{v.Name}' is not a valid environment variable name.", v.Name);
            }

            if (v.Name == "HERMES_HOME")
            {
                throw Invalid("Set HERMES_HOME with -HermesHome, not in -Environment.", v);
            }

            RefuseOverlongEnvironmentString(v);
            var at = list.FindIndex(x => x.Name == v.Name);
            if (at >= 0)
            {
                list[at] = v;
            }
            else
            {
                list.Add(v);
            }
        }

        return [.. list];
    }

    /// <summary>
    /// The kernel's limit for one string of a new program's environment (MAX_ARG_STRLEN: 32 pages, 128 KiB with 4 KiB
    /// pages): a NAME=value of that length or more loads into the unit, but every start then fails in execve (E2BIG,
    /// status 203/EXEC) and is retried forever.
    /// </summary>
    public const int MaxEnvironmentString = 32 * 4096;

    /// <summary>Refuses a variable whose NAME=value the kernel would not pass to the gateway.</summary>
    public static void RefuseOverlongEnvironmentString(EnvironmentVariable v)
    {
        var bytes = System.Text.Encoding.UTF8.GetByteCount(v.Name) + 1 + System.Text.Encoding.UTF8.GetByteCount(v.Value);
        if (bytes >= MaxEnvironmentString)
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"{v.Name}=... is {bytes} bytes; the kernel passes no environment string of {MaxEnvironmentString} bytes (128 KiB, MAX_ARG_STRLEN) or more to a program, so every start would fail with 203/EXEC. Pass a value this long in a file the gateway reads instead.", v.Name);
        }
    }

    /// <summary>
    /// Refuses a service name the supervisor would not take as a name: for systemd a unit name (no '@', at most 255
    /// characters with '.service') that does not start with '-', which systemctl and the unit's own ExecStopPost= would
    /// read as an option; for launchd a label starting with a letter or digit.
    /// </summary>
    public static void ValidateName(string name, ServicePlatform platform) => ServiceFormats.For(platform).ValidateName(name);

    private static void RequireAbsolute(string path, string what)
    {
        if (string.IsNullOrEmpty(path) || !path.StartsWith('/'))
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"{what} '{path}' is not an absolute path.", path);
        }
    }

    private static HermesException Invalid(string message, object? target) =>
        new(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidArgument, message, target);
}
