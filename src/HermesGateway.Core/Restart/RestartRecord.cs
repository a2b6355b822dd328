using System.Text.Json;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Service;

namespace HermesGateway.Core.Restart;

/// <summary>The result a restart leaves beside its service's lock, so a restart that waited on the lock can join it.</summary>
public static class RestartRecord
{
    /// <summary>The result another caller recorded after <paramref name="since"/>, if any.</summary>
    public static RestartResult? ResultSince(this RestartLock held, DateTimeOffset since)
    {
        try
        {
            var result = JsonSerializer.Deserialize<RestartResult>(File.ReadAllText(held.ResultPath));
            // A hand-off is not a finished restart: the helper it started must not join it.
            return result is not null && result.FinishedAt > since && !result.HandedOff ? result : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Leaves <paramref name="result"/> beside the lock for the callers that waited on it.</summary>
    public static void Record(this RestartLock held, RestartResult result) =>
        AtomicFile.Write(held.ResultPath, JsonSerializer.Serialize(result), UnixFileMode.UserRead | UnixFileMode.UserWrite);
}
