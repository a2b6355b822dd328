using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Uninstall-HermesService: a planned stop, disable or bootout, the file removed (a backup kept), reload.</summary>
[Cmdlet(VerbsLifecycle.Uninstall, "HermesService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(UninstallResult))]
public sealed class UninstallHermesServiceCommand : ServiceCmdlet
{
    private const string NameSet = "Name";
    private const string InputObjectSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(InstalledServiceNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Only services of this scope: User or System (systemd), Agent or Daemon (launchd).</summary>
    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    public ServiceScope? Scope { get; set; }

    /// <summary>Only user-scope services of this account's user manager.</summary>
    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Owner { get; set; }

    /// <summary>The unit file or plist: binds from a (deserialized) HermesService's Path, so it addresses that one file.</summary>
    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true, DontShow = true)]
    [ValidateNotNullOrEmpty]
    [Alias("Path")]
    public string? ServiceFile { get; set; }

    /// <summary>The computer a piped object came from (remoting adds PSComputerName); another computer's is refused.</summary>
    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? PSComputerName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public HermesService[] InputObject { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == NameSet && RemoteObjectError(PSComputerName, Name.FirstOrDefault()) is { } remote)
        {
            WriteError(ToErrorRecord(remote));
            return;
        }

        foreach (var service in ParameterSetName == NameSet ? Listed(() => ByName(Name, Scope, Owner, ServiceFile)) : InputObject)
        {
            try
            {
                var result = Installer.Uninstall(service.Identity, EngineHost);
                if (PassThru && result is not null)
                {
                    WriteObject(result);
                }
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
        }
    }
}
