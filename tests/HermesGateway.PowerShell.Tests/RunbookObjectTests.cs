using System.Management.Automation;
using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// Issue 13: -WhatIf previews (hand-edited files, supervisor calls), Test-HermesExitPolicy over several inputs, the
/// service table at 80 columns with a crash loop, objects a runbook can use (ConvertTo-Json), and secrets.
/// </summary>
[Collection(ProcessStateGroup.Name)]
public sealed class RunbookObjectTests : IDisposable
{
    private const string SecretValue = "sk-t0p-s3cret-value-4711";

    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();
    private readonly ScratchFolder files = new();

    [Fact]
    public void WhatIf_over_a_hand_edited_unit_previews_the_change_and_says_Force_is_needed_instead_of_throwing()
    {
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: true);
        session.Invoke("Install-HermesService -Profile edited -Executable /usr/local/bin/hermes").Succeeded();
        var path = Path.Combine(sandbox.UnitDirectory, "hermes-gateway-edited.service");
        File.WriteAllText(path, File.ReadAllText(path).Replace("RestartSec=", "RestartSec=9\n#RestartSec=", StringComparison.Ordinal));
        var edited = File.ReadAllText(path);
        var calls = systemctl.Calls.Count;

        var result = session.Invoke("Install-HermesService -Profile edited -Executable /usr/local/bin/hermes -WhatIf");

        Assert.Null(result.TerminatingError);
        Assert.Empty(result.Errors);
        var whatIf = Assert.Single(HostAssert.WhatIfLines(session.Host));
        Assert.Contains(path, whatIf, StringComparison.Ordinal);
        Assert.Contains("-Force", whatIf, StringComparison.Ordinal);
        Assert.Contains("edited by hand", whatIf, StringComparison.Ordinal);
        Assert.Equal(edited, File.ReadAllText(path));
        Assert.DoesNotContain(systemctl.Calls.Skip(calls), c => !c.Contains(" show ", StringComparison.Ordinal) && !c.Contains(" is-enabled ", StringComparison.Ordinal));

        // Without -WhatIf it still refuses.
        var refused = session.Invoke("Install-HermesService -Profile edited -Executable /usr/local/bin/hermes");
        HostAssert.HermesError(Assert.Single(refused.Errors), "HermesFileChangedByHand", ErrorCategory.InvalidOperation, path);
        Assert.Equal(edited, File.ReadAllText(path));
    }

    [Fact]
    public void WhatIf_on_Install_lists_the_systemctl_calls_it_would_make()
    {
        _ = new FakeSystemctl(sandbox, "inactive", 0, enabled: false);
        Directory.CreateDirectory(Path.Combine(sandbox.Home, ".hermes", "profiles", "calls"));

        session.Invoke("Install-HermesService -Profile calls -Executable /bin/true -Start -WhatIf").Succeeded();

        var whatIf = string.Join("\n", HostAssert.WhatIfLines(session.Host));
        Assert.Contains("systemctl --user daemon-reload", whatIf, StringComparison.Ordinal);
        Assert.Contains("systemctl --user enable --now -- hermes-gateway-calls.service", whatIf, StringComparison.Ordinal);
    }

    [Fact]
    public void WhatIf_on_Uninstall_lists_the_systemctl_calls_it_would_make()
    {
        var systemctl = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);
        sandbox.InstallUnit("hermes-gateway-gone", Units.Good);

        session.Invoke("Uninstall-HermesService hermes-gateway-gone -WhatIf").Succeeded();

        var whatIf = string.Join("\n", HostAssert.WhatIfLines(session.Host));
        Assert.Contains("systemctl --user stop -- hermes-gateway-gone.service", whatIf, StringComparison.Ordinal);
        Assert.Contains("systemctl --user disable -- hermes-gateway-gone.service", whatIf, StringComparison.Ordinal);
        Assert.Contains("systemctl --user daemon-reload", whatIf, StringComparison.Ordinal);
        Assert.DoesNotContain(systemctl.Calls, c => c.Contains(" stop ", StringComparison.Ordinal) || c.Contains(" disable ", StringComparison.Ordinal) || c.Contains("daemon-reload", StringComparison.Ordinal));
    }

    [Fact]
    public void Test_HermesExitPolicy_over_several_files_returns_one_result_per_file_that_names_it()
    {
        var good = files.Write("good.service", Units.Good);
        var upstream = Path.Combine(PowerShellSession.Examples, "hermes-gateway.service");

        var result = session.Invoke("Test-HermesExitPolicy -Path $args[0], $args[1]", good, upstream).Succeeded();

        Assert.Equal(2, result.Output.Count);
        Assert.Equal(good, result.Output[0].Properties["Path"].Value);
        Assert.Equal(true, result.Output[0].Properties["Ok"].Value);
        Assert.Equal(upstream, result.Output[1].Properties["Path"].Value);
        Assert.Equal(false, result.Output[1].Properties["Ok"].Value);
        Assert.NotEmpty((IEnumerable<object>)result.Output[1].Properties["Failed"].Value);

        // One input is still a plain answer, and -Quiet always is.
        Assert.Equal<object>([true], session.Invoke("Test-HermesExitPolicy -Path $args[0]", good).Objects);
        Assert.Equal<object>([true, false], session.Invoke("Test-HermesExitPolicy -Path $args[0], $args[1] -Quiet", good, upstream).Objects);
    }

    [Fact]
    public void A_definition_piped_with_Detailed_does_not_claim_a_file_path()
    {
        var result = session.Invoke("New-HermesServiceDefinition -Profile piped -Executable /usr/local/bin/hermes -Platform Systemd | Test-HermesExitPolicy -Detailed").Succeeded();

        Assert.NotEmpty(result.Output);
        Assert.All(result.Output, v => Assert.Equal("(definition)", v.Properties["Path"].Value));
    }

    [Fact]
    public void The_service_table_at_80_columns_keeps_every_column_and_shows_a_crash_loop_unmistakably()
    {
        _ = new FakeSystemctl(sandbox, "activating", 0, enabled: true, subState: "auto-restart", restarts: 3, exitStatus: 1);
        sandbox.InstallUnit("hermes-gateway-loop", Units.Good);

        var text = (string)session.Invoke("Get-HermesService | Out-String -Width 80").Succeeded().Objects.Single();

        var lines = text.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.All(lines, l => Assert.True(l.Length <= 80, l));
        var header = lines.First(l => l.StartsWith("Name", StringComparison.Ordinal));
        foreach (var column in new[] { "State", "LastExit", "Restarts", "Drift", "Policy" })
        {
            Assert.Contains(column, header, StringComparison.Ordinal);
        }

        var row = lines.Single(l => l.StartsWith("hermes-gateway-loop", StringComparison.Ordinal));
        Assert.Contains("crash-loop", row, StringComparison.Ordinal);
        Assert.DoesNotContain("…", row, StringComparison.Ordinal);
        Assert.DoesNotContain("...", row, StringComparison.Ordinal);

        var service = session.Invoke("Get-HermesService hermes-gateway-loop").Succeeded().Output.Single();
        Assert.Equal("crash-loop", service.Properties["State"].Value);
        Assert.Equal("activating", service.Properties["ActiveState"].Value);
    }

    [Fact]
    public void A_service_as_json_is_small_typed_and_round_trips_without_a_depth_warning()
    {
        _ = new FakeSystemctl(sandbox, "activating", 0, enabled: true, subState: "auto-restart", restarts: 3, exitStatus: 1);
        sandbox.InstallUnit("hermes-gateway-json", Units.GoodWithHome(Path.Combine(sandbox.Home, ".hermes")));

        var result = session.Invoke("Get-HermesService hermes-gateway-json | ConvertTo-Json").Succeeded();

        Assert.Empty(result.Warnings);
        var json = (string)result.Objects.Single();
        Assert.True(json.Length < 4000, $"{json.Length} characters:\n{json}");
        var back = session.Invoke("$args[0] | ConvertFrom-Json", json).Succeeded().Output.Single();
        Assert.Equal("hermes-gateway-json", back.Properties["Name"].Value);
        Assert.Equal(1L, Convert.ToInt64(back.Properties["LastExitCode"].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.False(string.IsNullOrEmpty((string)back.Properties["LastExitMeaning"].Value));
        Assert.Null(back.Properties["LastExitSignal"].Value);
        Assert.Equal(true, back.Properties["PolicyOk"].Value);
        Assert.IsType<bool>(back.Properties["Drifted"].Value);
        Assert.Equal(true, back.Properties["CrashLoop"].Value);

        var service = session.Invoke("Get-HermesService hermes-gateway-json").Succeeded().Output.Single();
        Assert.Equal(1, service.Properties["LastExitCode"].Value);
        Assert.Null(service.Properties["Definition"]);
        Assert.NotNull(session.Invoke("(Get-HermesService hermes-gateway-json).GetDefinition()").Succeeded().Objects.Single());
        Assert.NotEmpty(session.Invoke("(Get-HermesService hermes-gateway-json).GetPolicyVerdicts()").Succeeded().Objects);
    }

    [Fact]
    public void A_secret_reaches_only_the_environment_file_never_a_stream_the_unit_or_the_WhatIf_text()
    {
        _ = new FakeSystemctl(sandbox, "inactive", 0, enabled: false);
        var envFile = Path.Combine(sandbox.Home, ".hermes", "gateway.env");
        Directory.CreateDirectory(Path.GetDirectoryName(envFile)!);
        const string Script = """
            $key = ConvertTo-SecureString $args[1] -AsPlainText -Force
            $cred = [pscredential]::new('bot', (ConvertTo-SecureString ($args[1] + '-cred') -AsPlainText -Force))
            Install-HermesService -Profile sec -Executable /usr/local/bin/hermes -EnvironmentFile $args[0] -Secret @{ OPENAI_API_KEY = $key; BOT_TOKEN = $cred } -Verbose -WhatIf:$args[2]
            """;

        var preview = session.Invoke(Script, envFile, SecretValue, true).Succeeded();
        var previewText = session.Host.Recorded.Text;
        Assert.Contains("OPENAI_API_KEY", previewText, StringComparison.Ordinal);
        Assert.Contains("BOT_TOKEN", previewText, StringComparison.Ordinal);
        Assert.False(File.Exists(envFile));

        var result = session.Invoke(Script, envFile, SecretValue, false).Succeeded();

        var unit = File.ReadAllText(Path.Combine(sandbox.UnitDirectory, "hermes-gateway-sec.service"));
        Assert.DoesNotContain(SecretValue, unit, StringComparison.Ordinal);
        var env = File.ReadAllText(envFile);
        Assert.Contains($"OPENAI_API_KEY=\"{SecretValue}\"", env, StringComparison.Ordinal);
        Assert.Contains($"BOT_TOKEN=\"{SecretValue}-cred\"", env, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(envFile));
        foreach (var r in new[] { preview, result })
        {
            var streams = string.Join("\n", r.Output.Select(o => o.ToString()).Concat(r.Verbose.Select(v => v.Message)).Concat(r.Warnings.Select(w => w.Message)).Concat(r.Errors.Select(e => e.ToString())))
                + r.ConsoleOut + r.ConsoleError;
            Assert.DoesNotContain(SecretValue, streams, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(SecretValue, session.Host.Recorded.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_with_a_line_break_is_refused_with_a_stable_id_without_echoing_it_and_nothing_is_written()
    {
        var systemctl = new FakeSystemctl(sandbox, "inactive", 0, enabled: false);
        var envFile = Path.Combine(sandbox.Home, "gateway.env");

        var result = session.Invoke("""
            $key = ConvertTo-SecureString ($args[1] + "`nEVIL=1") -AsPlainText -Force
            Install-HermesService -Profile nl -Executable /usr/local/bin/hermes -EnvironmentFile $args[0] -Secret @{ OPENAI_API_KEY = $key }
            """, envFile, SecretValue);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("HermesValueNotRepresentable,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretValue, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(SecretValue, error.TargetObject?.ToString() ?? string.Empty, StringComparison.Ordinal);
        Assert.False(File.Exists(envFile));
        Assert.False(File.Exists(Path.Combine(sandbox.UnitDirectory, "hermes-gateway-nl.service")));
        Assert.DoesNotContain(systemctl.Calls, c => !c.Contains(" show ", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
        files.Dispose();
    }
}
