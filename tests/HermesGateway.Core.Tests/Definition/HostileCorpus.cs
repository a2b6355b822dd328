using System.Collections.Immutable;

namespace HermesGateway.Core.Tests.Definition;

/// <summary>Which value of the request a hostile input goes into.</summary>
internal enum HostileField
{
    Name,
    Profile,
    User,
    Group,
    HermesHome,
    Executable,
    WorkingDirectory,
    EnvironmentFile,
    StandardOutPath,
    StandardErrorPath,
    Argument,
    EnvironmentValue,
    EnvironmentName,
}

/// <summary>
/// One hostile input and the decision for each platform: null = it renders and reads back exactly, otherwise the
/// error id <see cref="ServiceDefinitionFactory.Create"/> refuses it with. "{root}" in a value is replaced by the
/// folder the test works in (a fixed one for the offline tests, a fresh one under /tmp for real systemd).
/// </summary>
internal sealed record HostileInput(string Id, HostileField Field, string Value, string? SystemdRefusal, string? LaunchdRefusal)
{
    public string? Refusal(ServicePlatform platform) => platform == ServicePlatform.Systemd ? SystemdRefusal : LaunchdRefusal;

    public string ValueIn(string root) => Value.Replace("{root}", root, StringComparison.Ordinal);

    public override string ToString() => Id;
}

internal static class HostileCorpus
{
    /// <summary>The root the offline tests use; nothing is created there.</summary>
    public const string OfflineRoot = "/srv/hermes-hostile";

    /// <summary>The account created inside the sandbox for system-scope cases.</summary>
    public const string SandboxUser = "hostileuser";

    private const string? Ok = null;
    private const string NR = HermesErrorIds.ValueNotRepresentable;
    private const string NI = HermesErrorIds.NameInvalid;
    private const string DI = HermesErrorIds.DefinitionInvalid;

    /// <summary>
    /// The payload real systemd runs: python3 -c SCRIPT OUT ARGS... writes its argv (after OUT), its environment, its
    /// working directory, its own argv[0] and its uid/gid as hex of the raw bytes (so nothing is decoded on the way), then marks
    /// stdout and stderr. One line, no newline: it is itself an ExecStart= argument.
    /// </summary>
    public const string DumpScript =
        "import sys,os,json;b=[os.fsencode(a) for a in sys.argv];o=b[1].decode();" +
        "d={'argv':[x.hex() for x in b[2:]],'env':{k.hex():v.hex() for k,v in os.environb.items()}," +
        "'cwd':os.fsencode(os.getcwd()).hex(),'argv0':os.fsencode(sys.orig_argv[0]).hex(),'uid':os.getuid(),'gid':os.getgid()};" +
        "print('hermes-stdout-mark',flush=True);print('hermes-stderr-mark',file=sys.stderr,flush=True);" +
        "t=o+'.tmp';f=open(t,'w');json.dump(d,f);f.close();os.rename(t,o)";

    public const string EnvironmentFileVariable = "HOSTILE_ENVFILE";

    public const string EnvironmentFileValue = "loaded from the file";

    private static readonly string LongMixed = string.Concat(Enumerable.Repeat("a%$\"\\ ;'<&>]]>é😀\t", 700)); // 10 KB+ of everything
    private static readonly string LongEnv = new string('v', 6000) + "%h $X ${Y} $$ \\ \" ' ; <&> " + new string('w', 6000);

    public static readonly ImmutableArray<HostileInput> All =
    [
        // Names: the unit name / launchd label.
        new("name-plain", HostileField.Name, "hostile.name_ok-1", Ok, Ok),
        new("name-colon", HostileField.Name, "hostile:colon", Ok, NI),
        new("name-backslash", HostileField.Name, "hostile\\x2dbs", Ok, NI),
        new("name-space", HostileField.Name, "hostile name", NI, NI),
        new("name-slash", HostileField.Name, "hostile/../name", NI, NI),
        new("name-at", HostileField.Name, "hostile@instance", NI, NI),
        new("name-newline", HostileField.Name, "hostile\nname", NI, NI),
        new("name-trailing-newline", HostileField.Name, "hostile-nl\n", NI, NI),
        new("name-empty", HostileField.Name, string.Empty, NI, NI),
        new("name-too-long", HostileField.Name, new string('n', 300), NI, NI),
        new("name-unicode", HostileField.Name, "hostile-ü", NI, NI),
        new("name-dollar", HostileField.Name, "hostile$x", NI, NI),

        // Profiles (they also name the service and go into the arguments).
        new("profile-ok", HostileField.Profile, "work_1-x", Ok, Ok),
        new("profile-upper", HostileField.Profile, "Work", NI, NI),
        new("profile-dash-first", HostileField.Profile, "-work", NI, NI),
        new("profile-space", HostileField.Profile, "my work", NI, NI),
        new("profile-traversal", HostileField.Profile, "../etc", NI, NI),
        new("profile-too-long", HostileField.Profile, new string('p', 65), NI, NI),
        new("profile-empty", HostileField.Profile, string.Empty, NI, NI),
        new("profile-trailing-newline", HostileField.Profile, "work\n", NI, NI),
        new("profile-percent", HostileField.Profile, "w%h", NI, NI),

        // Accounts (system scope / daemon).
        new("user-ok", HostileField.User, SandboxUser, Ok, Ok),
        new("user-numeric", HostileField.User, "4242", Ok, Ok),
        new("user-space", HostileField.User, "hostile user", NI, NI),
        new("user-upper", HostileField.User, "Hostile", NI, NI),
        new("user-colon", HostileField.User, "a:b", NI, NI),
        new("user-trailing-newline", HostileField.User, "hostileuser\n", NI, NI),
        new("user-empty", HostileField.User, string.Empty, DI, DI),
        new("group-ok", HostileField.Group, SandboxUser, Ok, Ok),
        new("group-semicolon", HostileField.Group, "g;rm", NI, NI),
        new("group-percent", HostileField.Group, "%g", NI, NI),

        // HERMES_HOME (also the default working directory and the planned-stop marker's folder).
        new("home-spaces", HostileField.HermesHome, "{root}/home with spaces", Ok, Ok),
        new("home-specifiers", HostileField.HermesHome, "{root}/home%h%%n", Ok, Ok),
        new("home-dollars", HostileField.HermesHome, "{root}/home$HOME${X}$$", Ok, Ok),
        new("home-quotes", HostileField.HermesHome, "{root}/it's \"q\" ;x", Ok, Ok),
        new("home-unicode", HostileField.HermesHome, "{root}/hömé-😀", Ok, Ok),
        new("home-xml", HostileField.HermesHome, "{root}/a<b>&c]]>", Ok, Ok),
        new("home-relative", HostileField.HermesHome, "relative/home", NR, NR),
        new("home-empty", HostileField.HermesHome, string.Empty, NR, NR),
        new("home-newline", HostileField.HermesHome, "{root}/a\nb", NR, Ok),
        new("home-trailing-space", HostileField.HermesHome, "{root}/home ", NR, Ok),
        new("home-trailing-backslash", HostileField.HermesHome, "{root}/home\\", NR, Ok),
        new("home-dotdot", HostileField.HermesHome, "{root}/../home", NR, Ok),
        new("home-double-slash", HostileField.HermesHome, "{root}//home", NR, Ok),

        // The executable.
        new("exe-relative", HostileField.Executable, "python3", NR, NR),
        new("exe-empty", HostileField.Executable, string.Empty, NR, NR),
        new("exe-leading-space", HostileField.Executable, " /usr/bin/python3", NR, NR),
        new("exe-space", HostileField.Executable, "{root}/bin dir/py thon", Ok, Ok),
        new("exe-trailing-space", HostileField.Executable, "{root}/bin/py ", Ok, Ok),
        new("exe-percent", HostileField.Executable, "{root}/bin/py%h%%", Ok, Ok),
        new("exe-quotes", HostileField.Executable, "{root}/bin/py'\"x", NR, Ok),
        new("exe-unicode", HostileField.Executable, "{root}/bin/pŷ-😀", Ok, Ok),
        new("exe-backslash", HostileField.Executable, "{root}/bin/py\\x", NR, Ok),
        new("exe-control", HostileField.Executable, "{root}/bin/py\u001b", NR, NR),
        new("exe-tab", HostileField.Executable, "{root}/bin/py\tx", NR, Ok),
        new("exe-dollar", HostileField.Executable, "{root}/bin/py$X", NR, Ok),
        new("exe-dotdot", HostileField.Executable, "/usr/bin/../bin/python3", NR, Ok),
        new("exe-trailing-slash", HostileField.Executable, "{root}/bin/", NR, Ok),
        new("exe-newline", HostileField.Executable, "{root}/bin/py\nthon", NR, Ok),
        new("exe-nul", HostileField.Executable, "{root}/bin/py\0", NR, NR),

        // The working directory.
        new("wd-tab", HostileField.WorkingDirectory, "{root}/wd\tx", Ok, Ok),
        new("wd-xml", HostileField.WorkingDirectory, "{root}/wd<&>]]>", Ok, Ok),
        new("wd-specifiers-dollars", HostileField.WorkingDirectory, "{root}/wd %n %% $X", Ok, Ok),
        new("wd-backslash", HostileField.WorkingDirectory, "{root}/wd\\x41\\n", Ok, Ok),
        new("wd-trailing-slash", HostileField.WorkingDirectory, "{root}/wd/", NR, Ok),
        new("wd-dot", HostileField.WorkingDirectory, "{root}/./wd", NR, Ok),
        new("wd-relative", HostileField.WorkingDirectory, "wd", NR, Ok),
        new("wd-leading-space", HostileField.WorkingDirectory, " {root}/wd", NR, Ok),
        new("wd-cr", HostileField.WorkingDirectory, "{root}/wd\r", NR, Ok),
        new("wd-long-component", HostileField.WorkingDirectory, "{root}/" + new string('w', 300), NR, Ok),
        new("wd-too-long", HostileField.WorkingDirectory, "{root}" + string.Concat(Enumerable.Repeat("/w", 2100)), NR, Ok),

        // The environment file (systemd only).
        new("envfile-hostile", HostileField.EnvironmentFile, "{root}/env file %h $X ;'\"", Ok, DI),
        new("envfile-backslash", HostileField.EnvironmentFile, "{root}/env\\x41.env", NR, DI),
        new("envfile-glob", HostileField.EnvironmentFile, "{root}/env*.env", NR, DI),
        new("envfile-bracket", HostileField.EnvironmentFile, "{root}/env[1].env", NR, DI),
        new("envfile-relative", HostileField.EnvironmentFile, "gateway.env", NR, DI),
        new("envfile-newline", HostileField.EnvironmentFile, "{root}/env\nfile", NR, DI),

        // Log paths.
        new("stdout-space", HostileField.StandardOutPath, "{root}/logs/out put.log", Ok, Ok),
        new("stdout-specifiers", HostileField.StandardOutPath, "{root}/logs/%n%%$X.log", Ok, Ok),
        new("stdout-backslash", HostileField.StandardOutPath, "{root}/logs/o\\x41\\t.log", Ok, Ok),
        new("stdout-newline", HostileField.StandardOutPath, "{root}/logs/a\nb.log", NR, Ok),
        new("stderr-unicode", HostileField.StandardErrorPath, "{root}/logs/érr-😀 <&>.log", Ok, Ok),
        new("stderr-relative", HostileField.StandardErrorPath, "logs/err.log", NR, Ok),

        // Command-line arguments.
        new("arg-newline", HostileField.Argument, "a\nb", NR, Ok),
        new("arg-cr", HostileField.Argument, "a\rb", NR, Ok),
        new("arg-nul", HostileField.Argument, "a\0b", NR, NR),
        new("arg-single-quote", HostileField.Argument, "it's", Ok, Ok),
        new("arg-double-quote", HostileField.Argument, "say \"hi\"", Ok, Ok),
        new("arg-percent", HostileField.Argument, "100%", Ok, Ok),
        new("arg-specifier", HostileField.Argument, "%h", Ok, Ok),
        new("arg-dollar", HostileField.Argument, "$", Ok, Ok),
        new("arg-braced-variable", HostileField.Argument, "${HOME}", Ok, Ok),
        new("arg-variable", HostileField.Argument, "$HOME", Ok, Ok),
        new("arg-double-dollar", HostileField.Argument, "$$", Ok, Ok),
        new("arg-semicolon-inside", HostileField.Argument, "a;b", Ok, Ok),
        new("arg-lone-semicolon", HostileField.Argument, ";", Ok, Ok),
        new("arg-escaped-semicolon", HostileField.Argument, "\\;", Ok, Ok),
        new("arg-backslash", HostileField.Argument, "a\\b", Ok, Ok),
        new("arg-trailing-backslash", HostileField.Argument, "ab\\", Ok, Ok),
        new("arg-xml", HostileField.Argument, "<a>&b</a>", Ok, Ok),
        new("arg-cdata-end", HostileField.Argument, "]]>", Ok, Ok),
        new("arg-tab", HostileField.Argument, "a\tb", Ok, Ok),
        new("arg-surrounding-spaces", HostileField.Argument, "  lead and trail  ", Ok, Ok),
        new("arg-one-space", HostileField.Argument, " ", Ok, Ok),
        new("arg-hash", HostileField.Argument, "#not a comment", Ok, Ok),
        new("arg-prefix-characters", HostileField.Argument, "-@+!:", Ok, Ok),
        new("arg-unicode", HostileField.Argument, "grüße-日本", Ok, Ok),
        new("arg-emoji", HostileField.Argument, "😀🚀", Ok, Ok),
        new("arg-long", HostileField.Argument, LongMixed, Ok, Ok),
        new("arg-empty", HostileField.Argument, string.Empty, Ok, Ok),
        new("arg-replace", HostileField.Argument, "--replace", DI, DI),
        new("arg-control", HostileField.Argument, "a\u0001b\u001b", Ok, NR),
        new("arg-del", HostileField.Argument, "a\u007fb", Ok, Ok),
        new("arg-c1-control", HostileField.Argument, "a\u0085b\u009f", Ok, Ok),
        new("arg-line-separator", HostileField.Argument, "a\u2028b", Ok, Ok),
        new("arg-lone-high-surrogate", HostileField.Argument, "a\ud800", NR, NR),
        new("arg-lone-low-surrogate", HostileField.Argument, "\udc85b", NR, NR),
        new("arg-noncharacter", HostileField.Argument, "a\ufffe", NR, NR),
        new("arg-noncharacter-fdd0", HostileField.Argument, "\ufdd0", NR, Ok),

        // Environment values.
        new("env-newline", HostileField.EnvironmentValue, "a\nb", NR, Ok),
        new("env-cr", HostileField.EnvironmentValue, "a\rb", NR, Ok),
        new("env-nul", HostileField.EnvironmentValue, "a\0b", NR, NR),
        new("env-quotes", HostileField.EnvironmentValue, "'\"'\"", Ok, Ok),
        new("env-specifiers", HostileField.EnvironmentValue, "%h %% %", Ok, Ok),
        new("env-dollars", HostileField.EnvironmentValue, "$X ${Y} $$ $", Ok, Ok),
        new("env-semicolon", HostileField.EnvironmentValue, ";", Ok, Ok),
        new("env-backslashes", HostileField.EnvironmentValue, "\\a\\\\x\\", Ok, Ok),
        new("env-xml", HostileField.EnvironmentValue, "<&>]]>", Ok, Ok),
        new("env-tab", HostileField.EnvironmentValue, "\t", Ok, Ok),
        new("env-surrounding-spaces", HostileField.EnvironmentValue, "  x  ", Ok, Ok),
        new("env-emoji", HostileField.EnvironmentValue, "😀 ünïcödé", Ok, Ok),
        new("env-long", HostileField.EnvironmentValue, LongEnv, Ok, Ok),
        new("env-empty", HostileField.EnvironmentValue, string.Empty, Ok, Ok),
        new("env-control", HostileField.EnvironmentValue, "\u0001", Ok, NR),
        new("env-c1-control", HostileField.EnvironmentValue, "\u0085", Ok, Ok),
        new("env-lone-surrogate", HostileField.EnvironmentValue, "\ud83d", NR, NR),
        new("env-noncharacter", HostileField.EnvironmentValue, "\ufffe", NR, NR),
        new("env-noncharacter-fdd0", HostileField.EnvironmentValue, "\ufdd0", NR, Ok),

        // Environment names.
        new("envname-dash", HostileField.EnvironmentName, "A-B", NI, NI),
        new("envname-digit-first", HostileField.EnvironmentName, "1A", NI, NI),
        new("envname-empty", HostileField.EnvironmentName, string.Empty, NI, NI),
        new("envname-equals", HostileField.EnvironmentName, "A=B", NI, NI),
        new("envname-unicode", HostileField.EnvironmentName, "Ä", NI, NI),
        new("envname-newline", HostileField.EnvironmentName, "A\nB", NI, NI),
        new("envname-hermes-home", HostileField.EnvironmentName, "HERMES_HOME", DI, DI),
        new("envname-override-path", HostileField.EnvironmentName, "PATH", Ok, Ok),
    ];

    public static readonly IReadOnlyDictionary<string, HostileInput> ById = All.ToDictionary(i => i.Id, StringComparer.Ordinal);

    /// <summary>The request for one input: the dump payload, and the hostile value in its place.</summary>
    public static DefinitionRequest Request(HostileInput input, ServicePlatform platform, string root)
    {
        var systemd = platform == ServicePlatform.Systemd;
        var value = input.ValueIn(root);
        var system = input.Field is HostileField.User or HostileField.Group;
        var arguments = new List<string> { "-c", DumpScript, $"{root}/out/{input.Id}.json" };
        var r = new DefinitionRequest
        {
            Platform = platform,
            Scope = systemd ? (system ? ServiceScope.System : ServiceScope.User) : (system ? ServiceScope.Daemon : ServiceScope.Agent),
            Name = "hostile-" + input.Id,
            Executable = "/usr/bin/python3",
            HermesHome = $"{root}/home",
            User = system ? SandboxUser : null,
            SystemdVersion = 252,
        };

        switch (input.Field)
        {
            case HostileField.Name: r = r with { Name = value }; break;
            case HostileField.Profile:
                r = r with { Name = null, Profile = value };
                arguments.AddRange(["--profile", value]); // the reader takes the profile from the arguments
                break;
            case HostileField.User: r = r with { User = value }; break;
            case HostileField.Group: r = r with { Group = value }; break;
            case HostileField.HermesHome: r = r with { HermesHome = value }; break;
            case HostileField.Executable: r = r with { Executable = value }; break;
            case HostileField.WorkingDirectory: r = r with { WorkingDirectory = value }; break;
            case HostileField.EnvironmentFile: r = r with { EnvironmentFile = value }; break;
            case HostileField.StandardOutPath: r = r with { StandardOutPath = value }; break;
            case HostileField.StandardErrorPath: r = r with { StandardErrorPath = value }; break;
            case HostileField.Argument: arguments.Add(value); break;
            case HostileField.EnvironmentValue: r = r with { Environment = [new("HOSTILE_VALUE", value)] }; break;
            case HostileField.EnvironmentName:
                r = r with { Environment = [new(value, value == "PATH" ? "/usr/bin:/bin" : "x")] };
                break;
        }

        return r with { Arguments = arguments };
    }

    public static IEnumerable<HostileInput> Accepted(ServicePlatform platform) => All.Where(i => i.Refusal(platform) is null);

    /// <summary>
    /// Creates what the accepted inputs point at under <paramref name="root"/>: the executables (symlinks to
    /// python3), working directories, HERMES_HOMEs, environment files and log folders; world-writable so the
    /// system-scope cases' account can write its output.
    /// </summary>
    public static void Prepare(string root, ServicePlatform platform)
    {
        Directory.CreateDirectory(Path.Combine(root, "out"));
        Directory.CreateDirectory(Path.Combine(root, "home"));
        foreach (var input in Accepted(platform))
        {
            var d = ServiceDefinitionFactory.Create(Request(input, platform, root));
            Directory.CreateDirectory(d.HermesHome!);
            if (d.WorkingDirectory is { } wd)
            {
                Directory.CreateDirectory(wd);
            }

            if (d.EnvironmentFile is { } file)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllText(file, $"{EnvironmentFileVariable}={EnvironmentFileValue}\n");
            }

            foreach (var log in new[] { d.StandardOutPath, d.StandardErrorPath })
            {
                if (log is not null)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(log)!);
                }
            }

            if (d.Executable != "/usr/bin/python3" && !File.Exists(d.Executable))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(d.Executable)!);
                File.CreateSymbolicLink(d.Executable, "/usr/bin/python3");
            }
        }

        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Append(root))
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1FF); // 0777
        }
    }
}
