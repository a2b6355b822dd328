using System.Reflection;

namespace HermesGateway.Core.Tests.Service;

/// <summary>The installed gateways listed for -Name completion: what Find would find, from the file names alone.</summary>
public sealed class InstalledGatewaysTests : IDisposable
{
    private readonly TempDir dir = new();

    private string UserUnits => Path.Combine(dir.Path, "home", ".config", "systemd", "user");

    private string SystemUnits => Path.Combine(dir.Path, "etc", "systemd", "system");

    private string Agents => Path.Combine(dir.Path, "home", "Library", "LaunchAgents");

    private string Daemons => Path.Combine(dir.Path, "Library", "LaunchDaemons");

    private ServiceEnvironment Environment(bool macOS = false) => new()
    {
        Home = Path.Combine(dir.Path, "home"),
        XdgConfigHome = Path.Combine(dir.Path, "home", ".config"),
        Uid = 1000,
        UserName = "hermes",
        IsMacOS = macOS,
        SystemUnitDirectory = SystemUnits,
        LaunchDaemonDirectory = Daemons,
    };

    private string Touch(string directory, string file, string text = "[Service]\nExecStart=/usr/bin/hermes gateway run\n") =>
        dir.Write(Path.GetRelativePath(dir.Path, Path.Combine(directory, file)), text);

    [Fact]
    public void Systemd_gateway_units_of_both_scopes_are_listed_by_name_sorted_with_scope_and_path()
    {
        var work = Touch(UserUnits, "hermes-gateway-work.service");
        var plain = Touch(UserUnits, "hermes-gateway.service");
        var web = Touch(SystemUnits, "hermes-gateway-web.service");

        var listed = InstalledGateways.List(Environment());

        Assert.Equal(
            [
                new InstalledGateway("hermes-gateway", ServicePlatform.Systemd, ServiceScope.User, plain) { Owner = "hermes" },
                new InstalledGateway("hermes-gateway-web", ServicePlatform.Systemd, ServiceScope.System, web),
                new InstalledGateway("hermes-gateway-work", ServicePlatform.Systemd, ServiceScope.User, work) { Owner = "hermes" },
            ],
            listed);
    }

    [Fact]
    public void A_unit_or_plist_this_module_wrote_is_found_under_any_name_and_a_hand_written_one_is_not()
    {
        // Written as Install-HermesService writes them: the rendered file with the module's checksum line.
        string Installed(ServicePlatform platform, string directory, string name)
        {
            var d = ServiceDefinitionFactory.Create(new DefinitionRequest
            {
                Platform = platform, Name = name, Executable = "/usr/local/bin/hermes", HomeDirectory = Path.Combine(dir.Path, "home"),
            });
            return Touch(directory, d.FileName, FileStamp.Apply(ServiceFiles.Render(d), platform));
        }

        var relay = Installed(ServicePlatform.Systemd, UserUnits, "relay-gateway");
        var edited = Installed(ServicePlatform.Systemd, SystemUnits, "edge");
        File.AppendAllText(edited, "# an admin's note\n"); // edited after the install: still the module's file
        Touch(UserUnits, "nginx.service");
        var agent = Installed(ServicePlatform.Launchd, Agents, "com.example.relay");
        Touch(Agents, "com.example.other.plist", "<plist/>");

        Assert.Equal(
            [
                new InstalledGateway("edge", ServicePlatform.Systemd, ServiceScope.System, edited),
                new InstalledGateway("relay-gateway", ServicePlatform.Systemd, ServiceScope.User, relay) { Owner = "hermes" },
            ],
            InstalledGateways.List(Environment()));
        Assert.Equal(
            [new InstalledGateway("com.example.relay", ServicePlatform.Launchd, ServiceScope.Agent, agent) { Owner = "hermes" }],
            InstalledGateways.List(Environment(macOS: true)));
    }

    [Fact]
    public async Task A_fifo_or_a_link_named_like_a_unit_is_passed_over_without_blocking_the_listing()
    {
        Directory.CreateDirectory(UserUnits);
        var fifo = Path.Combine(UserUnits, "trap.service");
        Assert.Equal(0, Programs.Run("mkfifo", [fifo], TimeSpan.FromSeconds(10)).ExitCode);
        var target = Touch(SystemUnits, "elsewhere.txt", FileStamp.Apply("[Service]\nExecStart=/bin/true\n", ServicePlatform.Systemd));
        File.CreateSymbolicLink(Path.Combine(UserUnits, "linked.service"), target);

        // A listing that blocked on the FIFO would time out here.
        var listed = await Task.Run(() => InstalledGateways.List(Environment())).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Empty(listed);
    }

    [Fact]
    public void Files_that_are_not_gateway_units_are_not_listed()
    {
        Touch(UserUnits, "hermes-gateway-work.service");
        Touch(UserUnits, "hermes-gateway-work.service.20240101T000000Z.bak"); // an install's backup
        Touch(UserUnits, "hermes-gateway-work.service.tmp");
        Touch(UserUnits, "hermes-gateway-work.timer");
        Touch(UserUnits, "other.service");
        Touch(UserUnits, "my-hermes-gateway.service");
        Touch(UserUnits, "ai.hermes.gateway.plist"); // a launchd job is not systemd's
        Touch(SystemUnits, "nginx.service");
        Directory.CreateDirectory(Path.Combine(UserUnits, "hermes-gateway-work.service.d")); // drop-ins
        Directory.CreateDirectory(Path.Combine(UserUnits, "hermes-gateway-dir.service")); // a directory, not a unit

        Assert.Equal(["hermes-gateway-work"], InstalledGateways.List(Environment()).Select(g => g.Name));
    }

    [Fact]
    public void Unreadable_empty_and_malformed_units_are_still_listed_because_their_contents_are_never_read()
    {
        var locked = Touch(UserUnits, "hermes-gateway-locked.service");
        File.SetUnixFileMode(locked, UnixFileMode.None);
        Touch(UserUnits, "hermes-gateway-empty.service", string.Empty);
        dir.WriteBytes(Path.GetRelativePath(dir.Path, Path.Combine(UserUnits, "hermes-gateway-binary.service")), [0, 0xFF, 0xFE, 0, 0x80]);

        Assert.Equal(["hermes-gateway-binary", "hermes-gateway-empty", "hermes-gateway-locked"], InstalledGateways.List(Environment()).Select(g => g.Name));
    }

    [Fact]
    public void A_name_installed_in_both_scopes_is_listed_once_per_file()
    {
        var user = Touch(UserUnits, "hermes-gateway.service");
        var system = Touch(SystemUnits, "hermes-gateway.service");

        var listed = InstalledGateways.List(Environment());

        Assert.Equal([(ServiceScope.System, system), (ServiceScope.User, user)], listed.Select(g => (g.Scope, g.Path)).OrderBy(x => x.Path, StringComparer.Ordinal));
        Assert.All(listed, g => Assert.Equal("hermes-gateway", g.Name));
    }

    [Fact]
    public void Launchd_agents_and_daemons_are_listed_on_macOS_and_other_plists_are_not()
    {
        var agent = Touch(Agents, "ai.hermes.gateway-work.plist", "<plist/>");
        var daemon = Touch(Daemons, "ai.hermes.gateway.plist", "<plist/>");
        Touch(Agents, "com.example.other.plist", "<plist/>");
        Touch(Agents, "ai.hermes.gateway-work.plist.20240101T000000Z.bak", "<plist/>");
        Touch(Agents, "hermes-gateway.service");
        Touch(UserUnits, "hermes-gateway.service"); // systemd is not this machine's supervisor

        var listed = InstalledGateways.List(Environment(macOS: true));

        Assert.Equal(
            [
                new InstalledGateway("ai.hermes.gateway", ServicePlatform.Launchd, ServiceScope.Daemon, daemon),
                new InstalledGateway("ai.hermes.gateway-work", ServicePlatform.Launchd, ServiceScope.Agent, agent) { Owner = "hermes" },
            ],
            listed);
    }

    [Fact]
    public void Missing_directories_or_a_file_where_the_unit_directory_should_be_list_nothing()
    {
        Assert.Empty(InstalledGateways.List(Environment()));
        Assert.Empty(InstalledGateways.List(Environment(macOS: true)));

        dir.Write(Path.GetRelativePath(dir.Path, UserUnits), "not a directory");
        Assert.Empty(InstalledGateways.List(Environment()));
    }

    [Fact]
    public void Listing_runs_no_process()
    {
        Touch(UserUnits, "hermes-gateway.service");
        Touch(SystemUnits, "hermes-gateway-web.service");
        Touch(Agents, "ai.hermes.gateway.plist", "<plist/>");
        var runner = new RecordingRunner();

        var listed = InstalledGateways.List([new SystemdServiceManager(runner, Environment()), new LaunchdServiceManager(runner, Environment(macOS: true))]);

        Assert.Equal(3, listed.Count);
        Assert.Empty(runner.Calls);
    }

    [Fact]
    public void What_is_listed_is_exactly_what_Find_finds()
    {
        Touch(UserUnits, "hermes-gateway-work.service");
        Touch(UserUnits, "hermes-gateway.service", "garbage\0");
        Touch(UserUnits, "hermes-gateway-work.service.20240101T000000Z.bak");
        Touch(UserUnits, "other.service");
        Touch(SystemUnits, "hermes-gateway.service");
        Touch(SystemUnits, "hermes-gateway-web.service");
        var manager = new SystemdServiceManager(new RecordingRunner().On((f, a) => f == "systemctl" && a.Contains("show"), stdout: RecordingRunner.Show()), Environment());

        var found = new ServiceInstaller(manager).Find();

        Assert.Equal(
            found.Select(s => (s.Name, s.Scope, s.Path)).OrderBy(x => x.Path, StringComparer.Ordinal),
            InstalledGateways.List([manager]).Select(g => (g.Name, g.Scope, g.Path)).OrderBy(x => x.Path, StringComparer.Ordinal));
        Assert.Equal(4, found.Count);
    }

    [Fact]
    public void A_directory_that_cannot_be_read_keeps_what_was_listed_and_the_other_supervisors_listing()
    {
        var first = Touch(UserUnits, "hermes-gateway-first.service");
        FailingDiscovery.Readable = UserUnits;
        var failing = DispatchProxy.Create<IServiceManager, FailingDiscovery>();
        var launchd = new LaunchdServiceManager(new RecordingRunner(), Environment(macOS: true));
        var agent = Touch(Agents, "ai.hermes.gateway.plist", "<plist/>");

        var listed = InstalledGateways.List([failing, launchd]);

        Assert.Equal(
            [
                new InstalledGateway("ai.hermes.gateway", ServicePlatform.Launchd, ServiceScope.Agent, agent) { Owner = "hermes" },
                new InstalledGateway("hermes-gateway-first", ServicePlatform.Systemd, ServiceScope.User, first) { Owner = "hermes" },
            ],
            listed);
    }

    public void Dispose() => dir.Dispose();

    /// <summary>A supervisor whose discovery lists one readable directory, then hits one it may not read.</summary>
    public class FailingDiscovery : DispatchProxy
    {
        public static string Readable { get; set; } = "/nonexistent";

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "get_Platform" => ServicePlatform.Systemd,
            "get_" + nameof(IServiceManager.Owner) => "hermes",
            "get_" + nameof(IServiceManager.ServiceDirectories) => new ThenDenied(),
            _ => throw new NotSupportedException(targetMethod?.Name),
        };

        private sealed class ThenDenied : IReadOnlyList<(string Directory, ServiceScope Scope)>
        {
            public int Count => 2;

            public (string Directory, ServiceScope Scope) this[int index] => throw new NotSupportedException();

            public IEnumerator<(string Directory, ServiceScope Scope)> GetEnumerator()
            {
                yield return (Readable, ServiceScope.User);
                throw new UnauthorizedAccessException("Access to the path '/etc/systemd/system' is denied.");
            }

            System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
        }
    }
}
