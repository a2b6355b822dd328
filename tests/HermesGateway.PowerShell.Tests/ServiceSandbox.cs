using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// The tests that change process-wide state — environment variables, Console.Out/Error — run one at a time, after
/// everything else: a runspace in this process reads the same environment.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessStateGroup
{
    public const string Name = "Process-wide state";
}

/// <summary>
/// A scratch HOME for the service cmdlets, as tests/Pester/ServiceManagement.Tests.ps1 sets it up: HOME and
/// XDG_CONFIG_HOME inside it, and a user bus that looks configured but answers nobody, so every real
/// 'systemctl --user' call fails the same way everywhere. Everything is put back on Dispose.
/// </summary>
public sealed class ServiceSandbox : IDisposable
{
    private static readonly string[] Variables = ["HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "PATH"];

    private readonly Dictionary<string, string?> saved = [];

    public ServiceSandbox()
    {
        Root = Directory.CreateTempSubdirectory("hermes-pwsh-tests-").FullName;
        foreach (var name in Variables)
        {
            saved[name] = Environment.GetEnvironmentVariable(name);
        }

        Home = Directory.CreateDirectory(Path.Combine(Root, "home")).FullName;
        RuntimeDirectory = Directory.CreateDirectory(Path.Combine(Root, "run")).FullName;
        Environment.SetEnvironmentVariable("HOME", Home);
        Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", Path.Combine(Home, ".config"));
        Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", RuntimeDirectory);
        Environment.SetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + Path.Combine(RuntimeDirectory, "no-bus"));
    }

    /// <summary>The scratch folder; HOME and the runtime directory are inside it.</summary>
    public string Root { get; }

    public string Home { get; }

    public string RuntimeDirectory { get; }

    public string UnitDirectory => Path.Combine(Home, ".config", "systemd", "user");

    /// <summary>Writes a user unit where Get-HermesService looks for installed gateways; returns its path.</summary>
    public string InstallUnit(string name, string text)
    {
        Directory.CreateDirectory(UnitDirectory);
        var path = Path.Combine(UnitDirectory, name + ".service");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Upstream's own unit from tests/examples, installed as hermes-gateway.service.</summary>
    public string InstallUpstreamUnit() =>
        InstallUnit("hermes-gateway", File.ReadAllText(Path.Combine(PowerShellSession.Examples, "hermes-gateway.service")));

    /// <summary>Every file under HOME, relative to it: what a cmdlet wrote there.</summary>
    public IReadOnlyList<string> FilesUnderHome() =>
        [.. Directory.EnumerateFiles(Home, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Home, f)).Order(StringComparer.Ordinal)];

    /// <summary>Every file or folder under the runtime directory (restart locks and results live there).</summary>
    public IReadOnlyList<string> EntriesUnderRuntimeDirectory() =>
        [.. Directory.EnumerateFileSystemEntries(RuntimeDirectory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(RuntimeDirectory, f)).Order(StringComparer.Ordinal)];

    /// <summary>Puts <paramref name="directory"/> first on PATH (until Dispose), so the engine runs the commands in it.</summary>
    public void PrependToPath(string directory) =>
        Environment.SetEnvironmentVariable("PATH", directory + Path.PathSeparator + saved["PATH"]);

    public void Dispose()
    {
        foreach (var (name, value) in saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open must not hide the test's own result; the temp folder is reclaimed later.
        }
    }
}
