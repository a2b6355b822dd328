using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>Warnings go to the warning stream, and so to the host, never into the output.</summary>
public sealed class WarningTests : IDisposable
{
    private readonly ScratchFolder files = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void What_systemd_would_warn_about_in_a_unit_reaches_the_warning_stream_and_the_host()
    {
        var unit = files.Write("warn.service", Units.WithBadRestartValue);

        var result = session.InvokeCommand("Test-HermesExitPolicy", new Dictionary<string, object?> { ["Path"] = unit }).Succeeded();

        Assert.Equal<object>([false], result.Objects); // the answer is still there, and only the answer
        var warning = Assert.Single(result.Warnings);
        Assert.Contains(unit, warning.Message, StringComparison.Ordinal);
        var shown = Assert.Single(session.Host.Recorded.Writes, w => w.Call == "WriteWarningLine");
        Assert.Equal(warning.Message, shown.Text);
    }

    [Fact]
    public void A_unit_systemd_reads_without_complaint_brings_no_warning()
    {
        var unit = files.Write("good.service", Units.Good);

        var result = session.InvokeCommand("Test-HermesExitPolicy", new Dictionary<string, object?> { ["Path"] = unit }).Succeeded();

        Assert.Empty(result.Warnings);
        Assert.DoesNotContain(session.Host.Recorded.Writes, w => w.Call == "WriteWarningLine");
    }

    [Fact]
    public void WarningAction_SilentlyContinue_keeps_the_warning_off_the_host_but_in_WarningVariable()
    {
        var unit = files.Write("warn.service", Units.WithBadRestartValue);

        var result = session.Invoke("$null = Test-HermesExitPolicy -Path $args[0] -WarningAction SilentlyContinue -WarningVariable w; $w.Count", unit).Succeeded();

        Assert.Equal<object>([1], result.Objects);
        Assert.DoesNotContain(session.Host.Recorded.Writes, w => w.Call == "WriteWarningLine");
    }

    public void Dispose()
    {
        session.Dispose();
        files.Dispose();
    }
}

/// <summary>Warnings the engine raises while it acts, through the cmdlet's engine host.</summary>
[Collection(ProcessStateGroup.Name)]
public sealed class ServiceWarningTests : IDisposable
{
    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void Installing_over_a_running_unit_warns_that_it_keeps_its_old_settings_until_restarted()
    {
        sandbox.InstallUpstreamUnit();
        _ = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        // A working directory that exists: upstream's (/home/hermes/.hermes) does not here, which has a warning of its own.
        var home = Directory.CreateDirectory(Path.Combine(sandbox.Home, ".hermes")).FullName;

        var result = session.Invoke("Install-HermesService -Name hermes-gateway -Executable /bin/true -HermesHome $args[0] -WorkingDirectory $args[0] -Force -Confirm:$false", home).Succeeded();

        var warning = Assert.Single(result.Warnings);
        Assert.Contains("hermes-gateway.service", warning.Message, StringComparison.Ordinal);
        Assert.Contains(session.Host.Recorded.Writes, w => w.Call == "WriteWarningLine" && w.Text == warning.Message);
    }

    [Fact]
    public void Installing_with_a_HERMES_HOME_that_does_not_exist_warns_that_it_cannot_start_and_Start_refuses()
    {
        _ = new FakeSystemctl(sandbox, "inactive", 0, enabled: false);
        var missing = Path.Combine(sandbox.Root, "no-such-home");

        var installed = session.Invoke("Install-HermesService -Name hermes-gateway-later -Executable /bin/true -HermesHome $args[0] -Confirm:$false", missing).Succeeded();
        var started = session.Invoke("Install-HermesService -Name hermes-gateway-now -Executable /bin/true -HermesHome $args[0] -Start -Confirm:$false", missing);

        Assert.Contains("200/CHDIR", Assert.Single(installed.Warnings).Message, StringComparison.Ordinal);
        Assert.Equal("HermesHomeMissing,HermesGateway.Commands.InstallHermesServiceCommand", Assert.Single(started.Errors).FullyQualifiedErrorId);
        Assert.False(File.Exists(Path.Combine(sandbox.UnitDirectory, "hermes-gateway-now.service")));
    }

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
