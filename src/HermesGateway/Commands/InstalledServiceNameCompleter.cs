using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>
/// Completes -Name with the installed gateways (the units and plists Get-HermesService finds), from the files'
/// names alone: no systemctl or launchctl, no file parsed. For parameters that take wildcards.
/// </summary>
public sealed class InstalledServiceNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        NameCompletion.Complete(
            InstalledGateways.List(ServiceEnvironment.Current()).Select(g => (g.Name, $"{g.Platform} {g.Scope}: {g.Path}")),
            wordToComplete,
            wildcardParameter: true);
}
