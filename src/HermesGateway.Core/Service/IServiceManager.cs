using HermesGateway.Core.Definition;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>What the install, status, start and stop logic needs from one supervisor.</summary>
public interface IServiceManager
{
    ServicePlatform Platform { get; }

    /// <summary>The supervisor as messages name it: "systemd", "launchd".</summary>
    string SupervisorName { get; }

    /// <summary>What <see cref="Deactivate"/> does besides the planned stop, as a confirmation names it: "disable it", "boot it out".</summary>
    string DeactivationText { get; }

    /// <summary>What <see cref="HandOff"/> runs its command as: "systemd-run", "launchctl submit".</summary>
    string TransientJobKind { get; }

    /// <summary>Where a service of this name and scope lives.</summary>
    string FilePath(string name, ServiceScope scope);

    /// <summary>Throws the specific error (not root, no user bus, no GUI domain) if this scope cannot be managed here.</summary>
    void CheckCanManage(ServiceScope scope);

    /// <summary>Installed gateway files: this module's and upstream's.</summary>
    IEnumerable<(string Path, ServiceScope Scope)> Discover();

    /// <summary>Makes the supervisor load the (new) file and keep the service enabled; starts it when asked; keeps a user manager alive without a session when asked.</summary>
    void Activate(ServiceDefinition definition, string path, bool fileChanged, bool start, bool enableLinger, IEngineHost host);

    /// <summary>Stops (as a planned stop) and unloads or disables the service, before its file is removed.</summary>
    void Deactivate(string name, ServiceScope scope, string? hermesHome, IEngineHost host);

    /// <summary>The supervisor's view: state, PID, start time, last ending, restarts, enabled.</summary>
    HermesService Status(ServiceConfiguration config, ServiceScope scope, HermesService known);

    void StartService(string name, ServiceScope scope, string path, IEngineHost host);

    /// <summary>A planned stop: marks it as planned for the running PID, then lets the supervisor stop it.</summary>
    void StopService(string name, ServiceScope scope, string? hermesHome, IEngineHost host);

    /// <summary>After the file is gone: let the supervisor forget it (daemon-reload).</summary>
    void Forget(ServiceScope scope, IEngineHost host);

    /// <summary>The running gateway as its supervisor records it, its PID proven to be the service's; null when not running.</summary>
    RunningGateway? Identify(HermesService service, CancellationToken cancellation);

    /// <summary>
    /// Delivers the restart signal to <paramref name="target"/>, the service's main process: through a process handle
    /// proven to name it (Linux pidfd), else through the supervisor (systemctl kill, launchctl kill); never by a bare
    /// PID. Returns the handle when there is one, for the caller to wait on the exit and dispose.
    /// </summary>
    Platform.IProcessHandle? SendSignal(HermesService service, RunningGateway target, Platform.UnixSignal signal, IEngineHost host);

    /// <summary>After <paramref name="exited"/> exited: make sure the supervisor brings the gateway back now (reset a failed unit, kickstart a job).</summary>
    string Revive(HermesService service, RunningGateway exited, TimeSpan waitForSupervisor, IEngineHost host);

    /// <summary>The supervisor's own restart (systemctl restart, launchctl kickstart -k), as a planned stop.</summary>
    void HardRestart(HermesService service, IEngineHost host);

    /// <summary>
    /// Runs <paramref name="command"/> as a transient job outside the gateway's process tree and cgroup (systemd-run,
    /// launchctl submit), so it survives the gateway's exit; its output goes to <paramref name="log"/>. Returns its name.
    /// </summary>
    string HandOff(HermesService service, IReadOnlyList<string> command, string log, IEngineHost host);
}

/// <summary>A gateway process that is proven to be the service's: the supervisor's PID, and when it started.</summary>
public sealed record RunningGateway(int Pid, long? StartTime)
{
    /// <summary>How long the supervisor waits after an exit before it revives the service (systemd RestartUSec=), where known.</summary>
    public TimeSpan? SupervisorDelay { get; init; }
}
