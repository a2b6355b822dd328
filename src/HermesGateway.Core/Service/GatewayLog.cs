using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Service;

/// <summary>syslog's severities, in their order (0 is Emergency): a journal entry's PRIORITY.</summary>
public enum GatewayLogLevel
{
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Information,
    Debug,
}

/// <summary>One line of a gateway's log, as Get-HermesGatewayLog writes it.</summary>
/// <param name="Time">when it was logged; null where the log has no time (launchd's plain log files)</param>
/// <param name="Service">the service it belongs to</param>
/// <param name="Pid">the process that logged it; null where unknown (plain log files)</param>
/// <param name="Level">its severity; null where the log does not say (a plain file's standard error)</param>
/// <param name="Message">the text</param>
public sealed record HermesGatewayLogEntry(DateTimeOffset? Time, string Service, int? Pid, GatewayLogLevel? Level, string Message)
{
    /// <summary>Where it was read from: "journal", or "stdout"/"stderr" (both, when they share a file) for launchd's files.</summary>
    public string Stream { get; init; } = "journal";
}

/// <summary>Which lines: the last <paramref name="Tail"/>, those since <paramref name="Since"/>, and, with <paramref name="Follow"/>, the new ones as they come.</summary>
public sealed record GatewayLogRequest(int? Tail = null, DateTimeOffset? Since = null, bool Follow = false);

/// <summary>A supervisor's log of a service (systemd: the journal; launchd: the job's log files).</summary>
public interface IGatewayLogSource
{
    /// <summary>
    /// The entries, oldest first; with <see cref="GatewayLogRequest.Follow"/> they go on until
    /// <paramref name="cancellation"/> fires, which throws <see cref="OperationCanceledException"/>.
    /// </summary>
    IEnumerable<HermesGatewayLogEntry> Read(ServiceIdentity service, GatewayLogRequest request, CancellationToken cancellation);
}

/// <summary>Reads the log of installed gateways: checks the request, then asks the service's supervisor's log source.</summary>
public sealed class GatewayLog(IProcessRunner runner, ServiceEnvironment environment)
{
    /// <summary>How often a followed log file is looked at again (launchd).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Bad requests before anything is read: a negative tail; following more than one service at a time.</summary>
    public static void Check(GatewayLogRequest request, int services)
    {
        if (request.Tail is < 0)
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-Tail must be 0 or more, not {request.Tail}.", request.Tail);
        }

        if (request.Follow && services > 1)
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-Follow follows one service at a time; {services} were selected. Name one.", services);
        }
    }

    public IEnumerable<HermesGatewayLogEntry> Read(ServiceIdentity service, GatewayLogRequest request, CancellationToken cancellation)
    {
        Check(request, 1);
        return ServiceManagers.LogSource(service.Platform, runner, environment, PollInterval).Read(service, request, cancellation);
    }
}
