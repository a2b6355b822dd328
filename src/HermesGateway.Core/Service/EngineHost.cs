namespace HermesGateway.Core.Service;

/// <summary>What the engine needs from whoever drives it (a cmdlet, a test): consent, messages, cancellation.</summary>
public interface IEngineHost
{
    /// <summary>Asks before a side effect; false under -WhatIf or when the user declines.</summary>
    bool ShouldProcess(string target, string action);

    /// <summary>True under -WhatIf: the engine previews what it would refuse or do (ShouldProcess then only prints).</summary>
    bool IsWhatIf => false;

    void WriteVerbose(string message);

    void WriteWarning(string message);

    CancellationToken Cancellation { get; }

    DateTimeOffset Now { get; }

    /// <summary>The clock waits and deadlines are measured with; the system's unless the host has its own.</summary>
    TimeProvider Clock => TimeProvider.System;

    /// <summary>How a long step is going (Write-Progress): <paramref name="activity"/> names the action, <paramref name="status"/> the step.</summary>
    void WriteProgress(string activity, string status, double percent)
    {
    }
}
