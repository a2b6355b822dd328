using System.Globalization;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// A stand-in user manager on PATH: 'systemctl' (and 'loginctl') scripts that log every call and give fixed answers —
/// every unit in the given active state with the given main PID — and do nothing. The engine
/// runs systemctl by name, so inside a <see cref="ServiceSandbox"/> it finds these first.
/// </summary>
public sealed class FakeSystemctl
{
    /// <summary>A PID above any kernel's pid_max: no process has it, nor can one, nor has it a /proc entry.</summary>
    public const int NoSuchProcess = 2_000_000_000;

    /// <param name="sandbox">Where the scripts and their log go (its PATH gets them first).</param>
    /// <param name="activeState">ActiveState= of every unit.</param>
    /// <param name="mainPid">MainPID= of every unit.</param>
    /// <param name="enabled">What is-enabled answers.</param>
    /// <param name="subState">SubState= (by default "running" when active, else "dead"), e.g. "auto-restart".</param>
    /// <param name="restarts">NRestarts=.</param>
    /// <param name="exitStatus">The main process' last exit code (ExecMainCode=1, ExecMainStatus=); 0 leaves both 0.</param>
    /// <param name="afterStart">Once 'systemctl start' ran, what 'show' answers (the unit's properties, one per line).</param>
    /// <param name="journal">What the stand-in journalctl prints.</param>
    public FakeSystemctl(ServiceSandbox sandbox, string activeState, int mainPid, bool enabled, string? subState = null, int restarts = 0, int exitStatus = 0, string? afterStart = null, string? journal = null)
    {
        var bin = Directory.CreateDirectory(Path.Combine(sandbox.Root, "bin")).FullName;
        Log = Path.Combine(sandbox.Root, "systemctl.log");
        subState ??= activeState == "active" ? "running" : "dead";
        var show = string.Join("\\n",
            "LoadState=loaded", $"ActiveState={activeState}", $"SubState={subState}", "Result=success",
            "MainPID=" + mainPid.ToString(CultureInfo.InvariantCulture), "ExecMainStartTimestamp=", "ExecMainCode=" + (exitStatus == 0 ? "0" : "1"), "ExecMainStatus=" + exitStatus.ToString(CultureInfo.InvariantCulture),
            "NRestarts=" + restarts.ToString(CultureInfo.InvariantCulture), $"UnitFileState={(enabled ? "enabled" : "disabled")}", "FragmentPath=", "RestartUSec=2s");
        // Once 'systemctl start' ran, 'show' answers afterStart (the unit's properties, one per line) when it is given.
        var started = Path.Combine(sandbox.Root, "systemctl.started");
        var shown = afterStart is null ? show : afterStart.Replace("\n", "\\n", StringComparison.Ordinal);
        Write(Path.Combine(bin, "systemctl"), $$"""
            #!/bin/sh
            printf 'systemctl %s\n' "$*" >> '{{Log}}'
            for a in "$@"; do
              case "$a" in
                start) : > '{{started}}'; exit 0 ;;
                show) if [ -e '{{started}}' ]; then printf '{{shown}}\n'; else printf '{{show}}\n'; fi; exit 0 ;;
                is-enabled) echo {{(enabled ? "enabled" : "disabled")}}; exit 0 ;;
              esac
            done
            exit 0
            """);
        Write(Path.Combine(bin, "journalctl"), $$"""
            #!/bin/sh
            printf 'journalctl %s\n' "$*" >> '{{Log}}'
            printf '%s' '{{journal ?? string.Empty}}'
            """);
        Write(Path.Combine(bin, "loginctl"), $$"""
            #!/bin/sh
            printf 'loginctl %s\n' "$*" >> '{{Log}}'
            echo yes
            """);
        sandbox.PrependToPath(bin);
    }

    /// <summary>One line per call, "systemctl --user show ...", in the order they came.</summary>
    public string Log { get; }

    public IReadOnlyList<string> Calls => File.Exists(Log) ? File.ReadAllLines(Log) : [];

    private static void Write(string path, string script)
    {
        File.WriteAllText(path, script.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
    }
}
