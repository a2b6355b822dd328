using System.Globalization;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Service;

namespace HermesGateway.Core.Restart;

/// <summary>The state Wait-HermesGateway waits for.</summary>
public enum GatewayWaitState
{
    /// <summary>The supervisor runs the gateway and its state file names that process as running (as a restart judges it).</summary>
    Running,

    /// <summary>Nothing runs and nothing is under way: inactive, failed or not loaded.</summary>
    Stopped,
}

/// <summary>
/// Starts that end only when the outcome is known, and waits for a state: Start-HermesGateway, Install-HermesService
/// -Start and Wait-HermesGateway. The gateway counts as up when a restart would count it so (the supervisor's process,
/// reporting itself running); a new process that ends while it is waited for is an error at once, with its exit and the
/// last log lines (HermesGatewayExitedOnStart), and is not started again; no outcome within the time is
/// HermesWaitTimeout. The supervisor is asked at a bounded rate; progress is reported and Ctrl+C honoured.
/// </summary>
public sealed class GatewayWaiter(ServiceInstaller installer, IProcessTable processes)
{
    /// <summary>How long a start or a wait gives the gateway by default (Restart-HermesGateway's -Timeout).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Starts the service (reset-failed first when failed; bootstrap when unloaded) and, with <paramref name="wait"/>,
    /// waits until it runs healthy. Returns the running gateway (null without a wait, or when the host declined).
    /// </summary>
    public RunningGateway? Start(ServiceIdentity service, TimeSpan? wait, IEngineHost host, GatewayExitContract? contract = null)
    {
        var manager = installer.For(service);
        manager.CheckCanManage(service.Scope);
        var consent = new ConsentWatch(host);
        var waits = Waits(manager, service, host, "Starting", wait, contract);
        var before = wait is null ? null : waits.Before();
        manager.StartService(service, consent);
        return wait is { } within && !consent.Declined ? waits.Healthy(null, within, before).Gateway : null;
    }

    /// <summary>
    /// Installs as <see cref="ServiceInstaller.Install"/> does; when the request starts the gateway and
    /// <paramref name="wait"/> is given, then waits until it runs healthy (not when the host declined any step).
    /// </summary>
    public InstallResult? Install(InstallRequest request, TimeSpan? wait, IEngineHost host)
    {
        var d = request.Definition;
        var manager = installer.For(d.Platform);
        var waiting = request.Start && wait is not null;
        RestartWaits? waits = null;
        GatewayObservation? before = null;
        if (waiting)
        {
            // The unit as it was before (possibly unknown): a process that ends after the install is told apart from one before it.
            var planned = new ServiceIdentity(d.Name, d.Platform, d.Scope, manager.FilePath(d.Name, d.Scope)) { HermesHome = d.HermesHome };
            waits = Waits(manager, planned, host, "Starting", wait, request.Contract);
            before = waits.Before();
        }

        var consent = new ConsentWatch(host);
        var result = installer.Install(request, consent);
        if (result?.Service is { } service && waits is not null && !consent.Declined)
        {
            Waits(manager, service.Identity, host, "Starting", wait, request.Contract).Healthy(null, wait!.Value, before);
            return result with { Service = ServiceInstaller.Status(result.Path, d.Scope, manager) };
        }

        return result;
    }

    /// <summary>Waits until the service is in <paramref name="state"/>; HermesWaitTimeout when it is not within <paramref name="timeout"/>.</summary>
    public void Wait(ServiceIdentity service, GatewayWaitState state, TimeSpan timeout, IEngineHost host)
    {
        var manager = installer.For(service);
        manager.CheckCanManage(service.Scope);
        var waits = Waits(manager, service, host, "Waiting for", timeout, null);
        if (state == GatewayWaitState.Running)
        {
            waits.Healthy(null, timeout);
        }
        else
        {
            waits.Stopped(timeout);
        }
    }

    private RestartWaits Waits(IServiceManager manager, ServiceIdentity service, IEngineHost host, string activity, TimeSpan? timeout, GatewayExitContract? contract) =>
        new(manager, processes, service, host)
        {
            Activity = activity,
            TimeoutError = (HermesErrorIds.WaitTimeout, $"the wait's {(timeout ?? DefaultTimeout).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (-Timeout) ran out"),
            Contract = contract ?? GatewayExitContract.Hermes,
        };

    /// <summary>The caller's host, noting whether it declined a step (-WhatIf, No at -Confirm): then nothing is waited for.</summary>
    private sealed class ConsentWatch(IEngineHost inner) : IEngineHost
    {
        public bool Declined { get; private set; }

        public bool IsWhatIf => inner.IsWhatIf;

        public CancellationToken Cancellation => inner.Cancellation;

        public DateTimeOffset Now => inner.Now;

        public TimeProvider Clock => inner.Clock;

        public bool ShouldProcess(string target, string action)
        {
            var yes = inner.ShouldProcess(target, action);
            Declined |= !yes;
            return yes;
        }

        public void WriteVerbose(string message) => inner.WriteVerbose(message);

        public void WriteWarning(string message) => inner.WriteWarning(message);

        public void WriteProgress(string activity, string status, double percent) => inner.WriteProgress(activity, status, percent);
    }
}
