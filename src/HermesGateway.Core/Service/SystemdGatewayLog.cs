using System.Globalization;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Service;

/// <summary>
/// A unit's journal through 'journalctl -o json' on the process runner: a system unit by -u, the caller's own user
/// unit by --user-unit, another account's user unit (root reading it) by that account's uid. -f is streamed line by
/// line; cancelling kills the journalctl this started, nothing else.
/// </summary>
public sealed class SystemdGatewayLog(IProcessRunner runner, ServiceEnvironment environment) : IGatewayLogSource
{
    public IEnumerable<HermesGatewayLogEntry> Read(ServiceIdentity service, GatewayLogRequest request, CancellationToken cancellation)
    {
        var unit = service.Name + ".service";
        var args = Journal.Arguments(unit, service.Scope == ServiceScope.User, OtherAccountUid(service, cancellation), request.Tail, request.Since, request.Follow);
        ProcessResult? exited = null;
        foreach (var line in runner.StreamLines("journalctl", args, r => exited = r, cancellation))
        {
            if (Journal.Parse(line) is { } record)
            {
                yield return new HermesGatewayLogEntry(record.Time, service.Name, record.Pid,
                    record.Priority is { } p ? (GatewayLogLevel)p : null, record.Message);
            }
        }

        cancellation.ThrowIfCancellationRequested();
        if (exited is { Succeeded: false } failed)
        {
            throw Journal.Failure(failed.ExitCode, failed.StandardError, unit);
        }
    }

    /// <summary>The uid of the account whose user unit this is, when that is not the caller; null for the caller's own or a system unit.</summary>
    private uint? OtherAccountUid(ServiceIdentity service, CancellationToken cancellation)
    {
        if (service.Scope != ServiceScope.User || service.Owner is null || service.Owner == environment.UserName)
        {
            return null;
        }

        var r = runner.Run("id", ["-u", "--", service.Owner], TimeSpan.FromSeconds(10), cancellation);
        return r.Succeeded && uint.TryParse(r.StandardOutput.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            ? uid
            : throw new HermesException(HermesErrorIds.ServiceNotFound, HermesErrorCategory.ObjectNotFound,
                $"There is no account '{service.Owner}' whose journal to read: {r.StandardError.Trim()}", service.Owner);
    }
}
