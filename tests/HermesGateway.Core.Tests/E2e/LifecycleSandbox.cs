using EngineResult = HermesGateway.Core.Platform.ProcessResult;

namespace HermesGateway.Core.Tests.E2e;

/// <summary>
/// A private systemd 252 (sde2e) for the install/start/stop lifecycle: the engine runs here, on the host, and reaches
/// the sandbox through its two seams — systemctl through the process runner, /proc through the process table.
/// Unit directories, HERMES_HOMEs and the stub live under /tmp, which the sandbox shares.
/// </summary>
public sealed class LifecycleSandbox : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly object gate = new();
    private bool up;
    private bool journal;

    public LifecycleSandbox()
        : this(stockUserManagerName: false)
    {
    }

    /// <param name="stockUserManagerName">
    /// the user manager runs as user@0.service (sde2e's own unit under the stock name) rather than e2e-user@0.service:
    /// journald attributes a user unit's lines to it (_SYSTEMD_USER_UNIT=) only below a cgroup named user@UID.service
    /// </param>
    internal LifecycleSandbox(bool stockUserManagerName)
    {
        Root = Path.Combine("/tmp", "hermes-sde2e-lc-" + Guid.NewGuid().ToString("N")[..10]);
        this.stockUserManagerName = stockUserManagerName;
    }

    private readonly bool stockUserManagerName;

    public string Root { get; }

    /// <remarks>sde2e names the sandbox's cgroup after this folder's name, so it must be unique among running sandboxes.</remarks>
    public string State => Path.Combine(Root, "state-" + Path.GetFileName(Root));

    public string SystemUnits => Path.Combine(Root, "etc-systemd-system");

    public string Home => Path.Combine(Root, "home");

    public string UserUnits => Path.Combine(Home, ".config", "systemd", "user");

    /// <summary>The home of the sandbox's service account 'hermes' (its passwd entry names it), under /tmp like the rest.</summary>
    public string HermesAccountHome => Path.Combine(Root, "home-hermes");

    /// <summary>The user units of 'hermes', upstream's usual place: ~/.config/systemd/user.</summary>
    public string HermesAccountUserUnits => Path.Combine(HermesAccountHome, ".config", "systemd", "user");

    /// <summary>The sandbox's own password database (its /etc is an overlay), seen from the host.</summary>
    public string PasswdFile => $"/proc/{ManagerPid}/root/etc/passwd";

    public void EnsureUp()
    {
        lock (gate)
        {
            if (up)
            {
                return;
            }

            var script = SandboxPreconditions.Script ?? throw new InvalidOperationException(SandboxPreconditions.SkipReason);
            Directory.CreateDirectory(SystemUnits);
            Directory.CreateDirectory(UserUnits);
            Directory.CreateDirectory(HermesAccountUserUnits);
            up = true; // before booting, so Dispose tears down a half-booted manager too
            // enable writes its .wants symlinks to /etc/systemd/system and (--user, for root) /root/.config/systemd/user,
            // throw-away views inside the sandbox: both must be on the managers' unit paths for is-enabled to see them.
            var env = new Dictionary<string, string>
            {
                ["SDE2E_EXTRA_UNIT_PATH"] = SystemUnits + ":/etc/systemd/system",
                ["SDE2E_EXTRA_USER_UNIT_PATH"] = UserUnits + ":/root/.config/systemd/user:" + HermesAccountUserUnits,
            };
            var booted = Programs.Run(script, ["up", State], Timeout, env);
            Check(booted, "sde2e up");
            ManagerPid = int.Parse(booted.StandardOutput.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
            var usermgr = Sde2e("usermgr", State).StandardOutput.Trim();
            if (stockUserManagerName && usermgr != "user@")
            {
                File.Copy(Path.Combine(State, "units", usermgr + ".service"), Path.Combine(State, "units", "user@.service"));
                Check(Sde2e("ctl", State, "daemon-reload"), "daemon-reload");
                usermgr = "user@";
            }

            Check(Sde2e("ctl", State, "start", usermgr + "0.service"), "start the user manager");
            // A service account for system scope: /etc inside the sandbox is a throw-away overlay.
            // Its home holds user units of its own (issue 13 item 3: root manages another account's user units).
            Check(Sde2e("exec", State, "useradd", "--system", "--no-create-home", "--home-dir", HermesAccountHome, "--shell", "/usr/sbin/nologin", "hermes"), "useradd");
            Check(Sde2e("exec", State, "chown", "-R", "hermes:", HermesAccountHome), "chown the hermes home");
        }
    }

    /// <summary>Starts the user manager of <paramref name="account"/> (no linger, no login: sde2e's per-user manager unit); its UID.</summary>
    public int StartUserManager(string account)
    {
        EnsureUp();
        var uid = Exec("id", "-u", account).StandardOutput.Trim();
        // The state folder holds the user managers' unit path: another account must be able to read it.
        File.SetUnixFileMode(State, (UnixFileMode)0b111_101_101);
        Check(Sde2e("ctl", State, "start", Sde2e("usermgr", State).StandardOutput.Trim() + uid + ".service"), $"start {account}'s user manager");
        return int.Parse(uid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>systemctl --user for <paramref name="account"/>'s own manager, run as that account inside the sandbox.</summary>
    internal ProcessResult UserCtl(string account, params string[] arguments) => Sde2e(["uctl", State, account, .. arguments]);

    /// <summary>
    /// journald inside the sandbox (its units are not on the sandbox's unit path, which holds only State/units and the
    /// extras): the stock units copied there, then started; volatile storage (sde2e's journald.conf drop-in).
    /// </summary>
    public void EnsureJournal()
    {
        EnsureUp();
        lock (gate)
        {
            if (journal)
            {
                return;
            }

            foreach (var unit in new[] { "systemd-journald.service", "systemd-journald.socket", "systemd-journald-dev-log.socket" })
            {
                File.Copy(Path.Combine("/lib/systemd/system", unit), Path.Combine(State, "units", unit), overwrite: true);
            }

            Check(Sde2e("ctl", State, "daemon-reload"), "daemon-reload");
            Check(Sde2e("ctl", State, "start", "systemd-journald.socket", "systemd-journald-dev-log.socket", "systemd-journald.service"), "start journald");
            journal = true;
        }
    }

    internal static ProcessResult Sde2e(params string[] arguments) =>
        Programs.Run(SandboxPreconditions.Script!, arguments, Timeout);

    /// <summary>Runs a command inside the sandbox's namespaces (the user manager's runtime dir set for --user calls).</summary>
    internal ProcessResult Exec(params string[] command) =>
        Sde2e(["exec", State, "env", "XDG_RUNTIME_DIR=/run/user/0", .. command]);

    public ServiceEnvironment Environment => new()
    {
        Home = Home,
        XdgConfigHome = Path.Combine(Home, ".config"),
        DbusSessionBusAddress = "unix:path=/run/user/0/bus",
        Uid = 0,
        UserName = "root",
        SystemUnitDirectory = SystemUnits,
        PasswdFile = PasswdFile,
    };

    public SandboxRunner Runner() => new(this);

    /// <summary>The sandbox's PID 1, a host PID (what 'sde2e up' prints).</summary>
    public int ManagerPid { get; private set; }

    /// <summary>
    /// The sandbox's own procfs, seen from the host through its PID 1's root: systemd's MainPID is a PID of that
    /// namespace. The engine's own process table, pointed at it, so its process handles (the /proc/&lt;pid&gt;
    /// directories) are the ones the restarts signal through.
    /// </summary>
    public IProcessTable Processes => new LocalProcessTable($"/proc/{ManagerPid}/root/proc");

    public void Dispose()
    {
        lock (gate)
        {
            if (up && SandboxPreconditions.Script is { } script)
            {
                Programs.Run(script, ["down", State], Timeout);
            }

            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // a leftover folder under /tmp is harmless; .ci/run removes it
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static void Check(ProcessResult r, string what)
    {
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed ({r.ExitCode}): {r.StandardError}{r.StandardOutput}");
        }
    }
}

/// <summary>The engine's process runner, pointed into the sandbox: systemctl and loginctl run inside it; calls are recorded.</summary>
public sealed class SandboxRunner : IProcessRunner
{
    private readonly LifecycleSandbox sandbox;

    public SandboxRunner(LifecycleSandbox sandbox) => this.sandbox = sandbox;

    public List<string> Calls { get; } = [];

    public EngineResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default)
    {
        lock (Calls)
        {
            Calls.Add($"{fileName} {string.Join(' ', arguments)}");
        }

        var r = sandbox.Exec([fileName, .. arguments]);
        return new EngineResult(r.ExitCode, r.StandardOutput, r.StandardError, false);
    }

    /// <summary>Streamed through 'sde2e exec' by the engine's own runner: cancelling kills that exec and the program it runs inside.</summary>
    public IEnumerable<string> StreamLines(string fileName, IReadOnlyList<string> arguments, Action<EngineResult> exited, CancellationToken cancellation = default)
    {
        lock (Calls)
        {
            Calls.Add($"{fileName} {string.Join(' ', arguments)}");
        }

        return SystemProcessRunner.Instance.StreamLines(SandboxPreconditions.Script!, ["exec", sandbox.State, "env", "XDG_RUNTIME_DIR=/run/user/0", fileName, .. arguments], exited, cancellation);
    }
}

/// <summary>A lifecycle sandbox whose user manager is user@0.service, for the journal's view of user units.</summary>
public sealed class JournalSandbox : IDisposable
{
    public LifecycleSandbox Sandbox { get; } = new(stockUserManagerName: true);

    public void Dispose() => Sandbox.Dispose();
}

[CollectionDefinition(Name)]
public sealed class JournalSandboxGroup : ICollectionFixture<JournalSandbox>
{
    public const string Name = "systemd journal sandbox";
}

[CollectionDefinition(Name)]
public sealed class LifecycleSandboxGroup : ICollectionFixture<LifecycleSandbox>
{
    public const string Name = "systemd lifecycle sandbox";
}
