using System.Security.Cryptography;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Fleet;

/// <summary>
/// Which build of the module this is: its version, the SHA-256 of the files that carry its code (the two assemblies, the
/// manifest PowerShell imports, the format views), and, for a build loaded in a process, its assemblies' module version
/// ids (MVIDs: what is loaded, whatever the files on disk say now). Two builds of one version (a fix not yet released, a
/// local build) are told apart, so a fleet never runs another build's code under the same version number.
/// </summary>
public sealed record ModuleBuild(string Version, IReadOnlyDictionary<string, string> Hashes, IReadOnlyDictionary<string, string>? LoadedIds = null)
{
    /// <summary>The files whose contents make a build: the cmdlets, the engine, the manifest and the format views.</summary>
    public static IReadOnlyList<string> Files { get; } = ["HermesGateway.dll", "HermesGateway.Core.dll", "HermesGateway.psd1", "HermesGateway.format.ps1xml"];

    /// <summary>The assemblies, whose module version ids name a loaded build.</summary>
    public static IReadOnlyList<string> Assemblies { get; } = ["HermesGateway.dll", "HermesGateway.Core.dll"];

    /// <summary>The build in <paramref name="moduleBase"/> (the folder of HermesGateway.psd1).</summary>
    public static ModuleBuild Of(string moduleBase, string version, IReadOnlyDictionary<string, string>? loadedIds = null)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            using var stream = File.OpenRead(Path.Combine(moduleBase, file));
            hashes[file] = Convert.ToHexString(SHA256.HashData(stream));
        }

        return new ModuleBuild(version, hashes, loadedIds);
    }

    /// <summary>Whether <paramref name="hashes"/> (as a host reported them) are this build's: every file, equal.</summary>
    public bool SameFiles(IReadOnlyDictionary<string, string> hashes) =>
        Files.All(f => Hashes.TryGetValue(f, out var mine) && hashes.TryGetValue(f, out var theirs) && string.Equals(mine, theirs, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether assemblies loaded with these module version ids are this build's (when this build's ids are known).</summary>
    public bool SameLoaded(IReadOnlyDictionary<string, string>? ids) =>
        LoadedIds is null || (ids is not null && Assemblies.All(a => LoadedIds.TryGetValue(a, out var mine) && ids.TryGetValue(a, out var theirs) && string.Equals(mine, theirs, StringComparison.OrdinalIgnoreCase)));
}

/// <summary>
/// A HermesGateway module a host has: on its module path, or loaded in the session (then <see cref="LoadedIds"/> names
/// the assemblies actually loaded). <see cref="OthersCanWrite"/>: its folder or files are writable by other users.
/// </summary>
public sealed record RemoteModule(string Version, string ModuleBase, IReadOnlyDictionary<string, string> Hashes, bool Loaded,
    IReadOnlyDictionary<string, string>? LoadedIds = null, bool OthersCanWrite = false);

/// <summary>Which of a host's modules a fleet command uses: exactly this build, never whatever version is installed there.</summary>
public static class RemoteModuleCheck
{
    /// <summary>
    /// The module on <paramref name="computer"/> that is <paramref name="local"/>'s build, or the error saying why there
    /// is none: no module, other versions, the same version built differently, or another build already loaded in the
    /// session (assemblies loaded into a process cannot be swapped, so that session cannot be used).
    /// </summary>
    public static RemoteModule Choose(string computer, ModuleBuild local, IReadOnlyList<RemoteModule> found)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(found);
        var copy = $"copy this one there with: Copy-HermesModule -Session <the session to {computer}>";
        if (found.FirstOrDefault(m => m.Loaded) is { } loaded)
        {
            // What runs is what is loaded: the files at its folder may since have been replaced.
            if (string.Equals(loaded.Version, local.Version, StringComparison.Ordinal) && local.SameLoaded(loaded.LoadedIds) && (local.LoadedIds is not null || local.SameFiles(loaded.Hashes)))
            {
                return Writable(computer, loaded);
            }

            throw new HermesException(HermesErrorIds.ModuleVersionMismatch, HermesErrorCategory.InvalidOperation,
                $"{computer}: the session already has HermesGateway {loaded.Version} from {loaded.ModuleBase} loaded, {Difference(local, loaded)}; a loaded module cannot be replaced in its session: open a new session (and, if it is not there, {copy}).", computer);
        }

        if (found.FirstOrDefault(m => Matches(local, m)) is { } same)
        {
            return Writable(computer, same);
        }

        if (found.Count == 0)
        {
            throw new HermesException(HermesErrorIds.ModuleMissing, HermesErrorCategory.ObjectNotFound,
                $"{computer}: no HermesGateway module is installed on its module path; {copy}.", computer);
        }

        var others = string.Join(", ", found.Select(m => $"{m.Version} at {m.ModuleBase}{(m.Version == local.Version ? " (" + Difference(local, m) + ")" : string.Empty)}"));
        throw new HermesException(HermesErrorIds.ModuleVersionMismatch, HermesErrorCategory.InvalidOperation,
            $"{computer}: has HermesGateway {others}, not this build of {local.Version}; nothing was run there; {copy}.", computer);
    }

    /// <summary>A module folder other users can write to is not imported: its code could be theirs by the time it loads.</summary>
    private static RemoteModule Writable(string computer, RemoteModule m) => !m.OthersCanWrite ? m
        : throw new HermesException(HermesErrorIds.PermissionDenied, HermesErrorCategory.PermissionDenied,
            $"{computer}: HermesGateway {m.Version} at {m.ModuleBase} is writable by other users (the folder or one of its files); it is not imported there. Make it writable by its owner only, or copy this build elsewhere with Copy-HermesModule.", computer);

    private static bool Matches(ModuleBuild local, RemoteModule m) =>
        string.Equals(m.Version, local.Version, StringComparison.Ordinal) && local.SameFiles(m.Hashes);

    private static string Difference(ModuleBuild local, RemoteModule m)
    {
        if (!string.Equals(m.Version, local.Version, StringComparison.Ordinal))
        {
            return $"not {local.Version}";
        }

        var differing = ModuleBuild.Files.Where(f => !(local.Hashes.TryGetValue(f, out var a) && m.Hashes.TryGetValue(f, out var b) && string.Equals(a, b, StringComparison.OrdinalIgnoreCase))).ToList();
        return differing.Count == 0
            ? $"another build of {local.Version} (its loaded assemblies are not this build's, whatever the files there say now)"
            : $"another build of {local.Version}: its {string.Join(" and ", differing)} differ{(differing.Count == 1 ? "s" : string.Empty)} from this one's";
    }
}

/// <summary>What Copy-HermesModule did on one host.</summary>
public enum ModuleCopyOutcome
{
    /// <summary>The host already had this build: nothing was copied.</summary>
    Present,

    /// <summary>Copied to a folder that did not exist.</summary>
    Copied,

    /// <summary>Copied over another build of the same version (-Force), which was kept as a backup.</summary>
    Replaced,
}

/// <summary>One host's copy of the module (Copy-HermesModule).</summary>
public sealed record ModuleCopyResult(string ComputerName, string Version, string ModuleBase, ModuleCopyOutcome Outcome, string? BackupPath);
