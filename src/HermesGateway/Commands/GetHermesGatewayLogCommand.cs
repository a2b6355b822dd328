using System.Management.Automation;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Service;

namespace HermesGateway.Commands;

/// <summary>
/// Get-HermesGatewayLog: the log of installed gateways (the unit's journal; a launchd job's log files), oldest first,
/// each entry tagged with its service; -Tail, -Since, and -Follow (one service) until Ctrl+C.
/// </summary>
[Cmdlet(VerbsCommon.Get, "HermesGatewayLog", DefaultParameterSetName = NameSet)]
[OutputType(typeof(HermesGatewayLogEntry))]
public sealed class GetHermesGatewayLogCommand : ServiceSelectionCmdlet
{
    /// <summary>Only the last N entries (of each service).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Tail { get; set; }

    /// <summary>Only the entries logged at or after this time (a launchd log file: written since then).</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    /// <summary>Goes on writing new entries as they are logged, until Ctrl+C; one service at a time.</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>With -Follow, the services of every pipeline record: followed only once all are known to be one.</summary>
    private readonly List<HermesService> toFollow = [];

    private GatewayLogRequest Request => new(Tail, Since is { } since ? new DateTimeOffset(since) : null, Follow);

    protected override void ProcessRecord()
    {
        List<HermesService> services;
        try
        {
            services = [.. Selected()];
            GatewayLog.Check(Request, services.Count);
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
            return;
        }

        if (Follow)
        {
            toFollow.AddRange(services); // piped services come one record at a time
            return;
        }

        Read(services);
    }

    protected override void EndProcessing()
    {
        if (!Follow || toFollow.Count == 0)
        {
            return;
        }

        try
        {
            GatewayLog.Check(Request, toFollow.Count);
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
            return;
        }

        Read(toFollow);
    }

    private void Read(IEnumerable<HermesService> services)
    {
        foreach (var service in services)
        {
            try
            {
                foreach (var entry in Engine.Log.Read(service.Identity, Request, Cancellation))
                {
                    WriteObject(entry);
                }
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
            catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
            {
                // Ctrl+C ends a -Follow: the journalctl it started is gone; nothing to report.
                return;
            }
        }
    }
}
