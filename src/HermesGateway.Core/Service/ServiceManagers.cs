using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>The one place that picks a supervisor's manager: by the machine the caller's environment describes.</summary>
public static class ServiceManagers
{
    /// <summary>launchd's manager on macOS, systemd's elsewhere.</summary>
    public static IServiceManager ForThisMachine(IProcessRunner runner, ServiceEnvironment environment, IProcessTable? processes = null) =>
        environment.IsMacOS ? new LaunchdServiceManager(runner, environment, processes) : new SystemdServiceManager(runner, environment, processes);

    /// <summary>The log of a service under <paramref name="platform"/>'s supervisor: the journal, or launchd's log files.</summary>
    public static IGatewayLogSource LogSource(ServicePlatform platform, IProcessRunner runner, ServiceEnvironment environment, TimeSpan pollInterval) =>
        platform == ServicePlatform.Launchd ? new LaunchdGatewayLog(pollInterval) : new SystemdGatewayLog(runner, environment);
}
