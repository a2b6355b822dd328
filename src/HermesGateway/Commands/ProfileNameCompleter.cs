using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Platform;

namespace HermesGateway.Commands;

/// <summary>Completes -Profile with the user's Hermes profiles: the validly named directories under ~/.hermes/profiles.</summary>
public sealed class ProfileNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        NameCompletion.Complete(
            HermesProfiles.List(ServiceEnvironment.Current().Home).Select(p => (p.Name, $"HERMES_HOME={p.HermesHome}")),
            wordToComplete,
            wildcardParameter: false);
}
