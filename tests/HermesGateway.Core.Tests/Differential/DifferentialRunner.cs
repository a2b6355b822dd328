using System.Collections.Concurrent;

namespace HermesGateway.Core.Tests.Differential;

/// <summary>The 'systemctl show' fields the suite compares.</summary>
internal sealed record UnitSnapshot(string ActiveState, string SubState, string Result, int ExecMainCode, int ExecMainStatus, int NRestarts, int MainPid)
{
    public const string Properties = "ActiveState,SubState,Result,ExecMainCode,ExecMainStatus,NRestarts,MainPID";

    public bool IsTransient => ActiveState is "activating" or "deactivating" or "reloading";

    public static UnitSnapshot Parse(IReadOnlyDictionary<string, string> fields)
    {
        string Get(string key) => fields.TryGetValue(key, out var v) ? v : string.Empty;
        int Number(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : -1;
        return new(Get("ActiveState"), Get("SubState"), Get("Result"), Number("ExecMainCode"), Number("ExecMainStatus"), Number("NRestarts"), Number("MainPID"));
    }

    public override string ToString() =>
        $"{ActiveState}/{SubState} Result={Result} ExecMain={ExecMainCode}/{ExecMainStatus} NRestarts={NRestarts} MainPID={MainPid}";
}

/// <summary>One line an ExecStopPost= helper wrote: $SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS.</summary>
internal sealed record StopPostRecord(string Result, int ExecMainCode, int ExecMainStatus)
{
    public static StopPostRecord Parse(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var result = words.Length > 0 ? words[0] : string.Empty;
        var code = words.Length > 1 ? words[1] switch { "exited" => 1, "killed" => 2, "dumped" => 3, _ => -1 } : -1;
        var status = -1;
        if (words.Length > 2)
        {
            // An exit status is a number; a signal is given by name ("TERM").
            if (!int.TryParse(words[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out status))
            {
                status = UnixSignals.TryParse(words[2], SignalPlatform.Linux, out var signal) ? UnixSignals.Number(signal, SignalPlatform.Linux) : -1;
            }
        }

        return new(result, code, status);
    }

    public override string ToString() => $"Result={Result} ExecMain={ExecMainCode}/{ExecMainStatus}";
}

/// <summary>What real systemd did in one case.</summary>
internal sealed record CaseObservation(
    UnitSnapshot? Final,
    UnitSnapshot? LastAutoRestart,
    IReadOnlyList<StopPostRecord> StopPost,
    IReadOnlyList<string> Commands,
    IReadOnlyList<UnitSnapshot> History,
    string? Error,
    string UnitText,
    string Log);

/// <summary>
/// Runs every catalogue case at once in one sandbox: writes the payloads and units, starts them all, fires the
/// triggers concurrently and polls all units with a single 'systemctl show' until each one has settled.
/// </summary>
internal sealed class DifferentialRunner(SystemdSandbox sandbox)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a non-transient state must hold before a case counts as settled.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(600);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Cases run in batches: one 'systemctl show' of every unit per poll must stay well under the shortest wait a
    /// case observes (RestartSec=200ms of auto-restart), which a hundred units and their trigger threads on two cores do not.
    /// </summary>
    private const int BatchSize = 40;

    public IReadOnlyDictionary<string, CaseObservation> RunAll(IReadOnlyList<DifferentialCase> cases)
    {
        var all = new Dictionary<string, CaseObservation>(StringComparer.Ordinal);
        foreach (var batch in cases.Chunk(BatchSize))
        {
            foreach (var (name, observation) in RunBatch(batch))
            {
                all[name] = observation;
            }
        }

        return all;
    }

    private Dictionary<string, CaseObservation> RunBatch(IReadOnlyList<DifferentialCase> cases)
    {
        sandbox.EnsureUp();
        var clock = Stopwatch.StartNew();
        var trackers = cases.Select(c => new Tracker(c, Path.Combine(sandbox.Root, "cases", c.UnitName))).ToList();
        foreach (var t in trackers)
        {
            t.WriteFiles(sandbox.UnitDirectory);
        }

        // Something must reference the units, or an inactive one is unloaded before it can be read.
        var refDir = Path.Combine(sandbox.UnitDirectory, "e2e.target.d");
        Directory.CreateDirectory(refDir);
        File.WriteAllText(Path.Combine(refDir, "ref.conf"), "[Unit]\n" + string.Concat(cases.Select(c => $"After={c.UnitName}\n")));
        Require(sandbox.Systemctl("daemon-reload"), "daemon-reload");
        Require(sandbox.Systemctl(["start", .. cases.Where(c => !c.StartIndividually).Select(c => c.UnitName)]), "start");

        var threads = trackers.Where(t => !t.Case.Triggers.IsEmpty || t.Case.StartIndividually)
            .Select(t => Task.Factory.StartNew(() => t.RunTriggers(sandbox, clock), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToArray();

        var pending = trackers.ToList();
        while (pending.Count > 0 && clock.Elapsed < Deadline)
        {
            var takenAt = clock.Elapsed;
            foreach (var t in pending.Where(t => t.Case.Triggers.IsEmpty && !t.Case.StartIndividually))
            {
                t.MarkSelfTriggered(takenAt);
            }

            var shown = sandbox.Systemctl(["show", "-p", UnitSnapshot.Properties, .. pending.Select(t => t.Case.UnitName)]);
            var blocks = ParseBlocks(shown.StandardOutput);
            if (shown.ExitCode != 0 || blocks.Count != pending.Count)
            {
                throw new InvalidOperationException($"systemctl show failed ({shown.ExitCode}, {blocks.Count} blocks for {pending.Count} units): {shown.StandardError}");
            }

            for (var i = pending.Count - 1; i >= 0; i--)
            {
                if (pending[i].Observe(UnitSnapshot.Parse(blocks[i]), takenAt))
                {
                    if (pending[i].Case.WatchRestarts is not null)
                    {
                        // A loop that never gives up is stopped once it has proved the point.
                        sandbox.Systemctl("stop", "--no-block", pending[i].Case.UnitName);
                    }

                    pending.RemoveAt(i);
                }
            }

            Thread.Sleep(PollInterval);
        }

        Task.WaitAll(threads, TimeSpan.FromSeconds(30));
        var log = sandbox.ConsoleLog();
        return trackers.ToDictionary(t => t.Case.Name, t => t.ToObservation(log), StringComparer.Ordinal);
    }

    private static void Require(ProcessResult result, string what)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"systemctl {what} failed ({result.ExitCode}): {result.StandardError}");
        }
    }

    /// <summary>'systemctl show' prints one block of key=value lines per unit, separated by an empty line.</summary>
    private static List<Dictionary<string, string>> ParseBlocks(string output)
    {
        var blocks = new List<Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.Length == 0)
            {
                current = null;
                continue;
            }

            if (current is null)
            {
                current = new Dictionary<string, string>(StringComparer.Ordinal);
                blocks.Add(current);
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                current[line[..eq]] = line[(eq + 1)..];
            }
        }

        return blocks;
    }

    /// <summary>The live state of one case while the suite runs.</summary>
    private sealed class Tracker(DifferentialCase c, string directory)
    {
        private readonly object gate = new();
        private readonly List<UnitSnapshot> history = [];
        private readonly ConcurrentQueue<string> commands = new();
        private TimeSpan? triggeredAt;
        private TimeSpan? stableSince;
        private UnitSnapshot? final;
        private UnitSnapshot? lastAutoRestart;
        private UnitSnapshot? lastConsidered;
        private string? error;

        public DifferentialCase Case { get; } = c;

        public void WriteFiles(string unitDirectory)
        {
            Directory.CreateDirectory(directory);
            var script = Path.Combine(directory, "run.sh");
            var stopPost = Path.Combine(directory, "stoppost.sh");
            WriteExecutable(script, Case.Payload.Script(directory));
            WriteExecutable(stopPost, $"#!/bin/sh\necho \"$SERVICE_RESULT $EXIT_CODE $EXIT_STATUS\" >> '{directory}/stoppost'\n");
            File.WriteAllText(Path.Combine(unitDirectory, Case.UnitName), UnitText);
        }

        public string UnitText => Case.UnitText(Path.Combine(directory, "run.sh"), Path.Combine(directory, "stoppost.sh"));

        /// <summary>A case without triggers is under way once its first run has started (it ends right after).</summary>
        public void MarkSelfTriggered(TimeSpan now)
        {
            lock (gate)
            {
                if (triggeredAt is null && File.Exists(Path.Combine(directory, "ran")))
                {
                    triggeredAt = now;
                }
            }
        }

        public void RunTriggers(SystemdSandbox sandbox, Stopwatch clock)
        {
            try
            {
                if (Case.StartNoBlock)
                {
                    commands.Enqueue(sandbox.Systemctl("start", "--no-block", Case.UnitName).ExitCode == 0 ? "queued" : "failed");
                }
                else if (Case.StartIndividually)
                {
                    commands.Enqueue(sandbox.Systemctl("start", Case.UnitName).ExitCode == 0 ? "ok" : "failed");
                }

                var ready = Path.Combine(directory, "ready");
                var waitUntil = clock.Elapsed + TimeSpan.FromSeconds(15);
                while (Case.Payload.ExecFailure is null && !Case.Triggers.IsEmpty && !File.Exists(ready))
                {
                    if (clock.Elapsed > waitUntil)
                    {
                        throw new TimeoutException("the payload never became ready");
                    }

                    Thread.Sleep(20);
                }

                foreach (var trigger in Case.Triggers)
                {
                    if (trigger.After > TimeSpan.Zero)
                    {
                        Thread.Sleep(trigger.After);
                    }

                    var result = Fire(sandbox, trigger);
                    commands.Enqueue(trigger.Kind == TriggerKind.IsActive
                        ? $"is-active:{result.StandardOutput.Trim()}/{result.ExitCode}"
                        : result.ExitCode == 0 ? "ok" : "failed");
                }
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                lock (gate)
                {
                    error = ex.Message;
                }
            }
            finally
            {
                lock (gate)
                {
                    triggeredAt = clock.Elapsed;
                }
            }
        }

        private ProcessResult Fire(SystemdSandbox sandbox, Trigger trigger)
        {
            var unit = Case.UnitName;
            var signal = trigger.Signal.ToString();
            switch (trigger.Kind)
            {
                case TriggerKind.Stop:
                    return sandbox.Systemctl("stop", unit);
                case TriggerKind.Restart:
                    return sandbox.Systemctl("restart", unit);
                case TriggerKind.Start:
                    return sandbox.Systemctl("start", unit);
                case TriggerKind.IsActive:
                    return sandbox.Systemctl("is-active", unit);
                case TriggerKind.ManagerKill:
                    return sandbox.Systemctl("kill", "--kill-whom=main", "-s", signal, unit);
                default:
                    var pid = sandbox.Systemctl("show", "-p", "MainPID", "--value", unit).StandardOutput.Trim();
                    if (pid is "" or "0")
                    {
                        throw new InvalidOperationException("no main PID to signal");
                    }

                    return sandbox.Exec("kill", "-s", signal[3..], pid);
            }
        }

        /// <summary>Records a snapshot; true once the case has settled.</summary>
        public bool Observe(UnitSnapshot snapshot, TimeSpan takenAt)
        {
            lock (gate)
            {
                if (history.Count == 0 || history[^1] != snapshot)
                {
                    history.Add(snapshot);
                }

                if (snapshot.SubState == "auto-restart")
                {
                    // Result and ExecMain* describe the ending only until the next run starts.
                    lastAutoRestart = snapshot;
                }

                // Snapshots from before the event (or taken while it was still being fired) do not count.
                if (triggeredAt is not { } since || takenAt < since)
                {
                    return false;
                }

                if (Case.WatchRestarts is { } watch && snapshot.NRestarts >= watch)
                {
                    final = snapshot;
                    return true;
                }

                // Settled = the same non-transient state seen for a while after the event.
                var previous = lastConsidered;
                lastConsidered = snapshot;
                if (snapshot.IsTransient)
                {
                    stableSince = null;
                    return false;
                }

                if (stableSince is null || previous != snapshot)
                {
                    stableSince = takenAt;
                    return false;
                }

                if (takenAt - stableSince >= Settle)
                {
                    final = snapshot;
                    return true;
                }

                return false;
            }
        }

        public CaseObservation ToObservation(string consoleLog)
        {
            var stopPostFile = Path.Combine(directory, "stoppost");
            var stopPost = File.Exists(stopPostFile)
                ? File.ReadAllLines(stopPostFile).Where(l => l.Length > 0).Select(StopPostRecord.Parse).ToList()
                : [];

            // The manager's own lines about this unit, for failure messages.
            var log = string.Join('\n', consoleLog.Split('\n').Where(l => l.Contains(Case.UnitName, StringComparison.Ordinal)).Select(l => l.TrimEnd('\r')));
            lock (gate)
            {
                var why = error ?? (final is null ? $"did not settle within {Deadline.TotalSeconds:0} s" : null);
                return new CaseObservation(final, lastAutoRestart, stopPost, [.. commands], [.. history], why, UnitText, log);
            }
        }

        private static void WriteExecutable(string path, string text)
        {
            File.WriteAllText(path, text);
            if (OperatingSystem.IsWindows())
            {
                return;
            }

            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }
}
