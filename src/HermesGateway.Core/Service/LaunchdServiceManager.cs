using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Service;

/// <summary>Installs, inspects, starts and stops gateway jobs through launchctl.</summary>
public sealed class LaunchdServiceManager : IServiceManager
{
    private readonly IProcessRunner runner;
    private readonly LaunchctlClient launchctl;
    private readonly ServiceEnvironment environment;
    private readonly IProcessTable processes;

    public LaunchdServiceManager(IProcessRunner runner, ServiceEnvironment environment, IProcessTable? processes = null)
    {
        this.runner = runner;
        launchctl = new LaunchctlClient(runner);
        this.environment = environment;
        this.processes = processes ?? LocalProcessTable.Instance;
    }

    public ServicePlatform Platform => ServicePlatform.Launchd;

    public string SupervisorName => "launchd";

    public string DeactivationText => "boot it out";

    public string TransientJobKind => "launchctl submit";

    /// <summary>How long a bootstrap right after a bootout may keep failing while the old job drains.</summary>
    public TimeSpan BootstrapRetryFor { get; init; } = TimeSpan.FromSeconds(10);

    public string FilePath(string name, ServiceScope scope) =>
        Path.Combine(scope == ServiceScope.Daemon ? environment.LaunchDaemonDirectory : environment.LaunchAgentDirectory, name + ".plist");

    /// <summary>Daemons live in system; agents in the user's GUI domain, or user/&lt;uid&gt; when there is no GUI session.</summary>
    public string Domain(ServiceScope scope, CancellationToken ct = default)
    {
        if (scope == ServiceScope.Daemon)
        {
            return "system";
        }

        var gui = LaunchctlClient.Domain(LaunchdDomainKind.Gui, environment.Uid);
        return launchctl.DomainExists(gui, ct) ? gui : LaunchctlClient.Domain(LaunchdDomainKind.User, environment.Uid);
    }

    /// <remarks>macOS has no getent; a missing group is left to launchd to report.</remarks>
    public IReadOnlyList<HermesException> MissingPrerequisites(ServiceDefinition definition) =>
        ServicePrerequisites.Missing(runner, definition, groupLookup: null);

    public void CheckCanManage(ServiceScope scope)
    {
        if (scope is not (ServiceScope.Agent or ServiceScope.Daemon))
        {
            throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidArgument, $"launchd has no {scope} scope.", scope);
        }

        if (scope == ServiceScope.Daemon && !environment.IsRoot)
        {
            throw new HermesException(HermesErrorIds.NotRoot, HermesErrorCategory.PermissionDenied,
                "LaunchDaemons need root: run pwsh with sudo, or use -Scope Agent.", scope);
        }

        var domain = Domain(scope);
        if (!launchctl.DomainExists(domain))
        {
            throw new HermesException(HermesErrorIds.LaunchdDomainMissing, HermesErrorCategory.ResourceUnavailable,
                $"launchd has no {domain} domain here (no login session for uid {environment.Uid}).", domain);
        }
    }

    public SpecifierContext? SpecifiersFor(string path, ServiceScope scope) => null;

    public string Owner => environment.UserName;

    public bool ForAnotherAccount => false;

    public IReadOnlyList<(string Directory, ServiceScope Scope)> ServiceDirectories =>
        [(environment.LaunchAgentDirectory, ServiceScope.Agent), (environment.LaunchDaemonDirectory, ServiceScope.Daemon)];

    public void Activate(ServiceDefinition definition, string path, bool fileChanged, bool start, IEngineHost host)
    {
        var ct = host.Cancellation;
        var domain = Domain(definition.Scope, ct);
        var target = LaunchctlClient.Target(domain, definition.Name);
        if (launchctl.IsDisabled(domain, definition.Name, ct) && host.ShouldProcess(target, $"launchctl enable {target}"))
        {
            launchctl.Enable(target, ct);
        }

        var status = launchctl.Print(target, ct);
        if (status.Loaded && fileChanged && host.ShouldProcess(target, $"launchctl bootout {target}; launchctl bootstrap {domain} {path}"))
        {
            StopService(new ServiceIdentity(definition.Name, Platform, definition.Scope, path) { HermesHome = definition.HermesHome }, host);
            BootstrapWithRetry(domain, path, target, host);
        }
        else if (!status.Loaded && host.ShouldProcess(target, $"launchctl bootstrap {domain} {path}"))
        {
            BootstrapWithRetry(domain, path, target, host);
        }

        if (start && !launchctl.Print(target, ct).IsRunning && host.ShouldProcess(target, $"launchctl kickstart {target}"))
        {
            launchctl.Kickstart(target, killFirst: false, ct);
        }
    }

    public IReadOnlyList<string> ActivationCalls(ServiceDefinition definition, string path, bool start)
    {
        var domain = Domain(definition.Scope);
        var target = LaunchctlClient.Target(domain, definition.Name);
        List<string> calls = [$"launchctl enable {target} (when disabled)", $"launchctl bootout {target} (when loaded, as a planned stop)", $"launchctl bootstrap {domain} {path}"];
        if (start)
        {
            calls.Add($"launchctl kickstart {target}");
        }

        return calls;
    }

    public IReadOnlyList<string> RemovalCalls(ServiceIdentity service)
    {
        var target = LaunchctlClient.Target(Domain(service.Scope), service.Name);
        return [$"launchctl bootout {target} (when loaded, as a planned stop)"];
    }

    /// <summary>The bootout of a planned stop unloads the job, and launchd forgets it then: nothing reads the file again.</summary>
    public void Remove(ServiceIdentity service, Action removeFile, IEngineHost host)
    {
        StopService(service, host);
        removeFile();
    }

    public HermesService Status(ServiceConfiguration config, ServiceScope scope, HermesService known)
    {
        LaunchdJobStatus s;
        try
        {
            s = launchctl.Print(LaunchctlClient.Target(Domain(scope), config.Name));
        }
        catch (HermesException e) when (e.ErrorId is HermesErrorIds.ServiceManagerFailed or HermesErrorIds.LaunchdDomainMissing or HermesErrorIds.NotRoot)
        {
            return known with { State = "unknown (" + e.ErrorId + ")" };
        }

        var contract = GatewayExitContract.Hermes;
        return known with
        {
            State = s.Loaded ? s.State : "not loaded",
            ActiveState = s.Loaded ? s.State : "not loaded",
            Pid = s.Pid,
            Restarts = s.Runs is { } runs ? Math.Max(0, runs - 1) : null,
            LastExit = s.LastTerminatingSignal ?? (s.LastExitCode is { } code ? contract.DescribeExitCode(code) : null),
            LastExitCode = s.LastTerminatingSignal is null ? s.LastExitCode : null,
            LastExitSignal = s.LastTerminatingSignal,
            LastExitMeaning = s.LastTerminatingSignal is { } signal ? $"killed by {signal}"
                : s.LastExitCode is { } exit ? contract.DescribeExitCode(exit) is var d && d.IndexOf(" (", StringComparison.Ordinal) is var i and >= 0 ? d[(i + 2)..^1] : null : null,
            Enabled = s.Loaded,
        };
    }

    public void StartService(ServiceIdentity service, IEngineHost host)
    {
        var (name, scope, path) = (service.Name, service.Scope, service.Path);
        var ct = host.Cancellation;
        var domain = Domain(scope, ct);
        var target = LaunchctlClient.Target(domain, name);
        var status = launchctl.Print(target, ct);
        if (status.IsRunning)
        {
            host.WriteVerbose($"{target} is already running (PID {status.Pid}); nothing to start.");
            return;
        }

        if (!status.Loaded && host.ShouldProcess(target, $"launchctl bootstrap {domain} {path}"))
        {
            BootstrapWithRetry(domain, path, target, host);
        }

        if (!launchctl.Print(target, ct).IsRunning && host.ShouldProcess(target, $"launchctl kickstart {target}"))
        {
            launchctl.Kickstart(target, killFirst: false, ct);
        }
    }

    /// <summary>Marks the stop as planned for the job's PID, boots the job out (so KeepAlive cannot respawn it) and waits for the process to go.</summary>
    public void StopService(ServiceIdentity service, IEngineHost host)
    {
        var (name, scope, hermesHome) = (service.Name, service.Scope, service.HermesHome);
        var ct = host.Cancellation;
        var target = LaunchctlClient.Target(Domain(scope, ct), name);
        var status = launchctl.Print(target, ct);
        if (!status.Loaded)
        {
            host.WriteVerbose($"{target} is not loaded; nothing to stop.");
            return;
        }

        if (!host.ShouldProcess(target, $"mark the stop as planned, then launchctl bootout {target}"))
        {
            return;
        }

        // The PID comes from launchd's own record of the job, and is waited on only as the process it was then (its
        // start time): after the bootout the number may go to another process.
        var startTime = status.Pid is { } running ? processes.StartTime(running) : null;
        var stopping = new List<(int Pid, long? StartTime)>();
        if (status.Pid is { } pid)
        {
            stopping.Add((pid, startTime));
        }

        if (status.Pid is { } marked && hermesHome is not null)
        {
            // It stopped by itself, and a job kept alive whatever the exit (upstream's KeepAlive=true) is relaunched at
            // once: that instance is marked too, so the bootout's SIGTERM is a planned stop for it as well.
            if (PlannedStop.MarkAndLetStop(hermesHome, marked, startTime, target, processes, host)
                && launchctl.Print(target, ct) is { Pid: { } relaunched } && relaunched != marked)
            {
                var relaunchedStart = processes.StartTime(relaunched);
                PlannedStop.TryMark(hermesHome, relaunched, relaunchedStart, target, host);
                stopping.Add((relaunched, relaunchedStart));
            }
        }

        launchctl.Bootout(target, ct);
        foreach (var (old, started) in stopping)
        {
            if (!Poll.Until(() => !Still(old, started), TimeSpan.FromSeconds(120), ct, host.Clock))
            {
                throw new HermesException(HermesErrorIds.StopTimeout, HermesErrorCategory.OperationTimeout,
                    $"PID {old} of {target} is still running 120 s after bootout.", target);
            }
        }
    }

    /// <summary>The process is alive and still the one that was seen (the same start time where it is known).</summary>
    private bool Still(int pid, long? startTime) => processes.IsAlive(pid) && (startTime is null || processes.StartTime(pid) == startTime);

    public RunningGateway? Identify(ServiceIdentity service, CancellationToken cancellation) => Observe(service, cancellation).Running;

    public GatewayObservation Observe(ServiceIdentity service, CancellationToken cancellation)
    {
        var s = launchctl.Print(LaunchctlClient.Target(Domain(service.Scope, cancellation), service.Name), cancellation);
        var running = s.IsRunning && s.Pid is { } pid ? new RunningGateway(pid, processes.StartTime(pid)) : null;
        // launchd names the signal as strsignal() does ("Terminated: 15"): the number after the colon, where there is one.
        var signalNumber = s.LastTerminatingSignal?.Split(':') is [_, var n] && int.TryParse(n.Trim(), System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : (int?)null;
        ProcessEnding? ending = signalNumber is { } num && UnixSignals.TryFromNumber(num, SignalPlatform.Darwin, out var sig) ? ProcessEnding.KilledBy(sig)
            : s.LastExitCode is { } code ? ProcessEnding.Exit(code) : null;
        return new GatewayObservation(running, s.Loaded ? s.State : "not loaded")
        {
            Stopped = running is null,
            LastEnding = running is null ? ending : null,
            Spawns = s.Runs,
        };
    }

    public IReadOnlyList<string>? RecentLog(ServiceIdentity service, int lines, CancellationToken cancellation, out string why)
    {
        if (service.LogPath is not { } path)
        {
            why = $"{service.Path} sets no StandardErrorPath, so launchd keeps no log of the gateway";
            return null;
        }

        try
        {
            // The gateway's account may own the log's folder: as root no link is followed to it (which could show the tail
            // of a file only root may read), and a FIFO does not block. The tail only: a log can be large, and the last
            // lines are what tell why it ended.
            using var directory = NativeFiles.OpenDirectory(Path.GetDirectoryName(path) ?? "/");
            using var handle = NativeFiles.TryOpenRead(directory, Path.GetFileName(path));
            if (handle is null)
            {
                why = $"{path} is a symbolic link; it is not followed";
                return null;
            }

            using var stream = new FileStream(handle, FileAccess.Read);
            if (stream.CanSeek)
            {
                stream.Seek(Math.Max(0, stream.Length - 64 * 1024), SeekOrigin.Begin);
            }
            using var reader = new StreamReader(stream);
            var text = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            why = text.Length == 0 ? $"{path} is empty" : string.Empty;
            return text.Length == 0 ? null : text[Math.Max(0, text.Length - lines)..];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = $"{path} cannot be read ({e.Message})";
            return null;
        }
    }

    public IProcessHandle? SendSignal(ServiceIdentity service, RunningGateway target, UnixSignal signal, IEngineHost host)
    {
        var job = LaunchctlClient.Target(Domain(service.Scope, host.Cancellation), service.Name);
        // launchd delivers it to the job's process, so no PID read earlier can have been reused in between. (macOS has
        // no process handles to wait on: the caller watches target's PID and start time.)
        if (host.ShouldProcess(job, $"launchctl kill {signal.ToString()[3..]} {job}"))
        {
            try
            {
                launchctl.Kill(job, signal.ToString()[3..], host.Cancellation);
            }
            catch (HermesException e) when (e.ErrorId == HermesErrorIds.ServiceNotFound)
            {
                // 3 (no such process) or 113 (not loaded): the process ended after it was identified (a restart already
                // under way, a crash) or the job was booted out. Nothing is left to signal; the caller's wait for the old
                // PID ends at once and the revival brings the gateway back.
                host.WriteVerbose($"launchctl kill {job}: no process to signal ({e.Message}); it already exited.");
            }
        }

        return null;
    }

    public string Revive(ServiceIdentity service, RunningGateway exited, TimeSpan waitForSupervisor, IEngineHost host)
    {
        var ct = host.Cancellation;
        var domain = Domain(service.Scope, ct);
        var target = LaunchctlClient.Target(domain, service.Name);
        var status = launchctl.Print(target, ct);
        if (status.IsRunning)
        {
            return "launchd";
        }

        var how = new List<string>();
        if (!status.Loaded)
        {
            // The job was booted out (or a bootout raced us): load it again before anything can start it.
            if (!host.ShouldProcess(target, $"launchctl bootstrap {domain} {service.Path}"))
            {
                return "none (WhatIf)";
            }

            BootstrapWithRetry(domain, service.Path, target, host);
            how.Add("bootstrap");
        }

        // An explicit start: no ThrottleInterval wait, and an on-demand-only domain does not hold it back. (The status
        // read above still holds unless we bootstrapped: one launchctl call less while the gateway is down; a kickstart
        // of a job launchd started meanwhile leaves it alone.)
        var running = how.Count == 0 ? status.IsRunning : launchctl.Print(target, ct).IsRunning;
        if (!running && host.ShouldProcess(target, $"launchctl kickstart {target}"))
        {
            try
            {
                launchctl.Kickstart(target, killFirst: false, ct);
                how.Add("kickstart");
            }
            catch (HermesException e) when (e.ErrorId == HermesErrorIds.ServiceNotFound)
            {
                // 113: booted out between our print and the kickstart (a bootout racing us). Load it again, then start it.
                host.WriteVerbose($"kickstart of {target} refused: the job is no longer loaded ({e.Message}); bootstrapping it again.");
                how.Add("kickstart refused (not loaded)");
                if (!host.ShouldProcess(target, $"launchctl bootstrap {domain} {service.Path}"))
                {
                    return string.Join(", ", how);
                }

                BootstrapWithRetry(domain, service.Path, target, host);
                how.Add("bootstrap");
                if (!launchctl.Print(target, ct).IsRunning)
                {
                    launchctl.Kickstart(target, killFirst: false, ct);
                    how.Add("kickstart");
                }
            }
        }

        return how.Count == 0 ? "launchd" : string.Join(", ", how);
    }

    public void HardRestart(ServiceIdentity service, IEngineHost host)
    {
        var ct = host.Cancellation;
        var domain = Domain(service.Scope, ct);
        var target = LaunchctlClient.Target(domain, service.Name);
        if (!host.ShouldProcess(target, $"mark the stop as planned, then launchctl kickstart -k {target}"))
        {
            return;
        }

        var status = launchctl.Print(target, ct);
        if (status.Loaded)
        {
            if (status.Pid is { } pid && service.HermesHome is { } home)
            {
                PlannedStop.TryMark(home, pid, processes.StartTime(pid), target, host);
            }

            try
            {
                launchctl.Kickstart(target, killFirst: true, ct);
                return;
            }
            catch (HermesException e) when (e.ErrorId == HermesErrorIds.ServiceNotFound)
            {
                host.WriteVerbose($"kickstart -k of {target} refused: the job is no longer loaded ({e.Message}); bootstrapping it again.");
            }
        }

        // Not loaded: load it again. RunAtLoad (or KeepAlive) starts it at load, and that fresh instance is the restart:
        // a -k now would only kill it again, without a planned-stop marker. Start it only if the load did not.
        BootstrapWithRetry(domain, service.Path, target, host);
        if (!launchctl.Print(target, ct).IsRunning)
        {
            launchctl.Kickstart(target, killFirst: false, ct);
        }
    }

    public string HandOff(ServiceIdentity service, IReadOnlyList<string> command, string log, IEngineHost host)
    {
        // The wall clock, not the host's: a label no earlier helper of this service had.
        var label = $"{service.Name}.restart-{TimeProvider.System.GetUtcNow():yyyyMMddHHmmssfff}";
        // launchctl submit keeps its job alive (OnDemand=false): left alone, launchd would run the restart again and
        // again. The job removes itself once the command has ended, whatever its outcome; the label and the command
        // reach the shell as arguments, never as script text.
        string[] args = ["submit", "-l", label, "-o", log, "-e", log, "--", .. SelfRemoving(label, command)];
        if (host.ShouldProcess(service.Name, $"launchctl {string.Join(' ', args)}"))
        {
            var r = launchctl.Run(args, host.Cancellation);
            if (!r.Succeeded)
            {
                throw new HermesException(HermesErrorIds.RestartFailed, HermesErrorCategory.InvalidOperation,
                    $"The restart could not be handed to a transient launchd job ({r.ExitCode}): {r.StandardError.Trim()}", service.Name);
            }
        }

        return label;
    }

    /// <summary>The command, followed by 'launchctl remove' of its own submitted job (which also ends this shell).</summary>
    public static IReadOnlyList<string> SelfRemoving(string label, IReadOnlyList<string> command) =>
        ["/bin/sh", "-c", "label=$1; shift; \"$@\"; exec launchctl remove \"$label\"", "hermes-restart-helper", label, .. command];

    private void BootstrapWithRetry(string domain, string path, string target, IEngineHost host)
    {
        var began = host.Clock.GetTimestamp();
        while (true)
        {
            try
            {
                launchctl.Bootstrap(domain, path, host.Cancellation);
                return;
            }
            catch (HermesException e) when (e.ErrorId == HermesErrorIds.ServiceManagerFailed && host.Clock.GetElapsedTime(began) < BootstrapRetryFor)
            {
                // "Bootstrap failed: 5: Input/output error" while a booted-out job still drains, or when it is disabled.
                if (launchctl.IsDisabled(domain, Path.GetFileNameWithoutExtension(path), host.Cancellation))
                {
                    throw new HermesException(HermesErrorIds.ServiceDisabled, HermesErrorCategory.InvalidOperation,
                        $"{target} is disabled in {domain}; 'launchctl enable {target}' first.", target, e);
                }

                host.WriteVerbose($"bootstrap of {target} refused ({e.Message}); retrying while the old job drains.");
                Thread.Sleep(200);
            }
        }
    }
}
