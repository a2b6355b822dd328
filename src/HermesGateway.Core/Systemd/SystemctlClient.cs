using System.Globalization;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Systemd;

/// <summary>What 'systemctl show' says about a unit.</summary>
public sealed record SystemdUnitStatus(
    string Unit,
    string LoadState,
    string ActiveState,
    string SubState,
    string Result,
    int MainPid,
    DateTimeOffset? StartedAt,
    int ExecMainCode,
    int ExecMainStatus,
    int NRestarts,
    string UnitFileState,
    string FragmentPath)
{
    public bool IsRunning => ActiveState == "active" && SubState == "running";

    public bool IsLoaded => LoadState == "loaded";

    /// <summary>RestartUSec= as the manager has it loaded (null when not shown or infinity).</summary>
    public TimeSpan? RestartDelay { get; init; }

    /// <summary>ExecMainPID=: the main process the ExecMain* facts (its exit) belong to; 0 when none ran yet.</summary>
    public int ExecMainPid { get; init; }
}

/// <summary>systemctl and loginctl behind the process-runner seam, with their failures turned into stable error ids.</summary>
public sealed class SystemctlClient
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    private const string StatusProperties = "LoadState,ActiveState,SubState,Result,MainPID,ExecMainStartTimestamp,ExecMainCode,ExecMainStatus,ExecMainPID,NRestarts,UnitFileState,FragmentPath,RestartUSec";

    private readonly IProcessRunner runner;

    public SystemctlClient(IProcessRunner runner, bool user, TimeSpan? timeout = null)
    {
        this.runner = runner;
        User = user;
        Timeout = timeout ?? DefaultTimeout;
    }

    public bool User { get; }

    public TimeSpan Timeout { get; }

    /// <summary>
    /// Another account whose own user manager this client talks to (root only): systemctl --user runs as that account
    /// (setpriv, its UID, GID and groups, a clean environment, XDG_RUNTIME_DIR=/run/user/UID), so it reaches that manager
    /// and can do nothing the account itself could not. Null: the caller's own manager.
    /// </summary>
    public LocalAccount? RunAs { get; init; }

    /// <summary>
    /// The exact argument list of a systemctl call (for -WhatIf texts and golden tests). Every call that names a unit
    /// puts '--' before it, so no name can be read as an option (the names the engine makes never start with '-').
    /// </summary>
    public IReadOnlyList<string> Arguments(params string[] arguments) => User ? ["--user", .. arguments] : arguments;

    public void DaemonReload(CancellationToken ct = default) => Check(Run(ct, "daemon-reload"), null);

    public void Enable(string unit, bool now, CancellationToken ct = default) =>
        Check(Run(ct, now ? ["enable", "--now", "--", unit] : ["enable", "--", unit]), unit);

    public void Disable(string unit, bool now, CancellationToken ct = default) =>
        Check(Run(ct, now ? ["disable", "--now", "--", unit] : ["disable", "--", unit]), unit);

    public void Start(string unit, CancellationToken ct = default) => Check(Run(ct, "start", "--", unit), unit);

    public void Stop(string unit, CancellationToken ct = default) => Check(Run(ct, "stop", "--", unit), unit);

    public void Restart(string unit, CancellationToken ct = default) => Check(Run(ct, "restart", "--", unit), unit);

    /// <summary>systemctl restart --no-block: the restart job is queued, not waited for.</summary>
    public void QueueRestart(string unit, CancellationToken ct = default) => Check(Run(ct, "restart", "--no-block", "--", unit), unit);

    /// <summary>systemctl kill --kill-who=main: the signal to the main process systemd tracks, whatever its PID is now.</summary>
    public void KillMainProcess(string unit, UnixSignal signal, CancellationToken ct = default) =>
        Check(Run(ct, "kill", "--kill-who=main", "-s", signal.ToString(), "--", unit), unit);

    public void ResetFailed(string unit, CancellationToken ct = default) => Check(Run(ct, "reset-failed", "--", unit), unit);

    public bool IsEnabled(string unit, CancellationToken ct = default) =>
        Run(ct, "is-enabled", "--", unit).StandardOutput.Trim() is "enabled" or "enabled-runtime" or "linked" or "alias";

    public SystemdUnitStatus Show(string unit, CancellationToken ct = default)
    {
        var r = Run(ct, "show", "-p", StatusProperties, "--timestamp=unix", "--", unit);
        Check(r, unit);
        var p = r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1].Trim(), StringComparer.Ordinal);
        string S(string key) => p.GetValueOrDefault(key) ?? string.Empty;
        int I(string key) => int.TryParse(S(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return new SystemdUnitStatus(unit, S("LoadState"), S("ActiveState"), S("SubState"), S("Result"), I("MainPID"),
            ParseTimestamp(S("ExecMainStartTimestamp")), I("ExecMainCode"), I("ExecMainStatus"), I("NRestarts"), S("UnitFileState"), S("FragmentPath"))
        {
            RestartDelay = SystemdValues.TryParseTimeSpan(S("RestartUSec"), out var delay) ? delay : null,
            ExecMainPid = I("ExecMainPID"),
        };
    }

    /// <summary>
    /// loginctl enable-linger: the user manager starts at boot and survives logout. Any failure is HermesLingerFailed
    /// with loginctl's own words (it talks to logind on the system bus, not to the user's manager).
    /// </summary>
    public void EnableLinger(string userName, CancellationToken ct = default)
    {
        var r = runner.Run("loginctl", ["enable-linger", userName], Timeout, ct);
        if (!r.Succeeded)
        {
            var why = r.TimedOut ? $"loginctl did not answer within {Timeout.TotalSeconds:0} s." : $"loginctl failed ({r.ExitCode}): {r.StandardError.Trim()}";
            throw new HermesException(HermesErrorIds.LingerFailed, r.TimedOut ? HermesErrorCategory.OperationTimeout : HermesErrorCategory.InvalidOperation,
                $"Linger could not be enabled for {userName}: {why}", userName);
        }
    }

    /// <summary>Whether the user manager of <paramref name="userName"/> survives logout; null if loginctl cannot tell.</summary>
    public bool? LingerEnabled(string userName, CancellationToken ct = default)
    {
        var r = runner.Run("loginctl", ["show-user", userName, "-p", "Linger", "--value"], Timeout, ct);
        return r.Succeeded ? r.StandardOutput.Trim() == "yes" : null;
    }

    private ProcessResult Run(CancellationToken ct, params string[] arguments) => RunAs is { } account
        ? runner.Run("setpriv", [.. AsAccount(account), "systemctl", .. Arguments(arguments)], Timeout, ct)
        : runner.Run("systemctl", Arguments(arguments), Timeout, ct);

    /// <summary>The setpriv and env arguments that run a command as <paramref name="account"/>, talking to its user manager.</summary>
    public static IReadOnlyList<string> AsAccount(LocalAccount account)
    {
        var uid = account.Uid.ToString(CultureInfo.InvariantCulture);
        return ["--reuid=" + uid, "--regid=" + account.Gid.ToString(CultureInfo.InvariantCulture), "--init-groups", "--reset-env", "--", "env", "XDG_RUNTIME_DIR=/run/user/" + uid];
    }

    /// <summary>Turns a failed call into the error a user can act on.</summary>
    public ProcessResult Check(ProcessResult r, string? unit)
    {
        if (r.Succeeded)
        {
            return r;
        }

        var err = r.StandardError;
        var target = (object?)unit ?? "systemctl";
        if (r.TimedOut)
        {
            throw new HermesException(HermesErrorIds.ServiceManagerFailed, HermesErrorCategory.OperationTimeout,
                $"systemctl did not answer within {Timeout.TotalSeconds:0} s.", target);
        }

        if (r.ExitCode == 127)
        {
            throw new HermesException(HermesErrorIds.ServiceManagerFailed, HermesErrorCategory.ObjectNotFound,
                $"systemctl is not available here: {err.Trim()}", target);
        }

        if (User && (Has(err, "Failed to connect to bus") || Has(err, "DBUS_SESSION_BUS_ADDRESS") || Has(err, "No medium found")))
        {
            throw NoUserBus($"systemctl --user: {err.Trim().Split('\n')[0]}", target);
        }

        if (Has(err, "Access denied") || Has(err, "Interactive authentication required") || Has(err, "Permission denied"))
        {
            throw new HermesException(User ? HermesErrorIds.PermissionDenied : HermesErrorIds.NotRoot, HermesErrorCategory.PermissionDenied,
                User ? $"systemd refused: {err.Trim()}" : "System-scope services need root: run pwsh with sudo, or install in User scope.", target);
        }

        if (Has(err, "is masked"))
        {
            throw new HermesException(HermesErrorIds.ServiceDisabled, HermesErrorCategory.InvalidOperation,
                $"{unit} is masked; 'systemctl {(User ? "--user " : string.Empty)}unmask {unit}' first.", target);
        }

        if (Has(err, "not found") || Has(err, "not loaded") || Has(err, "does not exist") || Has(err, "No such file"))
        {
            throw new HermesException(HermesErrorIds.UnitNotFound, HermesErrorCategory.ObjectNotFound,
                $"systemd does not know {unit ?? "the unit"}: {err.Trim()}", target);
        }

        throw new HermesException(HermesErrorIds.ServiceManagerFailed, HermesErrorCategory.InvalidOperation,
            $"systemctl failed ({r.ExitCode}): {err.Trim()}", target);
    }

    private static bool Has(string text, string what) => text.Contains(what, StringComparison.OrdinalIgnoreCase);

    private static DateTimeOffset? ParseTimestamp(string value)
    {
        if (value.StartsWith('@') && long.TryParse(value.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var unix))
        {
            return DateTimeOffset.FromUnixTimeSeconds(unix);
        }

        return null;
    }

    /// <summary>
    /// HermesNoUserBus, in one text wherever it is noticed (the caller's environment, or systemctl's answer): why, then
    /// what to do.
    /// </summary>
    public static HermesException NoUserBus(string why, object? target) =>
        new(HermesErrorIds.NoUserBus, HermesErrorCategory.ResourceUnavailable,
            $"The user's systemd manager cannot be reached ({why}). Log in as the user (or run 'loginctl enable-linger <user>' and then 'machinectl shell <user>@'), or use -Scope System.", target);
}
