using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Service;

/// <summary>
/// One restart at a time per service: an exclusive lock file. A caller that had to wait finds the result the other
/// caller left beside the lock and reports that it joined it instead of restarting a second time.
/// </summary>
public sealed class RestartLock : IDisposable
{
    private readonly FileStream stream;

    private RestartLock(FileStream stream, string resultPath)
    {
        this.stream = stream;
        ResultPath = resultPath;
    }

    public string ResultPath { get; }

    /// <summary>The only modes the lock folder may have: nobody but its owner may add, remove or rename entries in it.</summary>
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Where the caller's restart locks and results live: a folder no other user can write into. Root: under /run
    /// (/var/run on macOS), which only root can write — never a runtime folder named by the environment ('sudo -E' keeps
    /// the user's XDG_RUNTIME_DIR) and never the shared temp folder, where another user could create it first and make
    /// root follow links, forge a result or hold the lock. Others: their XDG_RUNTIME_DIR, else ~/.cache.
    /// </summary>
    public static string Directory(uint uid, string? runtimeDir, string home, string? systemRuntimeDir = null) => uid == 0
        ? Path.Combine(systemRuntimeDir ?? Platform.ServiceEnvironment.SystemRuntimeDirectory, "hermesgateway")
        : Path.Combine(string.IsNullOrEmpty(runtimeDir) ? Path.Combine(home, ".cache") : runtimeDir, "hermesgateway");

    /// <summary>The lock folder for this caller.</summary>
    public static string Directory(Platform.ServiceEnvironment environment) => Directory(environment.Uid, environment.XdgRuntimeDir, environment.Home);

    /// <summary>
    /// The service's key among the caller's locks: scope and name, and for another account's user unit (root managing
    /// it) that account too, so it does not share a lock with the caller's own unit of the same name.
    /// </summary>
    public static string Key(ServiceIdentity service) =>
        Key(service.Scope, service.Name) + (service.Owner is { } owner && owner != Environment.UserName ? "@" + owner : string.Empty);

    public static string Key(ServiceScope scope, string name) => scope.ToString().ToLowerInvariant() + "." + name;

    /// <summary>Removes the lock and result files of a service (it was uninstalled), under its lock; false when a restart holds it.</summary>
    public static bool Forget(string directory, string key)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return true;
        }

        try
        {
            using var held = Acquire(directory, key, TimeSpan.Zero, default, out _);
            File.Delete(held.ResultPath);
            File.Delete(Path.Combine(directory, key + ".restart.lock"));
            return true;
        }
        catch (HermesException)
        {
            return false;
        }
    }

    public static RestartLock Acquire(string directory, string service, TimeSpan wait, CancellationToken cancellation, out bool waited)
    {
        var path = Path.Combine(directory, service + ".restart.lock");
        try
        {
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(directory);
            }
            else
            {
                System.IO.Directory.CreateDirectory(directory, Private);
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw Unusable(path, e);
        }

        // A folder the caller did not make private (or a link to one) is refused, not used: entries in it could be swapped.
        var info = new DirectoryInfo(directory);
        if (info.LinkTarget is not null || (!OperatingSystem.IsWindows() && (info.UnixFileMode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0))
        {
            throw new HermesException(HermesErrorIds.PermissionDenied, HermesErrorCategory.PermissionDenied,
                $"The restart lock folder {directory} is {(info.LinkTarget is not null ? "a symbolic link" : "writable by other users")}; it is not used, and nothing was restarted or stopped.", directory);
        }

        var deadline = DateTime.UtcNow + wait;
        waited = false;
        while (true)
        {
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return new RestartLock(stream, Path.Combine(directory, service + ".last-restart.json"));
            }
            catch (UnauthorizedAccessException e)
            {
                throw Unusable(path, e);
            }
            catch (IOException e) when (!Platform.FileLocks.IsHeldElsewhere(e))
            {
                throw Unusable(path, e); // no such folder any more, a read-only or failing file system: not a wait
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                waited = true;
                cancellation.ThrowIfCancellationRequested();
                Thread.Sleep(100);
            }
            catch (IOException e)
            {
                throw new HermesException(HermesErrorIds.RestartInProgress, HermesErrorCategory.ResourceUnavailable,
                    $"Another restart of {service} still holds {path} after {wait.TotalSeconds:0} s.", service, e);
            }
        }
    }

    private static HermesException Unusable(string path, Exception e) =>
        new(HermesErrorIds.PermissionDenied, HermesErrorCategory.PermissionDenied,
            $"The restart lock {path} cannot be created or opened ({e.Message}); nothing was restarted.", path, e);

    public void Dispose() => stream.Dispose();
}
