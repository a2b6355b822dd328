using System.Management.Automation;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>The engine's view of a running cmdlet: ShouldProcess, the verbose and warning streams, progress, Ctrl+C.</summary>
internal sealed class CmdletEngineHost(PSCmdlet cmdlet, TimeProvider clock, CancellationToken cancellation) : IEngineHost
{
    private readonly Dictionary<string, ProgressRecord> progress = new(StringComparer.Ordinal);

    public CancellationToken Cancellation => cancellation;

    public DateTimeOffset Now => clock.GetUtcNow();

    public TimeProvider Clock => clock;

    // The three-string form makes -WhatIf print the whole action, diff lines included.
    public bool ShouldProcess(string target, string action) =>
        cmdlet.ShouldProcess(action.Contains(target, StringComparison.Ordinal) ? action : $"{action} ({target})", $"{action}?", "HermesGateway");

    public bool IsWhatIf =>
        cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
            ? LanguagePrimitives.IsTrue(whatIf)
            : LanguagePrimitives.IsTrue(cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference"));

    public void WriteVerbose(string message) => cmdlet.WriteVerbose(message);

    public void WriteWarning(string message) => cmdlet.WriteWarning(message);

    /// <summary>One progress bar per activity, updated in place.</summary>
    public void WriteProgress(string activity, string status, double percent)
    {
        if (!progress.TryGetValue(activity, out var record))
        {
            progress[activity] = record = new ProgressRecord(progress.Count + 1, activity, status);
        }

        record.StatusDescription = status;
        record.PercentComplete = (int)Math.Clamp(percent, 0, 100);
        cmdlet.WriteProgress(record);
    }

    /// <summary>Completes every progress bar this host opened (after each item, also when it failed).</summary>
    public void CompleteProgress()
    {
        foreach (var record in progress.Values)
        {
            record.RecordType = ProgressRecordType.Completed;
            cmdlet.WriteProgress(record);
        }

        progress.Clear();
    }
}
