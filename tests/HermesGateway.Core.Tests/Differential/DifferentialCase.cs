using System.Collections.Immutable;

namespace HermesGateway.Core.Tests.Differential;

/// <summary>What the test does to a running unit (besides starting it).</summary>
internal enum TriggerKind
{
    /// <summary>systemctl stop.</summary>
    Stop,

    /// <summary>systemctl restart.</summary>
    Restart,

    /// <summary>systemctl kill --kill-whom=main -s SIGNAL.</summary>
    ManagerKill,

    /// <summary>kill -SIGNAL &lt;MainPID&gt; from inside the sandbox, outside the manager.</summary>
    ExternalKill,

    /// <summary>systemctl start.</summary>
    Start,

    /// <summary>systemctl is-active: its output and exit status are compared.</summary>
    IsActive,
}

/// <summary>One trigger of a case, fired <paramref name="After"/> the previous one returned (the first: after the payload is ready).</summary>
internal sealed record Trigger(TriggerKind Kind, UnixSignal Signal = UnixSignal.SIGTERM, TimeSpan After = default)
{
    public SystemdEvent ToEvent() => Kind switch
    {
        TriggerKind.Stop => new ManagerStop(),
        TriggerKind.Restart => new ManagerRestart(),
        TriggerKind.ManagerKill => new ManagerKill(Signal),
        TriggerKind.Start => new ManagerStart(),
        TriggerKind.IsActive => new IsActiveQuery(),
        _ => new ExternalSignal(Signal),
    };

    /// <summary>The same trigger, fired <paramref name="milliseconds"/> after the previous step.</summary>
    public Trigger Wait(int milliseconds) => this with { After = TimeSpan.FromMilliseconds(milliseconds) };
}

/// <summary>
/// The bash payload of a case, and the same description as an <see cref="IProcessBehavior"/> for the model, so the
/// script and the model's idea of it cannot drift apart.
/// </summary>
internal sealed record Payload(ProcessEnding? Ends, ImmutableSortedDictionary<UnixSignal, int?> Traps, bool EveryRun, int? ExecFailure = null, bool SendsReady = false)
{
    /// <summary>Every start fails before the program runs, with <paramref name="status"/> (the unit makes it fail: a missing binary, directory or user).</summary>
    public static Payload FailsToExec(int status) => new(null, ImmutableSortedDictionary<UnixSignal, int?>.Empty, true, status);

    /// <summary>Sends READY=1 (systemd-notify --ready) once its traps are in place.</summary>
    public Payload Ready() => this with { SendsReady = true };

    /// <summary>The process as the simulator sees it.</summary>
    public SystemdProcessProfile Profile => ExecFailure is int status
        ? SystemdProcessProfile.FailingExec(Behavior, status)
        : new SystemdProcessProfile(Behavior, SendsReady: SendsReady, EachRunEnds: EveryRun ? Ends : null, RunsFor: TimeSpan.FromMilliseconds(10));

    /// <summary>The first run exits with <paramref name="code"/> as soon as it starts.</summary>
    public static Payload Exits(int code) => new(ProcessEnding.Exit(code), ImmutableSortedDictionary<UnixSignal, int?>.Empty, false);

    /// <summary>The first run kills itself with <paramref name="signal"/> (bash's kill -SIG $$).</summary>
    public static Payload Dies(UnixSignal signal) => new(ProcessEnding.KilledBy(signal), ImmutableSortedDictionary<UnixSignal, int?>.Empty, false);

    /// <summary>The first run keeps running until something happens to it.</summary>
    public static Payload Waits() => new(null, ImmutableSortedDictionary<UnixSignal, int?>.Empty, false);

    /// <summary>Catches <paramref name="signal"/> and exits with <paramref name="code"/>.</summary>
    public Payload OnSignalExit(UnixSignal signal, int code) => this with { Traps = Traps.SetItem(signal, code) };

    /// <summary>Ignores <paramref name="signal"/> (SIG_IGN survives exec, so 'sleep' ignores it too).</summary>
    public Payload Ignoring(UnixSignal signal) => this with { Traps = Traps.SetItem(signal, null) };

    /// <summary>Every run does the same thing (a crash loop), not only the first.</summary>
    public Payload EveryTime() => this with { EveryRun = true };

    public IProcessBehavior Behavior => new PayloadBehavior(Traps);

    public string Script(string caseDirectory)
    {
        var sb = new StringBuilder();
        sb.Append("#!/bin/bash\n");
        sb.Append(CultureInfo.InvariantCulture, $"d='{caseDirectory}'\n");
        if (!EveryRun)
        {
            // Later runs (after a restart) just stay up, so the unit settles in active (running).
            sb.Append("if [ -e \"$d/ran\" ]; then exec sleep infinity; fi\n");
        }

        sb.Append("touch \"$d/ran\"\n");
        foreach (var (signal, code) in Traps)
        {
            var action = code is int c ? $"exit {c.ToString(CultureInfo.InvariantCulture)}" : string.Empty;
            sb.Append(CultureInfo.InvariantCulture, $"trap '{action}' {Short(signal)}\n");
        }

        if (SendsReady)
        {
            sb.Append("systemd-notify --ready\n");
        }

        // The trigger waits for this marker, so a signal never arrives before the traps are in place.
        sb.Append("touch \"$d/ready\"\n");
        if (Ends is { Kind: EndingKind.Exited } exit)
        {
            sb.Append(CultureInfo.InvariantCulture, $"exit {exit.ExitCode}\n");
        }
        else if (Ends is { } killed)
        {
            // 'kill -SIG $$' kills bash itself; the exit after it only runs if the signal did not end the process.
            sb.Append(CultureInfo.InvariantCulture, $"kill -{Short(killed.Signal!.Value)} $$\nexit 99\n");
        }
        else if (Traps.Values.Any(c => c is not null))
        {
            // A handler needs bash alive: wait is interrupted by the signal and the trap runs.
            sb.Append("sleep infinity &\nwait\nexit 98\n");
        }
        else
        {
            sb.Append("exec sleep infinity\n");
        }

        return sb.ToString();
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (Ends is not null)
        {
            parts.Add(Ends.ToString());
        }

        parts.AddRange(Traps.Select(t => t.Value is int c ? $"{t.Key}→exit {c}" : $"ignores {t.Key}"));
        if (EveryRun && ExecFailure is null)
        {
            parts.Add("every run");
        }

        if (ExecFailure is int status)
        {
            parts.Add($"exec fails {status}");
        }

        if (SendsReady)
        {
            parts.Add("READY=1");
        }

        return parts.Count == 0 ? "sleeps" : string.Join(", ", parts);
    }

    private static string Short(UnixSignal signal) => signal.ToString()[3..];
}

/// <summary>A payload's signal handling as the model sees it: trapped signals exit or are ignored, others take their default action.</summary>
internal sealed class PayloadBehavior(ImmutableSortedDictionary<UnixSignal, int?> traps) : IProcessBehavior
{
    public SignalResponse OnSignal(UnixSignal signal, bool plannedStopMarked)
    {
        if (traps.TryGetValue(signal, out var code))
        {
            return code is int c
                ? new SignalResponse(ProcessEnding.Exit(c), TimeSpan.Zero, $"the payload traps {signal} and exits {c}")
                : SignalResponse.Ignores($"the payload ignores {signal}");
        }

        // Units set LimitCORE=0, so a core-dumping signal ends the process without a dump (CLD_KILLED).
        return DefaultSignalBehavior.DefaultResponse(signal, coreDumps: false);
    }
}

/// <summary>One (unit, event) pair run on real systemd and through <see cref="SystemdModel"/>.</summary>
internal sealed record DifferentialCase(
    string Name,
    string UnitName,
    ImmutableArray<string> UnitLines,
    ImmutableArray<string> ServiceLines,
    Payload Payload,
    ImmutableArray<Trigger> Triggers,
    bool IgnoreFailurePrefix,
    int? WatchRestarts)
{
    /// <summary>
    /// Started by a 'systemctl start' of its own, whose exit status is compared (Type=exec and notify, failed execs):
    /// the shared start of all other cases cannot tell their exit statuses apart.
    /// </summary>
    public bool TimedTriggers => Triggers.Any(t => t.After > TimeSpan.Zero);

    /// <summary>A Type=notify case whose triggers act while it still waits for READY=1: its start is queued (--no-block), not awaited.</summary>
    public bool StartNoBlock => !Triggers.IsEmpty && ServiceLines.Contains("Type=notify") && !Payload.SendsReady;

    public bool StartIndividually => Payload.ExecFailure is not null || ServiceLines.Any(l => l is "Type=exec" or "Type=notify");

    /// <summary>The restart delay used unless a case sets its own: long enough to observe auto-restart reliably.</summary>
    public const string DefaultRestartSec = "1500ms";

    /// <summary>systemctl restart cases record the stop half's ending with ExecStopPost=, as it is gone before anyone can poll.</summary>
    public bool RecordsStopPost => Triggers.Any(t => t.Kind == TriggerKind.Restart);

    public string UnitText(string scriptPath, string stopPostPath)
    {
        var sb = new StringBuilder();
        sb.Append("[Unit]\n");
        sb.Append(CultureInfo.InvariantCulture, $"Description=differential: {Name}\n");
        foreach (var line in UnitLines)
        {
            sb.Append(line).Append('\n');
        }

        sb.Append("[Service]\n");
        var program = Payload.ExecFailure == 203 ? "/nonexistent/hgd-missing-program" : scriptPath;
        sb.Append(CultureInfo.InvariantCulture, $"ExecStart={(IgnoreFailurePrefix ? "-" : string.Empty)}{program}\n");

        // No core dumps unless a case asks for them: SIGSEGV must end the process as CLD_KILLED whatever the
        // default limit is; a case that allows dumps writes them into its own directory (core_pattern "core").
        sb.Append("LimitCORE=0\n");
        if (ServiceLines.Any(l => l.StartsWith("LimitCORE=", StringComparison.Ordinal)))
        {
            sb.Append(CultureInfo.InvariantCulture, $"WorkingDirectory={Path.GetDirectoryName(scriptPath)}\n");
        }
        if (!ServiceLines.Any(l => l.StartsWith("RestartSec=", StringComparison.Ordinal)))
        {
            sb.Append(CultureInfo.InvariantCulture, $"RestartSec={DefaultRestartSec}\n");
        }

        foreach (var line in ServiceLines)
        {
            sb.Append(line).Append('\n');
        }

        if (RecordsStopPost)
        {
            sb.Append(CultureInfo.InvariantCulture, $"ExecStopPost={stopPostPath}\n");
        }

        return sb.ToString();
    }

    /// <summary>
    /// The simulator's steps for the case: the first run's own ending at t = 0 (if it has one), then the triggers, each
    /// at its delay after the previous one, then the manager's timers until nothing is pending.
    /// </summary>
    public IReadOnlyList<SystemdStep> Predict(string unitText, int systemdVersion)
    {
        var unit = SystemdUnitReader.Parse(unitText, "/etc/systemd/system/" + UnitName, systemdVersion);
        var model = new SystemdModel(unit);
        var timeline = new List<SystemdTimedEvent>();
        if (Payload.Ends is { } first && !Payload.EveryRun)
        {
            timeline.Add(new(TimeSpan.Zero, new MainProcessEnded(first)));
        }

        // A trigger fires after the previous one returned (a start may wait for a pending restart or for READY=1),
        // so the timeline grows one trigger at a time; a command takes about a millisecond here.
        var simulator = new SystemdSimulator(model, Payload.Profile);
        var steps = simulator.Run(timeline, TimeSpan.FromHours(1));
        var at = TimeSpan.Zero;
        foreach (var trigger in Triggers)
        {
            at += trigger.After + TimeSpan.FromMilliseconds(1);
            timeline.Add(new(at, trigger.ToEvent()));
            steps = [.. simulator.Run(timeline, TimeSpan.FromHours(1))];
            var fired = steps.Last(s => s.Posed && s.Event == timeline[^1].Event);
            at = fired.CommandDoneAt ?? fired.At;
        }

        return steps;
    }

    public override string ToString() => Name;
}

/// <summary>The (unit, event) pairs of the differential suite.</summary>
internal static class DifferentialCatalog
{
    public static readonly ImmutableArray<DifferentialCase> All = Build();

    public static readonly ImmutableDictionary<string, DifferentialCase> ByName = All.ToImmutableDictionary(c => c.Name, StringComparer.Ordinal);

    private static ImmutableArray<DifferentialCase> Build()
    {
        var list = new List<DifferentialCase>();

        void Ends(string service, Payload payload, string[]? unit = null, bool ignoreFailure = false, int? watch = null)
        {
            var limits = unit is { Length: > 0 } ? string.Join(' ', unit) + " | " : string.Empty;
            var name = $"{limits}{service} | {payload}{(ignoreFailure ? " | ExecStart=-" : string.Empty)}";
            Add(name, unit ?? [], service, payload, [], ignoreFailure, watch);
        }

        // One case per payload, in the order given, all with the same [Service] lines.
        void EndsEach(string service, params Payload[] payloads)
        {
            foreach (var payload in payloads)
            {
                Ends(service, payload);
            }
        }

        void On(string service, Payload payload, params Trigger[] triggers)
        {
            var events = string.Join(" then ", triggers.Select(t => t.ToEvent().Describe()));
            Add($"{service} | {payload} | {events}", [], service, payload, triggers, false, null);
        }

        void Add(string name, string[] unit, string service, Payload payload, Trigger[] triggers, bool ignoreFailure, int? watch)
        {
            // The number leads the name because xunit shortens long arguments in test names; it matches the unit.
            var number = (list.Count + 1).ToString("D2", CultureInfo.InvariantCulture);
            var lines = service.Split(", ", StringSplitOptions.RemoveEmptyEntries);
            list.Add(new DifferentialCase($"{number} {name}", $"hgd-{number}.service", [.. unit], [.. lines], payload, [.. triggers], ignoreFailure, watch));
        }

        // Every Restart= value against a clean exit, an exit code, a clean signal and an unclean signal.
        EndsEach("Restart=no", Payload.Exits(3), Payload.Exits(0), Payload.Dies(UnixSignal.SIGSEGV));
        EndsEach("Restart=on-success", Payload.Exits(0), Payload.Exits(3), Payload.Dies(UnixSignal.SIGTERM));
        EndsEach("Restart=on-failure", Payload.Exits(3), Payload.Exits(0), Payload.Dies(UnixSignal.SIGKILL));
        EndsEach("Restart=on-abnormal", Payload.Exits(3), Payload.Dies(UnixSignal.SIGKILL), Payload.Dies(UnixSignal.SIGTERM));
        EndsEach("Restart=on-watchdog", Payload.Dies(UnixSignal.SIGKILL), Payload.Exits(3));
        EndsEach("Restart=on-abort", Payload.Dies(UnixSignal.SIGSEGV), Payload.Exits(3), Payload.Dies(UnixSignal.SIGTERM));
        EndsEach("Restart=always", Payload.Exits(0), Payload.Exits(3), Payload.Dies(UnixSignal.SIGTERM));

        // Clean signals (SIGHUP, SIGINT, SIGTERM, SIGPIPE) against unclean ones.
        Ends("Restart=on-failure", Payload.Dies(UnixSignal.SIGHUP));
        Ends("Restart=on-failure", Payload.Dies(UnixSignal.SIGINT));
        Ends("Restart=on-failure, IgnoreSIGPIPE=no", Payload.Dies(UnixSignal.SIGPIPE)); // systemd ignores SIGPIPE in services by default
        Ends("Restart=on-failure", Payload.Dies(UnixSignal.SIGTERM));
        Ends("Restart=on-failure", Payload.Dies(UnixSignal.SIGUSR1));
        Ends("Restart=on-failure", Payload.Dies(UnixSignal.SIGSEGV));

        // 143 is an exit code, not a signal.
        Ends("Restart=on-failure", Payload.Exits(143));
        Ends("Restart=on-failure, SuccessExitStatus=143", Payload.Exits(143));

        // SuccessExitStatus= with codes and a signal.
        Ends("Restart=on-failure, SuccessExitStatus=3 7", Payload.Exits(7));
        Ends("Restart=on-failure, SuccessExitStatus=SIGUSR1", Payload.Dies(UnixSignal.SIGUSR1));
        Ends("Restart=on-success, SuccessExitStatus=3", Payload.Exits(3));

        // RestartPreventExitStatus= and RestartForceExitStatus=, prevent winning over force.
        Ends("Restart=always, RestartPreventExitStatus=3", Payload.Exits(3));
        Ends("Restart=always, RestartPreventExitStatus=3", Payload.Exits(4));
        Ends("Restart=on-failure, RestartPreventExitStatus=SIGKILL", Payload.Dies(UnixSignal.SIGKILL));
        Ends("Restart=no, RestartForceExitStatus=3", Payload.Exits(3));
        Ends("Restart=no, RestartForceExitStatus=SIGTERM", Payload.Dies(UnixSignal.SIGTERM));
        Ends("Restart=on-success, RestartForceExitStatus=3", Payload.Exits(4));
        Ends("Restart=always, RestartForceExitStatus=3, RestartPreventExitStatus=3", Payload.Exits(3));

        // The '-' prefix turns any ending into success.
        Ends("Restart=on-failure", Payload.Exits(3), ignoreFailure: true);
        Ends("Restart=on-success", Payload.Exits(3), ignoreFailure: true);
        Ends("Restart=on-abnormal", Payload.Dies(UnixSignal.SIGKILL), ignoreFailure: true);

        // RemainAfterExit=yes: clean exit stays active (exited); an unclean one fails or restarts.
        Ends("Restart=always, RemainAfterExit=yes", Payload.Exits(0));
        Ends("Restart=on-failure, RemainAfterExit=yes", Payload.Exits(3));
        Ends("Restart=no, RemainAfterExit=yes", Payload.Dies(UnixSignal.SIGKILL));

        // systemctl stop never restarts; the ending still decides inactive vs failed.
        var stop = new Trigger(TriggerKind.Stop);
        On("Restart=always", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 0), stop);
        On("Restart=always", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 1), stop);
        On("Restart=always", Payload.Waits(), stop);
        On("Restart=always, TimeoutStopSec=1s", Payload.Waits().Ignoring(UnixSignal.SIGTERM), stop);
        On("Restart=always", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 143), stop);
        On("Restart=always, SuccessExitStatus=143", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 143), stop);

        // systemctl kill --kill-whom=main only delivers a signal; the restart rules apply as for any death.
        On("Restart=on-failure", Payload.Waits(), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGUSR1));
        On("Restart=on-failure", Payload.Waits(), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGTERM));
        On("Restart=always", Payload.Waits(), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGTERM));
        On("Restart=on-failure", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 143), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGTERM));
        On("Restart=on-failure", Payload.Waits(), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGHUP));
        On("Restart=on-abort", Payload.Waits(), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGKILL));
        On("Restart=always", Payload.Waits().Ignoring(UnixSignal.SIGUSR2), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGUSR2));

        // kill(1) from outside the manager.
        On("Restart=on-failure", Payload.Waits(), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGKILL));
        On("Restart=on-success", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 0), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGTERM));

        // systemctl restart: running again whatever the stop half ended with; the start half counts against the limit.
        var restart = new Trigger(TriggerKind.Restart);
        On("Restart=no", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 1), restart);
        On("Restart=no", Payload.Waits(), restart);
        On("Restart=no, TimeoutStopSec=1s", Payload.Waits().Ignoring(UnixSignal.SIGTERM), restart);
        On("Restart=no, RestartKillSignal=SIGUSR1", Payload.Waits(), restart);
        Add("StartLimitBurst=2 StartLimitIntervalSec=60 | Restart=no | sleeps | systemctl restart twice",
            ["StartLimitBurst=2", "StartLimitIntervalSec=60"], "Restart=no", Payload.Waits(), [restart, restart], false, null);

        // The start limit: a crash loop gives up after StartLimitBurst starts, or never with StartLimitIntervalSec=0.
        string[] limit = ["StartLimitBurst=3", "StartLimitIntervalSec=60"];
        Ends("Restart=always, RestartSec=100ms", Payload.Exits(1).EveryTime(), limit);
        Ends("Restart=always, RestartSec=100ms", Payload.Exits(0).EveryTime(), limit);
        Ends("Restart=always, RestartSec=100ms", Payload.Exits(1).EveryTime(), ["StartLimitBurst=3", "StartLimitIntervalSec=0"], watch: 8);

        AddTimelines(list, Add);
        return [.. list];
    }

    /// <summary>
    /// The simulator's cases (issue 14): events in a row with times, the manager's own timers, the process' reaction,
    /// starts that fail before exec, is-active answers, and core dumps.
    /// </summary>
    private static void AddTimelines(List<DifferentialCase> list, Action<string, string[], string, Payload, Trigger[], bool, int?> add)
    {
        void T(string service, Payload payload, params Trigger[] triggers)
        {
            var events = string.Join(" then ", triggers.Select(t => (t.After > TimeSpan.Zero ? $"+{t.After.TotalMilliseconds:0}ms " : string.Empty) + t.ToEvent().Describe()));
            add($"{service} | {payload}{(events.Length > 0 ? " | " + events : string.Empty)}", [], service, payload, triggers, false, null);
        }

        void L(string[] unit, string service, Payload payload, params Trigger[] triggers)
        {
            var events = string.Join(" then ", triggers.Select(t => (t.After > TimeSpan.Zero ? $"+{t.After.TotalMilliseconds:0}ms " : string.Empty) + t.ToEvent().Describe()));
            add($"{string.Join(' ', unit)} | {service} | {payload}{(events.Length > 0 ? " | " + events : string.Empty)}", unit, service, payload, triggers, false, null);
        }

        var stop = new Trigger(TriggerKind.Stop);
        var start = new Trigger(TriggerKind.Start);
        var restart = new Trigger(TriggerKind.Restart);
        var isActive = new Trigger(TriggerKind.IsActive);
        const string Waiting = "Restart=on-failure, RestartSec=3s";

        // A stop, start or restart during the RestartSec= wait, and is-active while waiting.
        T(Waiting, Payload.Exits(1), stop.Wait(500));
        T(Waiting, Payload.Exits(1), isActive.Wait(500), stop, isActive);
        T(Waiting, Payload.Exits(1), start.Wait(500));
        T(Waiting, Payload.Exits(1), restart.Wait(500));
        T(Waiting, Payload.Exits(1), stop.Wait(500), start);
        T("Restart=always, RestartSec=3s", Payload.Exits(0), stop.Wait(500));
        T("Restart=on-abnormal, RestartSec=3s", Payload.Dies(UnixSignal.SIGKILL), stop.Wait(500), isActive);
        T(Waiting, Payload.Exits(1), start.Wait(500), isActive);

        // Stops and starts of units that are not running.
        T("Restart=no", Payload.Exits(1), stop.Wait(300), isActive);
        T("Restart=no", Payload.Exits(1), start.Wait(300));
        T("Restart=no", Payload.Exits(0), isActive.Wait(300), start, isActive);
        T("Restart=no", Payload.Waits(), stop, start, isActive);
        T("Restart=no", Payload.Waits(), isActive);

        // Events in a row: kills, restarts, and the counter after each.
        // (RestartSec=1s: a poll must see each wait, as the ending shown is the one the last wait showed.)
        var kill = new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGKILL);
        T("Restart=on-failure, RestartSec=1s", Payload.Waits(), kill, kill.Wait(2500));
        T("Restart=on-failure, RestartSec=1s", Payload.Waits(), kill, restart.Wait(2500));
        T("Restart=on-failure, RestartSec=1s", Payload.Waits(), kill, stop.Wait(2500), start);
        T("Restart=always, RestartSec=1s", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 0).EveryTime(), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGTERM), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGTERM).Wait(2500));
        T("Restart=no", Payload.Waits(), restart, restart, restart);
        L(["StartLimitBurst=3", "StartLimitIntervalSec=60"], "Restart=no", Payload.Waits(), restart, restart, restart);
        L(["StartLimitBurst=2", "StartLimitIntervalSec=60"], "Restart=no", Payload.Exits(1), start.Wait(300), start.Wait(300), isActive);
        L(["StartLimitBurst=3", "StartLimitIntervalSec=60"], "Restart=on-failure, RestartSec=1s", Payload.Waits(), kill, kill.Wait(2500), kill.Wait(2500));

        // The process' own reaction to a signal: default action, ignored, a handler that exits.
        T("Restart=on-failure", Payload.Waits(), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGTERM));
        T("Restart=on-failure", Payload.Waits().Ignoring(UnixSignal.SIGTERM), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGTERM), isActive);
        T("Restart=on-failure", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 1), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGTERM));
        T("Restart=on-failure", Payload.Waits(), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGQUIT));
        T("Restart=on-failure, TimeoutStopSec=1s", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 3), stop);
        T("Restart=always, TimeoutStopSec=1s, SendSIGKILL=yes", Payload.Waits().Ignoring(UnixSignal.SIGTERM), restart);

        // Core dumps: LimitCORE= decides killed or dumped (the host's core_pattern is a file).
        T("Restart=no, LimitCORE=infinity", Payload.Waits(), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGSEGV));
        T("Restart=on-abort, RestartSec=1s, LimitCORE=infinity", Payload.Waits(), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGABRT));
        T("Restart=no, LimitCORE=0", Payload.Waits(), new Trigger(TriggerKind.ManagerKill, UnixSignal.SIGQUIT));

        // Type=notify: never ready, ready, clean and unclean exits before READY=1.
        T("Type=notify, TimeoutStartSec=1s", Payload.Waits());
        T("Type=notify, TimeoutStartSec=1s, Restart=on-failure, RestartSec=200ms, StartLimitBurst=2", Payload.Waits().EveryTime());
        T("Type=notify, TimeoutStartSec=1s, Restart=on-watchdog", Payload.Waits());
        T("Type=notify, TimeoutStartSec=1s, TimeoutStopSec=1s", Payload.Waits().Ignoring(UnixSignal.SIGTERM));
        T("Type=notify, NotifyAccess=all", Payload.Waits().Ready());
        T("Type=notify", Payload.Exits(0));
        T("Type=notify, Restart=on-abnormal, RestartSec=200ms, StartLimitBurst=3", Payload.Exits(0).EveryTime());
        T("Type=notify, Restart=on-abnormal", Payload.Exits(2));

        // WatchdogSec= with a process that never pings; WatchdogSignal=; LimitCORE= for the abort. (Timers stay under
        // the runner's 600 ms settle time, so a case is not taken as settled before its timer fires.)
        T("WatchdogSec=300ms", Payload.Waits());
        T("WatchdogSec=300ms, LimitCORE=infinity", Payload.Waits());
        T("WatchdogSec=300ms, WatchdogSignal=SIGTERM", Payload.Waits());
        T("WatchdogSec=300ms, Restart=on-watchdog, RestartSec=200ms, StartLimitBurst=2", Payload.Waits().EveryTime());

        // RuntimeMaxSec=: a stop of its own, Result=timeout, and Restart= applies.
        T("RuntimeMaxSec=300ms", Payload.Waits());
        T("RuntimeMaxSec=300ms, Restart=on-failure, RestartSec=200ms, StartLimitBurst=2", Payload.Waits().EveryTime());
        T("RuntimeMaxSec=300ms, Restart=on-success", Payload.Waits());

        // Starts that fail before exec: simple starts succeed, exec starts fail; both are restarted like any exit.
        T("Restart=no", Payload.FailsToExec(203));
        T("Type=exec, Restart=no", Payload.FailsToExec(203));
        T("Restart=no, WorkingDirectory=/nonexistent/hgd-dir", Payload.FailsToExec(200));
        T("Type=exec, Restart=no, User=hgd-no-such-user", Payload.FailsToExec(217));
        T("Restart=on-failure, RestartSec=100ms, StartLimitBurst=3", Payload.FailsToExec(203));
        T("Restart=on-failure, RestartPreventExitStatus=203", Payload.FailsToExec(203));
        T("Type=exec, Restart=no", Payload.Waits());

        // A start during the wait takes a start-limit token of its own; active (exited) ignores a start, a stop ends it;
        // any clean end before READY=1 (also a signal) is a protocol failure.
        L(["StartLimitBurst=2", "StartLimitIntervalSec=60"], "Restart=on-failure, RestartSec=3s", Payload.Exits(1), start.Wait(500), isActive);
        L(["StartLimitBurst=3", "StartLimitIntervalSec=60"], "Restart=on-failure, RestartSec=3s", Payload.Exits(1), start.Wait(500), isActive);
        T("Restart=no, RemainAfterExit=yes", Payload.Exits(0), start.Wait(300), isActive, stop, isActive);
        T("Type=notify, Restart=no", Payload.Waits(), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGTERM).Wait(300));
        T("Type=notify, Restart=no", Payload.Waits(), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGKILL).Wait(300));
        T("Type=notify, Restart=on-failure, RestartSec=200ms, StartLimitBurst=1", Payload.Waits().OnSignalExit(UnixSignal.SIGTERM, 0), new Trigger(TriggerKind.ExternalKill, UnixSignal.SIGTERM).Wait(300));

        // 252's NRestarts quirk: after an automatic restart, a stop (or restart) during the next wait keeps the count.
        T("Restart=on-failure, RestartSec=1s", Payload.Waits(), kill, kill.Wait(2500), stop.Wait(300), start);
        T("Restart=on-failure, RestartSec=1s", Payload.Waits(), kill, kill.Wait(2500), restart.Wait(300));

        // The watchdog under Type=exec, and TimeoutAbortSec= for a process that ignores the watchdog's SIGABRT.
        T("Type=exec, WatchdogSec=300ms", Payload.Waits());
        T("WatchdogSec=300ms, TimeoutAbortSec=500ms", Payload.Waits().Ignoring(UnixSignal.SIGABRT));
    }
}
