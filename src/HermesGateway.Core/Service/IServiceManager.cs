using HermesGateway.Core.Errors;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Service;

/// <summary>What the install, status, start and stop logic needs from one supervisor.</summary>
public interface IServiceManager
{
    ServicePlatform Platform { get; }

    /// <summary>The supervisor as messages name it: "systemd", "launchd".</summary>
    string SupervisorName { get; }

    /// <summary>What <see cref="Remove"/> does besides the planned stop, as a confirmation names it: "disable it", "boot it out".</summary>
    string DeactivationText { get; }

    /// <summary>What <see cref="HandOff"/> runs its command as: "systemd-run", "launchctl submit".</summary>
    string TransientJobKind { get; }

    /// <summary>Where a service of this name and scope lives.</summary>
    string FilePath(string name, ServiceScope scope);

    /// <summary>
    /// How %-specifiers in a file this supervisor loads from <paramref name="path"/> in <paramref name="scope"/> resolve
    /// (systemd: the unit name, the scope, the manager's account); null where files have none (launchd).
    /// </summary>
    SpecifierContext? SpecifiersFor(string path, ServiceScope scope);

    /// <summary>Throws the specific error (not root, no user bus, no GUI domain) if this scope cannot be managed here.</summary>
    void CheckCanManage(ServiceScope scope);

    /// <summary>What this service needs here and is missing (its executable, its accounts): one error each, none when it can run.</summary>
    IReadOnlyList<HermesException> MissingPrerequisites(ServiceDefinition definition);

    /// <summary>The account whose user-scope services (user units, agents) this manager manages.</summary>
    string Owner { get; }

    /// <summary>
    /// Whether those are another account's (root managing an account's user units): their files are read without following
    /// links, and nothing is written into that account's home.
    /// </summary>
    bool ForAnotherAccount { get; }

    /// <summary>Where this supervisor's service files live, per scope, in the order they are searched.</summary>
    IReadOnlyList<(string Directory, ServiceScope Scope)> ServiceDirectories { get; }

    /// <summary>Makes the supervisor load the (new) file and keep the service enabled; starts it when asked.</summary>
    void Activate(ServiceDefinition definition, string path, bool fileChanged, bool start, IEngineHost host);

    /// <summary>The supervisor calls installing a new or changed file makes at most (what -WhatIf lists); asks the supervisor nothing.</summary>
    IReadOnlyList<string> ActivationCalls(ServiceDefinition definition, string path, bool start) => [];

    /// <summary>The supervisor calls removing the service makes at most (what -WhatIf lists); asks the supervisor nothing.</summary>
    IReadOnlyList<string> RemovalCalls(ServiceIdentity service) => [];

    /// <summary>
    /// Takes the service away: a planned stop, then unloaded or disabled; <paramref name="removeFile"/> removes its file
    /// once the supervisor no longer uses it, and the supervisor forgets it (systemd: daemon-reload).
    /// </summary>
    void Remove(ServiceIdentity service, Action removeFile, IEngineHost host);

    /// <summary>The supervisor's view: state, PID, start time, last ending, restarts, enabled.</summary>
    HermesService Status(ServiceConfiguration config, ServiceScope scope, HermesService known);

    void StartService(ServiceIdentity service, IEngineHost host);

    /// <summary>A planned stop: marks it as planned for the running PID, then lets the supervisor stop it.</summary>
    void StopService(ServiceIdentity service, IEngineHost host);

    /// <summary>The running gateway as its supervisor records it, its PID proven to be the service's; null when not running.</summary>
    RunningGateway? Identify(ServiceIdentity service, CancellationToken cancellation);

    /// <summary>
    /// The supervisor's view of the gateway at this moment: the running process (proven as <see cref="Identify"/> proves
    /// it), else its state and how the last process ended. One supervisor call.
    /// </summary>
    GatewayObservation Observe(ServiceIdentity service, CancellationToken cancellation);

    /// <summary>
    /// The last <paramref name="lines"/> lines the gateway logged (systemd's journal for the unit, the plist's
    /// StandardErrorPath), oldest first; null with the reason in <paramref name="why"/> when they cannot be read.
    /// </summary>
    IReadOnlyList<string>? RecentLog(ServiceIdentity service, int lines, CancellationToken cancellation, out string why);

    /// <summary>
    /// Delivers the restart signal to <paramref name="target"/>, the service's main process: through a process handle
    /// proven to name it (Linux pidfd), else through the supervisor (systemctl kill, launchctl kill); never by a bare
    /// PID. Returns the handle when there is one (Linux), for the caller to wait on the exit and dispose; without one the
    /// caller watches the target's PID and start time.
    /// </summary>
    IProcessHandle? SendSignal(ServiceIdentity service, RunningGateway target, UnixSignal signal, IEngineHost host);

    /// <summary>After <paramref name="exited"/> exited: make sure the supervisor brings the gateway back now (reset a failed unit, kickstart a job).</summary>
    string Revive(ServiceIdentity service, RunningGateway exited, TimeSpan waitForSupervisor, IEngineHost host);

    /// <summary>The supervisor's own restart (systemctl restart, launchctl kickstart -k), as a planned stop.</summary>
    void HardRestart(ServiceIdentity service, IEngineHost host);

    /// <summary>
    /// Runs <paramref name="command"/> as a transient job outside the gateway's process tree and cgroup (systemd-run,
    /// launchctl submit), so it survives the gateway's exit; its output goes to <paramref name="log"/>. Returns its name.
    /// </summary>
    string HandOff(ServiceIdentity service, IReadOnlyList<string> command, string log, IEngineHost host);
}

/// <summary>
/// A supervisor that can keep a user's services running without a login session (systemd's linger); the others have no
/// such thing to ask for.
/// </summary>
public interface IUserSessionKeeper
{
    /// <summary>Keeps the user's service manager running without a session (loginctl enable-linger) for a user service.</summary>
    void KeepUserServicesRunning(ServiceScope scope, IEngineHost host);
}

/// <summary>A gateway process that is proven to be the service's: the supervisor's PID, and when it started.</summary>
public sealed record RunningGateway(int Pid, long? StartTime)
{
    /// <summary>How long the supervisor waits after an exit before it revives the service (systemd RestartUSec=), where known.</summary>
    public TimeSpan? SupervisorDelay { get; init; }
}
