using System.Text;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Service;
using HermesGateway.Core.Systemd;
using HermesGateway.Core.Tests.Platform;
using HermesGateway.Core.Tests.Service;
using Xunit;

namespace HermesGateway.Core.Tests.Security;

/// <summary>
/// Hostile or careless input the engine must not act on literally (issue 11, the input items): systemd specifiers and
/// relative paths in a hand-written unit, a HERMES_HOME that does not exist, names systemctl would read as options,
/// values too long for systemd to load, and a file too large to read that -Force must still be able to replace.
/// </summary>
public sealed class InputAttackTests : IDisposable
{
    private const string SpecifierUnresolvable = "HermesSpecifierUnresolvable";
    private const string HermesHomeMissing = "HermesHomeMissing";

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private ServiceEnvironment Environment(uint uid = 1000) => new()
    {
        Home = Path.Combine(dir.Path, "home"),
        XdgConfigHome = Path.Combine(dir.Path, "home", ".config"),
        DbusSessionBusAddress = "unix:path=/run/user/1000/bus",
        Uid = uid,
        UserName = "hermes",
        SystemUnitDirectory = Path.Combine(dir.Path, "etc", "systemd", "system"),
    };

    private DefinitionRequest Request(string? home = null) => new()
    {
        Platform = ServicePlatform.Systemd,
        Scope = ServiceScope.User,
        Executable = "/usr/local/bin/hermes",
        HermesHome = home ?? Path.Combine(dir.Path, "home", ".hermes"),
    };

    private static RecordingRunner FreshUnit() => new RecordingRunner()
        .On((f, a) => f == "systemctl" && a.Contains("show"), stdout: RecordingRunner.Show())
        .On((f, a) => f == "systemctl" && a.Contains("is-enabled"), exitCode: 1, stdout: "disabled\n")
        .On((f, a) => f == "loginctl", stdout: "yes\n");

    private static ServiceInstaller Installer(IProcessRunner runner, ServiceEnvironment env) => new(new SystemdServiceManager(runner, env));

    private string HandWritten(string name, params string[] serviceLines) =>
        dir.Write(name, "[Service]\nExecStart=/usr/local/bin/hermes gateway run\n" + string.Join('\n', serviceLines) + "\n");

    // ---- item 10: a backslash is a file-name character on Unix ----

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_backslashes_in_paths_are_kept_exactly_through_the_unit()
    {
        const string Home = "/srv/a\\b\\\\c";
        var d = ServiceFiles.ToDefinition(ServiceFiles.ToConfiguration(ServiceDefinitionFactory.Create(Request(Home) with { StandardOutPath = "/var/log/x\\y.log" })));

        Assert.Equal(Home, d.HermesHome);
        Assert.Equal(Home, d.WorkingDirectory);
        Assert.Equal("/var/log/x\\y.log", d.StandardOutPath);
    }

    // ---- item 11: a name systemctl would read as options ----

    [Theory]
    [Trait("Category", "Attack")]
    [InlineData("-h")]
    [InlineData("--help")]
    [InlineData("--root=.")]
    public void Attack_a_service_name_with_a_leading_dash_is_refused(string name)
    {
        Expect.Error(HermesErrorIds.NameInvalid, () => ServiceDefinitionFactory.Create(Request("/srv/hermes") with { Name = name }));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_a_definition_named_with_a_leading_dash_that_bypassed_the_factory_is_not_installed()
    {
        var env = Environment();
        var runner = FreshUnit();
        var d = ServiceDefinitionFactory.Create(Request()) with { Name = "--root=." };

        Expect.Error(HermesErrorIds.NameInvalid, () => Installer(runner, env).Install(new InstallRequest(d), new TestHost()));
        Assert.Empty(runner.Calls);
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_systemctl_gets_a_double_dash_before_every_unit_name()
    {
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show());
        var systemctl = new SystemctlClient(runner, user: true);

        systemctl.Start("x.service");
        systemctl.Stop("x.service");
        systemctl.Restart("x.service");
        systemctl.ResetFailed("x.service");
        systemctl.Enable("x.service", now: true);
        systemctl.Disable("x.service", now: false);
        systemctl.IsEnabled("x.service");
        systemctl.Show("x.service");

        Assert.All(runner.Calls, c => Assert.EndsWith(" -- x.service", c, StringComparison.Ordinal));
    }

    // ---- item 12: values systemd cannot load, and a file too large to read ----

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_an_environment_value_over_systemds_1_MiB_line_limit_is_refused_before_writing()
    {
        var huge = new string('x', 1024 * 1024);

        Expect.Error(HermesErrorIds.ValueNotRepresentable, () => ServiceDefinitionFactory.Create(Request() with { Environment = [new("BIG", huge)] }));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_Force_replaces_an_existing_unit_too_large_to_read_and_keeps_it_byte_for_byte()
    {
        var env = Environment();
        var path = Path.Combine(env.UserUnitDirectory, "hermes-gateway.service");
        var bytes = Encoding.UTF8.GetBytes("[Service]\nExecStart=/usr/local/bin/hermes gateway run\nEnvironment=\"BIG=" + new string('x', 1024 * 1024 + 10) + "\"\n");
        dir.WriteBytes(Path.GetRelativePath(dir.Path, path), bytes);
        var d = ServiceDefinitionFactory.Create(Request());

        var refused = Assert.Throws<HermesException>(() => Installer(FreshUnit(), env).Install(new InstallRequest(d), new TestHost()));
        Assert.Equal(bytes, File.ReadAllBytes(path));

        var result = Installer(FreshUnit(), env).Install(new InstallRequest(d, Force: true), new TestHost());

        Assert.Contains("-Force", refused.Message, StringComparison.Ordinal);
        Assert.Equal(InstallOutcome.Updated, result.Outcome);
        Assert.Equal(bytes, File.ReadAllBytes(result.BackupPath!));
        Assert.True(FileStamp.IsUntouched(File.ReadAllText(path)));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_a_unit_larger_than_the_module_can_read_back_is_refused_even_with_every_line_short()
    {
        var half = new string('y', 600 * 1024);

        Expect.Error(HermesErrorIds.ValueNotRepresentable, () => ServiceDefinitionFactory.Create(Request() with { Environment = [new("A", half), new("B", half)] }));
    }

    [Fact]
    [Trait("Category", "Attack")]
    public void Attack_an_environment_file_over_systemds_64_MiB_limit_is_refused_before_anything_is_written()
    {
        var env = Environment();
        var runner = FreshUnit();
        var envFile = Path.Combine(dir.Path, "secrets.env");
        var d = ServiceDefinitionFactory.Create(Request() with { EnvironmentFile = envFile });
        var chunk = new string('s', 1024 * 1024);
        var variables = Enumerable.Range(0, 64).Select(i => new EnvironmentVariable($"S{i}", chunk)).ToList();

        Expect.Error(HermesErrorIds.ValueNotRepresentable, () => Installer(runner, env).Install(new InstallRequest(d, EnvironmentFileVariables: variables), new TestHost()));

        Assert.False(File.Exists(envFile));
        Assert.False(File.Exists(Path.Combine(env.UserUnitDirectory, d.FileName)));
        Assert.Empty(runner.Calls);
    }
}
