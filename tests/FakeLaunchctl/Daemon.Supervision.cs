// Job supervision: the start at load, spawning a job's program, the reaper and launchd's decision on each ending
// (relaunch, pend, throttle), launchd's stop and the removal of a job, the tick loop (SIGKILL after ExitTimeOut,
// scheduled and pended spawns, the daemon's own exit conditions), and killing every job when the daemon exits.
using System.Globalization;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;

namespace HermesGateway.FakeLaunchctl;

internal sealed partial class Daemon
{
    /// <summary>launchd.plist(5): RunAtLoad, or KeepAlive (which "implicitly implies RunAtLoad"); AfterInitialDemand holds it back.</summary>
    private void StartAtLoad(Job j)
    {
        var s = j.Definition.Settings;
        var k = s.KeepAlive;
        var facts = Facts(j);
        var conditions = k.PathState.Any(p => facts.ExistingPaths.Contains(p.Key) == p.Value) || k.OtherJobEnabled.Any(p => facts.LoadedJobs.Contains(p.Key) == p.Value);
        var wants = s.RunAtLoad || (!k.AfterInitialDemand && (k.Unconditional || k.SuccessfulExit is not null || k.Crashed is not null || conditions));
        if (!wants)
        {
            Set(j, JobState.NotRunning, "loaded: neither RunAtLoad nor KeepAlive starts it; only demand (kickstart) does");
        }
        else if (OnDemandOnly(j, facts))
        {
            Pend(j, "the start at load");
        }
        else
        {
            Spawn(j, s.RunAtLoad ? "RunAtLoad" : "KeepAlive implies RunAtLoad");
        }
    }

    private string Writable(string? path, string what, Job j)
    {
        if (path is null)
        {
            return "/dev/null";
        }

        try
        {
            using var _ = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log($"{j.Target}: cannot open {what} {path} ({e.Message}); the job's {what} goes to /dev/null, as launchd's does");
            return "/dev/null";
        }
    }

    private void Spawn(Job j, string why)
    {
        var s = j.Definition.Settings;
        var doc = j.Definition.Document;
        var now = DateTime.UtcNow;
        j.Runs++;
        j.LastSpawnAt = now;
        j.SpawnAt = null;
        j.PendingReason = null;
        var file = JobProcess.Resolve(s.Program ?? (s.ProgramArguments.IsEmpty ? null : s.ProgramArguments[0]));
        if (file is null)
        {
            // launchd reports an unrunnable program as "last exit code = 78: EX_CONFIG" and keeps applying KeepAlive.
            Log($"{j.Target}: {why}: the program cannot be run: exit 78 (EX_CONFIG)");
            j.Instance = null;
            Ended(j, ProcessEnding.Exit(78), TimeSpan.Zero, stoppedByLaunchd: false, exConfig: true);
            return;
        }

        var cwd = doc["WorkingDirectory"] is PlistString wd && Directory.Exists(wd.Value) ? wd.Value : "/";
        var stdout = Writable((doc["StandardOutPath"] as PlistString)?.Value, "StandardOutPath", j);
        var stderr = Writable((doc["StandardErrorPath"] as PlistString)?.Value, "StandardErrorPath", j);
        List<string> argv = ["sh", .. ShellExec.Arguments(JobProcess.ExecScript, [cwd, stdout, stderr], [file, .. s.ProgramArguments.Skip(1)])];
        var env = JobProcess.Environment(j, JobProcess.LaunchctlShimFolder(state) + ":" + JobProcess.StdPath).Select(e => e.Key + "=" + e.Value).ToList();
        int pid;
        try
        {
            pid = Native.Spawn(ShellExec.Shell, argv, env);
        }
        catch (IOException e)
        {
            Log($"{j.Target}: {why}: {e.Message}");
            Ended(j, ProcessEnding.Exit(78), TimeSpan.Zero, stoppedByLaunchd: false, exConfig: true);
            return;
        }

        var instance = new Instance(pid, now, ProcessStartTime.Read(pid));
        j.Instance = instance;
        Set(j, JobState.Running, $"spawned pid {pid.ToString(CultureInfo.InvariantCulture)} ({why}), run {j.Runs.ToString(CultureInfo.InvariantCulture)}");
        new Thread(() => Reaper(j, instance)) { IsBackground = true, Name = "reaper " + pid.ToString(CultureInfo.InvariantCulture) }.Start();
        Persist();
    }

    private void Reaper(Job j, Instance instance)
    {
        Native.WaitExitedNoReap(instance.Pid);
        lock (gate)
        {
            // launchd.plist(5) AbandonProcessGroup: when the job dies, launchd SIGTERMs its process group. The zombie
            // leader still holds the PGID, so the group cannot be someone else's.
            if (!j.Definition.Settings.AbandonProcessGroup && ShellExec.Setsid is not null)
            {
                Native.SignalGroup(instance.Pid, Native.SIGTERM);
            }

            var status = Native.Reap(instance.Pid);
            var ending = Decode(status);
            j.Instance = null;
            var ranFor = DateTime.UtcNow - instance.StartedAt;
            Log($"{j.Target}: pid {instance.Pid.ToString(CultureInfo.InvariantCulture)} ended: {ending} after {ranFor.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
            if (j.BootingOut)
            {
                j.LastEnding = ending;
                j.LastExitAt = DateTime.UtcNow;
                Remove(j, "booted out: the process is gone, the job removed");
            }
            else if (j.RestartAfterStop)
            {
                j.LastEnding = ending;
                j.LastExitAt = DateTime.UtcNow;
                j.LastRanFor = ranFor;
                j.RestartAfterStop = false;
                Spawn(j, "kickstart -k");
            }
            else
            {
                Ended(j, ending, ranFor, instance.StoppedByLaunchd, exConfig: false);
            }

            Persist();
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>job_keepalive() through LaunchdModel: what launchd saw, whether it relaunches, the on-demand-only pend, the throttle.</summary>
    private void Ended(Job j, ProcessEnding ending, TimeSpan ranFor, bool stoppedByLaunchd, bool exConfig)
    {
        var facts = Facts(j);
        var model = new LaunchdModel(j.Definition.Settings, facts);
        var seen = model.SeenByLaunchd(ending);
        j.LastEnding = seen;
        j.LastExConfig = exConfig;
        j.LastExitAt = DateTime.UtcNow;
        j.LastRanFor = ranFor;
        j.LastDelay = null;
        var (relaunch, rule, why) = model.ShouldRelaunch(seen, stoppedByLaunchd, j.DemandedOnce);
        if (!relaunch)
        {
            Set(j, JobState.NotRunning, $"{seen}: {rule}: {why}: not relaunched");
            return;
        }

        if (OnDemandOnly(j, facts))
        {
            Pend(j, $"{seen}: {rule}: {why}");
            return;
        }

        var delay = model.ThrottleDelay(ranFor);
        if (exConfig && delay == TimeSpan.Zero)
        {
            // Not launchd's rule: keeps a ThrottleInterval=0 job with a missing program from spinning the daemon.
            delay = TimeSpan.FromSeconds(1);
        }

        j.LastDelay = delay;
        if (delay == TimeSpan.Zero)
        {
            Spawn(j, $"{seen}: {rule}: {why}: relaunched at once");
            return;
        }

        j.SpawnAt = DateTime.UtcNow + delay;
        Set(j, JobState.SpawnScheduled, $"{seen}: {rule}: {why}: respawn in {delay.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (ThrottleInterval {j.Definition.Settings.ThrottleInterval.ToString(CultureInfo.InvariantCulture)} s, ran {ranFor.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s)");
    }

    private static ProcessEnding Decode(int? status)
    {
        if (status is not { } w)
        {
            return ProcessEnding.Exit(255);
        }

        var signal = w & 0x7f;
        if (signal == 0)
        {
            return ProcessEnding.Exit((w >> 8) & 0xff);
        }

        return UnixSignals.TryFromNumber(signal, SignalPlatform.Linux, out var s)
            ? ProcessEnding.KilledBy(s, (w & 0x80) != 0)
            : ProcessEnding.Exit(128 + signal);
    }

    /// <summary>launchd's stop: SIGTERM now, SIGKILL after ExitTimeOut (the tick loop sends it).</summary>
    private void Stop(Job j, string why)
    {
        var instance = j.Instance!;
        instance.StoppedByLaunchd = true;
        var timeout = new LaunchdModel(j.Definition.Settings).EffectiveExitTimeOut;
        instance.KillAt = timeout == TimeSpan.MaxValue ? null : DateTime.UtcNow + timeout;
        Log($"{j.Target}: {why}: SIGTERM to pid {instance.Pid.ToString(CultureInfo.InvariantCulture)}, SIGKILL after {(timeout == TimeSpan.MaxValue ? "never (ExitTimeOut=0)" : timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s")}");
        Native.Signal(instance.Pid, Native.SIGTERM);
    }

    /// <summary>bootout and remove of a running job: launchd's stop, once, with no restart after it; the reaper removes the job.</summary>
    private void StopToUnload(Job j, string why)
    {
        if (!j.BootingOut)
        {
            j.BootingOut = true;
            j.RestartAfterStop = false;
            Stop(j, why);
        }
    }

    private void Remove(Job j, string why)
    {
        jobs.Remove(j);
        j.SpawnAt = null;
        Set(j, JobState.NotRunning, why);
        lastActivity = DateTime.UtcNow;
        Persist();
        Monitor.PulseAll(gate);
    }

    private void TickLoop()
    {
        while (true)
        {
            Thread.Sleep(50);
            string? finish = null;
            lock (gate)
            {
                if (exiting)
                {
                    return;
                }

                var now = DateTime.UtcNow;
                DomainConfig? config = null;
                foreach (var j in jobs.ToList())
                {
                    if (j.Instance is { KillAt: { } at } running && at <= now)
                    {
                        running.KillAt = null;
                        Log($"{j.Target}: ExitTimeOut passed: SIGKILL to pid {running.Pid.ToString(CultureInfo.InvariantCulture)}");
                        Native.Signal(running.Pid, Native.SIGKILL);
                    }

                    if (j.State is JobState.SpawnScheduled or JobState.Pending && j.Instance is null)
                    {
                        var facts = Facts(j);
                        if (j.State == JobState.SpawnScheduled && j.SpawnAt <= now)
                        {
                            if (OnDemandOnly(j, facts))
                            {
                                Pend(j, "the scheduled respawn");
                            }
                            else
                            {
                                Spawn(j, "throttle delay over");
                            }
                        }
                        else if (j.State == JobState.Pending && !OnDemandOnly(j, facts))
                        {
                            // Unverified: that launchd runs pended spawns once the domain leaves on-demand-only mode.
                            Spawn(j, "the domain left on-demand-only mode");
                        }
                    }
                }

                if (!Directory.Exists(state))
                {
                    finish = "the state directory was deleted";
                }
                else if (jobs.Count == 0 && active == 0)
                {
                    config ??= DomainConfig.Read(state);
                    if (now - lastActivity > TimeSpan.FromSeconds(config.IdleExitSeconds))
                    {
                        finish = $"idle for {config.IdleExitSeconds.ToString(CultureInfo.InvariantCulture)} s with no job";
                    }
                }
            }

            if (finish is not null)
            {
                Finish(finish);
                return;
            }
        }
    }

    private void KillAllAndWait(string why)
    {
        lock (gate)
        {
            foreach (var j in jobs.ToList())
            {
                j.BootingOut = true;
                if (j.Instance is { } running)
                {
                    running.StoppedByLaunchd = true;
                    Log($"{j.Target}: {why}: SIGKILL to pid {running.Pid.ToString(CultureInfo.InvariantCulture)} and its process group");
                    Native.Signal(running.Pid, Native.SIGKILL);
                    if (ShellExec.Setsid is not null)
                    {
                        Native.SignalGroup(running.Pid, Native.SIGKILL);
                    }
                }
                else
                {
                    Remove(j, why);
                }
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (jobs.Count > 0 && DateTime.UtcNow < deadline)
            {
                Monitor.Wait(gate, 100);
            }

            Persist();
        }
    }
}
