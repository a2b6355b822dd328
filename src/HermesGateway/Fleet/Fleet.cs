using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using HermesGateway.Commands;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Fleet;

namespace HermesGateway.Fleet;

/// <summary>What the cmdlets taking -Session share: this build's identity, the hosts, a fan-out read.</summary>
internal static class Fleet
{
    /// <summary>This module's build: its version (the manifest's, as imported), its files, and the ids of the assemblies running here.</summary>
    public static ModuleBuild LocalBuild(PSCmdlet cmdlet)
    {
        var folder = Path.GetDirectoryName(typeof(Fleet).Assembly.Location)!;
        var version = cmdlet.MyInvocation.MyCommand.Module?.Version?.ToString()
            ?? typeof(Fleet).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var loaded = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["HermesGateway.dll"] = typeof(Fleet).Assembly.ManifestModule.ModuleVersionId.ToString(),
            ["HermesGateway.Core.dll"] = typeof(ModuleBuild).Assembly.ManifestModule.ModuleVersionId.ToString(),
        };
        return ModuleBuild.Of(folder, version, loaded);
    }

    /// <summary>The sessions as hosts, each once; a session given twice, or two sessions to one computer, is an error.</summary>
    public static IReadOnlyList<RemoteHost> Hosts(PSSession[] sessions)
    {
        var twice = sessions.GroupBy(s => s.ComputerName, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"{twice.Key} is given {twice.Count()} times in -Session: give one session per host.", twice.Key);
        }

        return [.. sessions.Select(s => new RemoteHost(s))];
    }

    /// <summary>
    /// Runs one read-only module command on every host at once and writes what each gave back, host by host, marked with
    /// its PSComputerName; a host that cannot be used is an error for that host, never a failed whole.
    /// </summary>
    public static void FanOut(HermesCmdlet cmdlet, PSSession[] sessions, string command, Hashtable parameters, CancellationToken cancellation)
    {
        var hosts = Hosts(sessions);
        var progress = new FleetProgress(cmdlet, 0x4E46, $"{command} on {hosts.Count} host{(hosts.Count == 1 ? string.Empty : "s")}");
        progress.Write("checking the hosts", 0);
        RemoteHost.Prepare(hosts, LocalBuild(cmdlet), TimeSpan.FromSeconds(60), cancellation);
        var calls = hosts.Select(h => h.Usable ? h.BeginCommand(command, new Hashtable(parameters)) : null).ToList();
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            progress.Write(host.ComputerName, 100 * i / hosts.Count);
            if (calls[i] is not { } call)
            {
                cmdlet.WriteError(HermesCmdlet.ToErrorRecord(host.Error!));
                continue;
            }

            var answer = call.End(TimeSpan.FromSeconds(120), cancellation);
            call.Dispose();
            foreach (var o in answer.Output)
            {
                cmdlet.WriteObject(o);
            }

            foreach (var e in answer.Errors)
            {
                cmdlet.WriteError(FleetRollout.Relay(e, host.ComputerName));
            }

            foreach (var w in answer.Warnings)
            {
                cmdlet.WriteWarning($"{host.ComputerName}: {w}");
            }

            if (answer.Failure is { } failure)
            {
                cmdlet.WriteError(HermesCmdlet.ToErrorRecord(answer.ConnectionLost || failure is TimeoutException
                    ? RemoteHost.Unreachable(host, failure.Message)
                    : new HermesException(HermesErrorIds.ServiceManagerFailed, HermesErrorCategory.InvalidOperation, $"{host.ComputerName}: {failure.Message}", host.ComputerName, failure)));
            }
        }

        progress.Complete();
    }

    /// <summary>
    /// The cmdlet's bound parameters as the host's command takes them: fleet-only and common parameters left out,
    /// switches as booleans, enums as their names, PowerShell wrappers removed.
    /// </summary>
    public static Hashtable ForHost(PSCmdlet cmdlet, params string[] leaveOut)
    {
        var skip = new HashSet<string>(leaveOut.Concat(FleetOnly).Concat(Cmdlet.CommonParameters).Concat(Cmdlet.OptionalCommonParameters), StringComparer.OrdinalIgnoreCase);
        var table = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, raw) in cmdlet.MyInvocation.BoundParameters)
        {
            if (skip.Contains(name))
            {
                continue;
            }

            var value = raw is PSObject p ? p.BaseObject : raw;
            if (value is null)
            {
                continue; // bound as null (a piped system service's Owner): as if not given
            }

            table[name] = value switch
            {
                SwitchParameter s => s.IsPresent,
                Enum e => e.ToString(),
                _ => value,
            };
        }

        return table;
    }

    /// <summary>Parameters that shape the rollout here and never go to a host.</summary>
    public static readonly string[] FleetOnly = ["Session", "MaxUnavailable", "Canary", "CanaryWait", "CanaryConfirm"];
}

/// <summary>One progress bar for a command over a fleet: each update a record of its own (a host keeps what it was shown).</summary>
internal sealed class FleetProgress(PSCmdlet cmdlet, int id, string activity)
{
    public void Write(string status, int percent) =>
        cmdlet.WriteProgress(new ProgressRecord(id, activity, status) { PercentComplete = Math.Clamp(percent, 0, 100) });

    public void Complete() =>
        cmdlet.WriteProgress(new ProgressRecord(id, activity, "done") { PercentComplete = 100, RecordType = ProgressRecordType.Completed });
}
