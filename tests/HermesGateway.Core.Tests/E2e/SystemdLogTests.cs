using Xunit.Abstractions;

namespace HermesGateway.Core.Tests.E2e;

/// <summary>
/// On a real systemd 252 with journald running in the sandbox: the stub's log read back through the engine's
/// journalctl (-Tail, -Follow ended by cancellation), and an uninstalled failed unit leaving nothing behind.
/// </summary>
[Collection(JournalSandboxGroup.Name)]
public sealed class SystemdLogTests(JournalSandbox fixture, ITestOutputHelper output)
{
    private readonly LifecycleSandbox sandbox = fixture.Sandbox;

    private static string Stub => Path.Combine(Definition.GoldenCases.RepoRoot(), "tests", "stub-gateway", "stub_gateway.py");

    [SystemdSandboxTheory]
    [InlineData(ServiceScope.User)]
    [InlineData(ServiceScope.System)]
    public void The_journal_of_a_running_stub_is_read_tailed_and_followed_until_cancelled(ServiceScope scope)
    {
        sandbox.EnsureJournal();
        var (definition, home) = StubDefinition($"log-e2e{scope}", scope, "{\"drain_seconds\": 0.2, \"marker_poll_seconds\": 0}");
        LogToJournal(definition, scope);
        var runner = sandbox.Runner();
        var installer = new ServiceInstaller(new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes));
        var systemctl = new SystemctlClient(runner, user: scope == ServiceScope.User);
        installer.Install(new InstallRequest(definition, Start: true), new TestHost());
        var running = WaitFor(() => systemctl.Show(definition.FileName), s => s.IsRunning, "running");
        var service = installer.Find(n => n == definition.Name).Single().Identity;
        var log = new GatewayLog(runner, sandbox.Environment);

        // The stub's own lines, from its PID, with journald's time.
        var entries = WaitFor(() => log.Read(service, new GatewayLogRequest(), CancellationToken.None).ToList(),
            l => l.Any(e => e.Pid == running.MainPid), "the stub's lines in the journal");
        foreach (var e in entries)
        {
            output.WriteLine($"{e.Time:O} {e.Pid} {e.Level} {e.Message}");
        }

        var own = entries.Where(e => e.Pid == running.MainPid).ToList();
        Assert.All(own, e => Assert.Equal(definition.Name, e.Service));
        Assert.All(own, e => Assert.InRange(e.Time!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.All(own, e => Assert.NotNull(e.Level));
        // The stub may have logged more since: one entry, the newest, no older than the last one read before.
        var last = Assert.Single(log.Read(service, new GatewayLogRequest(Tail: 1), CancellationToken.None));
        Assert.True(last.Time >= entries[^1].Time, $"{last} is older than {entries[^1]}");
        Assert.Empty(log.Read(service, new GatewayLogRequest(Since: DateTimeOffset.UtcNow.AddHours(1)), CancellationToken.None));

        // -Follow: the lines so far, then a new one (a SIGUSR2? no: a restart of the unit logs systemd's and the
        // stub's lines) as it comes; cancelling ends it at once and leaves no journalctl behind.
        using var cancel = new CancellationTokenSource();
        var followed = new List<HermesGatewayLogEntry>();
        var restarted = false;
        var watch = Stopwatch.StartNew();
        var ended = Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var e in log.Read(service, new GatewayLogRequest(Tail: 1, Follow: true), cancel.Token))
            {
                followed.Add(e);
                if (!restarted)
                {
                    restarted = true;
                    systemctl.Restart(definition.FileName);
                }
                else if (e.Pid is { } pid && pid != running.MainPid && pid != 1 && e.Message.Length > 0)
                {
                    cancel.Cancel();
                }
            }
        });
        Assert.NotNull(ended);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Contains(followed, e => e.Pid is { } p && p != running.MainPid);
        Assert.Contains(runner.Calls, c => c.StartsWith("journalctl ", StringComparison.Ordinal) && c.EndsWith(" -n 1 -f", StringComparison.Ordinal));
        WaitFor(() => sandbox.Exec("pgrep", "-x", "journalctl").ExitCode, code => code == 1, "no journalctl left in the sandbox");

        Assert.NotNull(installer.Uninstall(installer.Find(n => n == definition.Name).Single().Identity, new TestHost()));
        File.Delete(DropIn(definition, scope));
    }

    /// <summary>Issue 13, item 12: a failed unit, uninstalled, stayed as a not-found failed unit in 'systemctl --failed'.</summary>
    [SystemdSandboxTheory]
    [InlineData(ServiceScope.User)]
    [InlineData(ServiceScope.System)]
    public void Uninstalling_a_failed_unit_leaves_no_failed_unit_behind(ServiceScope scope)
    {
        // The stub exits 78 (a configuration error): RestartPreventExitStatus=78, so the unit ends failed, not restarted.
        var (definition, _) = StubDefinition($"failed-e2e{scope}", scope, "{\"mode\": \"exit\", \"exit_code\": 78, \"exit_after_seconds\": 0.2}");
        var runner = sandbox.Runner();
        var installer = new ServiceInstaller(new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes));
        var systemctl = new SystemctlClient(runner, user: scope == ServiceScope.User);
        var unit = definition.FileName;
        installer.Install(new InstallRequest(definition, Start: true), new TestHost());
        WaitFor(() => systemctl.Show(unit), s => s.ActiveState == "failed", "failed");

        Assert.NotNull(installer.Uninstall(installer.Find(n => n == definition.Name).Single().Identity, new TestHost()));

        var after = systemctl.Show(unit);
        Assert.Equal(("not-found", "inactive"), (after.LoadState, after.ActiveState));
        var failed = sandbox.Exec([.. scope == ServiceScope.User ? new[] { "systemctl", "--user" } : ["systemctl"], "list-units", "--failed", "--all", "--plain", "--no-legend"]);
        output.WriteLine(failed.StandardOutput);
        Assert.DoesNotContain(unit, failed.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>Issue 13, item 7: with no logind (the sandbox has none), -EnableLinger failed as HermesNoUserBus and left the unit not enabled.</summary>
    [SystemdSandboxFact]
    public void A_linger_that_cannot_be_enabled_is_HermesLingerFailed_and_the_unit_is_installed_and_enabled()
    {
        var (definition, _) = StubDefinition("linger-e2e", ServiceScope.User, "{\"drain_seconds\": 0.2, \"marker_poll_seconds\": 0}");
        var runner = sandbox.Runner();
        var installer = new ServiceInstaller(new SystemdServiceManager(runner, sandbox.Environment, sandbox.Processes));
        var systemctl = new SystemctlClient(runner, user: true);

        var e = Expect.Error(HermesErrorIds.LingerFailed, () => installer.Install(new InstallRequest(definition, Start: true, EnableLinger: true), new TestHost()));
        output.WriteLine(e.Message);

        Assert.True(systemctl.IsEnabled(definition.FileName));
        WaitFor(() => systemctl.Show(definition.FileName), s => s.IsRunning, "running");
        Assert.NotNull(installer.Uninstall(installer.Find(n => n == definition.Name).Single().Identity, new TestHost()));
    }

    private (ServiceDefinition Definition, string Home) StubDefinition(string name, ServiceScope scope, string control)
    {
        sandbox.EnsureUp();
        var home = Path.Combine(sandbox.Root, name.ToLowerInvariant());
        Directory.CreateDirectory(home);
        File.WriteAllText(Path.Combine(home, "stub-control.json"), control);
        if (scope == ServiceScope.System)
        {
            Assert.Equal(0, sandbox.Exec("chown", "-R", "hermes", home).ExitCode);
        }

        var definition = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Systemd,
            Scope = scope,
            Name = name.ToLowerInvariant(),
            Executable = Stub,
            HermesHome = home,
            User = scope == ServiceScope.System ? "hermes" : null,
        });
        return (definition, home);
    }

    /// <summary>sde2e's managers send services' output to the console by default; real systemd's default is the journal.</summary>
    private void LogToJournal(ServiceDefinition definition, ServiceScope scope)
    {
        var dropIn = DropIn(definition, scope);
        Directory.CreateDirectory(Path.GetDirectoryName(dropIn)!);
        File.WriteAllText(dropIn, "[Service]\nStandardOutput=journal\nStandardError=journal\n");
    }

    private string DropIn(ServiceDefinition definition, ServiceScope scope) =>
        Path.Combine(scope == ServiceScope.User ? sandbox.UserUnits : sandbox.SystemUnits, definition.FileName + ".d", "50-journal.conf");

    private static T WaitFor<T>(Func<T> read, Func<T, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        T value;
        do
        {
            value = read();
            if (condition(value))
            {
                return value;
            }

            Thread.Sleep(200);
        }
        while (DateTime.UtcNow < deadline);

        throw new Xunit.Sdk.XunitException($"not {what} within 30 s: {value}");
    }
}
