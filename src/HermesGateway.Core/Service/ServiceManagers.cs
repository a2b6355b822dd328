using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Service;

/// <summary>The one place that picks a supervisor's manager: by the machine the caller's environment describes.</summary>
public static class ServiceManagers
{
    /// <summary>launchd's manager on macOS, systemd's elsewhere.</summary>
    public static IServiceManager ForThisMachine(IProcessRunner runner, ServiceEnvironment environment, IProcessTable? processes = null) =>
        environment.IsMacOS ? new LaunchdServiceManager(runner, environment, processes) : new SystemdServiceManager(runner, environment, processes);

    /// <summary>
    /// For root on systemd: one manager per other account that has user units in its home (~/.config/systemd/user, as
    /// the password database gives the home), so root sees and manages them through that account's own user manager.
    /// None for anyone else, and none on macOS (another account's agents live in its GUI domain, not reached here).
    /// </summary>
    public static IEnumerable<IServiceManager> ForOtherAccounts(IProcessRunner runner, ServiceEnvironment environment, IProcessTable? processes = null)
    {
        if (!environment.IsRoot || environment.IsMacOS)
        {
            yield break;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { environment.UserName };
        foreach (var account in LocalAccounts.Read(environment.PasswdFile))
        {
            if (account.Uid == 0 || account.Uid == environment.Uid || account.Home == "/" || account.Home == environment.Home || !seen.Add(account.Name))
            {
                continue;
            }

            var manager = SystemdServiceManager.ForAccount(runner, environment, account, processes);
            if (Directory.Exists(manager.Account.UserUnitDirectory))
            {
                yield return manager;
            }
        }
    }

    /// <summary>The log of a service under <paramref name="platform"/>'s supervisor: the journal, or launchd's log files.</summary>
    public static IGatewayLogSource LogSource(ServicePlatform platform, IProcessRunner runner, ServiceEnvironment environment, TimeSpan pollInterval) =>
        platform == ServicePlatform.Launchd ? new LaunchdGatewayLog(pollInterval) : new SystemdGatewayLog(runner, environment);
}
