// The launchctl verbs the daemon answers (bootstrap, submit, remove, bootout, kickstart, kill, print): each checks
// and changes job state under the gate and returns launchctl's exit code and texts.
using System.Globalization;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;

namespace HermesGateway.FakeLaunchctl;

internal sealed partial class Daemon
{
    private WireResponse Bootstrap(Command c)
    {
        foreach (var path in c.Paths!)
        {
            var failed = BootstrapOne(c.Domain, path);
            if (failed is not null)
            {
                return new WireResponse(failed.Value.Code, string.Empty, $"Bootstrap failed: {failed.Value.Code.ToString(CultureInfo.InvariantCulture)}: {(failed.Value.Code == 2 ? "No such file or directory" : "Input/output error")}\nfake-launchctl: {failed.Value.Why}\n");
            }
        }

        return new WireResponse(0, string.Empty, string.Empty);
    }

    private (int Code, string Why)? BootstrapOne(DomainTarget domain, string path)
    {
        if (!File.Exists(path))
        {
            return (2, $"{path} does not exist");
        }

        if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            return (5, $"{path} is group- or world-writable; launchd.plist(5): configuration files must disallow group and world writes");
        }

        LaunchdJob definition;
        try
        {
            definition = LaunchdJobReader.ReadFile(path);
        }
        catch (HermesException e)
        {
            return (5, $"{path} is not a loadable property list: {e.Message}");
        }

        if (definition.LoadRefused)
        {
            return (5, $"{path} cannot be loaded: {string.Join("; ", definition.Diagnostics.Where(d => d.Severity == Core.Errors.DiagnosticSeverity.Fatal).Select(d => d.Message))}");
        }

        lock (gate)
        {
            var label = definition.Settings.Label;
            if (Find(domain, label) is { } loaded)
            {
                return (5, loaded.BootingOut ? $"service {label} is still being booted out of {domain.Name}" : $"service {label} is already loaded in {domain.Name}");
            }

            if (DisabledDatabase.IsDisabled(state, domain.Name, label, definition.Settings.Disabled))
            {
                return (5, $"service {label} is disabled in {domain.Name} (launchctl enable {domain.Name}/{label})");
            }

            var job = new Job(domain, path, definition);
            jobs.Add(job);
            Log($"{job.Target}: loaded from {path}");
            StartAtLoad(job);
            Persist();
        }

        return null;
    }

    /// <summary>submit and remove act on the caller's session: user/&lt;uid&gt; while there is no GUI session.</summary>
    private Command InCallerSession(Command c) => c.InDomain(Command.CallerSession(DomainConfig.Read(state).NoGuiSession));

    /// <summary>
    /// launchctl submit: a job without a plist on disk whose program launchd keeps alive (launchctl's submit sets
    /// OnDemand=false: it is started at once and relaunched whenever it exits, throttled like any job).
    /// </summary>
    private WireResponse Submit(Command c)
    {
        var folder = Path.Combine(state, "submitted");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, c.Service!.Label + ".plist");
        var entries = new List<KeyValuePair<string, PlistValue>>
        {
            new("Label", new PlistString(c.Service.Label)),
            new("ProgramArguments", new PlistArray([.. c.ProgramArguments!.Select(a => (PlistValue)new PlistString(a))])),
            new("KeepAlive", new PlistBoolean(true)),
        };
        if (c.StandardOutPath is { } o)
        {
            entries.Add(new("StandardOutPath", new PlistString(o)));
        }

        if (c.StandardErrorPath is { } e)
        {
            entries.Add(new("StandardErrorPath", new PlistString(e)));
        }

        File.WriteAllText(path, PlistWriter.ToXml(new PlistDict([.. entries])));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var failed = BootstrapOne(c.Domain, path);
        return failed is null
            ? new WireResponse(0, string.Empty, string.Empty)
            : new WireResponse(1, string.Empty, $"launchctl submit: {failed.Value.Why}\n");
    }

    /// <summary>launchctl remove: unloads the job; a running one gets launchd's SIGTERM, and the command does not wait for it.</summary>
    private WireResponse RemoveByLabel(Command c)
    {
        lock (gate)
        {
            if (Find(c.Domain, c.Service!.Label) is not { } j)
            {
                return new WireResponse(113, string.Empty, "Could not find specified service\n");
            }

            if (j.Instance is null)
            {
                Remove(j, "removed (not running)");
            }
            else
            {
                StopToUnload(j, "remove");
            }

            return new WireResponse(0, string.Empty, string.Empty);
        }
    }

    private WireResponse Bootout(Command c)
    {
        lock (gate)
        {
            if (Find(c.Domain, c.Service!.Label) is not { } j)
            {
                return Output.NotFound(c);
            }

            if (j.Instance is null)
            {
                Remove(j, "booted out (not running)");
                return new WireResponse(0, string.Empty, string.Empty);
            }

            StopToUnload(j, "bootout");

            // Like launchctl bootout, answer once the process is gone and the job removed.
            while (jobs.Contains(j) && !exiting)
            {
                Monitor.Wait(gate, 500);
            }

            return new WireResponse(0, string.Empty, string.Empty);
        }
    }

    private WireResponse Kickstart(Command c)
    {
        lock (gate)
        {
            if (Find(c.Domain, c.Service!.Label) is not { } j)
            {
                return Output.NotFound(c);
            }

            if (j.BootingOut)
            {
                return new WireResponse(37, string.Empty, $"{Program.Failed(c)}: 37: Operation already in progress\n");
            }

            j.DemandedOnce = true;
            if (j.Instance is { } running)
            {
                if (c.KillFirst)
                {
                    j.RestartAfterStop = true;
                    Stop(j, "kickstart -k");
                    while (jobs.Contains(j) && j.RestartAfterStop && !exiting)
                    {
                        Monitor.Wait(gate, 500);
                    }
                }
                else
                {
                    Log($"{j.Target}: kickstart: already running as {running.Pid.ToString(CultureInfo.InvariantCulture)}");
                }
            }
            else
            {
                Spawn(j, c.KillFirst ? "kickstart -k" : "kickstart");
            }

            var pid = j.Instance?.Pid;
            return new WireResponse(0, c.PrintPid && pid is { } p ? $"service spawned with pid: {p.ToString(CultureInfo.InvariantCulture)}\n" : string.Empty, string.Empty);
        }
    }

    private WireResponse Kill(Command c)
    {
        if (!UnixSignals.TryParse(c.Signal, SignalPlatform.Darwin, out var signal) || !UnixSignals.TryGetNumber(signal, SignalPlatform.Linux, out var number))
        {
            return new WireResponse(64, string.Empty, $"Unrecognized signal: {c.Signal}\n{Command.Usages["kill"]}\n");
        }

        lock (gate)
        {
            if (Find(c.Domain, c.Service!.Label) is not { } j)
            {
                return Output.NotFound(c);
            }

            if (j.Instance is not { } running)
            {
                return new WireResponse(3, string.Empty, "Could not kill service: 3: No such process\n");
            }

            Log($"{j.Target}: launchctl kill {signal} -> pid {running.Pid.ToString(CultureInfo.InvariantCulture)}");
            Native.Signal(running.Pid, number);
            return new WireResponse(0, string.Empty, string.Empty);
        }
    }

    private WireResponse PrintDomain(Command c)
    {
        lock (gate)
        {
            var services = jobs.Where(j => j.Domain == c.Domain).OrderBy(j => j.Label, StringComparer.Ordinal)
                .Select(j => (j.Label, j.Instance?.Pid, Output.LastExitColumn(j.LastEnding))).ToList();
            return new WireResponse(0, Output.Domain(c.Domain, services), string.Empty);
        }
    }

    private WireResponse PrintService(Command c)
    {
        lock (gate)
        {
            return Find(c.Domain, c.Service!.Label) is { } j ? new WireResponse(0, Output.Service(j), string.Empty) : Output.NotFound(c);
        }
    }
}
