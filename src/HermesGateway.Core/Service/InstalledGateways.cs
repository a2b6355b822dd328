using HermesGateway.Core.Definition;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>An installed gateway as its file's place shows it: the name, supervisor, scope and path; nothing read.</summary>
public sealed record InstalledGateway(string Name, ServicePlatform Platform, ServiceScope Scope, string Path);

/// <summary>
/// The installed gateways that <see cref="ServiceInstaller.Find"/> would return, from the directory listings alone:
/// no file is parsed and no supervisor is asked for a state, so this is fast enough for tab completion.
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
                foreach (var (path, scope) in manager.Discover())
                {
                    // The name exactly as Find gives it, so what is offered is what -Name matches.
                    found.Add(new InstalledGateway(System.IO.Path.GetFileNameWithoutExtension(path), manager.Platform, scope, path));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Keep what was listed before the failure: completion must not fail.
            }
        }

        return [.. found.OrderBy(g => g.Name, StringComparer.Ordinal).ThenBy(g => g.Path, StringComparer.Ordinal)];
    }

    /// <summary>Listing needs no systemctl or launchctl; running one would be a bug, so it is refused loudly.</summary>
    private sealed class NoProcesses : IProcessRunner
    {
        public static readonly NoProcesses Instance = new();

        public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default) =>
            throw new InvalidOperationException($"Listing installed gateways must not run {fileName}.");
    }
}
