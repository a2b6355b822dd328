using System.Security.Cryptography;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Fleet;

/// <summary>
/// Which build of the module this is: its version and the SHA-256 of its two assemblies. Two builds of one version
/// (a fix not yet released, a local build) are told apart by the assemblies, so a fleet never runs another build's code
/// under the same version number without saying so.
/// </summary>
public sealed record ModuleBuild(string Version, IReadOnlyDictionary<string, string> Hashes)
{
    /// <summary>The files whose contents make a build: the cmdlets and the engine.</summary>
    public static IReadOnlyList<string> Assemblies { get; } = ["HermesGateway.dll", "HermesGateway.Core.dll"];

    /// <summary>The build in <paramref name="moduleBase"/> (the folder of HermesGateway.psd1).</summary>
    public static ModuleBuild Of(string moduleBase, string version)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Assemblies)
        {
            using var stream = File.OpenRead(Path.Combine(moduleBase, file));
            hashes[file] = Convert.ToHexString(SHA256.HashData(stream));
        }

        return new ModuleBuild(version, hashes);
    }

    /// <summary>Whether <paramref name="hashes"/> (as a host reported them) are this build's: every assembly, equal.</summary>
    public bool SameFiles(IReadOnlyDictionary<string, string> hashes) =>
        Assemblies.All(f => Hashes.TryGetValue(f, out var mine) && hashes.TryGetValue(f, out var theirs) && string.Equals(mine, theirs, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A HermesGateway module a host has: on its module path, or already loaded in the session.</summary>
public sealed record RemoteModule(string Version, string ModuleBase, IReadOnlyDictionary<string, string> Hashes, bool Loaded);

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
            if (Matches(local, loaded))
            {
                return loaded;
            }

            throw new HermesException(HermesErrorIds.ModuleVersionMismatch, HermesErrorCategory.InvalidOperation,
                $"{computer}: the session already has HermesGateway {loaded.Version} from {loaded.ModuleBase} loaded, {Difference(local, loaded)}; a loaded module cannot be replaced in its session: open a new session (and, if it is not there, {copy}).", computer);
        }

        if (found.FirstOrDefault(m => Matches(local, m)) is { } same)
        {
            return same;
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

    private static bool Matches(ModuleBuild local, RemoteModule m) =>
        string.Equals(m.Version, local.Version, StringComparison.Ordinal) && local.SameFiles(m.Hashes);

    private static string Difference(ModuleBuild local, RemoteModule m)
    {
        if (!string.Equals(m.Version, local.Version, StringComparison.Ordinal))
        {
            return $"not {local.Version}";
        }

        var differing = ModuleBuild.Assemblies.Where(f => !(local.Hashes.TryGetValue(f, out var a) && m.Hashes.TryGetValue(f, out var b) && string.Equals(a, b, StringComparison.OrdinalIgnoreCase)));
        return $"another build of {local.Version}: its {string.Join(" and ", differing)} differ{(differing.Count() == 1 ? "s" : string.Empty)} from this one's";
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
