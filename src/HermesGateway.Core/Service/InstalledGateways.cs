using HermesGateway.Core.Definition;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>An installed gateway as its file's place shows it: the name, supervisor, scope and path; nothing read.</summary>
public sealed record InstalledGateway(string Name, ServicePlatform Platform, ServiceScope Scope, string Path)
{
    /// <summary>The account whose user manager runs it (user scope); null for system scope.</summary>
    public string? Owner { get; init; }
}

/// <summary>
/// The installed gateways that <see cref="ServiceInstaller.Find"/> would return, from the directory listings and at
/// most the first few KiB of a file not named after Hermes (for the module's checksum line): no file is parsed and no
/// supervisor is asked for a state, so this is fast enough for tab completion.
/// </summary>
public static class InstalledGateways
{
    /// <summary>The gateways the cmdlets on a machine like <paramref name="environment"/> act on; no process is run.</summary>
    public static IReadOnlyList<InstalledGateway> List(ServiceEnvironment environment) =>
        List(ServiceInstaller.ForThisMachine(NoProcesses.Instance, environment).Managers);

    /// <summary>
    /// Every gateway the managers discover, sorted by name (ordinal), then path; a name installed in two scopes is
    /// listed twice. A directory that cannot be read ends that manager's listing, not the whole.
    /// </summary>
    public static IReadOnlyList<InstalledGateway> List(IEnumerable<IServiceManager> managers)
    {
        var found = new List<InstalledGateway>();
        foreach (var manager in managers)
        {
            try
            {
                found.AddRange(In(manager));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Keep what was listed before the failure: completion must not fail.
            }
        }

        return [.. found.OrderBy(g => g.Name, StringComparer.Ordinal).ThenBy(g => g.Path, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The gateway files in the directories of one supervisor, directory by directory (user scope first), by name within
    /// one: upstream's, named after Hermes' own base name, and every file this module wrote, whatever its name (its
    /// checksum line says so). The name is the file's, as -Name matches it.
    /// </summary>
    public static IEnumerable<InstalledGateway> In(IServiceManager manager)
    {
        var format = ServiceFormats.For(manager.Platform);
        foreach (var (directory, scope) in manager.ServiceDirectories)
        {
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(directory, "*" + format.Extension).Order(StringComparer.Ordinal))
            {
                var name = System.IO.Path.GetFileNameWithoutExtension(file);
                if (name.StartsWith(format.BaseName, StringComparison.Ordinal) || WrittenByThisModule(file))
                {
                    yield return new InstalledGateway(name, manager.Platform, scope, file) { Owner = scope == format.UserScope ? manager.Owner : null };
                }
            }
        }
    }

    /// <summary>How much of a file's head is read to find the checksum line (near the top: line 2 of a unit, 3 of a plist).</summary>
    private const int StampSearch = 4096;

    /// <summary>
    /// Whether the file carries this module's checksum line. Only the head of a regular file is read, never through a
    /// link and never blocking (a FIFO planted in another account's unit folder is passed over).
    /// </summary>
    private static bool WrittenByThisModule(string file) =>
        AtomicFile.ReadRegularHead(file, StampSearch) is { } head && FileStamp.HasStamp(System.Text.Encoding.UTF8.GetString(head));

    /// <summary>Listing needs no systemctl or launchctl; running one would be a bug, so it is refused loudly.</summary>
    private sealed class NoProcesses : IProcessRunner
    {
        public static readonly NoProcesses Instance = new();

        public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default) =>
            throw new InvalidOperationException($"Listing installed gateways must not run {fileName}.");
    }
}
