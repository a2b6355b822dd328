using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// ShouldProcess as a host sees it: -WhatIf prints the plan through the host and touches neither the disk nor the
/// supervisor; -Confirm (and ConfirmImpact High) asks the host, and its answer decides what happens.
/// </summary>
[Collection(ProcessStateGroup.Name)]
public sealed class ShouldProcessTests : IDisposable
{
    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void WhatIf_on_Install_writes_nothing_asks_the_supervisor_nothing_and_shows_the_whole_plan_on_the_host()
    {
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: false);

        var result = session.Invoke("Install-HermesService -Profile whatif -Executable /usr/local/bin/hermes -WhatIf").Succeeded();

        Assert.Empty(result.Output);
        Assert.Empty(sandbox.FilesUnderHome());
        Assert.Empty(systemctl.Calls);
        Assert.Empty(session.Host.Recorded.Prompts);
        var whatIf = Assert.Single(HostAssert.WhatIfLines(session.Host));
        Assert.Contains(Path.Combine(sandbox.UnitDirectory, "hermes-gateway-whatif.service"), whatIf, StringComparison.Ordinal);
        Assert.Contains("+ ExecStart=/usr/local/bin/hermes --profile whatif gateway run", whatIf, StringComparison.Ordinal);
    }

    [Fact]
    public void Confirm_answered_No_on_Install_writes_nothing()
    {
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: false);
        session.Host.Recorded.Answers.Enqueue("No");

        session.Invoke("Install-HermesService -Profile asked -Executable /usr/local/bin/hermes -Confirm").Succeeded();

        var prompt = Assert.Single(session.Host.Recorded.Prompts);
        Assert.Contains(Path.Combine(sandbox.UnitDirectory, "hermes-gateway-asked.service"), prompt.Message, StringComparison.Ordinal);
        Assert.Equal("No", prompt.Answer);
        Assert.Empty(sandbox.FilesUnderHome());
        Assert.Empty(systemctl.Calls);
        Assert.Empty(HostAssert.WhatIfLines(session.Host));
    }

    [Fact]
    public void Confirm_answers_decide_each_step_the_unit_written_and_reloaded_but_not_enabled()
    {
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: false);
        foreach (var answer in new[] { "Yes", "Yes", "No" })
        {
            session.Host.Recorded.Answers.Enqueue(answer);
        }

        session.Invoke("Install-HermesService -Profile steps -Executable /usr/local/bin/hermes -Confirm").Succeeded();

        Assert.Equal(3, session.Host.Recorded.Prompts.Count); // write the unit, daemon-reload, enable
        Assert.True(File.Exists(Path.Combine(sandbox.UnitDirectory, "hermes-gateway-steps.service")));
        Assert.Contains(systemctl.Calls, c => c == "systemctl --user daemon-reload");
        Assert.DoesNotContain(systemctl.Calls, c => c.StartsWith("systemctl --user enable", StringComparison.Ordinal));
    }

    [Fact]
    public void Yes_to_All_answers_every_later_question_of_the_same_call()
    {
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: false);
        session.Host.Recorded.Answers.Enqueue("Yes to All");

        session.Invoke("Install-HermesService -Profile all -Executable /usr/local/bin/hermes -Confirm").Succeeded();

        Assert.Single(session.Host.Recorded.Prompts);
        Assert.True(File.Exists(Path.Combine(sandbox.UnitDirectory, "hermes-gateway-all.service")));
        Assert.Contains(systemctl.Calls, c => c == "systemctl --user daemon-reload");
        Assert.Contains(systemctl.Calls, c => c == "systemctl --user enable -- hermes-gateway-all.service");
    }

    [Fact]
    public void Uninstall_asks_the_host_before_removing_anything_because_its_impact_is_High()
    {
        var unit = sandbox.InstallUpstreamUnit();
        var systemctl = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);
        session.Host.Recorded.Answers.Enqueue("No");

        // No -Confirm: $ConfirmPreference (High) alone makes the host ask.
        session.Invoke("Uninstall-HermesService -Name hermes-gateway").Succeeded();

        var prompt = Assert.Single(session.Host.Recorded.Prompts);
        Assert.Contains(unit, prompt.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(unit));
        Assert.All(systemctl.Calls, c => Assert.StartsWith("systemctl --user show ", c, StringComparison.Ordinal));
    }

    [Fact]
    public void WhatIf_on_Restart_asks_the_supervisor_nothing_and_takes_no_lock()
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        var systemctl = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        session.Invoke("Restart-HermesGateway -Name hermes-gateway -WhatIf").Succeeded();

        Assert.Contains("Restart hermes-gateway", Assert.Single(HostAssert.WhatIfLines(session.Host)), StringComparison.Ordinal);
        Assert.All(systemctl.Calls, c => Assert.StartsWith("systemctl --user show ", c, StringComparison.Ordinal)); // finding it, only
        Assert.Empty(sandbox.EntriesUnderRuntimeDirectory());
        Assert.False(Directory.Exists(Path.Combine(sandbox.Root, "hermes-home")));
    }

    [Theory]
    [InlineData("Stop-HermesGateway", "active", "stop hermes-gateway.service")]
    [InlineData("Start-HermesGateway", "inactive", "start hermes-gateway.service")]
    public void WhatIf_on_Start_and_Stop_shows_the_systemctl_call_and_makes_none(string command, string state, string action)
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        var systemctl = new FakeSystemctl(sandbox, state, state == "active" ? FakeSystemctl.NoSuchProcess : 0, enabled: true);
        // Where the module keeps restart locks: root's folder, the runtime folder, ~/.cache (the engine picks one).
        static string LockStamp() => string.Join(";", new[] { "/run", Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") ?? "/nonexistent", Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? "/nonexistent", ".cache") }
            .Select(d => Path.Combine(d, "hermesgateway", "user.hermes-gateway.restart.lock"))
            .Select(f => File.Exists(f) ? $"{f}@{File.GetLastWriteTimeUtc(f):O}" : "-"));

        var lockStamp = LockStamp();
        session.Invoke($"Get-HermesService | {command} -WhatIf").Succeeded();

        Assert.Contains(action, Assert.Single(HostAssert.WhatIfLines(session.Host)), StringComparison.Ordinal);
        Assert.All(systemctl.Calls, c => Assert.StartsWith("systemctl --user show ", c, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(sandbox.Root, "hermes-home"))); // no planned-stop marker either
        Assert.Equal(lockStamp, LockStamp()); // nor the restart lock (as root it lives in /run: compared, not required absent)
    }

    /// <summary>Issue 13, item 13: a bare Stop or Restart acted on every installed gateway without a word.</summary>
    [Theory]
    [InlineData("Stop-HermesGateway")]
    [InlineData("Restart-HermesGateway")]
    public void A_bare_Stop_or_Restart_with_several_gateways_installed_names_them_and_does_nothing(string command)
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        sandbox.InstallUnit("hermes-gateway-work", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home-work")));
        _ = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        var bare = session.Invoke($"{command} -WhatIf");

        var error = Assert.Single(bare.Errors);
        Assert.StartsWith("HermesServiceAmbiguous,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains("hermes-gateway, hermes-gateway-work", error.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(HostAssert.WhatIfLines(session.Host));

        session.Invoke($"{command} * -WhatIf").Succeeded();
        Assert.Equal(2, HostAssert.WhatIfLines(session.Host).Count);
    }

    /// <summary>Issue 13, item 13: a Start of a running gateway or a Stop of a stopped one said nothing, even with -Verbose.</summary>
    [Theory]
    [InlineData("Start-HermesGateway hermes-gateway -NoWait -Verbose", "active", "already active")]
    [InlineData("Stop-HermesGateway hermes-gateway -Verbose", "inactive", "already inactive")]
    public void A_Start_or_Stop_with_nothing_to_do_says_so_with_Verbose(string command, string state, string said)
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        var systemctl = new FakeSystemctl(sandbox, state, state == "active" ? FakeSystemctl.NoSuchProcess : 0, enabled: true);

        var result = session.Invoke(command).Succeeded();

        Assert.Contains(result.Verbose, v => v.Message.Contains(said, StringComparison.Ordinal) && v.Message.Contains("hermes-gateway.service", StringComparison.Ordinal));
        Assert.All(systemctl.Calls, c => Assert.StartsWith("systemctl --user show ", c, StringComparison.Ordinal));
    }

    [Fact]
    public void A_confirmed_restart_is_asked_about_once_as_a_whole()
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        var systemctl = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);
        session.Host.Recorded.Answers.Enqueue("Yes");

        var result = session.Invoke("Restart-HermesGateway -Name hermes-gateway -Force -Timeout 00:00:01 -Confirm");

        var prompt = Assert.Single(session.Host.Recorded.Prompts);
        Assert.Contains("Restart hermes-gateway", prompt.Message, StringComparison.Ordinal);
        Assert.Contains("systemctl --user restart --no-block -- hermes-gateway.service", systemctl.Calls);
        // The fake supervisor never brings a new process, so the confirmed restart ends in its timeout.
        Assert.StartsWith("HermesRestartTimeout,", Assert.Single(result.Errors).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
