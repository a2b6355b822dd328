using System.Text.Json;
using Xunit.Abstractions;

namespace HermesGateway.Core.Tests.E2e;

/// <summary>
/// The real Hermes Agent gateway (0.16.0, ../shared/fixtures/hermes-agent) as the service, under the unit this module
/// installs, on a real systemd 252: in user and system scope and under names other than the one the gateway derives
/// from its HERMES_HOME, a restart signal (SIGUSR1 to the gateway, as ExecReload= and kill -USR1 send it; no module
/// involved) must end with exactly one new, healthy gateway; a planned stop must end inactive, not failed, with the
/// gateway saying "stopped"; an external SIGTERM and SIGKILL must be revived; a /restart typed in chat comes back once
/// on every path 0.16 takes; a permanent start-up error is not looped.
/// </summary>
[Collection(LifecycleSandboxGroup.Name)]
public sealed class RealGatewayTests(LifecycleSandbox sandbox, ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    public static string Launcher => Path.GetFullPath(Path.Combine(Definition.GoldenCases.RepoRoot(), "..", "shared", "fixtures", "hermes-agent", "hermes"));

    [SystemdSandboxTheory]
    [InlineData(ServiceScope.User, "hermes-gateway-realuser")]
    [InlineData(ServiceScope.System, "hermes-gateway-realsystem")]
    // A name of our own, not the one the gateway derives from its HERMES_HOME (its own restart helper would not act).
    [InlineData(ServiceScope.User, "hermes-gateway-relay")]
    public void Chat_restart_stop_term_and_kill_under_the_module_unit(ServiceScope scope, string name)
    {
        Assert.True(File.Exists(Launcher), $"the real gateway is not at {Launcher}");
        sandbox.EnsureUp();
        var definition = RealUnit("real-", scope, name);
        var home = definition.HermesHome!;
        var runner = sandbox.Runner();
        var manager = new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes);
        var installer = new ServiceInstaller(manager);
        var restarter = new GatewayRestarter(manager, sandbox.Processes, Path.Combine(sandbox.Root, "locks-real"));
        var systemctl = new SystemctlClient(runner, user: scope == ServiceScope.User);
        var unit = definition.FileName;
        var host = new TestHost { RealClock = true };

        installer.Install(new InstallRequest(definition, Start: true), host);
        try
        {
            var first = WaitHealthy(systemctl, unit, home, previousPid: null, "running after install");
            output.WriteLine($"{scope} {name}: running as PID {first.MainPid}");

            // The restart signal, sent to the gateway itself: it drains and exits, and must come back once.
            Kill("USR1", first.MainPid);
            var restarted = WaitHealthy(systemctl, unit, home, first.MainPid, "revived after SIGUSR1");
            output.WriteLine($"SIGUSR1 restart: {first.MainPid} -> {restarted.MainPid}, NRestarts={restarted.NRestarts}");
            // Exactly one new process: nobody restarts it a second time (its own helper and systemd both acting).
            Thread.Sleep(TimeSpan.FromSeconds(3));
            var settled = systemctl.Show(unit);
            Assert.Equal(restarted.MainPid, settled.MainPid);
            Assert.True(settled.IsRunning, settled.ToString());

            // Restart-HermesGateway's engine: signal, drain, systemd's restart, health of the new process — one new process.
            var r = restarter.Run(installer.Find(n => n == definition.Name).Single().Identity, new RestartOptions(), host);
            output.WriteLine($"engine restart: {r.OldPid} -> {r.NewPid} via {r.Strategy}; drain {r.Drain?.TotalMilliseconds:0} ms, downtime {r.Downtime?.TotalMilliseconds:0} ms");
            Assert.Equal(("running", restarted.MainPid), (r.FinalState, r.OldPid));
            Assert.NotEqual(restarted.MainPid, r.NewPid);
            Assert.True(ReportsRunning(home, r.NewPid!.Value));
            Thread.Sleep(TimeSpan.FromSeconds(3));
            Assert.Equal(r.NewPid, systemctl.Show(unit).MainPid);

            // planned stop through the module: inactive, not failed, and the real gateway took it as planned: it says
            // "stopped" for its PID (after an unplanned SIGTERM it leaves "running" behind on purpose).
            installer.Stop(installer.Find(n => n == definition.Name).Single().Identity, host);
            var stopped = systemctl.Show(unit);
            Assert.Equal("inactive", stopped.ActiveState);
            Assert.NotEqual("failed", stopped.SubState);
            Assert.Equal(("stopped", r.NewPid.Value), GatewayState(home));
            Assert.False(File.Exists(Path.Combine(home, "gateway.pid")));

            // systemctl stop (no module involved): the unit's ExecStop= marks it planned in the same way
            installer.Start(installer.Find(n => n == definition.Name).Single().Identity, host);
            var again = WaitHealthy(systemctl, unit, home, r.NewPid, "running after Start");
            string[] stop = scope == ServiceScope.User ? ["systemctl", "--user", "stop", unit] : ["systemctl", "stop", unit];
            Assert.Equal(0, sandbox.Exec(stop).ExitCode);
            Assert.Equal("inactive", systemctl.Show(unit).ActiveState);
            Assert.Equal(("stopped", again.MainPid), GatewayState(home));

            // start, then an external SIGTERM (no marker): exit 1, revived
            installer.Start(installer.Find(n => n == definition.Name).Single().Identity, host);
            var started = WaitHealthy(systemctl, unit, home, again.MainPid, "running after Start");
            Kill("TERM", started.MainPid);
            var afterTerm = WaitHealthy(systemctl, unit, home, started.MainPid, "revived after an external SIGTERM");

            // SIGKILL (as the OOM killer would): revived
            Kill("KILL", afterTerm.MainPid);
            WaitHealthy(systemctl, unit, home, afterTerm.MainPid, "revived after SIGKILL");
        }
        finally
        {
            // Never throws over the test's own failure: a service that cannot be found here is reported below.
            if (installer.Find(n => n == definition.Name) is [var installed, ..])
            {
                installer.Uninstall(installed.Identity, host);
            }
        }

        Assert.Empty(installer.Find(n => n == definition.Name));
        Assert.NotEqual("loaded", systemctl.Show(unit).LoadState);
    }

    /// <summary>
    /// A /restart typed in chat, delivered the way a user's message arrives: through the real gateway's Signal adapter,
    /// pointed at a fake signal-cli (tests/fake-signal) that pushes the message. Hermes 0.16 ends it with 75 when it sees
    /// a container (/.dockerenv, as on this CI machine) and with 0 on a bare host (a detached helper spawned, the
    /// request recorded in gateway_state.json) or whenever it sees INVOCATION_ID. Every path must end with exactly one
    /// new, healthy gateway: 75 through Restart=/RestartForceExitStatus= (NRestarts grows), 0 through the unit's
    /// ExecStopPost= reviver (a start job: NRestarts stays). The restart signal with INVOCATION_ID visible takes the 0 path too.
    /// </summary>
    [SystemdSandboxTheory]
    [InlineData(ServiceScope.User, "hermes-gateway-chatuser", true)]
    [InlineData(ServiceScope.System, "hermes-gateway-chatsystem", true)]
    [InlineData(ServiceScope.User, "relay-chat", true)]
    [InlineData(ServiceScope.System, "relay-visible-id", false)]
    [InlineData(ServiceScope.User, "hermes-gateway-visible-id", false)]
    public void Chat_restart_through_a_messaging_platform_comes_back_once(ServiceScope scope, string name, bool hideInvocationId)
    {
        Assert.True(File.Exists(Launcher), $"the real gateway is not at {Launcher}");
        sandbox.EnsureUp();
        using var signal = FakeSignal.Start(Path.Combine(sandbox.Root, "signal-" + name + ".jsonl"));
        var definition = RealUnit("chat-", scope, name, signal.Environment, GatewayExitContract.Hermes016);
        var home = definition.HermesHome!;
        definition = definition with { Systemd = definition.Systemd! with { HideInvocationId = hideInvocationId } };
        var runner = sandbox.Runner();
        var manager = new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes);
        var installer = new ServiceInstaller(manager);
        var systemctl = new SystemctlClient(runner, user: scope == ServiceScope.User);
        var unit = definition.FileName;
        var host = new TestHost { RealClock = true };
        var container = File.Exists("/.dockerenv") || File.Exists("/run/.containerenv");

        installer.Install(new InstallRequest(definition, Start: true), host);
        try
        {
            var first = WaitHealthy(systemctl, unit, home, previousPid: null, "running after install");
            signal.WaitConnected(home);
            signal.Send("/restart");
            var after = WaitHealthy(systemctl, unit, home, first.MainPid, "revived after chat /restart");
            Thread.Sleep(TimeSpan.FromSeconds(3));
            var settled = systemctl.Show(unit);
            Assert.Equal(after.MainPid, settled.MainPid);
            Assert.True(settled.IsRunning, settled.ToString());
            var byExit75 = hideInvocationId && container;
            output.WriteLine($"{scope} {name}: chat /restart {first.MainPid} -> {after.MainPid}, NRestarts {first.NRestarts} -> {settled.NRestarts} ({(byExit75 ? "exit 75, Restart=" : "exit 0, ExecStopPost= reviver")})");
            Assert.Equal(first.NRestarts + (byExit75 ? 1 : 0), settled.NRestarts);

            if (!hideInvocationId)
            {
                // The restart signal with INVOCATION_ID visible also exits 0: the reviver again, once.
                Kill("USR1", settled.MainPid);
                var usr1 = WaitHealthy(systemctl, unit, home, settled.MainPid, "revived after SIGUSR1 with INVOCATION_ID visible");
                Thread.Sleep(TimeSpan.FromSeconds(3));
                var once = systemctl.Show(unit);
                Assert.Equal((usr1.MainPid, settled.NRestarts), (once.MainPid, once.NRestarts));
            }

            // And the reviver never undoes a stop the admin asked for.
            string[] stop = scope == ServiceScope.User ? ["systemctl", "--user", "stop", unit] : ["systemctl", "stop", unit];
            Assert.Equal(0, sandbox.Exec(stop).ExitCode);
            Thread.Sleep(TimeSpan.FromSeconds(2));
            Assert.Equal("inactive", systemctl.Show(unit).ActiveState);
        }
        finally
        {
            if (installer.Find(n => n == definition.Name) is [var installed, ..])
            {
                installer.Uninstall(installed.Identity, host);
            }
        }

        Assert.Empty(installer.Find(n => n == definition.Name));
    }

    /// <summary>
    /// Hermes 0.16's one classified permanent start-up error: every enabled platform fails for good (here the Signal
    /// account is held by another running gateway) and it exits 0 with gateway_state "startup_failed". The module's
    /// unit must not loop on it: inactive, no automatic restart, and the reviver does not start it either.
    /// </summary>
    [SystemdSandboxFact]
    public void A_permanent_startup_error_is_not_looped()
    {
        Assert.True(File.Exists(Launcher), $"the real gateway is not at {Launcher}");
        sandbox.EnsureUp();
        using var signal = FakeSignal.Start(Path.Combine(sandbox.Root, "signal-startup-failed.jsonl"));
        var locks = Path.Combine(sandbox.Root, "signal-locks");
        Directory.CreateDirectory(locks);
        var environment = signal.Environment.Append(new EnvironmentVariable("HERMES_GATEWAY_LOCK_DIR", locks)).ToList();
        var runner = sandbox.Runner();
        var manager = new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes);
        var installer = new ServiceInstaller(manager);
        var systemctl = new SystemctlClient(runner, user: true);
        var host = new TestHost { RealClock = true };
        var holder = RealUnit("sf-", ServiceScope.User, "hermes-gateway-holder", environment, GatewayExitContract.Hermes016);
        var subject = RealUnit("sf-", ServiceScope.User, "hermes-gateway-second-account", environment, GatewayExitContract.Hermes016);
        try
        {
            installer.Install(new InstallRequest(holder, Start: true), host);
            WaitHealthy(systemctl, holder.FileName, holder.HermesHome!, previousPid: null, "holder running");
            signal.WaitConnected(holder.HermesHome!);

            installer.Install(new InstallRequest(subject, Start: true), host);
            var deadline = DateTime.UtcNow + StartTimeout;
            while (GatewayState(subject.HermesHome!)?.State != "startup_failed" && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }

            Assert.Equal("startup_failed", GatewayState(subject.HermesHome!)?.State);
            Thread.Sleep(TimeSpan.FromSeconds(5));
            var s = systemctl.Show(subject.FileName);
            output.WriteLine($"second account: {s}");
            Assert.Equal(("inactive", 0, 0), (s.ActiveState, s.NRestarts, s.ExecMainStatus));
            Assert.Equal("startup_failed", GatewayState(subject.HermesHome!)?.State);
        }
        finally
        {
            foreach (var d in new[] { subject, holder })
            {
                if (installer.Find(n => n == d.Name) is [var installed, ..])
                {
                    installer.Uninstall(installed.Identity, host);
                }
            }
        }
    }

    /// <summary>
    /// The module's unit for the real gateway: its HERMES_HOME made in the sandbox (<paramref name="prefix"/> + name),
    /// owned by the service account in system scope.
    /// </summary>
    private ServiceDefinition RealUnit(string prefix, ServiceScope scope, string name, IReadOnlyList<EnvironmentVariable>? environment = null, GatewayExitContract? contract = null)
    {
        var home = Directory.CreateDirectory(Path.Combine(sandbox.Root, prefix + name)).FullName;
        if (scope == ServiceScope.System)
        {
            Assert.Equal(0, sandbox.Exec("chown", "-R", "hermes", home).ExitCode);
        }

        return ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Systemd,
            Scope = scope,
            Name = name,
            Executable = Launcher,
            HermesHome = home,
            User = scope == ServiceScope.System ? "hermes" : null,
            Environment = environment,
            Contract = contract,
        });
    }

    private void Kill(string signal, int pid) =>
        Assert.Equal(0, sandbox.Exec("kill", "-" + signal, pid.ToString(CultureInfo.InvariantCulture)).ExitCode);

    /// <summary>
    /// Waits until systemd runs a main process other than <paramref name="previousPid"/> and the gateway's own state
    /// file says running for that PID with that PID's start time (a state file alone can be a dead process' leftover).
    /// </summary>
    private SystemdUnitStatus WaitHealthy(SystemctlClient systemctl, string unit, string home, int? previousPid, string what)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        SystemdUnitStatus s;
        do
        {
            s = systemctl.Show(unit);
            if (s.IsRunning && s.MainPid > 0 && s.MainPid != previousPid && ReportsRunning(home, s.MainPid))
            {
                return s;
            }

            Thread.Sleep(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new Xunit.Sdk.XunitException($"{unit} not {what} within {StartTimeout.TotalSeconds} s: {s}");
    }

    /// <summary>gateway_state and pid of the gateway's state file (after an unplanned SIGTERM 0.16 leaves "running").</summary>
    private static (string? State, int Pid)? GatewayState(string home) => GatewayStateFile.Read(home);

    private bool ReportsRunning(string home, int pid) => ReportsRunning(home, pid, $"/proc/{sandbox.ManagerPid}/root/proc");

    /// <summary>
    /// The gateway's state file says "running" for this PID with this PID's start time, read from
    /// <paramref name="procRoot"/>: a state file alone can be a dead process' leftover.
    /// </summary>
    internal static bool ReportsRunning(string home, int pid, string procRoot)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(home, GatewayStateFile.FileName)));
            var startTime = ProcessStartTime.Read(pid, procRoot);
            return GatewayRestarter.ReportsRunning(home, pid) && startTime is not null
                && doc.RootElement.GetProperty("start_time").GetInt64() == startTime;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }
}
