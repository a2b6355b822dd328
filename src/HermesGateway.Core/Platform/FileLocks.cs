namespace HermesGateway.Core.Platform;

/// <summary>How .NET reports advisory file locks (FileShare.None is a flock(2) on Unix).</summary>
public static class FileLocks
{
    /// <summary>
    /// The IOException .NET raises when another holder's flock(2) makes the open fail: it carries EWOULDBLOCK, whose
    /// number is the platform's (11 on Linux, 35 on macOS and FreeBSD). Any other IOException is a real I/O failure.
    /// </summary>
    public static bool IsHeldElsewhere(IOException e) =>
        e.GetType() == typeof(IOException) && e.HResult == (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 35 : 11);
}
