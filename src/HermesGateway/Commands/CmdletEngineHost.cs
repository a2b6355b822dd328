using System.Management.Automation;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>The engine's view of a running cmdlet: ShouldProcess, the verbose and warning streams, Ctrl+C.</summary>
internal sealed class CmdletEngineHost : IEngineHost
{
    private readonly PSCmdlet cmdlet;

    public CmdletEngineHost(PSCmdlet cmdlet, CancellationToken cancellation)
    {
        this.cmdlet = cmdlet;
        Cancellation = cancellation;
    }

    public CancellationToken Cancellation { get; }

    public DateTimeOffset Now => DateTimeOffset.UtcNow;

    // The three-string form makes -WhatIf print the whole action, diff lines included.
    public bool ShouldProcess(string target, string action) =>
        cmdlet.ShouldProcess(action.Contains(target, StringComparison.Ordinal) ? action : $"{action} ({target})", $"{action}?", "HermesGateway");

    public void WriteVerbose(string message) => cmdlet.WriteVerbose(message);

    public void WriteWarning(string message) => cmdlet.WriteWarning(message);
}

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
