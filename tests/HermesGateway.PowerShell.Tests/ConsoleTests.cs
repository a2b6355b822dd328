using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// Nothing goes to the console behind the host's back: Console.Out and Console.Error are captured around every
/// invocation (see <see cref="PowerShellSession"/>), and here they must stay empty while the host shows everything.
/// </summary>
[Collection(ProcessStateGroup.Name)]
public sealed class ConsoleTests : IDisposable
{
    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void What_if_text_reaches_the_host_and_nothing_reaches_the_console()
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        _ = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        var result = session.Invoke("""
            New-HermesServiceDefinition -Profile console -Executable /usr/local/bin/hermes | Install-HermesService -WhatIf
            Get-HermesService | Restart-HermesGateway -WhatIf
            Get-HermesService | Stop-HermesGateway -WhatIf
            Get-HermesService | Uninstall-HermesService -WhatIf
            """).Succeeded();

        Assert.Equal(4, HostAssert.WhatIfLines(session.Host).Count);
        Assert.Equal(string.Empty, result.ConsoleOut);
        Assert.Equal(string.Empty, result.ConsoleError);
    }

    [Theory]
    [InlineData("Test-HermesExitPolicy -Path $args[0] -Verbose", "WriteVerboseLine")]
    [InlineData("Test-HermesExitPolicy -Path $args[1]", "WriteWarningLine")]
    [InlineData("Restart-HermesGateway -Name hermes-gateway -Force -Timeout 00:00:01 -Confirm:$false", null)]
    [InlineData("Test-HermesExitPolicy -Path $args[0] | Out-Default; Get-HermesService nope -ErrorAction Continue 2>&1 | Out-Default", "WriteErrorLine")]
    public void Verbose_warnings_errors_and_progress_go_to_the_host_never_to_the_console(string script, string? hostCall)
    {
        sandbox.InstallUnit("hermes-gateway", Units.GoodWithHome(Path.Combine(sandbox.Root, "hermes-home")));
        _ = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);
        var upstream = Path.Combine(PowerShellSession.Examples, "hermes-gateway.service");
        var warn = Path.Combine(sandbox.Root, "warn.service");
        File.WriteAllText(warn, Units.WithBadRestartValue);

        var result = session.Invoke(script, upstream, warn);

        if (hostCall is null)
        {
            Assert.NotEmpty(session.Host.Recorded.Progress);
        }
        else
        {
            Assert.Contains(session.Host.Recorded.Writes, w => w.Call == hostCall);
        }

        Assert.Equal(string.Empty, result.ConsoleOut);
        Assert.Equal(string.Empty, result.ConsoleError);
    }

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
