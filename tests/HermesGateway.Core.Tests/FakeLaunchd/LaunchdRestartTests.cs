using System.Text.Json.Nodes;
using Xunit.Abstractions;
using static HermesGateway.Core.Tests.FakeLaunchd.LaunchdRestartLab;

namespace HermesGateway.Core.Tests.FakeLaunchd;

/// <summary>
/// Restart-HermesGateway's engine through the fake launchctl (a Linux test double of launchctl/launchd) with the real
/// stub gateway as the job: the same matrix as on systemd (SystemdRestartTests). Every case ends with a healthy gateway (a
/// new PID whose own state file says running, the job still loaded) or a specific error id — never dead, never unloaded
/// by our action. The launchd-only cases are in LaunchdSpecificRestartTests.
/// </summary>
public sealed class LaunchdRestartTests : IDisposable
{
    private readonly LaunchdRestartLab lab;
    private readonly ITestOutputHelper output;

    public LaunchdRestartTests(ITestOutputHelper output)
    {
        this.output = output;
        lab = new LaunchdRestartLab(output);
    }

    public void Dispose() => lab.Dispose();

    [FakeLaunchdFact]
    public void A_normal_restart_drains_and_kickstarts_the_job_back()
    {
        var rig = lab.Install("{\"drain_seconds\": 0.5}");
        var old = lab.Healthy(rig, null);
        lab.Runner.ClearCalls();

        var r = rig.Restarter.Run(rig.Service, new RestartOptions(), new TestHost());

        lab.Log(r, rig.Home);
        lab.AssertRestarted(rig, r, old);
        Assert.True(r.Strategy.Contains("kickstart", StringComparison.Ordinal) || r.Strategy.Contains("launchd", StringComparison.Ordinal), r.Strategy);
        Assert.StartsWith("signal, ", r.Strategy, StringComparison.Ordinal);
        Assert.Equal(1, r.Attempts);
        Assert.True(r.Drain >= TimeSpan.FromSeconds(0.5));
        Assert.Contains(FakeLaunchd.StubEvents(rig.Home), e => IsExit(e, old, 75));
        Assert.Equal($"kill USR1 {lab.Target}", lab.Changing()[0]);
        Assert.DoesNotContain(lab.Changing(), c => c.StartsWith("bootout", StringComparison.Ordinal) || c.StartsWith("kickstart -k", StringComparison.Ordinal));
        Assert.InRange(StubDowntime(rig.Home, old, r.NewPid!.Value), TimeSpan.Zero, TimeSpan.FromSeconds(3));
    }

    [FakeLaunchdFact]
    public void A_gateway_that_hangs_in_drain_is_killed_and_kickstarted_after_the_drain_timeout()
    {
        // A throttle longer than the test: launchd's own relaunch after the SIGKILL (due at once once the run outlasted
        // the throttle, as it does on a loaded machine) cannot beat the kickstart this test is about.
        var rig = lab.Install("{\"mode\": \"hang_in_drain\"}", throttleInterval: 120, stopTimeout: TimeSpan.FromSeconds(2));
        var old = lab.Healthy(rig, null);
        rig.Control("{\"mode\": \"normal\"}"); // the next run behaves
        lab.Runner.ClearCalls();

        var r = rig.Restarter.Run(rig.Service, new RestartOptions { DrainTimeout = TimeSpan.FromSeconds(1) }, new TestHost());

        lab.Log(r, rig.Home);
        lab.AssertRestarted(rig, r, old);
        Assert.Equal("signal, drain timeout, SIGKILL, kickstart", r.Strategy);
        Assert.Equal(RestartKind.Escalated, r.Kind);
        Assert.Equal(2, r.Attempts);
        // The restart's drain budget is spent: the proven process is killed at once (not a SIGTERM that waits out
        // ExitTimeOut), and kickstart brings the job back without the throttle; the job stays loaded.
        var calls = lab.Changing();
        Assert.Equal($"kill USR1 {lab.Target}", calls[0]);
        Assert.Equal($"kickstart {lab.Target}", calls[^1]);
        Assert.DoesNotContain(calls, c => c.StartsWith("kickstart -k", StringComparison.Ordinal));
        Assert.DoesNotContain(FakeLaunchd.StubEvents(rig.Home), e => Event(e) == "exit" && Pid(e) == old);
    }

    [FakeLaunchdFact]
    public void A_gateway_that_crashes_during_the_drain_is_revived()
    {
        var rig = lab.Install("{\"drain_seconds\": 2.0}");
        var old = lab.Healthy(rig, null);
        // It dies of SIGKILL while draining: KeepAlive {SuccessfulExit=false} schedules a respawn after the throttle; our kickstart does not wait for it.
        Exception? killerFailed = null;
        var killer = new Thread(() =>
        {
            try
            {
                FakeLaunchd.WaitFor(() => FakeLaunchd.StubEvents(rig.Home).Any(e => Pid(e) == old && Event(e) == "state" && e["state"]!.GetValue<string>() == "draining") ? "draining" : null, "the drain");
                lab.Fake.SignalJob(old, 9);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                killerFailed = e;
            }
        });
        killer.Start();

        var r = rig.Restarter.Run(rig.Service, new RestartOptions(), new TestHost());
        killer.Join();
        Assert.Null(killerFailed);

        lab.Log(r, rig.Home);
        lab.AssertRestarted(rig, r, old);
        Assert.DoesNotContain(FakeLaunchd.StubEvents(rig.Home), e => Event(e) == "exit" && Pid(e) == old);
        Assert.Contains($"pid {old.ToString(CultureInfo.InvariantCulture)} ended: killed by SIGKILL", lab.DaemonLog(), StringComparison.Ordinal);
        Assert.True(r.Drain < TimeSpan.FromSeconds(2), "the crash ends the drain early");
    }

    [FakeLaunchdFact]
    public void A_gateway_that_fails_its_first_start_after_the_restart_is_followed_until_healthy()
    {
        var rig = lab.Install("{}", throttleInterval: 2);
        var old = lab.Healthy(rig, null);
        rig.Control("{\"fail_next_starts\": 1}");

        var r = rig.Restarter.Run(rig.Service, new RestartOptions(), new TestHost());

        lab.Log(r, rig.Home);
        lab.AssertRestarted(rig, r, old);
        var events = FakeLaunchd.StubEvents(rig.Home);
        var failed = Assert.Single(events, e => Event(e) == "exit" && e["code"]!.GetValue<int>() == 1);
        Assert.NotEqual(old, Pid(failed));
        Assert.NotEqual(r.NewPid, Pid(failed));
        Assert.Contains(events, e => IsExit(e, old, 75));
        output.WriteLine($"the failed start was PID {Pid(failed)}; launchd's respawn delay after it: {lab.Fake.FakeField(Label, "respawn delay")} ms");
    }

    [FakeLaunchdFact]
    public void Two_concurrent_restarts_make_one_restart_and_the_second_joins_it()
    {
        var rig = lab.Install("{\"drain_seconds\": 1.0}");
        var old = lab.Healthy(rig, null);
        var (a, b) = rig.Restarter.RunTwoAtOnce(rig.Service);

        lab.Log(a, rig.Home);
        lab.Log(b, rig.Home);
        Assert.False(a.Joined);
        Assert.True(b.Joined);
        Assert.False(b.Waited); // issue 13, item 13: joined and waited were both true
        Assert.Equal(a.NewPid, b.NewPid);
        Assert.Single(FakeLaunchd.StubEvents(rig.Home), e => Event(e) == "exit" && e["code"]!.GetValue<int>() == 75);
        Assert.Single(lab.Runner.Calls, c => c[0] == "kill");
        lab.AssertRestarted(rig, a, old);
    }

    public enum Rerun
    {
        /// <summary>The re-run signals while the old gateway still drains: the stub ignores the second signal.</summary>
        WhileDraining,

        /// <summary>The old gateway exits between the re-run's Identify and its signal: launchctl kill answers 3 (no such process).</summary>
        ExitsBeforeOurSignal,

        /// <summary>The re-run comes after the exit: launchd holds the respawn back for the throttle ("spawn scheduled").</summary>
        AfterTheExit,
    }

    [FakeLaunchdTheory]
    [InlineData(Rerun.WhileDraining)]
    [InlineData(Rerun.ExitsBeforeOurSignal)]
    [InlineData(Rerun.AfterTheExit)]
    public void A_restart_whose_caller_died_after_the_signal_is_recovered_by_running_it_again(Rerun rerun)
    {
        var rig = lab.Install("{\"drain_seconds\": 1.0}", throttleInterval: 10);
        var old = lab.Healthy(rig, null);
        var service = rig.Service;
        // The dying caller: its signal, and nothing after it (no wait, no revival). Its own runner, without hooks.
        var dying = new LaunchdServiceManager(new FakeLaunchctlRunner(lab.Fake.State), lab.Environment, MacProcessTable.Instance);
        var identified = dying.Identify(service, default)!;
        void CallerSignalsAndDies() => dying.SendSignal(service, identified, UnixSignal.SIGUSR1, new TestHost())?.Dispose();
        bool Draining() => FakeLaunchd.StubEvents(rig.Home).Any(e => Pid(e) == old && Event(e) == "state" && e["state"]!.GetValue<string>() == "draining");
        if (rerun == Rerun.AfterTheExit)
        {
            CallerSignalsAndDies();
            FakeLaunchd.WaitFor(() => ProcessTable.IsAlive(old) ? null : "gone", "the old gateway's exit");
            Assert.Equal("spawn scheduled", lab.Fake.Print(Label).State); // without a kickstart it stays down for ~10 s
        }
        else
        {
            // Deterministic on a loaded machine: the dying caller's signal lands after the re-run identified the old
            // gateway and just before the re-run's own signal; then the old one is draining, or (the other case) gone.
            lab.Runner.Before = args =>
            {
                if (args[0] == "kill")
                {
                    lab.Runner.Before = null;
                    CallerSignalsAndDies();
                    FakeLaunchd.WaitFor(() => (rerun == Rerun.WhileDraining ? Draining() : !ProcessTable.IsAlive(old)) ? "ok" : null, rerun.ToString());
                }
            };
        }

        var t = Stopwatch.StartNew();
        var r = rig.Restarter.Run(service, new RestartOptions(), new TestHost());
        t.Stop();

        lab.Log(r, rig.Home);
        Assert.Equal("running", r.FinalState);
        Assert.NotEqual(old, r.NewPid);
        lab.AssertRestarted(rig, r with { OldPid = old }, old);
        Assert.Single(FakeLaunchd.StubEvents(rig.Home), e => Event(e) == "exit" && e["code"]!.GetValue<int>() == 75);
        var down = StubDowntime(rig.Home, old, r.NewPid!.Value);
        Assert.True(down < TimeSpan.FromSeconds(5), $"down for {down.TotalSeconds:0.0} s (re-run took {t.Elapsed.TotalSeconds:0.0} s): not launchd's 10 s throttle");
        var target = lab.Target;
        switch (rerun)
        {
            case Rerun.AfterTheExit:
                Assert.Equal("start", r.Strategy);
                break;
            case Rerun.WhileDraining:
                Assert.StartsWith("signal, ", r.Strategy, StringComparison.Ordinal);
                Assert.Contains(FakeLaunchd.StubEvents(rig.Home), e => Pid(e) == old && Event(e) == "signal" && e["action"]!.GetValue<string>() == "ignored: already stopping");
                break;
            default:
                Assert.StartsWith("signal, ", r.Strategy, StringComparison.Ordinal);
                Assert.Contains($"launchctl kill USR1 {target} -> 3", lab.DaemonLog(), StringComparison.Ordinal); // no such process: it had exited
                break;
        }
    }
}

/// <summary>
/// One fake launchd for one restart test, and the engine wired to it: LaunchdServiceManager with the fake's runner (with
/// hooks to make a race happen at an exact point), an environment of a macOS user (Home in the fake's temp directory,
/// this uid) and this machine's processes; helpers to install the stub as the job and to judge a restart.
/// </summary>
internal sealed class LaunchdRestartLab : IDisposable
{
    public const string Label = "ai.hermes.gateway";
    private readonly ITestOutputHelper output;

    public LaunchdRestartLab(ITestOutputHelper output)
    {
        this.output = output;
        Runner = new HookedRunner(new FakeLaunchctlRunner(Fake.State));
        Environment = new ServiceEnvironment { Home = Path.Combine(Fake.Root, "home"), Uid = Fake.Uid, UserName = System.Environment.UserName, IsMacOS = true };
    }

    public FakeLaunchd Fake { get; } = new();

    public HookedRunner Runner { get; }

    public ServiceEnvironment Environment { get; }

    public string Target => $"{Fake.Gui}/{Label}";

    public void Dispose() => Fake.Dispose();

    /// <summary>Installs the stub as a launchd agent through the engine (plist, bootstrap, RunAtLoad) and waits for it to be healthy.</summary>
    public RestartRig Install(string control, int throttleInterval = 5, TimeSpan? stopTimeout = null)
    {
        var home = Path.Combine(Fake.Root, "hermes");
        Directory.CreateDirectory(Path.Combine(home, "logs"));
        File.WriteAllText(Path.Combine(home, "stub-control.json"), control);
        var d = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Launchd,
            Scope = ServiceScope.Agent,
            Executable = StubLocation.Script,
            HermesHome = home,
            StopTimeout = stopTimeout,
        });
        d = d with { Launchd = d.Launchd! with { ThrottleInterval = throttleInterval } };
        var manager = new LaunchdServiceManager(Runner, Environment, MacProcessTable.Instance);
        var rig = new RestartRig(new ServiceInstaller(manager), manager, new GatewayRestarter(manager, MacProcessTable.Instance, Path.Combine(Fake.Root, "locks")), d, home);
        rig.Installer.Install(new InstallRequest(d, Start: true), new TestHost());
        Healthy(rig, notPid: null);
        return rig;
    }

    /// <summary>The job is loaded and runs a PID that the stub's own state file names as running.</summary>
    public int Healthy(RestartRig rig, int? notPid, double seconds = 30)
    {
        var s = FakeLaunchd.WaitFor(
            () => Fake.Print(Label) is { IsRunning: true } p && p.Pid != notPid && GatewayRestarter.ReportsRunning(rig.Home, p.Pid!.Value) ? p : null,
            $"{Label} healthy (not PID {notPid})",
            seconds);
        return s.Pid!.Value;
    }

    /// <summary>Healthy and not dead, not unloaded: the job runs the new PID, whose state file says running; the old PID is gone.</summary>
    public void AssertRestarted(RestartRig rig, RestartResult r, int oldPid)
    {
        Assert.Equal("running", r.FinalState);
        Assert.Equal(oldPid, r.OldPid);
        Assert.NotNull(r.NewPid);
        Assert.NotEqual(oldPid, r.NewPid);
        var s = Fake.Print(Label);
        Assert.True(s.Loaded && s.IsRunning, s.ToString());
        Assert.Equal(r.NewPid, s.Pid);
        Assert.True(GatewayRestarter.ReportsRunning(rig.Home, r.NewPid!.Value));
        Assert.False(ProcessTable.IsAlive(oldPid));
    }

    /// <summary>From the old PID's last stub event (its exit, or its last word before a SIGKILL) to the new PID's "running".</summary>
    public static TimeSpan StubDowntime(string home, int oldPid, int newPid)
    {
        var events = FakeLaunchd.StubEvents(home);
        var gone = events.Last(e => Pid(e) == oldPid)["time"]!.GetValue<double>();
        var up = events.First(e => Pid(e) == newPid && Event(e) == "state" && e["state"]!.GetValue<string>() == "running")["time"]!.GetValue<double>();
        return TimeSpan.FromSeconds(up - gone);
    }

    public void Log(RestartResult r, string home)
    {
        var measured = r.OldPid is { } o && r.NewPid is { } n ? $", stub-measured downtime {StubDowntime(home, o, n).TotalMilliseconds:0} ms" : string.Empty;
        output.WriteLine($"{r.Name}: {r.OldPid} → {r.NewPid} via {r.Strategy}; drain {r.Drain?.TotalMilliseconds:0} ms, supervisor {r.Supervisor?.TotalMilliseconds:0} ms, health {r.Health?.TotalMilliseconds:0} ms, downtime {r.Downtime?.TotalMilliseconds:0} ms{measured}, total {r.Total.TotalMilliseconds:0} ms, attempts {r.Attempts}, joined {r.Joined}");
    }

    public static int Pid(JsonObject e) => e["pid"]!.GetValue<int>();

    public static string Event(JsonObject e) => e["event"]!.GetValue<string>();

    public static bool IsExit(JsonObject e, int pid, int code) => Event(e) == "exit" && Pid(e) == pid && e["code"]!.GetValue<int>() == code;

    /// <summary>The launchctl calls that change launchd's state, in order.</summary>
    public List<string> Changing() =>
        Runner.Calls.Where(c => c[0] is "bootstrap" or "bootout" or "kickstart" or "kill" or "submit" or "remove").Select(c => string.Join(' ', c)).ToList();

    public string DaemonLog() => File.ReadAllText(Path.Combine(Fake.State, "launchd.log"));
}

/// <summary>The stub installed as the job, and the engine that restarts it.</summary>
internal sealed record RestartRig(ServiceInstaller Installer, LaunchdServiceManager Manager, GatewayRestarter Restarter, ServiceDefinition Definition, string Home)
{
    public ServiceIdentity Service => Installer.Find(n => n == Definition.Name).Single().Identity;

    public void Control(string json) => File.WriteAllText(Path.Combine(Home, "stub-control.json"), json);
}

/// <summary>
/// This machine's /proc, as the engine reads it on macOS: no cgroups. (Here the test process and the fake's jobs all
/// sit in the same cgroup, "0::/", which the engine would read as "the caller is inside the gateway's tree".)
/// </summary>
internal sealed class MacProcessTable : IProcessTable
{
    public static readonly MacProcessTable Instance = new();

    public bool IsAlive(int pid) => LocalProcessTable.Instance.IsAlive(pid);

    public long? StartTime(int pid) => LocalProcessTable.Instance.StartTime(pid);

    public int? ParentPid(int pid) => LocalProcessTable.Instance.ParentPid(pid);

    public string? ControlGroup(int pid) => null;
}

/// <summary>The fake's runner with hooks around each launchctl call, to make a race happen at an exact point.</summary>
internal sealed class HookedRunner(FakeLaunchctlRunner inner) : IProcessRunner
{
    public Action<IReadOnlyList<string>>? Before { get; set; }

    public Action<IReadOnlyList<string>>? After { get; set; }

    public IReadOnlyList<string[]> Calls => inner.Calls;

    public void ClearCalls() => inner.ClearCalls();

    public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (fileName == "launchctl")
        {
            Before?.Invoke(arguments);
        }

        var r = inner.Run(fileName, arguments, timeout, cancellation);
        if (fileName == "launchctl")
        {
            After?.Invoke(arguments);
        }

        return r;
    }
}
