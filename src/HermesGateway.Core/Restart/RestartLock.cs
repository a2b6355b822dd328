using System.Text.Json;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Restart;

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

    public static string Directory(uint uid, string? runtimeDir) =>
        Path.Combine(string.IsNullOrEmpty(runtimeDir) ? Path.GetTempPath() : runtimeDir, $"hermesgateway-{uid}");

    public static RestartLock Acquire(string directory, string service, TimeSpan wait, CancellationToken cancellation, out bool waited)
    {
        var path = Path.Combine(directory, service + ".restart.lock");
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw Unusable(path, e);
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

    /// <summary>The result another caller recorded after <paramref name="since"/>, if any.</summary>
    public RestartResult? ResultSince(DateTimeOffset since)
    {
        try
        {
            var result = JsonSerializer.Deserialize<RestartResult>(File.ReadAllText(ResultPath));
            // A hand-off is not a finished restart: the helper it started must not join it.
            return result is not null && result.FinishedAt > since && !result.HandedOff ? result : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Record(RestartResult result) =>
        Platform.AtomicFile.Write(ResultPath, JsonSerializer.Serialize(result), UnixFileMode.UserRead | UnixFileMode.UserWrite);

    public void Dispose() => stream.Dispose();
}
