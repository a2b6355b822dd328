using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Restart-HermesGateway: a graceful restart that ends with the gateway running or with a clear error.</summary>
[Cmdlet(VerbsLifecycle.Restart, "HermesGateway", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(RestartResult))]
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

    protected override void ProcessRecord()
    {
        if (Timeout <= TimeSpan.Zero || DrainTimeout <= TimeSpan.Zero)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                "-Timeout and -DrainTimeout must be positive.", null)));
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

    /// <summary>pwsh running this same restart again, from outside the gateway: this pwsh, this module by path.</summary>
    private IReadOnlyList<string> HelperCommand(ServiceIdentity service) => RestartHelper.PwshCommand(
        Path.Combine(SessionState.PSVariable.GetValue("PSHOME") as string ?? string.Empty, "pwsh"),
        Path.Combine(Path.GetDirectoryName(typeof(RestartHermesGatewayCommand).Assembly.Location)!, "HermesGateway.psd1"),
        service);
}
