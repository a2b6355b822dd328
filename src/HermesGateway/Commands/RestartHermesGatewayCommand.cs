using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Fleet;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;
using HermesGateway.Fleet;

namespace HermesGateway.Commands;

/// <summary>Restart-HermesGateway: a graceful restart that ends with the gateway running or with a clear error.</summary>
[Cmdlet(VerbsLifecycle.Restart, "HermesGateway", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(RestartResult))]
[OutputType(typeof(FleetHostResult), ParameterSetName = [NameSet])]
public sealed class RestartHermesGatewayCommand : ServiceSelectionCmdlet
{
    private protected override bool NamesRequiredForSeveral => true;

    /// <summary>How long the new gateway may take to report itself running.</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = GatewayWaiter.DefaultTimeout;

    /// <summary>How long the old gateway may drain before the supervisor restarts it; default: its drain budget.</summary>
    [Parameter]
    public TimeSpan? DrainTimeout { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>
    /// The hosts to restart on, one PSSession each (New-PSSession -HostName): a rolling restart, each host's restart run
    /// there by the module of this build, one result per host.
    /// </summary>
    [Parameter(ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    public System.Management.Automation.Runspaces.PSSession[]? Session { get; set; }

    /// <summary>With -Session: how many of the fleet's gateways may be down at once (default 1: host by host).</summary>
    [Parameter(ParameterSetName = NameSet)]
    [ValidateRange(1, 1000)]
    public int MaxUnavailable { get; set; } = 1;

    /// <summary>With -Session: restart these first hosts alone, then hold the rest behind a gate (-CanaryWait, -CanaryConfirm).</summary>
    [Parameter(ParameterSetName = NameSet)]
    [ValidateRange(0, 1000)]
    public int Canary { get; set; }

    /// <summary>With -Canary: how long the canaries must stay healthy, the same processes, before the rest go.</summary>
    [Parameter(ParameterSetName = NameSet)]
    public TimeSpan CanaryWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>With -Canary: ask before the hosts behind the canaries go.</summary>
    [Parameter(ParameterSetName = NameSet)]
    public SwitchParameter CanaryConfirm { get; set; }

    protected override void ProcessRecord()
    {
        if (Timeout <= TimeSpan.Zero || DrainTimeout <= TimeSpan.Zero || CanaryWait < TimeSpan.Zero)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                "-Timeout and -DrainTimeout must be positive, and -CanaryWait not negative.", null)));
        }

        if (FleetParameterWithoutSession(this) is { } fleetOnly)
        {
            ThrowTerminatingError(ToErrorRecord(fleetOnly));
        }

        if (Session is not null)
        {
            // One rollout for the whole call: names piped in (or given) are gathered and rolled out together at the end.
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Name)))
            {
                rolloutNames.AddRange(Name.Where(n => !rolloutNames.Contains(n, StringComparer.Ordinal)));
            }

            return;
        }

        foreach (var service in Selected())
        {
            try
            {
                var result = Engine.Restarter(service.Identity).Restart(service.Identity, new RestartOptions
                {
                    Timeout = Timeout,
                    DrainTimeout = DrainTimeout,
                    Force = Force,
                    HelperCommand = HelperCommand(service.Identity),
                }, EngineHost);
                if (result is null)
                {
                    continue; // -WhatIf, or declined: nothing was touched
                }

                if (result.HandedOff)
                {
                    WriteWarning($"{service.Name}: this session runs inside the gateway, so the restart was handed to {result.HelperJob}; check with Get-HermesService {service.Name} (log: {result.HelperLog}).");
                }

                if (PassThru || result.HandedOff)
                {
                    WriteObject(result);
                }
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
            finally
            {
                EngineHost.CompleteProgress();
            }
        }
    }

    private readonly List<string> rolloutNames = [];

    protected override void EndProcessing()
    {
        if (Session is not null)
        {
            RollOut();
        }
    }

    /// <summary>The rolling restart over -Session: the module's own Restart-HermesGateway on each host, with these parameters.</summary>
    private void RollOut()
    {
        try
        {
            // A piped object's file and computer describe one host; the hosts each find the gateway by name.
            var forHost = Fleet.Fleet.ForHost(this, nameof(ServiceFile), nameof(PSComputerName), nameof(Name));
            if (rolloutNames.Count > 0)
            {
                forHost[nameof(Name)] = rolloutNames.ToArray();
            }

            forHost["PassThru"] = true;
            var status = new System.Collections.Hashtable(StringComparer.OrdinalIgnoreCase);
            foreach (var key in new[] { "Name", "Scope", "Owner" })
            {
                if (forHost.ContainsKey(key))
                {
                    status[key] = forHost[key];
                }
            }

            var names = rolloutNames.Count > 0 ? string.Join("', '", rolloutNames) : "*";
            var request = new RolloutRequest
            {
                Action = "Restart",
                Command = "Restart-HermesGateway",
                Parameters = forHost,
                StatusParameters = status,
                What = $"Restart the Hermes gateway '{names}'",
                MaxUnavailable = MaxUnavailable,
                Canary = Canary,
                CanaryWait = CanaryWait,
                CanaryConfirm = CanaryConfirm,
                // Only a safety net for a host that stops answering: each host's restart is bounded by its own drain
                // budget (which may be long), and may first wait for a restart already under way there.
                HostTimeout = DrainTimeout is { } drain ? Timeout + drain + drain + TimeSpan.FromMinutes(2) : Timeout + Timeout + TimeSpan.FromDays(1),
                FleetWait = Timeout,
            };
            using var fleetLock = FleetLock();
            new FleetRollout(this, request, Fleet.Fleet.LocalBuild(this), Cancellation).Run(Fleet.Fleet.Hosts(Session!), (_, answer) => [.. answer.Output]);
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
        }
    }

    /// <summary>pwsh running this same restart again, from outside the gateway: this pwsh, this module by path.</summary>
    private IReadOnlyList<string> HelperCommand(ServiceIdentity service) => RestartHelper.PwshCommand(
        Path.Combine(SessionState.PSVariable.GetValue("PSHOME") as string ?? string.Empty, "pwsh"),
        Path.Combine(Path.GetDirectoryName(typeof(RestartHermesGatewayCommand).Assembly.Location)!, "HermesGateway.psd1"),
        service);
}
