using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// Issue 13, item 2: a service is addressed exactly — by -Scope and -Owner, a piped HermesService by its own identity,
/// one that came through serialization (remoting, Export-Clixml) by its scope, owner and file, and one another
/// computer described is refused rather than matched by name here.
/// </summary>
[Collection(ProcessStateGroup.Name)]
public sealed class ServiceIdentityTests : IDisposable
{
    private const string Deserialize = "[System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-HermesService hermes-gateway-work)))";

    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    public ServiceIdentityTests()
    {
        sandbox.InstallUpstreamUnit();
        sandbox.InstallUnit("hermes-gateway-work", Units.Good);
    }

    [Fact]
    public void Get_HermesService_shows_the_owner_of_a_user_unit_and_filters_by_scope_and_owner()
    {
        var me = Environment.UserName;
        var all = session.Invoke("Get-HermesService").Succeeded();
        Assert.All(all.Objects, s => Assert.Equal(me, PowerShellSession.Property(s, "Owner")));

        Assert.Equal(2, session.Invoke("Get-HermesService -Scope User").Succeeded().Objects.Count);
        Assert.Empty(session.Invoke("Get-HermesService -Scope System").Succeeded().Objects);
        Assert.Equal(2, session.Invoke("Get-HermesService -Owner $args[0]", me).Succeeded().Objects.Count);
        Assert.Empty(session.Invoke("Get-HermesService -Owner no-such-account-here").Succeeded().Objects);
    }

    [Theory]
    [InlineData("Restart-HermesGateway")]
    [InlineData("Start-HermesGateway")]
    [InlineData("Stop-HermesGateway")]
    [InlineData("Uninstall-HermesService")]
    public void Scope_narrows_the_selection_by_name(string command)
    {
        var fake = new FakeSystemctl(sandbox, command == "Start-HermesGateway" ? "inactive" : "active", FakeSystemctl.NoSuchProcess, enabled: true);

        var system = session.Invoke($"{command} hermes-gateway-work -Scope System -WhatIf");

        Assert.Equal("HermesServiceNotFound," + CommandType(command), Assert.Single(system.Errors).FullyQualifiedErrorId);
        Assert.Empty(HostAssert.WhatIfLines(session.Host));
        Assert.Empty(Actions(fake));

        session.Invoke($"{command} hermes-gateway-work -Scope User -Owner $args[0] -WhatIf", Environment.UserName).Succeeded();
        Assert.Contains("hermes-gateway-work", Assert.Single(HostAssert.WhatIfLines(session.Host)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Restart-HermesGateway")]
    [InlineData("Stop-HermesGateway")]
    [InlineData("Uninstall-HermesService")]
    public void An_object_from_another_computer_is_refused_not_matched_by_name_here(string command)
    {
        var fake = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        var r = session.Invoke($"$d = {Deserialize}; $d | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'gateway-host-elsewhere'; $d | {command} -WhatIf -Confirm:$false");

        Assert.Equal("HermesRemoteObject," + CommandType(command), Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Contains("gateway-host-elsewhere", r.Errors[0].Exception.Message, StringComparison.Ordinal);
        Assert.Empty(HostAssert.WhatIfLines(session.Host));
        Assert.Empty(Actions(fake));
    }

    [Theory]
    [InlineData("Restart-HermesGateway")]
    [InlineData("Stop-HermesGateway")]
    [InlineData("Uninstall-HermesService")]
    public void A_deserialized_local_object_is_found_again_by_its_whole_identity(string command)
    {
        var fake = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        // As Import-Clixml gives it back (no computer name), and with this computer's name (Invoke-Command on localhost).
        session.Invoke($"{Deserialize} | {command} -WhatIf").Succeeded();
        session.Invoke($"$d = {Deserialize}; $d | Add-Member -NotePropertyName PSComputerName -NotePropertyValue ([System.Net.Dns]::GetHostName()); $d | {command} -WhatIf").Succeeded();
        Assert.All(HostAssert.WhatIfLines(session.Host), l => Assert.Contains("hermes-gateway-work", l, StringComparison.Ordinal));
        Assert.Equal(2, HostAssert.WhatIfLines(session.Host).Count);

        // The same name in another scope (the system unit of that name, say) is not this one: nothing is acted on.
        var other = session.Invoke($"$d = {Deserialize}; $d.Scope = 'System'; $d | {command} -WhatIf");
        Assert.Equal("HermesServiceNotFound," + CommandType(command), Assert.Single(other.Errors).FullyQualifiedErrorId);
        Assert.Equal(2, HostAssert.WhatIfLines(session.Host).Count);
    }

    [Fact]
    public void A_piped_HermesService_is_acted_on_as_it_is_not_looked_up_again_by_name()
    {
        _ = new FakeSystemctl(sandbox, "active", FakeSystemctl.NoSuchProcess, enabled: true);

        // The object names its own file; its file gone, a lookup by name would find nothing to act on.
        session.Invoke("$s = Get-HermesService hermes-gateway-work; Remove-Item -LiteralPath $s.Path; $s | Stop-HermesGateway -WhatIf").Succeeded();

        Assert.Contains("hermes-gateway-work", Assert.Single(HostAssert.WhatIfLines(session.Host)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Get-HermesService")]
    [InlineData("Restart-HermesGateway")]
    [InlineData("Stop-HermesGateway")]
    [InlineData("Uninstall-HermesService")]
    public void A_supervisor_failing_while_services_are_looked_up_is_an_error_with_a_Hermes_id_not_a_bare_exception(string command)
    {
        // An older systemd's words for an unreachable user manager, which read as "not found".
        var bin = Directory.CreateDirectory(Path.Combine(sandbox.Root, "failing-bin")).FullName;
        var systemctl = Path.Combine(bin, "systemctl");
        File.WriteAllText(systemctl, "#!/bin/sh\necho 'Failed to get D-Bus connection: No such file or directory' >&2\nexit 1\n");
        File.SetUnixFileMode(systemctl, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        sandbox.PrependToPath(bin);

        var r = session.Invoke($"{command} hermes-gateway-work{(command.StartsWith("Get", StringComparison.Ordinal) ? string.Empty : " -WhatIf -Confirm:$false")}");

        Assert.Null(r.TerminatingError);
        Assert.All(r.Errors, e => Assert.DoesNotContain("HermesException", e.FullyQualifiedErrorId, StringComparison.Ordinal));
        Assert.All(r.Errors, e => Assert.Matches("^Hermes[A-Z][A-Za-z]+,HermesGateway\\.Commands\\.", e.FullyQualifiedErrorId));
        if (command == "Get-HermesService")
        {
            // Listed, with why its state is unknown, rather than lost.
            Assert.Equal("unknown (HermesUnitNotFound)", PowerShellSession.Property(Assert.Single(r.Objects), "State"));
        }
    }

    /// <summary>The supervisor calls that would change something: all but the looks (show, is-enabled) Get-HermesService takes.</summary>
    private static List<string> Actions(FakeSystemctl fake) =>
        [.. fake.Calls.Where(c => !c.Contains(" show ", StringComparison.Ordinal) && !c.Contains(" is-enabled ", StringComparison.Ordinal))];

    private static string CommandType(string command) => "HermesGateway.Commands." + command.Replace("-", string.Empty, StringComparison.Ordinal) + "Command";

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
