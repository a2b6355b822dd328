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
