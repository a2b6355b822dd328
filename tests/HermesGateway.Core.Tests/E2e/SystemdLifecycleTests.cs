using System.Text.Json;
using Xunit.Abstractions;

namespace HermesGateway.Core.Tests.E2e;

/// <summary>
/// The whole lifecycle on a real systemd 252, with the stub gateway as the service: install → start → status →
/// SIGKILL → revived → planned stop ends inactive, not failed → start → external SIGTERM is revived → identical
/// re-install is a no-op → a hand-edited unit is kept without -Force and backed up with it → -WhatIf touches
/// nothing → uninstall leaves no unit and keeps the backup.
/// </summary>
[Collection(LifecycleSandboxGroup.Name)]
public sealed class SystemdLifecycleTests(LifecycleSandbox sandbox, ITestOutputHelper output)
{
    private static string Stub => Path.Combine(GoldenCasesRoot(), "tests", "stub-gateway", "stub_gateway.py");

    [SystemdSandboxTheory]
    [InlineData(ServiceScope.User)]
    [InlineData(ServiceScope.System)]
    public void Install_start_kill_stop_start_term_reinstall_edit_whatif_uninstall(ServiceScope scope)
    {
        var home = StubHome($"hermes-{scope}", scope);
        var definition = ServiceDefinitionFactory.Create(StubRequest($"hermes-gateway-e2e{scope}", scope, home) with
        {
            EnvironmentFile = Path.Combine(home, "gateway.env"),
        });
        const string Secret = "a \"b\" $c `d` \\e\ttab %f 'g'";
        var runner = sandbox.Runner();
        var installer = new ServiceInstaller(new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes));
        var systemctl = new SystemctlClient(runner, user: scope == ServiceScope.User);
        var unit = definition.FileName;
        var host = new TestHost();

        // install → running
        var secrets = new[] { new EnvironmentVariable("HERMES_TEST_SECRET", Secret) };
        var installed = installer.Install(new InstallRequest(definition, Start: true, EnvironmentFileVariables: secrets), host)!;
        Assert.Equal(InstallOutcome.Created, installed.Outcome);
        var first = WaitFor(systemctl, unit, s => s.IsRunning && GatewayRunning(home, s.MainPid), "running after install");
        output.WriteLine($"{scope}: running as PID {first.MainPid}");

        // the secret reached the gateway exactly, through an environment file only its owner can read
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(definition.EnvironmentFile!));
        var environ = sandbox.Exec("cat", $"/proc/{first.MainPid}/environ").StandardOutput.Split('\0');
        Assert.Contains("HERMES_TEST_SECRET=" + Secret, environ);

        // status
        var status = installer.Find(n => n == definition.Name).Single();
        Assert.Equal(("active", "running", first.MainPid, true), (status.State, status.SubState!, status.Pid!.Value, status.Enabled!.Value));
        Assert.True(status.InstalledByModule);
        Assert.Equal("none", status.Drift);
        Assert.Equal($"{status.PolicyVerdicts.Count}/{status.PolicyVerdicts.Count} ok", status.Policy);

        // SIGKILL → revived (a process this test started, through systemd)
        Assert.Equal(0, sandbox.Exec("kill", "-KILL", first.MainPid.ToString(System.Globalization.CultureInfo.InvariantCulture)).ExitCode);
        var revived = WaitFor(systemctl, unit, s => s.IsRunning && s.MainPid != first.MainPid && GatewayRunning(home, s.MainPid), "revived after SIGKILL");
        Assert.Equal(1, revived.NRestarts);

        // planned stop → inactive (dead), not failed; the stub saw its marker and exited 0
        installer.Stop(installer.Find(n => n == definition.Name).Single().Identity, host);
        var stopped = systemctl.Show(unit);
        Assert.Equal(("inactive", "dead", "success"), (stopped.ActiveState, stopped.SubState, stopped.Result));
        Assert.Contains(Events(home), e => e.GetProperty("event").GetString() == "exit" && e.GetProperty("pid").GetInt32() == revived.MainPid && e.GetProperty("code").GetInt32() == 0);

        // start again
        installer.Start(installer.Find(n => n == definition.Name).Single().Identity, host);
        var started = WaitFor(systemctl, unit, s => s.IsRunning && GatewayRunning(home, s.MainPid), "running after Start");

        // external SIGTERM (no marker) → the stub exits 1 → revived, recorded as a failure
        Assert.Equal(0, sandbox.Exec("kill", "-TERM", started.MainPid.ToString(System.Globalization.CultureInfo.InvariantCulture)).ExitCode);
        var afterTerm = WaitFor(systemctl, unit, s => s.IsRunning && s.MainPid != started.MainPid && GatewayRunning(home, s.MainPid), "revived after SIGTERM");
        Assert.Contains(Events(home), e => e.GetProperty("event").GetString() == "exit" && e.GetProperty("pid").GetInt32() == started.MainPid && e.GetProperty("code").GetInt32() == 1);

        // an identical re-install changes nothing and reloads nothing
        var path = installed.Path;
        var writtenAt = File.GetLastWriteTimeUtc(path);
        runner.Calls.Clear();
        Assert.Equal(InstallOutcome.Unchanged, installer.Install(new InstallRequest(definition, Start: true, EnvironmentFileVariables: secrets), host)!.Outcome);
        Assert.Equal(writtenAt, File.GetLastWriteTimeUtc(path));
        Assert.DoesNotContain(runner.Calls, c => c.Contains("daemon-reload", StringComparison.Ordinal) || c.Contains(" enable", StringComparison.Ordinal) || c.Contains(" start", StringComparison.Ordinal) || c.Contains(" stop", StringComparison.Ordinal));
        Assert.Equal(afterTerm.MainPid, systemctl.Show(unit).MainPid);

        // a hand edit is kept without -Force, and backed up with it
        File.AppendAllText(path, "# tuned by hand\n");
        var edited = File.ReadAllText(path);
        var refused = Assert.Throws<HermesException>(() => installer.Install(new InstallRequest(definition), host)!);
        Assert.Equal(HermesErrorIds.FileChangedByHand, refused.ErrorId);
        Assert.Equal(edited, File.ReadAllText(path));
        var forced = installer.Install(new InstallRequest(definition, Force: true), host)!;
        Assert.Equal(InstallOutcome.Updated, forced.Outcome);
        Assert.Equal(edited, File.ReadAllText(forced.BackupPath!));

        // -WhatIf: nothing on disk, nothing in systemd
        var beforeWhatIf = (File.ReadAllText(path), Directory.GetFiles(Path.GetDirectoryName(path)!).Length, systemctl.Show(unit));
        var whatIf = new TestHost(whatIf: true);
        Assert.Null(installer.Install(new InstallRequest(definition with { StopTimeout = TimeSpan.FromSeconds(120) }, Start: true), whatIf));
        Assert.Null(installer.Uninstall(installer.Find(n => n == definition.Name).Single().Identity, whatIf));
        installer.Stop(installer.Find(n => n == definition.Name).Single().Identity, whatIf);
        Assert.Equal(beforeWhatIf, (File.ReadAllText(path), Directory.GetFiles(Path.GetDirectoryName(path)!).Length, systemctl.Show(unit)));

        // uninstall: a planned stop, no unit left, the backup kept
        var removed = installer.Uninstall(installer.Find(n => n == definition.Name).Single().Identity, host);
        Assert.NotNull(removed);
        Assert.False(File.Exists(path));
        Assert.True(File.Exists(removed.BackupPath));
        var gone = systemctl.Show(unit);
        Assert.NotEqual("loaded", gone.LoadState);
        Assert.False(sandbox.Processes.IsAlive(afterTerm.MainPid));
        Assert.Empty(installer.Find(n => n == definition.Name));
    }

    /// <summary>Issue 13, item 1: a unit installed under a name of the admin's choosing is found again and managed.</summary>
    [SystemdSandboxTheory]
    [InlineData(ServiceScope.User)]
    [InlineData(ServiceScope.System)]
    public void A_unit_installed_under_a_custom_name_is_found_stopped_started_and_uninstalled(ServiceScope scope)
    {
        var home = StubHome($"relay-{scope}", scope);
        var definition = ServiceDefinitionFactory.Create(StubRequest($"relay-e2e{scope}", scope, home));
        var runner = sandbox.Runner();
        var installer = new ServiceInstaller(new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes));
        var systemctl = new SystemctlClient(runner, user: scope == ServiceScope.User);
        var unit = definition.FileName;
        var host = new TestHost();
        installer.Install(new InstallRequest(definition, Start: true), host);
        var running = WaitFor(systemctl, unit, s => s.IsRunning && GatewayRunning(home, s.MainPid), "running after install");

        var found = Assert.Single(installer.Find(n => n == definition.Name));
        Assert.Equal((scope, running.MainPid, true), (found.Scope, found.Pid, found.InstalledByModule));

        installer.Stop(found.Identity, host);
        Assert.Equal("inactive", WaitFor(systemctl, unit, s => s.ActiveState == "inactive", "stopped").ActiveState);
        installer.Start(Assert.Single(installer.Find(n => n == definition.Name)).Identity, host);
        WaitFor(systemctl, unit, s => s.IsRunning && GatewayRunning(home, s.MainPid), "running after start");

        Assert.NotNull(installer.Uninstall(Assert.Single(installer.Find(n => n == definition.Name)).Identity, host));
        Assert.False(File.Exists(found.Path));
        Assert.Empty(installer.Find(n => n == definition.Name));
    }

    /// <summary>Issue 13, item 5: a start into a configuration error is an error at once, with exit 78 and the unit's last log lines.</summary>
    [SystemdSandboxFact]
    public void A_start_into_a_configuration_error_is_reported_at_once_with_its_exit_and_the_log()
    {
        // System scope: the sandbox's user manager is not named user@.service, so journald files its units' lines under
        // the manager's unit and journalctl --user-unit cannot find them there (it does on a real machine).
        var home = StubHome("cfgerr-start", ServiceScope.System);
        StartJournal();
        var definition = ServiceDefinitionFactory.Create(StubRequest("hermes-gateway-cfgerr", ServiceScope.System, home));
        // The sandbox's manager sends services' output to its console by default; this unit's goes to the journal.
        definition = definition with { ExtraUnitSettings = [new("Service", "StandardOutput", "journal"), new("Service", "StandardError", "journal")] };
        var runner = sandbox.Runner();
        var manager = new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes);
        var installer = new ServiceInstaller(manager);
        var waiter = new GatewayWaiter(installer, sandbox.Processes);
        var systemctl = new SystemctlClient(runner, user: false);
        var host = new TestHost();
        waiter.Install(new InstallRequest(definition, Start: true), GatewayWaiter.DefaultTimeout, host);
        var service = Assert.Single(installer.Find(n => n == definition.Name)).Identity;
        installer.Stop(service, host);
        File.WriteAllText(Path.Combine(home, "stub-control.json"), "{\"mode\": \"config_error\"}");
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<HermesException>(() => waiter.Start(service, TimeSpan.FromSeconds(30), host));

        output.WriteLine($"{clock.Elapsed.TotalMilliseconds:0} ms: {e.Message}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        Assert.Equal(HermesErrorIds.GatewayExitedOnStart, e.ErrorId);
        Assert.Contains("exit 78 (configuration error)", e.Message, StringComparison.Ordinal);
        Assert.Contains(runner.Calls, c => c.StartsWith("journalctl -u " + definition.FileName + " -n 10 --no-pager -o cat", StringComparison.Ordinal));
        var failure = Assert.IsType<GatewayStartFailure>(e.Target);
        Assert.True(failure.Permanent);
        Assert.Contains(failure.Log, l => l.Contains("configuration error (stub mode config_error)", StringComparison.Ordinal)); // the stub's own last words
        Assert.Contains("configuration error (stub mode config_error)", e.Message, StringComparison.Ordinal);
        Assert.Single(runner.Calls, c => c == "systemctl start -- " + definition.FileName); // not started again
        Assert.False(systemctl.Show(definition.FileName).IsRunning);
        installer.Uninstall(service, host);
    }

    /// <summary>Wait-HermesGateway's engine on a real unit: Running once the stub reports itself running, Stopped after a stop, a timeout otherwise.</summary>
    [SystemdSandboxFact]
    public void Waiting_for_running_and_stopped_follows_the_real_unit()
    {
        var home = StubHome("wait-states", ServiceScope.User);
        File.WriteAllText(Path.Combine(home, "stub-control.json"), "{\"drain_seconds\": 0.2, \"marker_poll_seconds\": 0, \"start_seconds\": 1.5}");
        var definition = ServiceDefinitionFactory.Create(StubRequest("hermes-gateway-waits", ServiceScope.User, home));
        var runner = sandbox.Runner();
        var installer = new ServiceInstaller(new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes));
        var waiter = new GatewayWaiter(installer, sandbox.Processes);
        var systemctl = new SystemctlClient(runner, user: true);
        var host = new TestHost();
        installer.Install(new InstallRequest(definition, Start: true), host); // no wait: the stub takes 1.5 s to report running
        var service = Assert.Single(installer.Find(n => n == definition.Name)).Identity;

        var timeout = Assert.Throws<HermesException>(() => waiter.Wait(service, GatewayWaitState.Stopped, TimeSpan.FromMilliseconds(500), host));
        Assert.Equal(HermesErrorIds.WaitTimeout, timeout.ErrorId);

        waiter.Wait(service, GatewayWaitState.Running, TimeSpan.FromSeconds(30), host);
        var s = systemctl.Show(definition.FileName);
        Assert.True(s.IsRunning && GatewayRunning(home, s.MainPid), s.ToString());

        Assert.Null(waiter.Start(service, null, host)); // already running: nothing to do, nothing waited for
        installer.Stop(service, host);
        waiter.Wait(service, GatewayWaitState.Stopped, TimeSpan.FromSeconds(30), host);
        Assert.Equal("inactive", systemctl.Show(definition.FileName).ActiveState);

        var running = waiter.Start(service, TimeSpan.FromSeconds(30), host);
        Assert.NotNull(running);
        Assert.True(GatewayRunning(home, running.Pid));
        installer.Uninstall(service, host);
    }

    /// <summary>
    /// journald in the sandbox (sde2e boots without it): its units linked onto the manager's unit path and started, so a
    /// unit that logs to the journal can be read back with journalctl.
    /// </summary>
    private void StartJournal()
    {
        foreach (var unit in new[] { "systemd-journald.service", "systemd-journald.socket", "systemd-journald-dev-log.socket" })
        {
            var link = Path.Combine(sandbox.SystemUnits, unit);
            if (!File.Exists(link) && File.Exists(Path.Combine("/lib/systemd/system", unit)))
            {
                File.CreateSymbolicLink(link, Path.Combine("/lib/systemd/system", unit));
            }
        }

        Assert.Equal(0, sandbox.Exec("systemctl", "daemon-reload").ExitCode);
        var started = sandbox.Exec("systemctl", "start", "systemd-journald.socket", "systemd-journald.service");
        Assert.True(started.ExitCode == 0, started.StandardError);
    }

    /// <summary>A HERMES_HOME in the booted sandbox for the stub (quick drain, no marker polling), the service account's in system scope.</summary>
    private string StubHome(string name, ServiceScope scope)
    {
        sandbox.EnsureUp();
        var home = Path.Combine(sandbox.Root, name.ToLowerInvariant());
        Directory.CreateDirectory(home);
        File.WriteAllText(Path.Combine(home, "stub-control.json"), "{\"drain_seconds\": 0.2, \"marker_poll_seconds\": 0}");
        if (scope == ServiceScope.System)
        {
            Assert.Equal(0, sandbox.Exec("chown", "-R", "hermes", home).ExitCode);
        }

        return home;
    }

    /// <summary>The stub as the service <paramref name="name"/> in <paramref name="scope"/> (system scope: as the account hermes).</summary>
    private static DefinitionRequest StubRequest(string name, ServiceScope scope, string home) => new()
    {
        Platform = ServicePlatform.Systemd,
        Scope = scope,
        Name = name.ToLowerInvariant(),
        Executable = Stub,
        HermesHome = home,
        User = scope == ServiceScope.System ? "hermes" : null,
    };

    private static SystemdUnitStatus WaitFor(SystemctlClient systemctl, string unit, Func<SystemdUnitStatus, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        SystemdUnitStatus s;
        do
        {
            s = systemctl.Show(unit);
            if (condition(s))
            {
                return s;
            }

            Thread.Sleep(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new Xunit.Sdk.XunitException($"{unit} not {what} within 30 s: {s}");
    }

    /// <summary>The stub reports itself running (its state file names the PID).</summary>
    private static bool GatewayRunning(string home, int pid)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(home, "gateway_state.json")));
            return doc.RootElement.GetProperty("gateway_state").GetString() == "running" && doc.RootElement.GetProperty("pid").GetInt32() == pid;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException)
        {
            return false;
        }
    }

    private static List<JsonElement> Events(string home) =>
        [.. File.ReadAllLines(Path.Combine(home, "stub-events.jsonl")).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    private static string GoldenCasesRoot() => Definition.GoldenCases.RepoRoot();
}
