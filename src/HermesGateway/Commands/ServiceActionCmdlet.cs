using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>
/// What every cmdlet acting on installed gateways shares, whatever its -Name: -Scope and -Owner to narrow the names, a
/// piped HermesService acted on exactly (its scope, owner and file), one that came through remoting or Export-Clixml
/// bound by those same properties, and one from another computer refused.
/// </summary>
public abstract class ServiceFilterCmdlet : ServiceCmdlet
{
    protected const string NameSet = "Name";
    protected const string InputObjectSet = "InputObject";

    /// <summary>Only services of this scope: User or System (systemd), Agent or Daemon (launchd).</summary>
    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    public ServiceScope? Scope { get; set; }

    /// <summary>
    /// Only user-scope services of this account's user manager (root: another account's; see Get-HermesService's Owner).
    /// A piped system service's Owner is null, which narrows nothing (after remoting it binds as such); an empty name is
    /// refused.
    /// </summary>
    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
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

    /// <summary>Whether -Scope, -Owner or a file narrowed the names.</summary>
    private protected bool Narrowed => Scope is not null || Owner is not null || ServiceFile is not null;

    /// <summary>The services <paramref name="names"/> select, as the parameter set says; an object from another computer is an error, not a selection.</summary>
    private protected IReadOnlyList<HermesService> Selected(string[] names)
    {
        if (ParameterSetName != NameSet)
        {
            return InputObject;
        }

        if (Owner is { Length: 0 })
        {
            WriteError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                "-Owner is empty: give an account name, or leave -Owner out.", Owner)));
            return [];
        }

        if (RemoteObjectError(PSComputerName, names.FirstOrDefault()) is { } remote)
        {
            WriteError(ToErrorRecord(remote));
            return [];
        }

        return Listed(() => ByName(names, Scope, Owner, ServiceFile));
    }
}

/// <summary>Cmdlets acting on installed gateways chosen by name (wildcards; default all) or piped from Get-HermesService.</summary>
public abstract class ServiceSelectionCmdlet : ServiceFilterCmdlet
{
    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(InstalledServiceNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    /// <summary>The services this call is about; for Stop and Restart, only when the call told them apart.</summary>
    internal IEnumerable<HermesService> Selected()
    {
        var selected = Selected(Name);
        if (NamesRequiredForSeveral && ParameterSetName == NameSet)
        {
            // Stop-Service without a name is an error; here a bare call keeps the one-gateway machine's convenience, but
            // does not stop or restart several gateways, or namesakes in two scopes, that nobody told apart.
            var named = MyInvocation.BoundParameters.ContainsKey(nameof(Name))
                ? Name.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)).Select(n => ServiceFormats.ServiceName(n)).ToList()
                : null;
            var verb = MyInvocation.MyCommand.Name.Split('-')[0].ToLowerInvariant();
            if (ServiceSelection.Ambiguity(selected, named, Narrowed, verb) is { } ambiguous)
            {
                WriteError(ToErrorRecord(ambiguous));
                return [];
            }
        }

        return selected;
    }

    /// <summary>Whether a call that names nothing may act on several gateways (false for Stop and Restart: it must name them).</summary>
    private protected virtual bool NamesRequiredForSeveral => false;
}

/// <summary>Start- and Stop-HermesGateway: the services by name or from the pipeline, one action each, the state after it with -PassThru.</summary>
public abstract class ServiceActionCmdlet : ServiceSelectionCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected abstract void Act(HermesService service);

    protected override void ProcessRecord()
    {
        foreach (var service in Selected())
        {
            try
            {
                Act(service);
                if (PassThru)
                {
                    WriteObject(ServiceInstaller.Status(service.Path, service.Scope, Installer.For(service.Identity)));
                }
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
        }
    }
}
