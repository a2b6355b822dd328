using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// Path parameters are file-system paths of a Unix machine: a backslash is a character of a file name there, not a
/// separator, and reaches the definition exactly as given (issue 11, item 10).
/// </summary>
public sealed class PathParameterTests : IDisposable
{
    private readonly ScratchFolder files = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void A_backslash_in_an_absolute_path_parameter_is_kept()
    {
        var output = session.Invoke(
            "$d = New-HermesServiceDefinition -Platform Systemd -Executable /usr/local/bin/hermes -HermesHome '/srv/a\\b' -StandardOutPath '/var/log/x\\\\y.log'; $d; $d.Render()").Succeeded().Objects;
        var d = output[0];

        Assert.Equal("/srv/a\\b", PowerShellSession.Property(d, "HermesHome"));
        Assert.Equal("/srv/a\\b", PowerShellSession.Property(d, "WorkingDirectory"));
        Assert.Equal("/var/log/x\\\\y.log", PowerShellSession.Property(d, "StandardOutPath"));
        Assert.Contains("Environment=\"HERMES_HOME=/srv/a\\\\b\"", (string)output[1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_backslash_in_a_relative_path_parameter_is_kept_under_the_current_location()
    {
        var d = Assert.Single(session.Invoke(
            "Set-Location -LiteralPath $args[0]; New-HermesServiceDefinition -Platform Systemd -Executable /usr/local/bin/hermes -HermesHome 'a\\b'", files.Path).Succeeded().Objects);

        Assert.Equal(files.Path + "/a\\b", PowerShellSession.Property(d, "HermesHome"));
    }

    [Fact]
    public void Dot_segments_and_the_home_directory_are_still_resolved()
    {
        var d = Assert.Single(session.Invoke(
            "New-HermesServiceDefinition -Platform Systemd -Executable /usr/local/bin/hermes -HermesHome '/srv/x/../hermes' -StandardOutPath '~/g\\w.log'").Succeeded().Objects);

        Assert.Equal("/srv/hermes", PowerShellSession.Property(d, "HermesHome"));
        Assert.Equal(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile) + "/g\\w.log", PowerShellSession.Property(d, "StandardOutPath"));
    }

    [Fact]
    public void A_provider_qualified_LiteralPath_keeps_a_backslash_in_the_file_name()
    {
        // A PSPath (what Get-Item's output binds by) names its provider with a backslash of its own.
        var unit = files.Write("odd\\name.service", Units.Good);

        var d = Assert.Single(session.Invoke("New-HermesServiceDefinition -LiteralPath ('Microsoft.PowerShell.Core\\FileSystem::' + $args[0])", unit).Succeeded().Objects);

        Assert.Equal("odd\\name", PowerShellSession.Property(d, "Name"));
    }

    [Fact]
    public void A_drive_qualified_path_keeps_its_separator_after_the_drive()
    {
        var d = Assert.Single(session.Invoke(
            "New-PSDrive -Name HermesScratch -PSProvider FileSystem -Root $args[0] | Out-Null; New-HermesServiceDefinition -Platform Systemd -Executable /usr/local/bin/hermes -HermesHome 'HermesScratch:\\a\\b'", files.Path).Succeeded().Objects);

        Assert.Equal(files.Path + "/a\\b", PowerShellSession.Property(d, "HermesHome"));
    }

    public void Dispose()
    {
        session.Dispose();
        files.Dispose();
    }
}
