using System.Text.Json;
using System.Text.Json.Nodes;

namespace HermesGateway.FakeLaunchctl;

/// <summary>Domain facts a test can switch at any time by rewriting domain.json (read on every decision).</summary>
internal sealed record DomainConfig(bool NoGuiSession, bool OnDemandOnly, double IdleExitSeconds)
{
    public static DomainConfig Read(string stateDir)
    {
        var path = Path.Combine(stateDir, StateDirectory.DomainFile);
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is JsonObject o)
            {
                return new DomainConfig(
                    o["noGuiSession"]?.GetValue<bool>() ?? false,
                    o["onDemandOnly"]?.GetValue<bool>() ?? false,
                    o["idleExitSeconds"]?.GetValue<double>() ?? 30);
            }
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or FormatException or UnauthorizedAccessException)
        {
            // absent or unreadable: the defaults (a logged-in GUI session, not on-demand-only)
        }

        return new DomainConfig(false, false, 30);
    }
}

/// <summary>The files in $FAKE_LAUNCHD_STATE shared by the CLI, the daemon and the tests.</summary>
internal static class StateDirectory
{
    public const string EnvironmentVariable = "FAKE_LAUNCHD_STATE";
    public const string DomainFile = "domain.json";
    public const string DisabledFile = "disabled.json";
    public const string SocketFile = "launchd.sock";
    public const string DaemonPidFile = "launchd.pid";
    public const string JobsFile = "jobs.json";
    public const string LogFile = "launchd.log";
    public const string DaemonLock = "daemon.lock";

    /// <summary>An exclusive lock on a file in the state directory (flock through FileShare.None), waited for.</summary>
    public static FileStream Lock(string stateDir, string name, TimeSpan? wait = null)
    {
        var deadline = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                return new FileStream(Path.Combine(stateDir, name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }
        }
    }

    /// <summary>Writes through a temp file and a rename, so readers see the old or the new text, never half.</summary>
    public static void WriteAtomic(string path, string text)
    {
        var tmp = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>A process the fake started: PID plus /proc start time, so a reused PID is never mistaken for it.</summary>
internal sealed record ProcessRecord(string Domain, string Label, int Pid, long? StartTicks);

/// <summary>launchctl enable/disable: the per-domain override database, which persists (like launchd's across boots).</summary>
internal static class DisabledDatabase
{
    public static Dictionary<string, bool> Read(string stateDir, string domain)
    {
        var all = ReadAll(stateDir);
        return all.TryGetValue(domain, out var d) ? d : new Dictionary<string, bool>(StringComparer.Ordinal);
    }

    /// <summary>Whether the label is disabled: the database wins; without an entry the plist's Disabled key decides.</summary>
    public static bool IsDisabled(string stateDir, string domain, string label, bool plistDisabled) =>
        Read(stateDir, domain).TryGetValue(label, out var disabled) ? disabled : plistDisabled;

    public static void Set(string stateDir, string domain, string label, bool disabled)
    {
        using var _ = StateDirectory.Lock(stateDir, StateDirectory.DisabledFile + ".lock");
        var all = ReadAll(stateDir);
        if (!all.TryGetValue(domain, out var d))
        {
            all[domain] = d = new Dictionary<string, bool>(StringComparer.Ordinal);
        }

        d[label] = disabled;
        StateDirectory.WriteAtomic(Path.Combine(stateDir, StateDirectory.DisabledFile), JsonSerializer.Serialize(all, JsonOptions.Indented));
    }

    private static Dictionary<string, Dictionary<string, bool>> ReadAll(string stateDir)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, bool>>>(File.ReadAllText(Path.Combine(stateDir, StateDirectory.DisabledFile)))
                ?? new(StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return new(StringComparer.Ordinal);
        }
    }
}

internal static class JsonOptions
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}

/// <summary>One request line from the CLI to the daemon, and one answer line back (the protocol, over launchd.sock).</summary>
internal sealed record WireRequest(string[] Argv);

internal sealed record WireResponse(int Exit, string Out, string Err);
