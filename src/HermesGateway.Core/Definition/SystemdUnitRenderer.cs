using System.Globalization;
using System.Text;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>Writes a definition as a unit file: fixed key order, every user value escaped, deterministic.</summary>
public static class SystemdUnitRenderer
{
    public const string Header = "# Hermes Agent gateway, written by HermesGateway. Test-HermesExitPolicy explains what each setting does.";

    /// <summary>
    /// The script ExecStop= runs ($1 = HERMES_HOME, $2 = the main PID, empty when the gateway already exited): writes
    /// the planned-stop marker the gateway honours, with the PID's start time from /proc, atomically; then waits up to
    /// 1.5 s for the gateway to take it. A gateway that watches for the marker (Hermes 0.16 looks every 0.5 s) starts
    /// its planned stop at once and deletes it: the script then waits for that process to exit, because a SIGTERM
    /// from systemd in the middle of that stop would turn it into exit 1. A gateway that does not watch leaves the
    /// marker for systemd's SIGTERM, which then finds it (a gateway slower than 1.5 s to notice it can still see both).
    /// A short /proc line or a failed write ends the script with 0: a failing ExecStop= would leave the unit failed.
    /// The temp file has a random name (mktemp -u) and is created by dd with O_EXCL|O_NOFOLLOW, so a link or file
    /// another account placed there is never written through; dd fails on a short or failed write (a full disk), and
    /// then the temp file is removed; mv -T renames it over the marker's name, never into a directory a link there
    /// points to. Tools are named by absolute path: the unit's PATH is the user's to choose.
    /// </summary>
    public const string PlannedStopScript =
        "home=$1 pid=$2; [ -n \"$pid\" ] && [ -r /proc/$pid/stat ] || exit 0; " +
        "stat=$(/bin/cat /proc/$pid/stat) || exit 0; set -- ${stat##*) }; [ $# -ge 20 ] || exit 0; shift 19; start=$1; " +
        "marker=\"$home/.gateway-planned-stop.json\"; tmp=$(/bin/mktemp -u \"$marker.XXXXXXXXXX\") || exit 0; " +
        "printf '{\"target_pid\": %s, \"target_start_time\": %s, \"stopper_pid\": %s, \"written_at\": \"%s\"}\\n' " +
        "\"$pid\" \"$start\" \"$$\" \"$(/bin/date -u +%Y-%m-%dT%H:%M:%S+00:00)\" | /bin/dd of=\"$tmp\" conv=excl oflag=nofollow status=none " +
        "&& /bin/mv -fT \"$tmp\" \"$marker\" || { /bin/rm -f \"$tmp\"; exit 0; }; " +
        "n=0; while [ -e \"$marker\" ] && [ $n -lt 15 ]; do /bin/sleep 0.1; n=$((n+1)); done; [ -e \"$marker\" ] && exit 0; " +
        "while stat=$(/bin/cat /proc/$pid/stat 2>/dev/null); do set -- ${stat##*) }; [ $# -ge 20 ] || exit 0; shift 19; [ \"$1\" = \"$start\" ] || exit 0; /bin/sleep 0.1; done";

    /// <summary>
    /// The script ExecStopPost= runs ($1 = HERMES_HOME, $2 = --user or --system, $3 = the unit's name): after a clean
    /// exit (systemd's $EXIT_CODE/$EXIT_STATUS) whose gateway_state.json is "stopped" with restart_requested true, and
    /// only when the manager has no job of its own for the unit (an admin's stop or restart is never undone), it queues
    /// a start of the unit without waiting for it. It always ends with 0: a failing ExecStopPost= would count as a
    /// failure and revive the unit through Restart=on-failure instead. In system scope the line carries systemd's '+'
    /// prefix (the service's User= may not start units); the state file is then read only when it is a regular file
    /// and not a link, at most 64 KiB and for at most 5 s (a FIFO swapped in cannot hold it), and only matched, never
    /// written or shown.
    /// </summary>
    public const string RestartReviverScript =
        "home=$1 scope=$2 unit=$3; [ \"$EXIT_CODE\" = exited ] && [ \"$EXIT_STATUS\" = 0 ] || exit 0; " +
        "f=\"$home/gateway_state.json\"; [ -f \"$f\" ] && [ ! -L \"$f\" ] || exit 0; state=$(/usr/bin/timeout 5 /usr/bin/head -c 65536 -- \"$f\" 2>/dev/null) || exit 0; " +
        "case $state in *'\"restart_requested\":true'*) ;; *) exit 0 ;; esac; " +
        "case $state in *'\"gateway_state\":\"stopped\"'*) ;; *) exit 0 ;; esac; " +
        "job=$(/bin/systemctl \"$scope\" show --property=Job --value -- \"$unit\" 2>/dev/null) || exit 0; [ -z \"$job\" ] || exit 0; " +
        "/bin/systemctl \"$scope\" --no-block start -- \"$unit\" || true";

    /// <summary>
    /// systemd's LONG_LINE_MAX (1 MiB): the unit-file parser (config_parse, read_line) gives up on a longer line, and with
    /// it on the whole unit, which then does not load ("Line too long").
    /// </summary>
    public const int LongLineMax = 1024 * 1024;

    /// <summary>The variable systemd sets for every run, by which Hermes 0.16 picks its systemd-only restart path.</summary>

    public static string Render(ServiceDefinition d)
    {
        var o = d.Systemd ?? throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidArgument,
            $"'{d.Name}' is not a systemd definition.", d);
        var sb = new StringBuilder();
        void Line(string key, string value) => sb.Append(key).Append('=').Append(value).Append('\n');
        void Extras(string section)
        {
            foreach (var e in d.ExtraUnitSettings.Where(e => e.Section == section))
            {
                SystemdEscaping.Text(e.Value.Length == 0 ? "x" : e.Value, $"{e.Key}="); // refuses line breaks
                Line(e.Key, e.Value);
            }
        }

        sb.Append(Header).Append('\n').Append("[Unit]\n");
        if (d.Description is not null)
        {
            Line("Description", SystemdEscaping.Text(d.Description, "Description"));
        }

        foreach (var a in o.After)
        {
            Line("After", UnitName(a));
        }

        foreach (var w in o.Wants)
        {
            Line("Wants", UnitName(w));
        }

        if (o.StartLimitInterval is { } interval)
        {
            Line("StartLimitIntervalSec", SystemdValues.FormatTimeSpan(interval));
        }

        if (o.StartLimitBurst is { } burst)
        {
            Line("StartLimitBurst", burst.ToString(CultureInfo.InvariantCulture));
        }

        Extras("Unit");
        sb.Append("\n[Service]\n");
        Line("Type", SystemdNames.Of(o.Type));
        if (d.User is not null)
        {
            Line("User", SystemdEscaping.Text(d.User, "User"));
        }

        if (d.Group is not null)
        {
            Line("Group", SystemdEscaping.Text(d.Group, "Group"));
        }

        Line("ExecStart", SystemdEscaping.ExecLine(d.Executable, d.Arguments));
        if (o.MarkPlannedStop)
        {
            var home = d.HermesHome ?? throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidArgument,
                "Marking planned stops needs HermesHome: the marker lives there.", d);
            Line("ExecStop", SystemdEscaping.ExecLine("/bin/sh", ["-c", PlannedStopScript, SystemdModel.PlannedStopMarkerCommand, home]) + " $MAINPID");
        }

        if (o.ReviveRequestedRestart)
        {
            var home = d.HermesHome ?? throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidArgument,
                "Reviving requested restarts needs HermesHome: the gateway records the request there.", d);
            Line("ExecStopPost", (d.Scope == ServiceScope.System ? "+" : string.Empty) + SystemdEscaping.ExecLine("/bin/sh", ["-c", RestartReviverScript, SystemdModel.RestartReviverCommand, home,
                d.Scope == ServiceScope.User ? "--user" : "--system"]) + " %n");
        }

        if (o.ReloadSignal is { } reload)
        {
            Line("ExecReload", $"/bin/kill -{reload.ToString()[3..]} $MAINPID");
        }

        if (d.WorkingDirectory is not null)
        {
            Line("WorkingDirectory", SystemdEscaping.PathValue(d.WorkingDirectory, "WorkingDirectory"));
        }

        if (d.HermesHome is not null)
        {
            Line("Environment", SystemdEscaping.EnvironmentAssignment("HERMES_HOME", d.HermesHome));
        }

        foreach (var v in d.Environment)
        {
            Line("Environment", SystemdEscaping.EnvironmentAssignment(v.Name, v.Value));
        }

        if (o.HideInvocationId)
        {
            Line("UnsetEnvironment", SystemdModel.InvocationIdVariable);
        }

        if (d.EnvironmentFile is not null)
        {
            Line("EnvironmentFile", SystemdEscaping.EnvironmentFilePath(d.EnvironmentFile));
        }

        Line("Restart", SystemdNames.Of(o.Restart));
        Line("RestartSec", SystemdValues.FormatTimeSpan(o.RestartSec));
        if (o.RestartSteps > 0)
        {
            Line("RestartSteps", o.RestartSteps.ToString(CultureInfo.InvariantCulture));
        }

        if (o.RestartMaxDelay is { } maxDelay)
        {
            Line("RestartMaxDelaySec", SystemdValues.FormatTimeSpan(maxDelay));
        }

        StatusLine("SuccessExitStatus", o.SuccessExitStatus);
        StatusLine("RestartForceExitStatus", o.RestartForceExitStatus);
        StatusLine("RestartPreventExitStatus", o.RestartPreventExitStatus);
        Line("KillMode", SystemdNames.Of(o.KillMode));
        Line("KillSignal", o.KillSignal.ToString());
        Line("TimeoutStopSec", SystemdValues.FormatTimeSpan(d.StopTimeout));
        if (d.StandardOutPath is not null)
        {
            Line("StandardOutput", "append:" + SystemdEscaping.PathValue(d.StandardOutPath, "StandardOutPath"));
        }

        if (d.StandardErrorPath is not null)
        {
            Line("StandardError", "append:" + SystemdEscaping.PathValue(d.StandardErrorPath, "StandardErrorPath"));
        }

        Extras("Service");
        sb.Append("\n[Install]\n");
        foreach (var w in o.WantedBy)
        {
            Line("WantedBy", UnitName(w));
        }

        Extras("Install");
        foreach (var section in d.ExtraUnitSettings.Select(e => e.Section).Distinct().Where(s => s is not ("Unit" or "Service" or "Install")))
        {
            sb.Append('\n').Append('[').Append(section).Append("]\n");
            Extras(section);
        }

        var text = sb.ToString();
        RefuseLongLines(text);
        return text;

        void StatusLine(string key, ExitStatusSet set)
        {
            if (!set.IsEmpty)
            {
                Line(key, set.ToString());
            }
        }
    }

    /// <summary>Refuses a unit with a line systemd could not read (one over-long value makes the whole unit fail to load).</summary>
    private static void RefuseLongLines(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            var bytes = System.Text.Encoding.UTF8.GetByteCount(line);
            if (bytes >= LongLineMax)
            {
                var key = line[..Math.Max(0, line.IndexOf('=', StringComparison.Ordinal))];
                throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                    $"The {key}= line would be {bytes} bytes; systemd refuses a unit with a line of {LongLineMax} bytes (1 MiB, LONG_LINE_MAX) or more, so the unit would not load. Pass a value this long in a file the gateway reads instead.", key);
            }
        }
    }

    private static string UnitName(string name)
    {
        if (name.Length == 0 || name.StartsWith('-') || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '%' or '$' or '"' or '\'' or '\\'))
        {
            throw new HermesException(HermesErrorIds.NameInvalid, HermesErrorCategory.InvalidArgument, $"'{name}' is not a unit name (or starts with '-', which systemctl would read as an option).", name);
        }

        return name;
    }
}
