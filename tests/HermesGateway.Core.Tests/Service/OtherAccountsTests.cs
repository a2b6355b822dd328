namespace HermesGateway.Core.Tests.Service;

/// <summary>
/// Issue 13, item 3: root sees the user units in other accounts' homes (the password database gives the homes), reads
/// them without following links, reaches them through that account's own user manager, and writes nothing there.
/// </summary>
public sealed class OtherAccountsTests : IDisposable
{
    private readonly TempDir dir = new();

    private string AliceUnits => Path.Combine(dir.Path, "alice", ".config", "systemd", "user");

    private ServiceEnvironment Root() => new()
    {
        Home = Path.Combine(dir.Path, "root"),
        Uid = 0,
        UserName = "root",
        SystemUnitDirectory = Path.Combine(dir.Path, "etc-systemd-system"),
        PasswdFile = dir.Write("passwd", string.Join('\n',
            "root:x:0:0:root:/root:/bin/bash",
            $"alice:x:1001:1002:Alice:{Path.Combine(dir.Path, "alice")}:/bin/bash",
            $"bob:x:1003:1003::{Path.Combine(dir.Path, "bob")}:/bin/sh",
            "broken line",
            "")),
    };

    private static string Unit(string home) => $"[Service]\nExecStart=/usr/bin/hermes gateway run\nEnvironment=HERMES_HOME={home}\n";

    [Fact]
    public void Root_finds_another_accounts_user_units_with_their_owner_and_asks_that_accounts_manager()
    {
        var unit = dir.Write("alice/.config/systemd/user/hermes-gateway-work.service", Unit("/home/alice/.hermes"));
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show("active", "running", 4242));
        var installer = ServiceInstaller.ForThisMachine(runner, Root());

        var found = Assert.Single(installer.Find());

        Assert.Equal(("hermes-gateway-work", ServiceScope.User, "alice", unit, "/home/alice/.hermes"), (found.Name, found.Scope, found.Owner, found.Path, found.HermesHome));
        Assert.Equal("active", found.State);
        var show = Assert.Single(runner.Calls);
        Assert.StartsWith("setpriv --reuid=1001 --regid=1002 --init-groups --reset-env -- env XDG_RUNTIME_DIR=/run/user/1001 systemctl --user show ", show, StringComparison.Ordinal);
        Assert.Equal("alice", found.Identity.Owner);
        Assert.Equal(["hermes-gateway-work"], InstalledGateways.List(Root()).Select(g => g.Name));
    }

    [Fact]
    public void A_link_in_another_accounts_unit_folder_is_not_read_through()
    {
        var secret = dir.Write("secret/hermes-gateway-secret.service", Unit("/root/secret-home"));
        Directory.CreateDirectory(AliceUnits);
        File.CreateSymbolicLink(Path.Combine(AliceUnits, "hermes-gateway-link.service"), secret);
        var installer = ServiceInstaller.ForThisMachine(new RecordingRunner().On((f, a) => true, stdout: RecordingRunner.Show()), Root());

        var found = Assert.Single(installer.Find());

        Assert.Equal(("hermes-gateway-link", "alice", "unreadable", null), (found.Name, found.Owner, found.State, found.HermesHome));
    }

    [Fact]
    public void Actions_on_another_accounts_unit_go_to_its_manager_and_an_uninstall_is_refused_with_nothing_written()
    {
        var unit = dir.Write("alice/.config/systemd/user/hermes-gateway-work.service", Unit("/home/alice/.hermes"));
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show());
        var installer = ServiceInstaller.ForThisMachine(runner, Root());
        var work = Assert.Single(installer.Find()).Identity;
        runner.Calls.Clear();

        installer.Start(work, new TestHost());
        Assert.All(runner.Calls, c => Assert.StartsWith("setpriv --reuid=1001 ", c, StringComparison.Ordinal));
        Assert.Contains(runner.Calls, c => c.EndsWith("systemctl --user start -- hermes-gateway-work.service", StringComparison.Ordinal));

        var refused = Assert.Throws<HermesException>(() => installer.Uninstall(work, new TestHost()));
        Assert.Equal(HermesErrorIds.OtherAccountWriteRefused, refused.ErrorId);
        Assert.Equal([unit], Directory.GetFiles(AliceUnits));

        // An owner no manager here has (not root: no other account's services) is an error with an id, not root's own unit.
        var stranger = work with { Owner = "mallory" };
        Assert.Equal(HermesErrorIds.ServiceNotFound, Assert.Throws<HermesException>(() => installer.Start(stranger, new TestHost())).ErrorId);
    }

    /// <summary>The last log lines of a failed start: root's own user journal has none of another account's unit.</summary>
    [Fact]
    public void The_log_lines_of_another_accounts_unit_are_read_from_that_accounts_entries()
    {
        dir.Write("alice/.config/systemd/user/hermes-gateway-work.service", Unit("/home/alice/.hermes"));
        var runner = new RecordingRunner().On((f, a) => a.Contains("show"), stdout: RecordingRunner.Show())
            .On((f, _) => f == "journalctl", stdout: "config.yaml: no platform\n");
        var installer = ServiceInstaller.ForThisMachine(runner, Root());
        var work = Assert.Single(installer.Find()).Identity;

        var lines = installer.For(work).RecentLog(work, 10, default, out _);

        Assert.Equal(["config.yaml: no platform"], lines);
        var call = Assert.Single(runner.Calls, c => c.StartsWith("journalctl ", StringComparison.Ordinal));
        Assert.Contains("_SYSTEMD_USER_UNIT=hermes-gateway-work.service _UID=1001", call, StringComparison.Ordinal);
        Assert.DoesNotContain("--user-unit", call, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_root_sees_other_accounts()
    {
        dir.Write("alice/.config/systemd/user/hermes-gateway-work.service", Unit("/home/alice/.hermes"));
        var bob = Root() with { Uid = 1003, UserName = "bob", Home = Path.Combine(dir.Path, "bob") };

        Assert.Empty(ServiceInstaller.ForThisMachine(new RecordingRunner(), bob).Find());
    }

    public void Dispose() => dir.Dispose();
}
