using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Conformance;

/// <summary>
/// Learns a gateway's process contract from the binary: every scenario starts the gateway afresh in a private scratch
/// directory (HERMES_HOME and HOME inside it, a PATH whose first directory holds a systemctl, systemd-run and loginctl
/// that only fail, stdin /dev/null, output to files), waits until it reports itself running, does one thing to it (a
/// signal, a marker, a second instance, a broken start) and records how it ends, next to what the assumed contract says.
/// Only the processes it started are ever signalled; whatever still runs at a timeout or a cancellation is killed with
/// its process group, and the scratch directory is deleted.
/// </summary>
public static partial class GatewayConformance
{
    /// <summary>How long a gateway with only a planned-stop marker (no signal) is given to stop by itself.</summary>
    public static readonly TimeSpan MarkerAloneWindow = TimeSpan.FromSeconds(5);

    /// <summary>How long '&lt;executable&gt; --version' may take.</summary>
    public static readonly TimeSpan VersionTimeout = TimeSpan.FromSeconds(15);

    private const string MalformedMarkerText = "{not json\n";

    // The longest first, so the parallel run ends soon after the slowest one.
    private static readonly ConformanceScenario[] Order =
    [
        ConformanceScenario.SecondInstance, ConformanceScenario.PlannedStopMarkerAlone, ConformanceScenario.StartUp,
        ConformanceScenario.RestartSignal, ConformanceScenario.SupervisedRestartSignal, ConformanceScenario.StopSignal,
        ConformanceScenario.PlannedStopSignal, ConformanceScenario.StaleMarker, ConformanceScenario.MalformedMarker,
        ConformanceScenario.Interrupt, ConformanceScenario.ConfigError,
    ];

    private static readonly string[] SupervisorVariables =
    [
        "INVOCATION_ID", "JOURNAL_STREAM", "NOTIFY_SOCKET", "MANAGERPID", "SYSTEMD_EXEC_PID", "WATCHDOG_PID", "WATCHDOG_USEC",
        "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "XPC_SERVICE_NAME", "XPC_FLAGS", "DBUS_SESSION_BUS_ADDRESS",
    ];

    /// <summary>Runs the scenarios (in parallel, <see cref="ConformanceRequest.Parallelism"/> at a time) and reports.</summary>
    public static GatewayConformanceReport Run(ConformanceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (executable, contract, scenarios) = Validate(request);
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var root = CreatePrivateRoot(request.TempRoot);
        try
        {
            var run = new ConformanceRun(request, executable, contract, root, scenarios.Count);
            var (rows, version) = run.Execute(scenarios);
            var notes = new List<string>();
            var learned = Learn(contract, rows, executable, startedAt, notes);
            return new GatewayConformanceReport
            {
                Executable = executable,
                ArgumentList = request.ArgumentList.ToArray(),
                Version = version,
                Assumed = contract,
                Contract = learned,
                Rows = rows,
                Notes = notes,
                StartedAt = startedAt,
                Duration = clock.Elapsed,
            };
        }
        finally
        {
            DeleteTree(root);
        }
    }

    /// <summary>The contract the rows show: measured values over the assumed contract's, with a note for each choice.</summary>
    internal static GatewayExitContract Learn(GatewayExitContract assumed, IReadOnlyList<ConformanceRow> rows, string executable, DateTimeOffset at, List<string> notes)
    {
        int? Code(ConformanceScenario s) =>
            rows.FirstOrDefault(r => r.Scenario == s) is { ObservedEnding: { Kind: EndingKind.Exited, ExitCode: >= 0 and <= 255 } e } ? e.ExitCode : null;

        int Measured(ConformanceScenario s, string field, int fallback)
        {
            if (Code(s) is { } code)
            {
                notes.Add($"{field} {code}: measured ({s}).");
                return code;
            }

            notes.Add($"{field} {fallback}: not measured ({s} {(rows.Any(r => r.Scenario == s) ? "did not end in an exit" : "was not run")}), the assumed contract's.");
            return fallback;
        }

        var restart = Measured(ConformanceScenario.RestartSignal, nameof(GatewayExitContract.RestartExitCode), assumed.RestartExitCode);
        int? supervised;
        if (Code(ConformanceScenario.SupervisedRestartSignal) is { } sv)
        {
            supervised = sv == restart ? null : sv;
            notes.Add(supervised is null
                ? $"{nameof(GatewayExitContract.SupervisedRestartExitCode)} none: with INVOCATION_ID set the restart signal exits {sv}, the same as without."
                : $"{nameof(GatewayExitContract.SupervisedRestartExitCode)} {sv}: measured (SupervisedRestartSignal).");
        }
        else
        {
            supervised = assumed.SupervisedRestartExitCode;
            notes.Add($"{nameof(GatewayExitContract.SupervisedRestartExitCode)} {supervised?.ToString(CultureInfo.InvariantCulture) ?? "none"}: not measured, the assumed contract's.");
        }

        var planned = Measured(ConformanceScenario.PlannedStopSignal, nameof(GatewayExitContract.PlannedStopExitCode), assumed.PlannedStopExitCode);
        var unexpected = Measured(ConformanceScenario.StopSignal, nameof(GatewayExitContract.UnexpectedExitCode), assumed.UnexpectedExitCode);
        int config;
        if (Code(ConformanceScenario.ConfigError) is { } ce && ce != unexpected)
        {
            config = ce;
            notes.Add($"{nameof(GatewayExitContract.ConfigErrorExitCode)} {ce}: measured (ConfigError).");
        }
        else
        {
            config = assumed.ConfigErrorExitCode;
            notes.Add(Code(ConformanceScenario.ConfigError) is { } same
                ? $"{nameof(GatewayExitContract.ConfigErrorExitCode)} {config}: kept from the assumed contract; the configuration error observed exits {same}, the unexpected-end code, so it tells a supervisor nothing a crash does not."
                : $"{nameof(GatewayExitContract.ConfigErrorExitCode)} {config}: not measured, the assumed contract's.");
        }

        foreach (var (s, code, name) in new[]
                 {
                     (ConformanceScenario.Interrupt, planned, "the planned-stop code"),
                     (ConformanceScenario.StaleMarker, unexpected, "the unexpected-end code"),
                     (ConformanceScenario.MalformedMarker, unexpected, "the unexpected-end code"),
                     (ConformanceScenario.SecondInstance, unexpected, "the unexpected-end code"),
                 })
        {
            if (Code(s) is { } c && c != code)
            {
                notes.Add($"{s} exits {c}, not {name} {code}; the contract has no code of its own for it.");
            }
        }

        notes.Add("Everything else (restart command, drain, watchdog, marker validity, signals) is the assumed contract's ('" + assumed.Name + "').");
        return (assumed with
        {
            Name = "measured",
            Source = $"measured by Test-HermesGatewayConformance on {executable} at {at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}",
            RestartExitCode = restart,
            SupervisedRestartExitCode = supervised,
            PlannedStopExitCode = planned,
            UnexpectedExitCode = unexpected,
            ConfigErrorExitCode = config,
        }).Validated();
    }

    private static (string Executable, GatewayExitContract Contract, IReadOnlyList<ConformanceScenario> Scenarios) Validate(ConformanceRequest request)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new HermesException(HermesErrorIds.PlatformUnknown, HermesErrorCategory.NotImplemented,
                "A conformance run needs POSIX signals and process groups (Linux or macOS).", null);
        }

        var exe = request.Executable;
        if (string.IsNullOrWhiteSpace(exe) || !Path.IsPathFullyQualified(exe))
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"The gateway's executable must be an absolute path; '{exe}' is not.", exe);
        }

        if (Directory.Exists(exe))
        {
            throw new HermesException(HermesErrorIds.ExecutableNotFound, HermesErrorCategory.InvalidArgument,
                $"'{exe}' is a directory, not the gateway's executable.", exe);
        }

        if (!File.Exists(exe))
        {
            throw new HermesException(HermesErrorIds.ExecutableNotFound, HermesErrorCategory.ObjectNotFound,
                $"'{exe}' does not exist.", exe);
        }

        if ((File.GetUnixFileMode(exe) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            throw new HermesException(HermesErrorIds.PermissionDenied, HermesErrorCategory.PermissionDenied,
                $"'{exe}' is not executable.", exe);
        }

        if (request.ScenarioTimeout <= TimeSpan.Zero || request.ScenarioTimeout > TimeSpan.FromHours(1))
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"The scenario timeout is {request.ScenarioTimeout}; it must be more than 0 and at most an hour.", request.ScenarioTimeout);
        }

        if (request.Parallelism is < 1 or > 64)
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"Parallelism is {request.Parallelism}; between 1 and 64.", request.Parallelism);
        }

        if (request.ArgumentList is null || request.ArgumentList.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                "The argument list must not be null or hold a null or NUL character.", request.ArgumentList);
        }

        var contract = (request.Contract ?? GatewayExitContract.Hermes016).Validated();
        var wanted = request.Scenarios is { Count: > 0 } s ? s.ToHashSet() : Order.ToHashSet();
        return (exe, contract, Order.Where(wanted.Contains).ToArray());
    }

    private static string CreatePrivateRoot(string? parent)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (parent is null)
        {
            var dir = Directory.CreateTempSubdirectory("hermes-conformance-");
            File.SetUnixFileMode(dir.FullName, Private);
            return dir.FullName;
        }

        if (!Directory.Exists(parent))
        {
            throw new HermesException(HermesErrorIds.PathNotFound, HermesErrorCategory.ObjectNotFound,
                $"The temp root '{parent}' does not exist.", parent);
        }

        for (var attempt = 0; ; attempt++)
        {
            var path = Path.Combine(Path.GetFullPath(parent), "hermes-conformance-" + Path.GetRandomFileName().Replace(".", string.Empty, StringComparison.Ordinal));
            if (!Directory.Exists(path))
            {
                Directory.CreateDirectory(path, Private);
                File.SetUnixFileMode(path, Private);
                return path;
            }

            if (attempt > 100)
            {
                throw new HermesException(HermesErrorIds.FileWriteFailed, HermesErrorCategory.InvalidOperation,
                    $"Cannot create a private directory under '{parent}'.", parent);
            }
        }
    }

    /// <summary>Deletes the scratch tree; a detached helper of a gateway may still be writing its last log, so it retries.</summary>
    private static void DeleteTree(string root)
    {
        for (var attempt = 0; attempt < 30 && Directory.Exists(root); attempt++)
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Thread.Sleep(100);
            }
        }
    }

    [GeneratedRegex(@"(?<![\d.])v?(\d+\.\d+(?:\.\d+)?)")]
    private static partial Regex VersionPattern();

    internal static string? ParseVersion(string text) =>
        text.Split('\n').Select(l => VersionPattern().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value;

    /// <summary>One run: the scenarios' shared facts, the worker threads and the progress count.</summary>
    private sealed class ConformanceRun
    {
        private readonly ConformanceRequest request;
        private readonly string executable;
        private readonly GatewayExitContract contract;
        private readonly string root;
        private readonly string bin;
        private readonly int total;
        private readonly object progressGate = new();
        private int completed;

        public ConformanceRun(ConformanceRequest request, string executable, GatewayExitContract contract, string root, int total)
        {
            this.request = request;
            this.executable = executable;
            this.contract = contract;
            this.root = root;
            this.total = total;
            bin = Path.Combine(root, "bin");
            CreatePrivate(bin);
            foreach (var tool in new[] { "systemctl", "systemd-run", "loginctl" })
            {
                var path = Path.Combine(bin, tool);
                File.WriteAllText(path, "#!/bin/sh\n# A conformance run: no service manager here, so nothing real is ever started or restarted.\nexit 1\n");
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        private CancellationToken Cancellation => request.Cancellation;

        /// <summary>
        /// A short wait that ends the scenario when the run is cancelled. It never touches the token's WaitHandle: a
        /// caller may dispose its CancellationTokenSource once the run has thrown, and a scenario still unwinding must not
        /// crash the process over it.
        /// </summary>
        private void Pause(int milliseconds)
        {
            Cancellation.ThrowIfCancellationRequested();
            Thread.Sleep(milliseconds);
            Cancellation.ThrowIfCancellationRequested();
        }

        private TimeSpan Timeout => request.ScenarioTimeout;

        public (IReadOnlyList<ConformanceRow> Rows, string? Version) Execute(IReadOnlyList<ConformanceScenario> scenarios)
        {
            var results = new ConcurrentDictionary<ConformanceScenario, ConformanceRow>();
            string? version = null;
            var jobs = new ConcurrentQueue<Action>();
            jobs.Enqueue(() => version = ProbeVersion());
            foreach (var s in scenarios)
            {
                jobs.Enqueue(() =>
                {
                    Report(s, "starting the gateway", done: false);
                    var row = PlaySafely(s);
                    results[s] = row;
                    Report(s, $"{row.Verdict}: {row.Observed}", done: true);
                });
            }

            Report(null, $"{scenarios.Count} scenarios, {Math.Min(request.Parallelism, scenarios.Count)} at a time", done: false);
            var failures = new ConcurrentQueue<Exception>();
            var workers = Enumerable.Range(0, Math.Max(1, Math.Min(request.Parallelism, scenarios.Count + 1))).Select(_ => new Thread(() =>
            {
                while (!Cancellation.IsCancellationRequested && jobs.TryDequeue(out var job))
                {
                    try
                    {
                        job();
                    }
                    catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                    {
                        // the token was cancelled (or its source already disposed by a caller that gave up): the job
                        // cleaned up after itself; the run stops below
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or HermesException)
                    {
                        failures.Enqueue(e);
                    }
                }
            })
            { IsBackground = true, Name = "hermes-conformance" }).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
            Cancellation.ThrowIfCancellationRequested();
            if (failures.TryDequeue(out var failure))
            {
                throw failure is HermesException ? failure : new HermesException(HermesErrorIds.FileWriteFailed, HermesErrorCategory.InvalidOperation,
                    $"The conformance run failed: {failure.Message}", root, failure);
            }

            return (scenarios.Select(s => results[s]).ToList(), version);
        }

        private void Report(ConformanceScenario? scenario, string activity, bool done)
        {
            if (request.Progress is not { } progress)
            {
                return;
            }

            lock (progressGate)
            {
                if (done)
                {
                    completed++;
                }

                progress(new ConformanceProgress(scenario, scenario is null ? activity : $"{scenario}: {activity}", completed, total));
            }
        }

        /// <summary>A scenario whose gateway cannot even be spawned is a row, not the end of the run.</summary>
        private ConformanceRow PlaySafely(ConformanceScenario s)
        {
            try
            {
                return Play(s);
            }
            catch (HermesException e) when (e.ErrorId is HermesErrorIds.ExecutableNotFound or HermesErrorIds.PermissionDenied)
            {
                return new ConformanceRow
                {
                    Scenario = s,
                    Action = "start the gateway",
                    Expected = Expectation(s).Text,
                    ExpectedEnding = Expectation(s).Ending,
                    Observed = "could not be started",
                    Verdict = ConformanceVerdict.NotObserved,
                    Note = e.Message,
                };
            }
        }

        private ConformanceRow Play(ConformanceScenario s)
        {
            var scratch = new Scratch(Path.Combine(root, s.ToString()), bin, s == ConformanceScenario.SupervisedRestartSignal);
            return s switch
            {
                ConformanceScenario.SecondInstance => PlaySecondInstance(scratch),
                ConformanceScenario.ConfigError => PlayConfigError(scratch),
                _ => PlaySignal(s, scratch),
            };
        }

        /// <summary>What the assumed contract says the scenario ends with, in words and as an ending.</summary>
        private (string Text, ProcessEnding? Ending) Expectation(ConformanceScenario s)
        {
            (string, ProcessEnding?) Exit(int code, string suffix = "") => (contract.Describe(ProcessEnding.Exit(code)) + suffix, ProcessEnding.Exit(code));
            return s switch
            {
                ConformanceScenario.StartUp => ("reports gateway_state \"running\" for its own PID", null),
                ConformanceScenario.RestartSignal => Exit(contract.RestartExitCodeFor(invocationIdVisible: false)),
                ConformanceScenario.SupervisedRestartSignal => Exit(contract.RestartExitCodeFor(invocationIdVisible: true)),
                ConformanceScenario.StopSignal or ConformanceScenario.StaleMarker or ConformanceScenario.MalformedMarker => Exit(contract.UnexpectedExitCode),
                ConformanceScenario.PlannedStopSignal or ConformanceScenario.Interrupt => Exit(contract.PlannedStopExitCode),
                ConformanceScenario.PlannedStopMarkerAlone => Exit(contract.PlannedStopExitCode, $" by itself within {Window(s).TotalSeconds:0.#} s"),
                ConformanceScenario.SecondInstance => Exit(contract.UnexpectedExitCode, "; the first instance keeps running"),
                // A contract whose configuration-error code is its planned-stop code (Hermes 0.16: 'startup_failed', a
                // platform failure no offline run can provoke) says a missing profile exits like a crash.
                ConformanceScenario.ConfigError => contract.ConfigErrorIsPlannedStopCode
                    ? Exit(contract.UnexpectedExitCode, $" (the contract's configuration-error code {contract.ConfigErrorExitCode} is for 'startup_failed'; a missing profile ends like a crash)")
                    : Exit(contract.ConfigErrorExitCode),
                _ => ("?", null),
            };
        }

        private TimeSpan Window(ConformanceScenario s) =>
            s == ConformanceScenario.PlannedStopMarkerAlone && MarkerAloneWindow < Timeout ? MarkerAloneWindow : Timeout;

        private ConformanceRow PlaySignal(ConformanceScenario s, Scratch scratch)
        {
            var (expectedText, expected) = Expectation(s);
            using var gateway = scratch.Spawn(executable, request.ArgumentList, "gateway");
            var ready = WaitReady(gateway, scratch, "gateway", s);
            if (ready.Row is { } early)
            {
                return early with { Scenario = s, Expected = expectedText, ExpectedEnding = expected };
            }

            if (s == ConformanceScenario.StartUp)
            {
                var stop = StopAfterwards(gateway);
                return new ConformanceRow
                {
                    Scenario = s,
                    Action = "exec, then wait for gateway_state.json to say \"running\" with the child's PID (and gateway.pid to name it)",
                    Expected = expectedText,
                    Observed = $"running after {ready.Milliseconds} ms",
                    Milliseconds = ready.Milliseconds,
                    GatewayState = StateAfter(scratch.Home, gateway.Pid),
                    Pid = gateway.Pid,
                    Verdict = ConformanceVerdict.Match,
                    Note = stop,
                };
            }

            var startTime = ProcessStartTime.Read(gateway.Pid);
            var validity = contract.PlannedStopMarkerValidity;
            string action;
            switch (s)
            {
                case ConformanceScenario.PlannedStopSignal:
                case ConformanceScenario.PlannedStopMarkerAlone:
                    PlannedStopMarker.Write(scratch.Home, gateway.Pid, startTime, Environment.ProcessId, DateTimeOffset.UtcNow);
                    action = s == ConformanceScenario.PlannedStopSignal
                        ? $"planned-stop marker for its PID and start time, then {contract.StopSignal} at once"
                        : "planned-stop marker for its PID and start time, no signal";
                    break;
                case ConformanceScenario.StaleMarker:
                    PlannedStopMarker.Write(scratch.Home, gateway.Pid, startTime, Environment.ProcessId, DateTimeOffset.UtcNow - validity - TimeSpan.FromSeconds(1));
                    action = $"planned-stop marker written {(validity + TimeSpan.FromSeconds(1)).TotalSeconds:0} s ago, then {contract.StopSignal}";
                    break;
                case ConformanceScenario.MalformedMarker:
                    File.WriteAllText(PlannedStopMarker.PathIn(scratch.Home), MalformedMarkerText);
                    action = $"planned-stop marker that is not JSON ('{MalformedMarkerText.Trim()}'), then {contract.StopSignal}";
                    break;
                default:
                    action = s switch
                    {
                        ConformanceScenario.RestartSignal => $"{contract.RestartSignal}, INVOCATION_ID not set",
                        ConformanceScenario.SupervisedRestartSignal => $"{contract.RestartSignal}, INVOCATION_ID set (no systemd: systemctl fails)",
                        ConformanceScenario.Interrupt => $"{contract.InterruptSignal}",
                        _ => $"{contract.StopSignal}, no planned-stop marker",
                    };
                    break;
            }

            var signal = s switch
            {
                ConformanceScenario.RestartSignal or ConformanceScenario.SupervisedRestartSignal => contract.RestartSignal,
                ConformanceScenario.Interrupt => contract.InterruptSignal,
                ConformanceScenario.PlannedStopMarkerAlone => (UnixSignal?)null,
                _ => contract.StopSignal,
            };
            Report(s, $"running after {ready.Milliseconds} ms; {action}", done: false);
            var notes = new List<string>();
            if (signal is { } sig && gateway.Signal(sig) != SignalDelivery.Delivered)
            {
                notes.Add($"{sig} could not be delivered: the gateway had already ended");
            }

            var actionAt = Stopwatch.GetTimestamp();
            long? takenMs = null;
            var markerPath = PlannedStopMarker.PathIn(scratch.Home);
            var deadline = actionAt + (long)(Window(s).TotalSeconds * Stopwatch.Frequency);
            while (!gateway.TryReap() && Stopwatch.GetTimestamp() < deadline)
            {
                if (s == ConformanceScenario.PlannedStopMarkerAlone && takenMs is null && !File.Exists(markerPath))
                {
                    takenMs = (long)Stopwatch.GetElapsedTime(actionAt).TotalMilliseconds;
                }

                Pause(5);
            }

            if (s == ConformanceScenario.PlannedStopMarkerAlone)
            {
                notes.Add(takenMs is { } t
                    ? $"the gateway took the marker {t} ms after it was written (the engine waits up to {PlannedStopMarker.TakeWindow.TotalSeconds:0.#} s for that)"
                    : File.Exists(markerPath) ? "the marker was still there" : "the marker was gone when the gateway ended");
            }
            else if (s is ConformanceScenario.StaleMarker or ConformanceScenario.MalformedMarker or ConformanceScenario.PlannedStopSignal)
            {
                notes.Add(File.Exists(markerPath) ? "marker left on disk" : "marker removed");
            }

            return Finish(s, scratch, gateway, actionAt, action, expectedText, expected, notes, keepsRunningIsAnObservation: s == ConformanceScenario.PlannedStopMarkerAlone);
        }

        private ConformanceRow PlaySecondInstance(Scratch scratch)
        {
            const ConformanceScenario S = ConformanceScenario.SecondInstance;
            var (expectedText, expected) = Expectation(S);
            using var first = scratch.Spawn(executable, request.ArgumentList, "first");
            var ready = WaitReady(first, scratch, "first", S);
            if (ready.Row is { } early)
            {
                return early with { Scenario = S, Expected = expectedText, ExpectedEnding = expected, Note = "the first instance did not start; " + early.Note };
            }

            Report(S, $"first running after {ready.Milliseconds} ms; starting a second on the same HERMES_HOME", done: false);
            using var second = scratch.Spawn(executable, request.ArgumentList, "second");
            second.WaitForExit(Timeout, Cancellation);
            var firstAlive = !first.TryReap();
            var state = GatewayStateFile.Read(scratch.Home);
            var untouched = firstAlive && state is { State: "running" } st && st.Pid == first.Pid;
            var notes = new List<string>
            {
                untouched
                    ? $"the first (PID {first.Pid}) still runs and still reports \"running\""
                    : firstAlive ? $"the first (PID {first.Pid}) still runs, but gateway_state.json says {Describe(state)}" : $"the first instance ended too: {first.Ending}",
            };
            if (scratch.Said("second") is { } said)
            {
                notes.Add($"it said: {said}");
            }

            var row = Finish(S, scratch, second, second.StartedTimestamp, "a second gateway on the same HERMES_HOME while the first runs", expectedText, expected, notes, keepsRunningIsAnObservation: false);
            var stop = StopAfterwards(first);
            row = row with { Note = row.Note + "; first instance: " + stop };
            return untouched || row.Verdict != ConformanceVerdict.Match ? row : row with { Verdict = ConformanceVerdict.Differs };
        }

        private ConformanceRow PlayConfigError(Scratch scratch)
        {
            const ConformanceScenario S = ConformanceScenario.ConfigError;
            var (expectedText, expected) = Expectation(S);
            var arguments = request.ConfigErrorArguments.Concat(request.ArgumentList).ToArray();
            using var gateway = scratch.Spawn(executable, arguments, "gateway");
            var deadline = gateway.StartedTimestamp + (long)(Timeout.TotalSeconds * Stopwatch.Frequency);
            var running = false;
            while (!gateway.TryReap() && Stopwatch.GetTimestamp() < deadline)
            {
                if (ReportsRunning(scratch.Home, gateway.Pid))
                {
                    running = true;
                    break;
                }

                Pause(5);
            }

            var action = $"start with '{string.Join(' ', arguments)}' (a profile that does not exist)";
            if (running)
            {
                var stop = StopAfterwards(gateway);
                return new ConformanceRow
                {
                    Scenario = S,
                    Action = action,
                    Expected = expectedText,
                    ExpectedEnding = expected,
                    Observed = $"starts and reports \"running\" after {gateway.MillisecondsSinceStart(Stopwatch.GetTimestamp())} ms",
                    GatewayState = StateAfter(scratch.Home, gateway.Pid),
                    Pid = gateway.Pid,
                    Verdict = ConformanceVerdict.Differs,
                    Note = "these arguments are no configuration error for this gateway; afterwards: " + stop,
                };
            }

            var notes = new List<string>();
            if (gateway.Ending is { Kind: EndingKind.Exited } e && e.ExitCode == contract.UnexpectedExitCode)
            {
                notes.Add($"exit {e.ExitCode} is also what a crash or an unplanned stop exits with: a supervisor cannot tell this configuration error from a crash");
            }

            if (scratch.Said("gateway") is { } said)
            {
                notes.Add($"it said: {said}");
            }

            return Finish(S, scratch, gateway, gateway.StartedTimestamp, action, expectedText, expected, notes, keepsRunningIsAnObservation: false);
        }

        /// <summary>The row for a process the scenario waited on: its ending (or a kill at the timeout) against the expectation.</summary>
        private ConformanceRow Finish(ConformanceScenario s, Scratch scratch, SpawnedProcess gateway, long actionAt, string action,
            string expectedText, ProcessEnding? expected, List<string> notes, bool keepsRunningIsAnObservation)
        {
            string observed;
            ConformanceVerdict verdict;
            long? ms = null;
            ProcessEnding? observedEnding = null;
            if (gateway.Ending is { } ending && !gateway.ReapedElsewhere)
            {
                observedEnding = ending;
                ms = (long)Stopwatch.GetElapsedTime(actionAt, gateway.ExitedTimestamp!.Value).TotalMilliseconds;
                observed = $"{ending} after {ms} ms";
                verdict = Same(expected, ending) ? ConformanceVerdict.Match : ConformanceVerdict.Differs;
            }
            else if (gateway.Ending is not null)
            {
                observed = "ended, but another reaper took its exit status";
                verdict = ConformanceVerdict.NotObserved;
            }
            else if (keepsRunningIsAnObservation)
            {
                observed = $"keeps running ({Window(s).TotalSeconds:0.#} s)";
                verdict = ConformanceVerdict.Differs;
                notes.Add("afterwards: " + StopAfterwards(gateway));
            }
            else
            {
                gateway.KillGroup();
                observed = $"no exit within {Timeout.TotalSeconds:0.#} s (then killed)";
                verdict = ConformanceVerdict.NotObserved;
            }

            return new ConformanceRow
            {
                Scenario = s,
                Action = action,
                Expected = expectedText,
                ExpectedEnding = expected,
                Observed = observed,
                ObservedEnding = observedEnding,
                Milliseconds = ms,
                GatewayState = StateAfter(scratch.Home, gateway.Pid),
                Pid = gateway.Pid,
                Verdict = verdict,
                Note = string.Join("; ", notes),
            };
        }

        private static bool Same(ProcessEnding? expected, ProcessEnding observed) => expected is not null && expected.Kind == observed.Kind
            && (observed.Kind == EndingKind.Exited ? expected.ExitCode == observed.ExitCode : expected.Signal == observed.Signal);

        /// <summary>Waits for "running" with the child's PID and gateway.pid naming it; else the row that says why not.</summary>
        private (long Milliseconds, ConformanceRow? Row) WaitReady(SpawnedProcess gateway, Scratch scratch, string name, ConformanceScenario s)
        {
            var home = scratch.Home;
            var deadline = gateway.StartedTimestamp + (long)(Timeout.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                if (ReportsRunning(home, gateway.Pid) && PidFileNames(home, gateway.Pid))
                {
                    return (gateway.MillisecondsSinceStart(Stopwatch.GetTimestamp()), null);
                }

                if (gateway.TryReap())
                {
                    var ms = gateway.MillisecondsSinceStart(gateway.ExitedTimestamp!.Value);
                    return (ms, new ConformanceRow
                    {
                        Scenario = s,
                        Action = "start the gateway",
                        Expected = string.Empty,
                        Observed = $"{gateway.Ending} {ms} ms after the exec, before it reported running",
                        ObservedEnding = gateway.Ending,
                        GatewayState = StateAfter(home, gateway.Pid),
                        Pid = gateway.Pid,
                        Verdict = ConformanceVerdict.Differs,
                        Note = scratch.Said(name) is { } said ? $"it said: {said}" : string.Empty,
                    });
                }

                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    gateway.KillGroup();
                    return (0, new ConformanceRow
                    {
                        Scenario = s,
                        Action = "start the gateway",
                        Expected = string.Empty,
                        Observed = $"did not report running within {Timeout.TotalSeconds:0.#} s (then killed)",
                        GatewayState = StateAfter(home, gateway.Pid),
                        Pid = gateway.Pid,
                        Verdict = ConformanceVerdict.NotObserved,
                    });
                }

                Pause(10);
            }
        }

        /// <summary>Ends a gateway the scenario is done with: the interrupt signal, then a kill if it does not end in time.</summary>
        private string StopAfterwards(SpawnedProcess gateway)
        {
            if (gateway.Signal(contract.InterruptSignal) != SignalDelivery.Delivered)
            {
                return $"it had already ended ({gateway.Ending})";
            }

            if (gateway.WaitForExit(Timeout, Cancellation))
            {
                return $"stopped with {contract.InterruptSignal}: {gateway.Ending}";
            }

            gateway.KillGroup();
            return $"did not stop within {Timeout.TotalSeconds:0.#} s of {contract.InterruptSignal}; killed";
        }

        private string? ProbeVersion()
        {
            var scratch = new Scratch(Path.Combine(root, "version"), bin, supervised: false);
            using var probe = scratch.Spawn(executable, ["--version"], "version");
            if (!probe.WaitForExit(VersionTimeout < Timeout ? VersionTimeout : Timeout, Cancellation))
            {
                probe.KillGroup();
                return null;
            }

            try
            {
                return probe.Ending is { Kind: EndingKind.Exited, ExitCode: 0 } ? ParseVersion(File.ReadAllText(scratch.Output("version"))) : null;
            }
            catch (IOException)
            {
                return null;
            }
        }

        private static bool ReportsRunning(string home, int pid) => GatewayStateFile.Read(home) is { State: "running" } s && s.Pid == pid;

        private static bool PidFileNames(string home, int pid)
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(home, "gateway.pid")));
                return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("pid", out var p)
                    && p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out var named) && named == pid;
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        private static string? StateAfter(string home, int pid) => GatewayStateFile.Read(home) is { } s
            ? s.Pid == pid ? s.State : $"{s.State} (PID {s.Pid})"
            : null;

        private static string Describe((string? State, int Pid)? state) => state is { } s ? $"\"{s.State}\" for PID {s.Pid}" : "nothing";
    }

    /// <summary>One scenario's private directory: HERMES_HOME, HOME and the environment the gateway gets.</summary>
    private sealed class Scratch
    {
        private readonly Dictionary<string, string> environment;

        public Scratch(string dir, string bin, bool supervised)
        {
            Dir = dir;
            CreatePrivate(dir);
            Home = Path.Combine(dir, "home");
            var userHome = Path.Combine(dir, "uhome");
            var runtime = Path.Combine(dir, "run");
            CreatePrivate(Home);
            CreatePrivate(userHome);
            CreatePrivate(runtime);
            environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            {
                if (e.Key is string key && e.Value is string value && !SupervisorVariables.Contains(key)
                    && !key.StartsWith("HERMES_", StringComparison.Ordinal) && !key.StartsWith("XDG_", StringComparison.Ordinal))
                {
                    environment[key] = value;
                }
            }

            var path = Environment.GetEnvironmentVariable("PATH");
            environment["PATH"] = bin + ":" + (string.IsNullOrEmpty(path) ? "/usr/local/bin:/usr/bin:/bin" : path);
            environment["HOME"] = userHome;
            environment["HERMES_HOME"] = Home;
            environment["XDG_CONFIG_HOME"] = Path.Combine(userHome, ".config");
            environment["XDG_DATA_HOME"] = Path.Combine(userHome, ".local", "share");
            environment["XDG_STATE_HOME"] = Path.Combine(userHome, ".local", "state");
            environment["XDG_CACHE_HOME"] = Path.Combine(userHome, ".cache");
            environment["XDG_RUNTIME_DIR"] = runtime;
            environment["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + Path.Combine(runtime, "no-bus");
            if (supervised)
            {
                environment["INVOCATION_ID"] = Guid.NewGuid().ToString("N");
            }
        }

        public string Dir { get; }

        public string Home { get; }

        public string Output(string name) => Path.Combine(Dir, name + ".out");

        /// <summary>The first non-blank line the process wrote to stderr, else to stdout, shortened; null when it wrote none.</summary>
        public string? Said(string name) => FirstLine(Path.Combine(Dir, name + ".err")) ?? FirstLine(Output(name));

        private static string? FirstLine(string path)
        {
            try
            {
                var line = File.Exists(path) ? File.ReadLines(path).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) : null;
                return line is { Length: > 200 } ? line[..200] + "..." : line;
            }
            catch (IOException)
            {
                return null;
            }
        }

        public SpawnedProcess Spawn(string executable, IReadOnlyList<string> arguments, string name) =>
            SpawnedProcess.Start(executable, arguments, environment, "/dev/null", Output(name), Path.Combine(Dir, name + ".err"));
    }

    private static void CreatePrivate(string dir)
    {
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
