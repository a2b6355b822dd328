using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Service;

/// <summary>Installs, inspects, starts and stops gateway units through systemctl.</summary>
public sealed class SystemdServiceManager : IServiceManager, IUserSessionKeeper
{
    private readonly IProcessRunner runner;
    private readonly ServiceEnvironment environment;
    private readonly IProcessTable processes;

    /// <summary>Another account whose user units this manager manages (root only); null: the caller's own and the system's.</summary>
    private readonly LocalAccount? otherAccount;

    public SystemdServiceManager(IProcessRunner runner, ServiceEnvironment environment, IProcessTable? processes = null)
    {
        this.runner = runner;
        this.environment = environment;
        this.processes = processes ?? LocalProcessTable.Instance;
    }

    private SystemdServiceManager(IProcessRunner runner, ServiceEnvironment caller, LocalAccount account, IProcessTable? processes)
        : this(runner, caller with
        {
            Home = account.Home, Uid = account.Uid, UserName = account.Name, XdgConfigHome = null, XdgRuntimeDir = null, DbusSessionBusAddress = null,
        }, processes)
    {
        otherAccount = account;
    }

    /// <summary>
    /// The user units of <paramref name="account"/> (in its ~/.config/systemd/user), for root: found there, read without
    /// following links, and acted on through that account's own user manager, with systemctl running as the account.
    /// </summary>
    public static SystemdServiceManager ForAccount(IProcessRunner runner, ServiceEnvironment caller, LocalAccount account, IProcessTable? processes = null) =>
        new(runner, caller, account, processes);

    public string Owner => environment.UserName;

    public bool ForAnotherAccount => otherAccount is not null;

    public ServicePlatform Platform => ServicePlatform.Systemd;

    /// <summary>The account and session this manager acts for.</summary>
    public ServiceEnvironment Account => environment;

    public string SupervisorName => "systemd";

    public string DeactivationText => "disable it";

    public string TransientJobKind => "systemd-run";

    public SystemctlClient Client(ServiceScope scope) => new(runner, user: scope == ServiceScope.User) { RunAs = scope == ServiceScope.User ? otherAccount : null };

    public string FilePath(string name, ServiceScope scope) =>
        Path.Combine(scope == ServiceScope.System ? environment.SystemUnitDirectory : environment.UserUnitDirectory, name + ".service");

    public IReadOnlyList<HermesException> MissingPrerequisites(ServiceDefinition definition) =>
        ServicePrerequisites.Missing(runner, definition, ["getent", "group"]);

    public void CheckCanManage(ServiceScope scope)
    {
        if (otherAccount is not null)
        {
            // Only root builds such a manager, and it has only user scope; that user's manager is reached through
            // systemctl running as the account, whose own failure (not running: no linger, no session) says why.
            return;
        }

        if (scope == ServiceScope.System && !environment.IsRoot)
        {
            throw new HermesException(HermesErrorIds.NotRoot, HermesErrorCategory.PermissionDenied,
                "System-scope services need root: run pwsh with sudo, or use -Scope User.", scope);
        }

        if (scope == ServiceScope.User && !environment.UserBusReachable)
        {
            throw SystemctlClient.NoUserBus("XDG_RUNTIME_DIR with its bus and DBUS_SESSION_BUS_ADDRESS are unset, as under sudo, su and in CI", scope);
        }

        if (scope is not (ServiceScope.User or ServiceScope.System))
        {
            throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidArgument, $"systemd has no {scope} scope.", scope);
        }
    }

    public SpecifierContext? SpecifiersFor(string path, ServiceScope scope) =>
        SpecifierContext.For(System.IO.Path.GetFileName(path), scope == ServiceScope.System, Account);

    public IReadOnlyList<(string Directory, ServiceScope Scope)> ServiceDirectories => otherAccount is not null
        ? [(environment.UserUnitDirectory, ServiceScope.User)]
        : [(environment.UserUnitDirectory, ServiceScope.User), (environment.SystemUnitDirectory, ServiceScope.System)];

    public void Activate(ServiceDefinition definition, string path, bool fileChanged, bool start, IEngineHost host)
    {
        var scope = definition.Scope;
        var systemctl = Client(scope);
        var unit = definition.FileName;
        var ctl = scope == ServiceScope.User ? "systemctl --user" : "systemctl";
        if (fileChanged && host.ShouldProcess(unit, $"{ctl} daemon-reload"))
        {
            systemctl.DaemonReload(host.Cancellation);
        }

        var status = systemctl.Show(unit, host.Cancellation);
        if (!systemctl.IsEnabled(unit, host.Cancellation) && host.ShouldProcess(unit, $"{ctl} enable{(start ? " --now" : string.Empty)} {unit}"))
        {
            systemctl.Enable(unit, now: start, host.Cancellation);
        }
        else if (start && !status.IsRunning && host.ShouldProcess(unit, $"{ctl} start {unit}"))
        {
            if (status.ActiveState == "failed")
            {
                systemctl.ResetFailed(unit, host.Cancellation);
            }

            systemctl.Start(unit, host.Cancellation);
        }
        else if (fileChanged && status.IsRunning)
        {
            host.WriteWarning($"{unit} keeps running with its old settings until it restarts ({ctl} restart {unit}).");
        }

        if (scope == ServiceScope.User && systemctl.LingerEnabled(environment.UserName, host.Cancellation) == false)
        {
            host.WriteWarning($"Linger is off for {environment.UserName}: the user manager, and {unit} with it, stops when the last session ends. 'loginctl enable-linger {environment.UserName}' (or -EnableLinger) keeps it running.");
        }
    }

    public IReadOnlyList<string> ActivationCalls(ServiceDefinition definition, string path, bool start) =>
        [$"{Ctl(definition.Scope)} daemon-reload", $"{Ctl(definition.Scope)} enable{(start ? " --now" : string.Empty)} -- {definition.FileName}"];

    public IReadOnlyList<string> RemovalCalls(ServiceIdentity service) =>
        [$"{Ctl(service.Scope)} stop -- {service.Name}.service (when running, as a planned stop)", $"{Ctl(service.Scope)} disable -- {service.Name}.service", $"{Ctl(service.Scope)} daemon-reload"];

    public void KeepUserServicesRunning(ServiceScope scope, IEngineHost host)
    {
        if (scope != ServiceScope.User)
        {
            return;
        }

        if (host.ShouldProcess(environment.UserName, $"loginctl enable-linger {environment.UserName}"))
        {
            Client(ServiceScope.User).EnableLinger(environment.UserName, host.Cancellation);
        }
    }

    public void Remove(ServiceIdentity service, Action removeFile, IEngineHost host)
    {
        var scope = service.Scope;
        var unit = service.Name + ".service";
        var systemctl = Client(scope);
        var status = systemctl.Show(unit, host.Cancellation);
        if (status.IsLoaded)
        {
            if (status.ActiveState is "active" or "activating" or "reloading")
            {
                StopService(service, host);
            }

            if (systemctl.IsEnabled(unit, host.Cancellation) && host.ShouldProcess(unit, $"{Ctl(scope)} disable {unit}"))
            {
                systemctl.Disable(unit, now: false, host.Cancellation);
            }
        }

        // The file gone, systemd forgets the unit.
        removeFile();
        if (host.ShouldProcess(Ctl(scope), $"{Ctl(scope)} daemon-reload"))
        {
            systemctl.DaemonReload(host.Cancellation);
        }

        // A unit that had failed (a crash, a stop that failed) stays in the manager's memory after the reload as
        // not-found and failed, listed by 'systemctl --failed', until its failure is reset.
        var after = systemctl.Show(unit, host.Cancellation);
        if (after.ActiveState == "failed" && host.ShouldProcess(unit, $"{Ctl(scope)} reset-failed {unit}"))
        {
            systemctl.ResetFailed(unit, host.Cancellation);
        }
    }

    public HermesService Status(ServiceConfiguration config, ServiceScope scope, HermesService known)
    {
        var unit = config.Name + ".service";
        SystemdUnitStatus s;
        try
        {
            s = Client(scope).Show(unit);
        }
        catch (HermesException e)
        {
            // Whatever kept systemctl from answering (no bus, refused, words of an older systemd that read as "not
            // found"), the service is still listed, with why its state is unknown: a lookup never fails on one unit.
            return known with { State = "unknown (" + e.ErrorId + ")" };
        }

        if (!s.IsLoaded)
        {
            return known with { State = "not loaded", SubState = s.LoadState };
        }

        var contract = GatewayExitContract.Hermes;
        string? lastExit = s.ExecMainCode switch
        {
            1 when SystemdValues.IsSystemdExitStatus(s.ExecMainStatus) => $"{SystemdValues.FormatExitStatus(s.ExecMainStatus)} (systemd could not set up the gateway's process; it never ran)",
            1 => contract.DescribeExitCode(s.ExecMainStatus),
            2 or 3 when UnixSignals.TryFromNumber(s.ExecMainStatus, SignalPlatform.Linux, out var sig) => sig.ToString(),
            _ => null,
        };
        var exited = s.ExecMainCode == 1;
        var signalled = s.ExecMainCode is 2 or 3 && lastExit is not null;
        var crashLoop = IsCrashLoop(s, contract);
        return known with
        {
            State = crashLoop ? "crash-loop" : s.ActiveState,
            ActiveState = s.ActiveState,
            CrashLoop = crashLoop,
            SubState = s.SubState,
            Pid = s.MainPid > 0 ? s.MainPid : null,
            StartedAt = s.MainPid > 0 ? s.StartedAt : null,
            LastExit = lastExit,
            LastExitCode = exited ? s.ExecMainStatus : null,
            LastExitSignal = signalled ? lastExit : null,
            LastExitMeaning = exited && lastExit is not null ? Meaning(lastExit) : signalled ? $"killed by {lastExit}" : null,
            Restarts = s.NRestarts,
            Enabled = s.UnitFileState is "enabled" or "enabled-runtime" or "linked",
        };
    }

    /// <summary>"1 (unplanned)" → "unplanned": the words a status line puts after the code.</summary>
    private static string Meaning(string lastExit) =>
        lastExit.IndexOf(" (", StringComparison.Ordinal) is var i and >= 0 && lastExit.EndsWith(')') ? lastExit[(i + 2)..^1] : lastExit;

    /// <summary>
    /// systemd is restarting a gateway whose last run failed: SubState auto-restart (waiting out RestartSec=), or
    /// activating again after restarts, with a last ending that was neither a planned stop nor a planned restart.
    /// A planned restart (exit 75) also passes through auto-restart, so that alone is not a crash loop.
    /// </summary>
    internal static bool IsCrashLoop(SystemdUnitStatus s, GatewayExitContract contract)
    {
        var restarting = s.SubState == "auto-restart" || (s.ActiveState == "activating" && s.NRestarts is > 0);
        var failed = s.ExecMainCode switch
        {
            1 => s.ExecMainStatus != contract.RestartExitCode && s.ExecMainStatus != contract.PlannedStopExitCode,
            2 or 3 => true,
            _ => false,
        };
        return restarting && failed;
    }

    public void StartService(ServiceIdentity service, IEngineHost host)
    {
        var scope = service.Scope;
        var unit = service.Name + ".service";
        var systemctl = Client(scope);
        var status = systemctl.Show(unit, host.Cancellation);
        if (!status.IsLoaded)
        {
            throw new HermesException(HermesErrorIds.UnitNotFound, HermesErrorCategory.ObjectNotFound, $"systemd does not know {unit}; install it first.", unit);
        }

        if (status.IsRunning)
        {
            host.WriteVerbose($"{unit} is already {status.ActiveState} (PID {status.MainPid}); nothing to start.");
            return;
        }

        if (!host.ShouldProcess(unit, $"{Ctl(scope)} start {unit}"))
        {
            return;
        }

        if (status.ActiveState == "failed")
        {
            // A unit left failed (start limit, a crash loop) starts again only after reset-failed.
            systemctl.ResetFailed(unit, host.Cancellation);
        }

        systemctl.Start(unit, host.Cancellation);
    }

    public void StopService(ServiceIdentity service, IEngineHost host)
    {
        var (scope, hermesHome) = (service.Scope, service.HermesHome);
        var unit = service.Name + ".service";
        var systemctl = Client(scope);
        var status = systemctl.Show(unit, host.Cancellation);
        if (!status.IsLoaded)
        {
            throw new HermesException(HermesErrorIds.UnitNotFound, HermesErrorCategory.ObjectNotFound, $"systemd does not know {unit}.", unit);
        }

        if (status.ActiveState is "inactive")
        {
            host.WriteVerbose($"{unit} is already inactive; nothing to stop.");
            return;
        }

        if (!host.ShouldProcess(unit, $"mark the stop as planned, then {Ctl(scope)} stop {unit}"))
        {
            return;
        }

        if (status.MainPid > 0)
        {
            if (hermesHome is null)
            {
                host.WriteWarning($"{unit} sets no HERMES_HOME, so the stop cannot be marked as planned: the gateway will exit 1 and the unit may end failed.");
            }
            else
            {
                // The PID comes from systemd itself (MainPID), so the marker can only name the service's process.
                PlannedStop.MarkAndLetStop(hermesHome, status.MainPid, processes.StartTime(status.MainPid), unit, processes, host);
            }
        }

        systemctl.Stop(unit, host.Cancellation);
        var after = systemctl.Show(unit, host.Cancellation);
        if (after.ActiveState == "failed")
        {
            // The stop was asked for: it must not leave the unit failed (a full disk that kept the marker out, a gateway
            // that exited 1 on the SIGTERM). The failure is said, and cleared.
            host.WriteWarning($"{unit} ended failed (Result={after.Result}{(after.ExecMainCode == 1 ? $", status={SystemdValues.FormatExitStatus(after.ExecMainStatus)}" : string.Empty)}) although the stop was planned; it is reset to inactive. Test-HermesExitPolicy -Scenario ManagerStop explains why.");
            systemctl.ResetFailed(unit, host.Cancellation);
        }
    }

    public RunningGateway? Identify(ServiceIdentity service, CancellationToken cancellation) => Observe(service, cancellation).Running;

    public GatewayObservation Observe(ServiceIdentity service, CancellationToken cancellation)
    {
        var unit = service.Name + ".service";
        var s = Client(service.Scope).Show(unit, cancellation);
        RunningGateway? running = null;
        if (s.IsRunning && s.MainPid > 0)
        {
            // systemd's MainPID, and (where cgroups are visible) the process sits in the unit's own cgroup.
            if (processes.ControlGroup(s.MainPid) is { } cgroup && !IsUnitControlGroup(cgroup, unit))
            {
                throw new HermesException(HermesErrorIds.PidNotProven, HermesErrorCategory.InvalidOperation,
                    $"PID {s.MainPid} is not in {unit}'s cgroup ({cgroup}); it is not signalled.", s.MainPid);
            }

            running = new RunningGateway(s.MainPid, processes.StartTime(s.MainPid)) { SupervisorDelay = s.RestartDelay };
        }

        ProcessEnding? ending = s.ExecMainCode switch
        {
            1 => ProcessEnding.Exit(s.ExecMainStatus),
            2 or 3 when UnixSignals.TryFromNumber(s.ExecMainStatus, SignalPlatform.Linux, out var sig) => ProcessEnding.KilledBy(sig, s.ExecMainCode == 3),
            _ => null,
        };
        return new GatewayObservation(running, s.IsLoaded ? $"{s.ActiveState} ({s.SubState})" : "not loaded")
        {
            Stopped = !s.IsLoaded || s.ActiveState is "inactive" or "failed",
            Failed = s.ActiveState == "failed",
            Restarting = s.IsLoaded && (s.ActiveState is "activating" || s.SubState is "auto-restart" or "auto-restart-queued"),
            LastEnding = running is null ? ending : null,
            LastPid = running is null && s.ExecMainPid > 0 ? s.ExecMainPid : null,
            SetupFailed = running is null && s.ExecMainCode == 1 && SystemdValues.IsSystemdExitStatus(s.ExecMainStatus),
        };
    }

    public IReadOnlyList<string>? RecentLog(ServiceIdentity service, int lines, CancellationToken cancellation, out string why)
    {
        var unit = service.Name + ".service";
        // Which entries: as Journal.Arguments selects them (another account's user unit by its own matches, not root's
        // --user-unit), read as plain messages.
        var select = Journal.Arguments(unit, service.Scope == ServiceScope.User, otherAccount?.Uid, tail: null, since: null, follow: false)
            .SkipWhile(a => a != "-u" && a != "--user-unit" && !a.StartsWith("_SYSTEMD_USER_UNIT=", StringComparison.Ordinal));
        string[] args = [.. select, "-n", lines.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-pager", "-o", "cat"];
        ProcessResult r;
        try
        {
            r = runner.Run("journalctl", args, TimeSpan.FromSeconds(10), cancellation);
        }
        catch (Exception e) when (e is HermesException or System.ComponentModel.Win32Exception or IOException)
        {
            why = $"journalctl could not be run ({e.Message})";
            return null;
        }

        if (!r.Succeeded)
        {
            why = $"journalctl {string.Join(' ', args)} failed ({r.ExitCode}): {r.StandardError.Trim()}";
            return null;
        }

        var text = r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        why = text.Length == 0 ? $"the journal has no lines of {unit}" : string.Empty;
        return text.Length == 0 ? null : text[Math.Max(0, text.Length - lines)..];
    }

    public IProcessHandle? SendSignal(ServiceIdentity service, RunningGateway target, UnixSignal signal, IEngineHost host)
    {
        var unit = service.Name + ".service";
        if (!host.ShouldProcess(unit, $"send {signal} to PID {target.Pid}, {unit}'s main process"))
        {
            return null;
        }

        // A pidfd opened on the PID systemd reported, then proven: the same start time and the unit's own cgroup, read
        // while the handle already held the process. Whatever happens to the PID afterwards, the signal reaches that
        // process or nobody, without a round trip through systemctl.
        var handle = ProcessTable.OpenProven(processes, target.Pid, target.StartTime, pid => InUnitControlGroup(pid, unit));
        switch (handle?.Signal(signal))
        {
            case SignalDelivery.Delivered:
                return handle;
            case SignalDelivery.ProcessGone:
                host.WriteVerbose($"PID {target.Pid} of {unit} exited before the signal; the revival brings the gateway back.");
                return handle;
            case SignalDelivery.Refused:
                host.WriteVerbose($"The kernel refused {signal} to PID {target.Pid} through its pidfd; asking systemd to deliver it.");
                handle!.Dispose();
                break;
        }

        // systemd delivers it to the MainPID it tracks, so no PID read earlier can have been reused in between.
        var systemctl = Client(service.Scope);
        try
        {
            systemctl.KillMainProcess(unit, signal, host.Cancellation);
        }
        catch (HermesException e) when (e.ErrorId == HermesErrorIds.ServiceManagerFailed && e.Message.Contains("No main process", StringComparison.OrdinalIgnoreCase))
        {
            // It exited after it was identified (a crash, a restart already under way): the wait for the old PID
            // ends at once and the revival brings the gateway back.
            host.WriteVerbose($"{unit} has no main process to signal any more; it already exited.");
        }

        return null;
    }

    /// <summary>
    /// The unit's restart delay (RestartUSec=) at or above which the engine asks for the restart straight after the exit,
    /// without first asking systemd what it is doing: its own restart is not due for a long while yet.
    /// </summary>
    public static readonly TimeSpan DirectRestartDelay = TimeSpan.FromMilliseconds(100);

    public string Revive(ServiceIdentity service, RunningGateway exited, TimeSpan waitForSupervisor, IEngineHost host)
    {
        var unit = service.Name + ".service";
        var systemctl = Client(service.Scope);
        var asked = host.Clock.GetTimestamp();
        // Whatever the exit was (75, a crash, 0), the unit is now waiting out RestartSec=, inactive or failed, and
        // 'systemctl restart' starts it in each of those states. Asked at once, it reaches systemd a few milliseconds
        // after the exit, far inside RestartSec=; should systemd's timer still win (a stalled machine), the jobs merge or
        // the fresh instance gets one more planned restart — the same race a look first would have, only later. A
        // refusal (the start limit) falls through to the loop below.
        // The unit's own restart now instead of waiting out RestartSec=: true when done, false when systemd refused it
        // (the start limit), null when the host declined it.
        bool? RestartNow()
        {
            if (!host.ShouldProcess(unit, $"{Ctl(service.Scope)} restart {unit} (instead of waiting out RestartSec=)"))
            {
                return null;
            }

            try
            {
                systemctl.Restart(unit, host.Cancellation);
                return true;
            }
            catch (HermesException e) when (e.ErrorId == HermesErrorIds.ServiceManagerFailed)
            {
                host.WriteVerbose($"{unit}: restart refused ({e.Message}); resetting it.");
                return false;
            }
        }

        if (exited.SupervisorDelay >= DirectRestartDelay && RestartNow() == true)
        {
            return "systemctl restart";
        }

        while (true)
        {
            var s = systemctl.Show(unit, host.Cancellation);
            if (s.IsRunning && s.MainPid > 0)
            {
                return "systemd";
            }

            // Waiting out RestartSec= would only add downtime to a restart that was planned: the unit's own restart now.
            // If systemd's timer wins the race, the two restart jobs merge, or the fresh instance gets one more planned
            // restart; the gateway is never left down.
            if (s.SubState == "auto-restart" && RestartNow() is { } restarted)
            {
                if (restarted)
                {
                    return "systemctl restart";
                }

                // Refused (the start limit): on to reset-failed + start below, on fresh facts.
                s = systemctl.Show(unit, host.Cancellation);
            }

            // Waiting in auto-restart (RestartSec=) or starting: systemd is bringing it back.
            var restarting = s.SubState is "auto-restart" or "auto-restart-queued" or "start" or "start-pre" or "start-post" || s.ActiveState is "activating" or "reloading";
            if (!restarting || host.Clock.GetElapsedTime(asked) >= waitForSupervisor)
            {
                if (!host.ShouldProcess(unit, $"{(s.ActiveState == "failed" ? $"{Ctl(service.Scope)} reset-failed {unit}; " : string.Empty)}{Ctl(service.Scope)} start {unit}"))
                {
                    return "none (WhatIf)";
                }

                if (s.ActiveState == "failed")
                {
                    systemctl.ResetFailed(unit, host.Cancellation);
                }

                try
                {
                    systemctl.Start(unit, host.Cancellation);
                }
                catch (HermesException e) when (e.ErrorId == HermesErrorIds.ServiceManagerFailed && s.ActiveState != "failed")
                {
                    // Seen between the stop and a refused start (the start limit): it went failed only after the look.
                    host.WriteVerbose($"{unit}: start refused ({e.Message.Split('\n')[0]}); resetting it.");
                    systemctl.ResetFailed(unit, host.Cancellation);
                    systemctl.Start(unit, host.Cancellation);
                    return "reset-failed, start";
                }

                return s.ActiveState == "failed" ? "reset-failed, start" : "start";
            }

            // Bounded: at most 10 asks a second while systemd brings it back.
            host.Cancellation.ThrowIfCancellationRequested();
            Thread.Sleep(100);
        }
    }

    public void HardRestart(ServiceIdentity service, IEngineHost host)
    {
        var unit = service.Name + ".service";
        var systemctl = Client(service.Scope);
        if (!host.ShouldProcess(unit, $"mark the stop as planned, then {Ctl(service.Scope)} restart {unit}"))
        {
            return;
        }

        var s = systemctl.Show(unit, host.Cancellation);
        if (s.MainPid > 0 && service.HermesHome is { } home)
        {
            PlannedStop.TryMark(home, s.MainPid, processes.StartTime(s.MainPid), unit, host);
        }

        if (s.ActiveState == "failed")
        {
            systemctl.ResetFailed(unit, host.Cancellation);
        }

        // Queued, not waited for: the stop half can take as long as the gateway's drain (or TimeoutStopSec=), and the
        // restart's own bounds decide how long that may be. A refused start half (the start limit) is mended by Revive.
        systemctl.QueueRestart(unit, host.Cancellation);
    }

    public string HandOff(ServiceIdentity service, IReadOnlyList<string> command, string log, IEngineHost host)
    {
        // The wall clock, not the host's: a name no earlier helper of this service had.
        var unit = $"{service.Name}-restart-{TimeProvider.System.GetUtcNow():yyyyMMddHHmmssfff}";
        string[] args =
        [
            .. service.Scope == ServiceScope.User ? new[] { "--user" } : [],
            "--unit=" + unit, "--collect", "--no-block", "--quiet",
            "--property=StandardOutput=append:" + log, "--property=StandardError=append:" + log,
            "--", .. command,
        ];
        if (host.ShouldProcess(service.Name, $"systemd-run {string.Join(' ', args)}"))
        {
            var r = otherAccount is { } account
                ? runner.Run("setpriv", [.. SystemctlClient.AsAccount(account), "systemd-run", .. args], SystemctlClient.DefaultTimeout, host.Cancellation)
                : runner.Run("systemd-run", args, SystemctlClient.DefaultTimeout, host.Cancellation);
            if (!r.Succeeded)
            {
                throw new HermesException(HermesErrorIds.RestartFailed, HermesErrorCategory.InvalidOperation,
                    $"The restart could not be handed to a transient unit outside the gateway ({r.ExitCode}): {r.StandardError.Trim()}", service.Name);
            }
        }

        return unit + ".service";
    }

    private static bool IsUnitControlGroup(string cgroup, string unit) => cgroup.EndsWith("/" + unit, StringComparison.Ordinal);

    private bool InUnitControlGroup(int pid, string unit) => processes.ControlGroup(pid) is { } cgroup && IsUnitControlGroup(cgroup, unit);

    private static string Ctl(ServiceScope scope) => scope == ServiceScope.User ? "systemctl --user" : "systemctl";
}
