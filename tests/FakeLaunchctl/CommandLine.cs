using System.Globalization;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Policy;

namespace HermesGateway.FakeLaunchctl;

/// <summary>gui/&lt;uid&gt;, user/&lt;uid&gt; or system: the domains this test double models.</summary>
internal sealed record DomainTarget(LaunchdDomainKind Kind, uint Uid)
{
    public string Name => LaunchctlClient.Domain(Kind, Uid);

    /// <summary>How launchctl names the domain in "Could not find service ... in domain for ...".</summary>
    public string Description => Kind switch
    {
        LaunchdDomainKind.Gui => $"user gui: {Uid.ToString(CultureInfo.InvariantCulture)}",
        LaunchdDomainKind.User => $"user: {Uid.ToString(CultureInfo.InvariantCulture)}",
        _ => "system",
    };

    public static DomainTarget? Parse(string text)
    {
        if (text is "system" or "system/")
        {
            return new DomainTarget(LaunchdDomainKind.System, 0);
        }

        var parts = text.TrimEnd('/').Split('/');
        if (parts.Length != 2 || !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
        {
            return null;
        }

        return parts[0] switch
        {
            "gui" => new DomainTarget(LaunchdDomainKind.Gui, uid),
            "user" => new DomainTarget(LaunchdDomainKind.User, uid),
            _ => null,
        };
    }
}

/// <summary>&lt;domain-target&gt;/&lt;label&gt;.</summary>
internal sealed record ServiceTarget(DomainTarget Domain, string Label)
{
    public string Name => LaunchctlClient.Target(Domain.Name, Label);

    public static ServiceTarget? Parse(string text)
    {
        string domain;
        string label;
        if (text.StartsWith("system/", StringComparison.Ordinal))
        {
            domain = "system";
            label = text["system/".Length..];
        }
        else
        {
            var parts = text.Split('/', 3);
            if (parts.Length != 3)
            {
                return null;
            }

            domain = parts[0] + "/" + parts[1];
            label = parts[2];
        }

        return label.Length == 0 || label.Contains('/', StringComparison.Ordinal) || DomainTarget.Parse(domain) is not { } d ? null : new ServiceTarget(d, label);
    }
}

internal enum Verb
{
    Bootstrap,
    Bootout,
    Enable,
    Disable,
    Kickstart,
    PrintDomain,
    PrintService,
    PrintDisabled,
    Kill,
    Submit,
    Remove,
}

/// <summary>One launchctl(1) command line, in exactly the forms the engine uses (launchctl(1), "SUBCOMMANDS").</summary>
internal sealed record Command(Verb Verb, DomainTarget Domain, ServiceTarget? Service = null, IReadOnlyList<string>? Paths = null, bool KillFirst = false, bool PrintPid = false, string? Signal = null)
{
    /// <summary>submit: the job's program and arguments; its stdout and stderr files.</summary>
    public IReadOnlyList<string>? ProgramArguments { get; init; }

    public string? StandardOutPath { get; init; }

    public string? StandardErrorPath { get; init; }

    /// <summary>
    /// The legacy subcommands (submit, remove) act on the caller's own session: gui/&lt;euid&gt;, or user/&lt;euid&gt;
    /// where there is no GUI session. Parse names gui/&lt;euid&gt;; the daemon settles it with the domain facts.
    /// </summary>
    public static DomainTarget CallerSession(bool noGuiSession) =>
        new(noGuiSession ? LaunchdDomainKind.User : LaunchdDomainKind.Gui, Native.GetEuid());

    /// <summary>The same command aimed at another domain, its service target with it (submit and remove, in the caller's session).</summary>
    public Command InDomain(DomainTarget domain) => this with { Domain = domain, Service = Service! with { Domain = domain } };

    public static readonly IReadOnlyDictionary<string, string> Usages = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["bootstrap"] = "Usage: launchctl bootstrap <domain-target> [service-path, service-path2, ...]",
        ["bootout"] = "Usage: launchctl bootout <service-target>",
        ["enable"] = "Usage: launchctl enable <service-target>",
        ["disable"] = "Usage: launchctl disable <service-target>",
        ["kickstart"] = "Usage: launchctl kickstart [-k] [-p] <service-target>",
        ["print"] = "Usage: launchctl print <domain-target> | <service-target>",
        ["print-disabled"] = "Usage: launchctl print-disabled <domain-target>",
        ["kill"] = "Usage: launchctl kill <signal-name | signal-number> <service-target>",
        ["submit"] = "Usage: launchctl submit -l <label> [-o <stdout-path>] [-e <stderr-path>] -- <command> [<args> ...]",
        ["remove"] = "Usage: launchctl remove <label>",
    };

    /// <summary>The command, or the usage text to print with exit 64 (EX_USAGE).</summary>
    public static (Command? Command, string? Usage) Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            return (null, GeneralUsage());
        }

        var verb = args[0];
        if (!Usages.TryGetValue(verb, out var usage))
        {
            return (null, $"Unrecognized subcommand: {verb}\n" + GeneralUsage());
        }

        var rest = args.Skip(1).ToList();
        (Command?, string?) Bad(string? why = null) => (null, (why is null ? string.Empty : why + "\n") + usage);
        switch (verb)
        {
            case "bootstrap":
                if (rest.Count < 2 || DomainTarget.Parse(rest[0]) is not { } bd)
                {
                    return Bad();
                }

                return (new Command(Verb.Bootstrap, bd, Paths: rest.Skip(1).ToList()), null);

            case "bootout" or "enable" or "disable":
                if (rest.Count != 1 || ServiceTarget.Parse(rest[0]) is not { } st)
                {
                    return Bad(rest.Count == 1 && DomainTarget.Parse(rest[0]) is not null
                        ? "fake-launchctl (a test double) does not model booting out or toggling a whole domain."
                        : null);
                }

                return (new Command(verb switch { "bootout" => Verb.Bootout, "enable" => Verb.Enable, _ => Verb.Disable }, st.Domain, st), null);

            case "kickstart":
            {
                bool k = false, p = false;
                var i = 0;
                for (; i < rest.Count && rest[i].StartsWith('-') && rest[i].Length > 1; i++)
                {
                    foreach (var c in rest[i][1..])
                    {
                        switch (c)
                        {
                            case 'k': k = true; break;
                            case 'p': p = true; break;
                            default: return Bad($"Unrecognized option: -{c}");
                        }
                    }
                }

                if (rest.Count - i != 1 || ServiceTarget.Parse(rest[i]) is not { } kt)
                {
                    return Bad();
                }

                return (new Command(Verb.Kickstart, kt.Domain, kt, KillFirst: k, PrintPid: p), null);
            }

            case "print":
                if (rest.Count != 1)
                {
                    return Bad();
                }

                if (ServiceTarget.Parse(rest[0]) is { } pt)
                {
                    return (new Command(Verb.PrintService, pt.Domain, pt), null);
                }

                return DomainTarget.Parse(rest[0]) is { } pd ? (new Command(Verb.PrintDomain, pd), null) : Bad();

            case "submit":
            {
                string? label = null, stdout = null, stderr = null;
                var i = 0;
                for (; i < rest.Count && rest[i] != "--"; i += 2)
                {
                    if (i + 1 >= rest.Count)
                    {
                        return Bad();
                    }

                    switch (rest[i])
                    {
                        case "-l": label = rest[i + 1]; break;
                        case "-o": stdout = rest[i + 1]; break;
                        case "-e": stderr = rest[i + 1]; break;
                        default: return Bad($"Unrecognized option: {rest[i]} (fake-launchctl models -l, -o and -e)");
                    }
                }

                if (label is null || label.Length == 0 || i >= rest.Count || i + 1 >= rest.Count)
                {
                    return Bad();
                }

                return (new Command(Verb.Submit, CallerSession(noGuiSession: false), new ServiceTarget(CallerSession(false), label))
                {
                    ProgramArguments = rest.Skip(i + 1).ToList(),
                    StandardOutPath = stdout,
                    StandardErrorPath = stderr,
                }, null);
            }

            case "remove":
                return rest.Count == 1 && rest[0].Length > 0 && !rest[0].Contains('/', StringComparison.Ordinal)
                    ? (new Command(Verb.Remove, CallerSession(false), new ServiceTarget(CallerSession(false), rest[0])), null)
                    : Bad();

            case "print-disabled":
                return rest.Count == 1 && DomainTarget.Parse(rest[0]) is { } dd ? (new Command(Verb.PrintDisabled, dd), null) : Bad();

            default: // kill
                if (rest.Count != 2 || ServiceTarget.Parse(rest[1]) is not { } kt2)
                {
                    return Bad();
                }

                return (new Command(Verb.Kill, kt2.Domain, kt2, Signal: rest[0]), null);
        }
    }

    public static string GeneralUsage() =>
        "Usage: launchctl <subcommand> ... | help [subcommand]\n" +
        "Subcommands modelled by fake-launchctl (a TEST DOUBLE of launchctl/launchd, not Apple's launchctl):\n" +
        string.Join('\n', Usages.Values.Select(u => "\t" + u["Usage: launchctl ".Length..]));

    public static string Help() =>
        "fake-launchctl: a TEST DOUBLE of launchctl(1) and launchd for Linux test runs of HermesGateway.\n" +
        "It is not Apple's launchctl and manages no macOS service. It keeps job state in $FAKE_LAUNCHD_STATE,\n" +
        "runs each bootstrapped plist's ProgramArguments under a fake launchd daemon, and decides relaunches with\n" +
        "HermesGateway.Core's LaunchdModel (KeepAlive, ThrottleInterval, ExitTimeOut, bootout, kickstart, disable,\n" +
        "on-demand-only domains). See tests/FakeLaunchctl/README.md.\n\n" +
        GeneralUsage() + "\n\n" +
        "Environment:\n" +
        "\tFAKE_LAUNCHD_STATE   state directory (required); domain.json there sets the domain facts:\n" +
        "\t                     {\"noGuiSession\": false, \"onDemandOnly\": false, \"idleExitSeconds\": 30}\n" +
        "Exit codes as launchctl: 0 ok, 2 no such file, 3/113 service not found, 5 input/output error (already\n" +
        "loaded, disabled, unloadable plist), 64 usage, 125 gui domain without a GUI session.\n";
}
