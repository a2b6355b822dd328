using System.Diagnostics;
using System.Management.Automation;
using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>Get-HermesGatewayLog hosted in-process, with a stand-in journalctl on PATH that logs its arguments.</summary>
[Collection(ProcessStateGroup.Name)]
public sealed class GatewayLogTests : IDisposable
{
    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    private string ArgumentsLog => Path.Combine(sandbox.Root, "journalctl.args");

    private string PidFile => Path.Combine(sandbox.Root, "journalctl.pid");

    /// <summary>A journalctl that prints two JSON entries (the second's MESSAGE as bytes), then, with -f, waits.</summary>
    private void FakeJournalctl()
    {
        var bin = Directory.CreateDirectory(Path.Combine(sandbox.Root, "bin")).FullName;
        var path = Path.Combine(bin, "journalctl");
        File.WriteAllText(path, $$"""
            #!/bin/sh
            printf '%s\n' "$*" >> '{{ArgumentsLog}}'
            echo '{"__REALTIME_TIMESTAMP":"1796306081825403","_PID":"4121","PRIORITY":"4","MESSAGE":"slow upstream"}'
            echo '{"__REALTIME_TIMESTAMP":"1796306082000000","_PID":"4121","PRIORITY":"6","MESSAGE":[104,105,255]}'
            for a in "$@"; do
              if [ "$a" = -f ]; then echo $$ > '{{PidFile}}'; exec sleep 60; fi
            done
            """.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        sandbox.PrependToPath(bin);
    }

    [Fact]
    public void The_units_journal_comes_as_typed_entries_tagged_with_the_service()
    {
        sandbox.InstallUpstreamUnit();
        FakeJournalctl();

        var result = session.Invoke("Get-HermesGatewayLog hermes-gateway -Tail 2 -Since ([DateTimeOffset]::FromUnixTimeSeconds(1796306000).UtcDateTime)").Succeeded();

        Assert.Equal(2, result.Objects.Count);
        Assert.All(result.Objects, o => Assert.Equal("HermesGateway.Core.Service.HermesGatewayLogEntry", o.GetType().FullName));
        Assert.Equal(["hermes-gateway", 4121, "Warning", "slow upstream"],
            new[] { "Service", "Pid", "Level", "Message" }.Select(p => PowerShellSession.Property(result.Objects[0], p) is { } v && v.GetType().IsEnum ? v.ToString() : PowerShellSession.Property(result.Objects[0], p)));
        Assert.Equal("hi\uFFFD", PowerShellSession.Property(result.Objects[1], "Message"));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1796306081825).AddTicks(4030), PowerShellSession.Property(result.Objects[0], "Time"));
        Assert.Equal("--no-pager -o json --output-fields=__REALTIME_TIMESTAMP,_PID,PRIORITY,MESSAGE --user-unit hermes-gateway.service -n 2 --since @1796306000", File.ReadAllText(ArgumentsLog).Trim());
    }

    [Fact]
    public void A_negative_Tail_is_refused_by_the_parameter_and_a_missing_journalctl_has_its_own_error_id()
    {
        sandbox.InstallUpstreamUnit();
        Assert.StartsWith("ParameterArgumentValidationError,", Assert.Single(session.Invoke("Get-HermesGatewayLog -Tail -1").Errors).FullyQualifiedErrorId, StringComparison.Ordinal);

        var bin = Directory.CreateDirectory(Path.Combine(sandbox.Root, "nobin")).FullName;
        Environment.SetEnvironmentVariable("PATH", bin);
        var result = session.Invoke("Get-HermesGatewayLog hermes-gateway");
        Assert.StartsWith("HermesJournalUnavailable,", Assert.Single(result.Errors).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Fact]
    public void Follow_streams_entries_and_Ctrl_C_ends_it_at_once_without_an_error_and_without_its_journalctl()
    {
        sandbox.InstallUpstreamUnit();
        FakeJournalctl();
        var clock = Stopwatch.StartNew();
        using (var shell = session.StartCommand("Get-HermesGatewayLog", new Dictionary<string, object?> { ["Name"] = "hermes-gateway", ["Follow"] = true }, out var running))
        {
            Assert.True(SpinWait.SpinUntil(() => File.Exists(PidFile) && File.ReadAllText(PidFile).Trim().Length > 0, TimeSpan.FromSeconds(30)), "journalctl -f never ran.");
            var pid = int.Parse(File.ReadAllText(PidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Directory.Exists($"/proc/{pid}"));
            clock.Restart();
            shell.Stop();
            try
            {
                shell.EndInvoke(running);
            }
            catch (PipelineStoppedException)
            {
                // Ctrl+C at a prompt: the pipeline was stopped, which is no error of the cmdlet's.
            }

            Assert.Empty(shell.Streams.Error);
            Assert.True(SpinWait.SpinUntil(() => !Directory.Exists($"/proc/{pid}"), TimeSpan.FromSeconds(10)), $"journalctl (PID {pid}) still runs.");
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"Stopping took {clock.Elapsed}.");
        Assert.Contains("-f", File.ReadAllText(ArgumentsLog).Split(' ', '\n'));
    }

    [Fact]
    public void Follow_over_several_services_is_refused()
    {
        sandbox.InstallUpstreamUnit();
        sandbox.InstallUnit("hermes-gateway-work", Units.Good);
        FakeJournalctl();

        var result = session.Invoke("Get-HermesGatewayLog -Follow");

        Assert.StartsWith("HermesOptionInvalid,", Assert.Single(result.Errors).FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.False(File.Exists(ArgumentsLog));
    }

    /// <summary>Piped services arrive one record at a time: each alone passed the one-service rule, and -Follow followed the first.</summary>
    [Fact]
    public void Follow_over_several_piped_services_is_refused_too()
    {
        sandbox.InstallUpstreamUnit();
        sandbox.InstallUnit("hermes-gateway-work", Units.Good);
        FakeJournalctl();

        var result = session.Invoke("Get-HermesService | Get-HermesGatewayLog -Follow");

        Assert.StartsWith("HermesOptionInvalid,", Assert.Single(result.Errors).FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.False(File.Exists(ArgumentsLog));
    }

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
