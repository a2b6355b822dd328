using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Commands;

/// <summary>
/// Cmdlets that take the gateway's exit contract: a known one by name ('hermes-0.16', the default: the released
/// gateway as measured; 'documented'), one learned by Test-HermesGatewayConformance, and single codes changed on top.
/// </summary>
public abstract class ExitContractCmdlet : HermesCmdlet
{
    /// <summary>The contract: a name, a GatewayExitContract, or anything with a Contract property (a conformance report).</summary>
    [Parameter]
    [ExitContractTransformation]
    [ArgumentCompleter(typeof(ExitContractNameCompleter))]
    public GatewayExitContract? Contract { get; set; }

    [Parameter]
    [ValidateRange(0, 255)]
    public int? RestartExitCode { get; set; }

    [Parameter]
    [ValidateRange(0, 255)]
    public int? UnexpectedExitCode { get; set; }

    [Parameter]
    [ValidateRange(0, 255)]
    public int? PlannedStopExitCode { get; set; }

    [Parameter]
    [ValidateRange(0, 255)]
    public int? ConfigErrorExitCode { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(SignalNameCompleter))]
    public string? RestartSignal { get; set; }

    [Parameter]
    public TimeSpan? DrainTimeout { get; set; }

    internal GatewayExitContract BuildContract()
    {
        var c = Contract ?? GatewayExitContract.Hermes016;
        c = c with
        {
            RestartExitCode = RestartExitCode ?? c.RestartExitCode,
            UnexpectedExitCode = UnexpectedExitCode ?? c.UnexpectedExitCode,
            PlannedStopExitCode = PlannedStopExitCode ?? c.PlannedStopExitCode,
            ConfigErrorExitCode = ConfigErrorExitCode ?? c.ConfigErrorExitCode,
            RestartSignal = RestartSignal is null ? c.RestartSignal : UnixSignals.Parse(RestartSignal),
            DrainTimeout = DrainTimeout ?? c.DrainTimeout,
        };
        return c.Validated();
    }
}

/// <summary>Turns 'hermes-0.16', 'documented' or an object with a Contract property into a GatewayExitContract.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ExitContractTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject pso ? pso.BaseObject : inputData;
        switch (value)
        {
            case null or GatewayExitContract:
                return value;
            case string name:
                try
                {
                    return GatewayExitContract.Named(name);
                }
                catch (HermesException e)
                {
                    throw new ArgumentTransformationMetadataException(e.Message, e);
                }

            default:
                var property = PSObject.AsPSObject(value).Properties["Contract"]?.Value;
                if ((property is PSObject inner ? inner.BaseObject : property) is GatewayExitContract contract)
                {
                    return contract;
                }

                throw new ArgumentTransformationMetadataException(
                    $"-Contract takes a contract name ({string.Join(", ", GatewayExitContract.Known.Select(k => k.Name))}), a GatewayExitContract, or a Test-HermesGatewayConformance result; not a {value.GetType().Name}.");
        }
    }
}

/// <summary>Completes -Contract with the known contract names.</summary>
public sealed class ExitContractNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters) =>
        GatewayExitContract.Known
            .Where(c => c.Name.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(c => new CompletionResult(c.Name, c.Name, CompletionResultType.ParameterValue, c.Source));
}
