using System.Management.Automation;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>Cmdlets that change services: the engine, a host, and Ctrl+C wired to cancellation.</summary>
public abstract class ServiceCmdlet : HermesCmdlet, IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private ServiceInstaller? installer;

    internal ServiceInstaller Installer => installer ??= ServiceInstaller.ForThisMachine(Core.Platform.SystemProcessRunner.Instance, Core.Platform.ServiceEnvironment.Current());

    internal IEngineHost EngineHost => new CmdletEngineHost(this, stopping.Token);

    protected override void StopProcessing() => stopping.Cancel();

    /// <summary>The installed services with these names (wildcards allowed); a name that matches none is an error for that name.</summary>
    internal IEnumerable<HermesService> ByName(IEnumerable<string> names)
    {
        var all = Installer.Find();
        foreach (var name in names)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.None);
            var matched = all.Where(s => pattern.IsMatch(s.Name)).ToList();
            if (matched.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(ToErrorRecord(new Core.Errors.HermesException(Core.Errors.HermesErrorIds.ServiceNotFound, Core.Errors.HermesErrorCategory.ObjectNotFound,
                    $"No Hermes gateway service named '{name}' is installed.", name)));
            }

            foreach (var s in matched)
            {
                yield return s;
            }
        }
    }

    public void Dispose()
    {
        stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
