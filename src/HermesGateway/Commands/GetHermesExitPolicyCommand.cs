using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Policy;

namespace HermesGateway.Commands;

/// <summary>Get-HermesExitPolicy: the gateway's exit-code contract as objects.</summary>
[Cmdlet(VerbsCommon.Get, "HermesExitPolicy")]
[OutputType(typeof(ExitPolicyRow))]
public sealed class GetHermesExitPolicyCommand : ExitContractCmdlet
{
    [Parameter(Position = 0)]
    public GatewayTrigger[]? Trigger { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var rows = BuildContract().Rows();
            foreach (var row in rows.Where(r => Trigger is null || Trigger.Contains(r.Trigger)))
            {
                WriteObject(row);
            }
        }
        catch (HermesException e)
        {
            ThrowTerminatingError(ToErrorRecord(e));
        }
    }
}
