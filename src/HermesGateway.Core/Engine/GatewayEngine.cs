using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;

namespace HermesGateway.Core.Engine;

/// <summary>
/// The engine for one machine, composed in one place: who and where the caller is, how programs are run, the process
/// table and the clock; from them the installer (with this machine's supervisor) and, per supervisor, the restarter.
/// The cmdlets build one per call; tests build one from their own seams.
/// </summary>
public sealed class GatewayEngine
{
    private readonly IProcessTable processes;

    public GatewayEngine(IProcessRunner runner, ServiceEnvironment environment, IProcessTable processes, TimeProvider clock)
    {
        this.processes = processes;
        Environment = environment;
        Clock = clock;
        Installer = ServiceInstaller.ForThisMachine(runner, environment, processes);
        Log = new GatewayLog(runner, environment);
    }

    /// <summary>This machine as the caller sees it: the real process runner, environment, process table and clock.</summary>
    public static GatewayEngine ForThisMachine() =>
        new(SystemProcessRunner.Instance, ServiceEnvironment.Current(), LocalProcessTable.Instance, TimeProvider.System);

    public ServiceEnvironment Environment { get; }

    /// <summary>The clock every wait and deadline of the engine is measured with (the cmdlets' host carries it to the engine).</summary>
    public TimeProvider Clock { get; }

    public ServiceInstaller Installer { get; }

    /// <summary>The gateways' logs: the journal (systemd), the job's log files (launchd).</summary>
    public GatewayLog Log { get; }

    /// <summary>The restarter for services under <paramref name="platform"/>'s supervisor, with the caller's lock folder.</summary>
    public GatewayRestarter Restarter(ServicePlatform platform) =>
        new(Installer.For(platform), processes, Installer.LockDirectory!);

    /// <summary>The restarter for exactly <paramref name="service"/>: its own supervisor's manager (another account's, for root).</summary>
    public GatewayRestarter Restarter(ServiceIdentity service) =>
        new(Installer.For(service), processes, Installer.LockDirectory!);

    /// <summary>Starts that wait for the outcome, and waits for a state (Start-, Wait-HermesGateway, Install-HermesService -Start).</summary>
    public GatewayWaiter Waiter => new(Installer, processes);
}
