namespace HermesGateway.Core.Tests.Differential;

/// <summary>Whether this machine can boot the sde2e sandbox, and where its script is.</summary>
internal static partial class SandboxPreconditions
{
    public const string OverrideVariable = "HERMES_SDE2E";

    private static readonly Lazy<(string? Script, string? SkipReason)> Probe = new(Check);

    /// <summary>The sde2e script, or null when the sandbox cannot be used.</summary>
    public static string? Script => Probe.Value.Script;

    /// <summary>Why the sandbox cannot be used, or null when it can.</summary>
    public static string? SkipReason => Probe.Value.SkipReason;

    private static (string?, string?) Check()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, "needs Linux: sde2e boots the host's systemd in private namespaces");
        }

        // Environment.UserName comes from getpwuid(geteuid()), so it is the effective user.
        if (Environment.UserName != "root")
        {
            return (null, $"needs root to create namespaces and cgroups (running as {Environment.UserName})");
        }

        var script = Locate();
        if (script is null)
        {
            return (null, $"sde2e not found: set {OverrideVariable} or keep ../shared/tools/sde2e beside the repository");
        }

        foreach (var needed in new[] { "/lib/systemd/systemd", "/usr/bin/unshare", "/usr/bin/nsenter", "/usr/bin/script" })
        {
            if (!File.Exists(needed))
            {
                return (null, $"sde2e needs {needed}, which is missing");
            }
        }

        return (script, null);
    }

    private static string? Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return File.Exists(fromEnvironment) ? Path.GetFullPath(fromEnvironment) : null;
        }

        // The repository root is the folder holding the module manifest; sde2e lives in its sibling 'shared'.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HermesGateway.psd1")))
            {
                var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "tools", "sde2e"));
                return File.Exists(candidate) ? candidate : null;
            }
        }

        return null;
    }
}

/// <summary>
/// One private systemd 252 manager (sde2e) shared by the differential tests. It is booted on first use, so a run
/// where every test is skipped never touches namespaces, and it is always torn down on dispose.
/// </summary>
public sealed class SystemdSandbox : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly object gate = new();
    private readonly Lazy<IReadOnlyDictionary<string, CaseObservation>> observations;
    private readonly Lazy<int> version;
    private string? root;
    private bool up;
    private bool disposed;

    public SystemdSandbox()
    {
        observations = new(() => new DifferentialRunner(this).RunAll(DifferentialCatalog.All), LazyThreadSafetyMode.ExecutionAndPublication);
        version = new(ReadVersion, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The temporary folder under /tmp holding the state dir and the payloads (shared with the sandbox).</summary>
    public string Root => root ?? throw new InvalidOperationException("The sandbox is not up.");

    /// <summary>sde2e's STATE directory: units/, console.log, pid.</summary>
    /// <remarks>sde2e names the sandbox's cgroup after this folder's name, so it must be unique among running sandboxes.</remarks>
    public string StateDirectory => Path.Combine(Root, "state-" + Path.GetFileName(Root));

    public string UnitDirectory => Path.Combine(StateDirectory, "units");

    /// <summary>The manager's major version (systemctl --version), so the model is asked about the same release.</summary>
    public int SystemdVersion => version.Value;

    private int ReadVersion()
    {
        EnsureUp();
        var first = Systemctl("--version").StandardOutput.Split('\n')[0]; // "systemd 252 (252.38-1~deb12u1)"
        var words = first.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length > 1 && int.TryParse(words[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidOperationException($"Cannot read the systemd version from '{first}'.");
    }

    /// <summary>What real systemd did for each catalogue case, run once for all tests.</summary>
    internal IReadOnlyDictionary<string, CaseObservation> Observations => observations.Value;

    /// <summary>Boots the manager (idempotent).</summary>
    public void EnsureUp()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (up)
            {
                return;
            }

            var script = SandboxPreconditions.Script ?? throw new InvalidOperationException(SandboxPreconditions.SkipReason);

            // /tmp explicitly: the sandbox shares /tmp with the host, while other folders would be copy-on-write views.
            root = Path.Combine("/tmp", "hermes-sde2e-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(root);
            up = true; // set before booting so Dispose tears down a half-booted manager too
            var result = Programs.Run(script, ["up", StateDirectory], CommandTimeout);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"sde2e up failed ({result.ExitCode}): {result.StandardError}");
            }
        }
    }

    /// <summary>systemctl inside the sandbox.</summary>
    internal ProcessResult Systemctl(params string[] arguments) => Sde2e(["ctl", StateDirectory, .. arguments]);

    /// <summary>Any command inside the sandbox's namespaces (PIDs are the sandbox's).</summary>
    internal ProcessResult Exec(params string[] command) => Sde2e(["exec", StateDirectory, .. command]);

    /// <summary>The manager's log (systemd's messages and the services' output).</summary>
    public string ConsoleLog()
    {
        var path = Path.Combine(StateDirectory, "console.log");
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        // script(1) keeps the file open; share it for reading.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static ProcessResult Sde2e(string[] arguments)
    {
        var script = SandboxPreconditions.Script ?? throw new InvalidOperationException(SandboxPreconditions.SkipReason);
        return Programs.Run(script, arguments, CommandTimeout);
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            if (!up || root is null)
            {
                return;
            }

            try
            {
                Programs.Run(SandboxPreconditions.Script!, ["down", StateDirectory], CommandTimeout);
            }
            finally
            {
                // The state dir is only a bind mount inside the (now dead) namespace, so it can go.
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                    // A leftover folder under /tmp is harmless; a failing Dispose would hide the test results.
                }
            }
        }
    }
}

/// <summary>All differential tests share one sandbox and run one after the other.</summary>
[CollectionDefinition(Name)]
public sealed class SystemdSandboxGroup : ICollectionFixture<SystemdSandbox>
{
    public const string Name = "systemd sandbox";
}
