namespace HermesGateway.Core.Tests.Service;

/// <summary>
/// One restart per service at a time, across processes: the lock is flock(2)'d, so the kernel frees it when its holder
/// dies — a restart killed halfway never blocks the next one.
/// </summary>
public sealed class RestartLockTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private string LockFile => Path.Combine(dir.Path, "hermes-gateway.restart.lock");

    /// <summary>Another process (util-linux flock) holding the lock file, as a concurrent Restart-HermesGateway would.</summary>
    private Process HoldInAnotherProcess()
    {
        var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", "--no-fork", LockFile, "sleep", "60"]) { UseShellExecute = false })!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                RestartLock.Acquire(dir.Path, "hermes-gateway", TimeSpan.Zero, default, out _).Dispose();
            }
            catch (HermesException e) when (e.ErrorId == HermesErrorIds.RestartInProgress)
            {
                return holder; // it holds the lock now
            }

            Thread.Sleep(20);
        }

        holder.Kill();
        throw new Xunit.Sdk.XunitException("flock never took the lock");
    }

    [LinuxFact]
    public void A_caller_waits_for_another_processes_restart_and_goes_on_when_that_process_is_killed()
    {
        using var holder = HoldInAnotherProcess();
        try
        {
            var acquired = new ManualResetEventSlim();
            bool waited = false;
            RestartLock? taken = null;
            var caller = new Thread(() =>
            {
                taken = RestartLock.Acquire(dir.Path, "hermes-gateway", TimeSpan.FromSeconds(30), default, out waited);
                acquired.Set();
            });
            caller.Start();

            Assert.False(acquired.Wait(TimeSpan.FromMilliseconds(500))); // held elsewhere: it waits
            holder.Kill(); // the other restart dies halfway; the kernel drops its lock
            Assert.True(acquired.Wait(TimeSpan.FromSeconds(10)));
            Assert.True(waited);
            taken!.Dispose();
            caller.Join();
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }

            holder.WaitForExit();
        }
    }

    [LinuxFact]
    public void A_lock_held_past_the_wait_is_HermesRestartInProgress()
    {
        using var holder = HoldInAnotherProcess();
        try
        {
            var e = Assert.Throws<HermesException>(() => RestartLock.Acquire(dir.Path, "hermes-gateway", TimeSpan.FromMilliseconds(300), default, out _));
            Assert.Equal(HermesErrorIds.RestartInProgress, e.ErrorId);
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }
    }

    [Fact]
    public void A_lock_file_that_cannot_be_opened_is_a_clear_error_at_once_not_a_wait_for_a_holder()
    {
        // A lock path that is a symlink to itself: opening it fails (ELOOP), an I/O failure that no holder will end.
        File.CreateSymbolicLink(LockFile, LockFile);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<HermesException>(() => RestartLock.Acquire(dir.Path, "hermes-gateway", TimeSpan.FromSeconds(20), default, out _));

        Assert.Equal(HermesErrorIds.PermissionDenied, e.ErrorId);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        Assert.IsType<IOException>(e.InnerException);
    }

    [Fact]
    public void A_lock_folder_that_cannot_be_made_is_a_clear_error_not_a_crash()
    {
        var blocked = Path.Combine(dir.Path, "not-a-folder");
        File.WriteAllText(blocked, "a file where the lock folder would go");

        var e = Assert.Throws<HermesException>(() => RestartLock.Acquire(Path.Combine(blocked, "locks"), "hermes-gateway", TimeSpan.Zero, default, out _));

        Assert.Equal(HermesErrorIds.PermissionDenied, e.ErrorId);
        Assert.IsAssignableFrom<IOException>(e.InnerException);
    }

    /// <summary>Issue 13, item 3: root's own user unit and another account's of the same name shared one lock and result.</summary>
    [Fact]
    public void Another_accounts_user_unit_has_its_own_lock_and_the_callers_own_keeps_its_key()
    {
        ServiceIdentity Unit(string? owner) => new("hermes-gateway", ServicePlatform.Systemd, ServiceScope.User, "/x/hermes-gateway.service") { Owner = owner };

        Assert.Equal("user.hermes-gateway", RestartLock.Key(Unit(null)));
        Assert.Equal("user.hermes-gateway", RestartLock.Key(Unit(Environment.UserName)));
        Assert.Equal("user.hermes-gateway@someone-else", RestartLock.Key(Unit("someone-else")));
    }
}
