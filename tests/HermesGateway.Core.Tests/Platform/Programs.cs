namespace HermesGateway.Core.Tests.Platform;

/// <summary>
/// Runs a helper program for a test (sde2e, systemd-analyze, python3) through the engine's own process runner, so the
/// tests start programs the way the engine does; a helper that overruns its time is an error, not a result.
/// </summary>
internal static class Programs
{
    public static ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var result = new SystemProcessRunner(environment).Run(fileName, arguments, timeout);
        return result.TimedOut
            ? throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0.#} s.")
            : result;
    }
}
