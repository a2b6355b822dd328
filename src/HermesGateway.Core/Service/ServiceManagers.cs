using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Service;

/// <summary>The one place that picks a supervisor's manager: by the machine the caller's environment describes.</summary>
public static class ServiceManagers
{
    /// <summary>launchd's manager on macOS, systemd's elsewhere.</summary>
    public static IServiceManager ForThisMachine(IProcessRunner runner, ServiceEnvironment environment, IProcessTable? processes = null) =>
        environment.IsMacOS ? new LaunchdServiceManager(runner, environment, processes) : new SystemdServiceManager(runner, environment, processes);
}
