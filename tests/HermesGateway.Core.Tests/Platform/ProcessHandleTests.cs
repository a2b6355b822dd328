namespace HermesGateway.Core.Tests.Platform;

/// <summary>A fact about Linux process handles (pidfds): reported as skipped, never passed, elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "pidfds and procfs are Linux's";
        }
    }
}

/// <summary>The engine's process handles on real processes: what they signal, when they see the exit, what they refuse.</summary>
public sealed class ProcessHandleTests
{
    private static Process Sleeper()
    {
        var info = new ProcessStartInfo("sleep", "30") { UseShellExecute = false };
        return Process.Start(info) ?? throw new InvalidOperationException("could not start sleep");
    }

    private static void Reap(Process p)
    {
        if (!p.HasExited)
        {
            p.Kill();
        }

        p.WaitForExit();
    }

    [LinuxFact]
    public void A_pidfd_signals_its_process_and_wakes_the_waiter_at_the_exit()
    {
        using var p = Sleeper();
        try
        {
            using var handle = LocalProcessTable.Instance.Open(p.Id);
            Assert.NotNull(handle);
            Assert.True(((PidFileDescriptor)handle).Pollable);
            Assert.Equal(p.Id, handle.Pid);
            Assert.False(handle.HasExited);
            Assert.False(handle.WaitForExit(TimeSpan.FromMilliseconds(50)));

            var clock = Stopwatch.StartNew();
            Assert.Equal(SignalDelivery.Delivered, handle.Signal(UnixSignal.SIGTERM));
            Assert.True(handle.WaitForExit(TimeSpan.FromSeconds(10)));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
            Assert.True(handle.HasExited);
            Assert.True(p.WaitForExit(10_000));
            Assert.Equal(143, p.ExitCode);
        }
        finally
        {
            Reap(p);
        }
    }

    [LinuxFact]
    public void After_its_process_is_gone_a_handle_signals_nobody()
    {
        using var p = Sleeper();
        using var handle = LocalProcessTable.Instance.Open(p.Id);
        Assert.NotNull(handle);
        Reap(p); // exited and reaped: its PID is free for anyone now

        Assert.True(handle.HasExited);
        Assert.True(handle.WaitForExit(TimeSpan.Zero));
        Assert.Equal(SignalDelivery.ProcessGone, handle.Signal(UnixSignal.SIGKILL));
    }

    [LinuxFact]
    public void A_proc_directory_of_another_procfs_view_is_a_handle_that_signals_and_sees_the_exit()
    {
        // /proc/self/root/proc is this namespace's procfs under another name: the table then hands out /proc/<pid>
        // directories, as it does for a container's or a sandbox's procfs.
        var table = new LocalProcessTable("/proc/self/root/proc");
        using var p = Sleeper();
        try
        {
            Assert.True(table.IsAlive(p.Id));
            Assert.Equal(LocalProcessTable.Instance.StartTime(p.Id), table.StartTime(p.Id));
            Assert.Equal(Environment.ProcessId, table.ParentPid(p.Id));
            using var handle = table.Open(p.Id);
            Assert.NotNull(handle);
            Assert.False(((PidFileDescriptor)handle).Pollable);
            Assert.False(handle.HasExited);
            Assert.False(handle.WaitForExit(TimeSpan.FromMilliseconds(20)));

            Assert.Equal(SignalDelivery.Delivered, handle.Signal(UnixSignal.SIGTERM));
            Assert.True(p.WaitForExit(10_000)); // .NET reaps its child; the handle sees it gone then
            Assert.True(handle.WaitForExit(TimeSpan.FromSeconds(10)));
            Assert.Equal(SignalDelivery.ProcessGone, handle.Signal(UnixSignal.SIGTERM));
            Assert.False(table.IsAlive(p.Id));
        }
        finally
        {
            Reap(p);
        }
    }

    [LinuxFact]
    public void No_handle_for_a_process_that_is_not_there()
    {
        using var p = Sleeper();
        Reap(p);
        var gone = p.Id;
        // Unless the PID was taken again in between (then the handle names that newer process, and the proof below
        // refuses it by its start time).
        using var handle = LocalProcessTable.Instance.Open(gone);
        Assert.True(handle is null || LocalProcessTable.Instance.StartTime(gone) is not null);
        Assert.Null(LocalProcessTable.Instance.Open(0));
        Assert.Null(LocalProcessTable.Instance.Open(-1));
        Assert.Null(new LocalProcessTable("/proc/self/root/proc").Open(int.MaxValue));
    }

    [LinuxFact]
    public void A_handle_is_proven_only_with_the_identified_start_time_and_the_callers_own_test()
    {
        using var p = Sleeper();
        try
        {
            var table = LocalProcessTable.Instance;
            var started = table.StartTime(p.Id);
            Assert.NotNull(started);

            using (var proven = ProcessTable.OpenProven(table, p.Id, started, _ => true))
            {
                Assert.NotNull(proven);
                Assert.Equal(p.Id, proven.Pid);
            }

            // Another start time: the PID now names another process than the one identified.
            Assert.Null(ProcessTable.OpenProven(table, p.Id, started + 1, _ => true));
            // No start time known: nothing to prove the PID with.
            Assert.Null(ProcessTable.OpenProven(table, p.Id, null, _ => true));
            // The caller's own test (the unit's cgroup) says no.
            Assert.Null(ProcessTable.OpenProven(table, p.Id, started, _ => false));

            Reap(p);
            Assert.Null(ProcessTable.OpenProven(table, p.Id, started, _ => true));
        }
        finally
        {
            Reap(p);
        }
    }
}
