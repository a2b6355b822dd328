// Helpers over the daemon's job table and its state directory: finding a job, the domain facts a decision reads,
// recording a job's state and decision, pending a spawn, jobs.json, and launchd.log.
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using HermesGateway.Core.Policy;

namespace HermesGateway.FakeLaunchctl;

internal sealed partial class Daemon
{
    private Job? Find(DomainTarget domain, string label) => jobs.FirstOrDefault(j => j.Domain == domain && j.Label == label);

    private LaunchdDomain Facts(Job j)
    {
        var config = DomainConfig.Read(state);
        return new LaunchdDomain
        {
            Kind = j.Domain.Kind,
            OnDemandOnly = config.OnDemandOnly,
            ExistingPaths = j.Definition.Settings.KeepAlive.PathState.Keys.Where(p => File.Exists(p) || Directory.Exists(p)).ToImmutableHashSet(StringComparer.Ordinal),
            LoadedJobs = jobs.Where(x => x.Domain == j.Domain && !x.BootingOut).Select(x => x.Label).ToImmutableHashSet(StringComparer.Ordinal),
        };
    }

    /// <summary>LaunchdModel's rule: an on-demand-only domain pends KeepAlive/RunAtLoad spawns, except in system.</summary>
    private static bool OnDemandOnly(Job j, LaunchdDomain facts) => facts.OnDemandOnly && j.Domain.Kind != LaunchdDomainKind.System;

    private void Set(Job j, JobState s, string decision)
    {
        j.State = s;
        j.Decision = decision;
        Log($"{j.Target}: {decision}");
    }

    private void Pend(Job j, string what)
    {
        j.SpawnAt = null;
        j.PendingReason = "domain in on-demand-only mode";
        Set(j, JobState.Pending, $"{what}: pending spawn, domain in on-demand-only mode");
    }

    /// <summary>jobs.json: every process this daemon started and has not reaped, with its start time (for the tests' Shutdown()).</summary>
    private void Persist()
    {
        try
        {
            if (!Directory.Exists(state))
            {
                return;
            }

            var records = jobs.Where(j => j.Instance is not null)
                .Select(j => new ProcessRecord(j.Domain.Name, j.Label, j.Instance!.Pid, j.Instance.StartTicks)).ToList();
            StateDirectory.WriteAtomic(Path.Combine(state, StateDirectory.JobsFile), JsonSerializer.Serialize(records, JsonOptions.Indented));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the state directory is being deleted: the tick loop notices and exits
        }
    }

    private void Log(string message)
    {
        lock (logGate)
        {
            try
            {
                File.AppendAllText(Path.Combine(state, StateDirectory.LogFile),
                    $"{DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} {message}\n");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // no state directory, no log
            }
        }
    }
}
