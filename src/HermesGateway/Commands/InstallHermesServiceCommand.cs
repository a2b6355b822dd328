using System.Collections;
using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Fleet;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;
using HermesGateway.Fleet;

namespace HermesGateway.Commands;

/// <summary>Install-HermesService: writes the unit or plist (atomically, with a backup), then enables and loads it.</summary>
[Cmdlet(VerbsLifecycle.Install, "HermesService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ParametersSet)]
[OutputType(typeof(HermesService))]
[OutputType(typeof(FleetHostResult), ParameterSetName = [ParametersSet])]
public sealed class InstallHermesServiceCommand : DefinitionParametersCmdlet
{
    private const string DefinitionSet = "Definition";

    [Parameter(Mandatory = true, ParameterSetName = DefinitionSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public ServiceDefinition? Definition { get; set; }

    /// <summary>
    /// An installed service (from Get-HermesService) to install again: what this module writes for that gateway (its
    /// command, home and account kept), changed by any parameter given — its drift, applied.
    /// </summary>
    [Parameter(ParameterSetName = ParametersSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public HermesService? Service { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Start the gateway too (systemctl enable --now; launchctl kickstart).</summary>
    [Parameter]
    public SwitchParameter Start { get; set; }

    /// <summary>With -Start: how long the gateway may take to report itself running (as Restart-HermesGateway's -Timeout).</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = GatewayWaiter.DefaultTimeout;

    /// <summary>With -Start: start without waiting for the gateway to come up.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    [Parameter]
    public SwitchParameter EnableLinger { get; set; }

    /// <summary>
    /// Secrets written to the definition's EnvironmentFile with mode 0600 (never to the unit, nor to any stream): each
    /// value a string, a SecureString, or a PSCredential (its password).
    /// </summary>
    [Parameter]
    [Alias("Secret")]
    public IDictionary? EnvironmentFileVariable { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>
    /// The hosts to install on, one PSSession each: a rollout with Restart-HermesGateway's rules (host by host or
    /// -MaxUnavailable at once, halted at the first failure), the module of this build installing on each host.
    /// </summary>
    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateNotNullOrEmpty]
    public System.Management.Automation.Runspaces.PSSession[]? Session { get; set; }

    /// <summary>With -Session: how many of the fleet's gateways may be down at once (default 1: host by host).</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateRange(1, 1000)]
    public int MaxUnavailable { get; set; } = 1;

    /// <summary>With -Session: install on these first hosts alone, then hold the rest behind a gate (-CanaryWait, -CanaryConfirm).</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    [ValidateRange(0, 1000)]
    public int Canary { get; set; }

    /// <summary>With -Canary: how long the canaries must stay healthy, the same processes, before the rest go.</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    public TimeSpan CanaryWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>With -Canary: ask before the hosts behind the canaries go.</summary>
    [Parameter(ParameterSetName = ParametersSet)]
    public SwitchParameter CanaryConfirm { get; set; }

    protected override void ProcessRecord()
    {
        if (Timeout <= TimeSpan.Zero || CanaryWait < TimeSpan.Zero)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument, "-Timeout must be positive, and -CanaryWait not negative.", Timeout)));
        }

        if (FleetParameterWithoutSession(this) is { } fleetOnly)
        {
            ThrowTerminatingError(ToErrorRecord(fleetOnly));
        }

        if (Session is not null)
        {
            RollOut();
            return;
        }

        try
        {
            var installer = Engine.Installer;
            var basis = Service is null ? Existing(installer) : Service.GetDefinition() ?? throw new HermesException(HermesErrorIds.FileUnreadable,
                HermesErrorCategory.ReadError, $"{Service.Path} could not be read ({Service.Drift}), so it cannot be installed again; give the definition's parameters.", Service.Path);
            var definition = Definition ?? ServiceDefinitionFactory.Create(BuildRequest(basis));
            var result = Engine.Waiter.Install(new InstallRequest(definition, Force, Start, EnableLinger, ToSecretVariables(EnvironmentFileVariable), BuildContract()), NoWait ? null : Timeout, EngineHost);
            if (result is null)
            {
                return; // -WhatIf, or declined: nothing was written
            }

            WriteVerbose($"{result.Path}: {result.Outcome}{(result.BackupPath is null ? string.Empty : $", backup {result.BackupPath}")}.");
            if (PassThru && result.Service is not null)
            {
                WriteObject(result.Service);
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

    /// <summary>
    /// The install over -Session: the module's own Install-HermesService on each host with these parameters, rolled out
    /// as Restart-HermesGateway rolls a restart; with -Start the gateway must be running afterwards, on each host.
    /// </summary>
    private void RollOut()
    {
        try
        {
            if (Service is not null)
            {
                throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                    "-Service describes a service on one computer; with -Session give the definition's parameters (-Name, -Scope, ...), which each host installs.", Service.Name);
            }

            var forHost = Fleet.Fleet.ForHost(this);
            forHost["PassThru"] = true;
            // The service's name on each host: the one given, else Hermes' own for the profile on either platform (the
            // hosts decide which one they run).
            string[] names = Name is { } given ? [given] : [.. ServiceDefinitionFactory.DefaultNames(Profile)];
            var status = new Hashtable(StringComparer.OrdinalIgnoreCase) { ["Name"] = names };
            if (forHost.ContainsKey("Scope"))
            {
                status["Scope"] = forHost["Scope"];
            }

            var request = new RolloutRequest
            {
                Action = "Install",
                Command = "Install-HermesService",
                Parameters = forHost,
                StatusParameters = status,
                What = $"Install the Hermes gateway service '{names[0]}'{(Start ? " and start it" : string.Empty)}",
                MaxUnavailable = MaxUnavailable,
                Canary = Canary,
                CanaryWait = CanaryWait,
                CanaryConfirm = CanaryConfirm,
                HostTimeout = Timeout + Timeout + TimeSpan.FromMinutes(5), // a safety net: each host's install is bounded by -Timeout
                FleetWait = Timeout,
                ExpectRunning = Start && !NoWait,
                AllowMissing = true,
            };
            using var fleetLock = FleetLock();
            new FleetRollout(this, request, Fleet.Fleet.LocalBuild(this), Cancellation).Run(Fleet.Fleet.Hosts(Session!), (_, answer) => [.. answer.Output]);
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
        }
    }

    /// <summary>The environment file's variables: a SecureString's or PSCredential's value is read only here, to be written to the file.</summary>
    private static List<EnvironmentVariable>? ToSecretVariables(IDictionary? dictionary)
    {
        if (dictionary is null)
        {
            return null;
        }

        var plain = new System.Collections.Specialized.OrderedDictionary();
        foreach (DictionaryEntry e in dictionary)
        {
            var value = e.Value is PSObject p ? p.BaseObject : e.Value;
            plain[e.Key] = value switch
            {
                System.Security.SecureString s => new System.Net.NetworkCredential(string.Empty, s).Password,
                PSCredential c => c.GetNetworkCredential().Password,
                _ => value,
            };
        }

        var variables = ToVariables(plain)!;
        return dictionary is System.Collections.Specialized.IOrderedDictionary ? variables : [.. variables.OrderBy(v => v.Name, StringComparer.Ordinal)];
    }

    /// <summary>Installing over an existing gateway keeps its identity (command, home, account) unless parameters say otherwise.</summary>
    private ServiceDefinition? Existing(ServiceInstaller installer) => installer.Existing(Name, Profile);
}
