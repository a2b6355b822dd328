using System.Collections.Concurrent;
using System.Management.Automation;
using HermesGateway.Core.Conformance;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Commands;

/// <summary>
/// Test-HermesGatewayConformance: runs the gateway binary through every lifecycle scenario in private scratch
/// directories and reports what it does next to the assumed contract, with the contract learned from it.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "HermesGatewayConformance")]
[OutputType(typeof(GatewayConformanceReport))]
public sealed class TestHermesGatewayConformanceCommand : HermesCmdlet
{
    /// <summary>The gateway's command: a path (relative to the current location) or a name found on PATH.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Executable { get; set; } = string.Empty;

    /// <summary>The arguments that run the gateway in the foreground; default 'gateway run'.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string[]? ArgumentList { get; set; }

    /// <summary>The contract to compare with: an object (a report's Contract) or a known name; default hermes-0.16.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ExitContractTransformation]
    [ArgumentCompleter(typeof(ExitContractNameCompleter))]
    public GatewayExitContract? Contract { get; set; }

    [Parameter]
    public ConformanceScenario[]? Scenario { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    protected override void ProcessRecord()
    {
        var progress = new ProgressRecord(1, "Testing gateway conformance", "starting");
        // The run reports from its worker threads; progress is written here, on the pipeline's thread.
        using var updates = new BlockingCollection<ConformanceProgress>();
        Task<GatewayConformanceReport>? run = null;
        try
        {
            var request = new ConformanceRequest
            {
                Executable = Resolve(Executable),
                ArgumentList = ArgumentList ?? ["gateway", "run"],
                Contract = Contract ?? GatewayExitContract.Hermes016,
                ScenarioTimeout = TimeSpan.FromSeconds(TimeoutSec),
                Scenarios = Scenario,
                Cancellation = Cancellation,
            };
            progress.Activity = $"Testing gateway conformance: {request.Executable}";
            run = Task.Run(() =>
            {
                try
                {
                    return GatewayConformance.Run(request with { Progress = p => updates.TryAdd(p) });
                }
                finally
                {
                    updates.CompleteAdding();
                }
            });
            foreach (var update in updates.GetConsumingEnumerable())
            {
                progress.StatusDescription = update.Activity;
                progress.PercentComplete = (int)Math.Clamp(update.Percent, 0, 100);
                WriteProgress(progress);
            }

            WriteObject(run.GetAwaiter().GetResult());
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the run killed its gateways and deleted its scratch directory; the pipeline is stopping.
        }
        finally
        {
            // Whatever ended this call (Ctrl+C while progress was written, an error), the run is waited for: it kills its
            // gateways and deletes its scratch folder, and must not outlive the token and queue it uses.
            try
            {
                run?.Wait();
            }
            catch (AggregateException)
            {
                // its outcome was reported above, or the pipeline is stopping
            }

            progress.RecordType = ProgressRecordType.Completed;
            try
            {
                WriteProgress(progress);
            }
            catch (PipelineStoppedException)
            {
                // stopped by Ctrl+C: the host clears the progress bar itself
            }
        }
    }

    /// <summary>A bare name is looked up on PATH, as a shell would; anything else is a path from the current location.</summary>
    private string Resolve(string executable) =>
        !executable.Contains('/', StringComparison.Ordinal) && executable is not ("." or "..")
            ? ExecutableLocator.Find(executable, Environment.GetEnvironmentVariable("PATH"))
            : ResolveLiteralPath(executable);
}
