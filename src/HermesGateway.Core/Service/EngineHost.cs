namespace HermesGateway.Core.Service;

/// <summary>What the engine needs from whoever drives it (a cmdlet, a test): consent, messages, cancellation.</summary>
public interface IEngineHost
{
    /// <summary>Asks before a side effect; false under -WhatIf or when the user declines.</summary>
    bool ShouldProcess(string target, string action);

    void WriteVerbose(string message);

    void WriteWarning(string message);

    CancellationToken Cancellation { get; }

    DateTimeOffset Now { get; }
}
