using System.Runtime.InteropServices;

namespace HermesGateway.Core.Platform;

/// <summary>
/// Facts about the account and session the engine acts for: where user services live, whether the user
/// manager can be reached, whether this is root. Read once from the process; tests and sandboxes supply their own.
/// </summary>
public sealed partial record ServiceEnvironment
{
    public required string Home { get; init; }

    public string? XdgConfigHome { get; init; }

    public string? XdgRuntimeDir { get; init; }

    public string? DbusSessionBusAddress { get; init; }

    public required uint Uid { get; init; }

    public required string UserName { get; init; }

    public bool IsRoot => Uid == 0;

    public bool IsMacOS { get; init; }

    /// <summary>Where system units go (the sandbox and tests point it elsewhere).</summary>
    public string SystemUnitDirectory { get; init; } = "/etc/systemd/system";

    /// <summary>The password database root reads other accounts' homes from (the sandbox and tests point it elsewhere).</summary>
    public string PasswdFile { get; init; } = "/etc/passwd";

    /// <summary>Where launchd daemons go.</summary>
    public string LaunchDaemonDirectory { get; init; } = "/Library/LaunchDaemons";

    public string UserUnitDirectory => Path.Combine(XdgConfigHome ?? Path.Combine(Home, ".config"), "systemd", "user");

    public string LaunchAgentDirectory => Path.Combine(Home, "Library", "LaunchAgents");

    /// <summary>The machine's runtime folder only root can write: /run, or /var/run on macOS.</summary>
    public static string SystemRuntimeDirectory => OperatingSystem.IsMacOS() ? "/var/run" : "/run";

    /// <summary>
    /// systemctl --user needs a way to the user manager: $DBUS_SESSION_BUS_ADDRESS, the session bus at
    /// $XDG_RUNTIME_DIR/bus, or the manager's own socket at $XDG_RUNTIME_DIR/systemd/private (used without D-Bus).
    /// </summary>
    public bool UserBusReachable =>
        !string.IsNullOrEmpty(DbusSessionBusAddress)
        || (!string.IsNullOrEmpty(XdgRuntimeDir) && (File.Exists(Path.Combine(XdgRuntimeDir, "bus")) || File.Exists(Path.Combine(XdgRuntimeDir, "systemd", "private"))));

    public static ServiceEnvironment Current() =>
        FromProcess(NativeMethods.geteuid(), Environment.UserName, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), Environment.GetEnvironmentVariable);

    /// <summary>
    /// The facts as <see cref="Current"/> reads them from a process with effective UID <paramref name="uid"/> and the
    /// environment <paramref name="variable"/>. Root takes the XDG and D-Bus variables only when what they name is
    /// root's own (<paramref name="ownerOf"/>: the path's owner, links not followed): 'sudo -E' keeps the invoking user's,
    /// and root would otherwise write user units into that user's ~/.config, talk to that user's bus, and keep state in
    /// that user's runtime folder. A bus address counts by its socket's folder; one that names no path (an abstract
    /// socket) is not taken.
    /// </summary>
    public static ServiceEnvironment FromProcess(uint uid, string userName, string home, Func<string, string?> variable, Func<string, uint?>? ownerOf = null)
    {
        string Env(string name) => variable(name) ?? string.Empty;
        var runtime = NullIfEmpty(Env("XDG_RUNTIME_DIR"));
        var config = NullIfEmpty(Env("XDG_CONFIG_HOME"));
        var bus = NullIfEmpty(Env("DBUS_SESSION_BUS_ADDRESS"));
        if (uid == 0)
        {
            ownerOf ??= NativeFiles.OwnerOf;
            bool Roots(string? path) => path is not null && ownerOf(path) == 0;
            runtime = Roots(runtime) ? runtime : null;
            config = Roots(config) ? config : null;
            const string unixPath = "unix:path=";
            // The socket's folder decides (the socket itself may not exist yet): /run/user/<uid> is its user's.
            bus = bus is not null && bus.StartsWith(unixPath, StringComparison.Ordinal) && Roots(Path.GetDirectoryName(bus[unixPath.Length..].Split(',')[0])) ? bus : null;
        }

        return new ServiceEnvironment
        {
            Home = home,
            XdgConfigHome = config,
            XdgRuntimeDir = runtime,
            DbusSessionBusAddress = bus,
            Uid = uid,
            UserName = userName,
            IsMacOS = OperatingSystem.IsMacOS(),
        };
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "geteuid")]
        public static partial uint geteuid();
    }
}
