namespace HermesGateway.Core.Platform;

/// <summary>Waiting for a condition the kernel cannot wake us for (a file deleted by another process, a process' end).</summary>
public static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Checks <paramref name="condition"/> every 20 ms until it holds (true) or <paramref name="timeout"/> passes on
    /// <paramref name="clock"/> (false; the system clock when none is given).
    /// </summary>
    public static bool Until(Func<bool> condition, TimeSpan timeout, CancellationToken cancellation, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var start = clock.GetTimestamp();
        while (!condition())
        {
            if (clock.GetElapsedTime(start) >= timeout)
            {
                return false;
            }

            cancellation.WaitHandle.WaitOne(Interval);
            cancellation.ThrowIfCancellationRequested();
        }

        return true;
    }
}
