using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HermesGateway.Core.Platform;

namespace HermesGateway.Commands;

/// <summary>Completes signal names (SIGTERM, SIGUSR1, ...).</summary>
public sealed class SignalNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Enum.GetNames<UnixSignal>()
            .Where(n => n.StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase)
                        || n[3..].StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
}
