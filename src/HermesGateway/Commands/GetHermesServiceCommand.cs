using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Get-HermesService: the installed Hermes gateways (this module's and upstream's) and how they stand.</summary>
[Cmdlet(VerbsCommon.Get, "HermesService")]
[OutputType(typeof(HermesService))]
public sealed class GetHermesServiceCommand : ServiceCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(InstalledServiceNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    /// <summary>Only services of this scope: User or System (systemd), Agent or Daemon (launchd).</summary>
    [Parameter]
    public ServiceScope? Scope { get; set; }

    /// <summary>Only user-scope services of this account's user manager (root sees every account's).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Owner { get; set; }

    /// <summary>
    /// The hosts to read, one PSSession each: every host's services in one stream, read in parallel, each marked with its
    /// PSComputerName; a host that cannot be used (unreachable, no module of this build) is an error for that host.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public System.Management.Automation.Runspaces.PSSession[]? Session { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            if (Session is not null)
            {
                Fleet.Fleet.FanOut(this, Session, "Get-HermesService", Fleet.Fleet.ForHost(this), Cancellation);
                return;
            }

            foreach (var service in ByName(Name, Scope, Owner, null))
            {
                WriteObject(service);
            }
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
        }
    }
}
