using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Launchd;

/// <summary>Plays each lifecycle scenario through the launchd model and judges the result against the scenario's intent.</summary>
internal static class LaunchdScenarioJudge
{
    public static ScenarioVerdict Judge(LaunchdConfiguration config, LaunchdModel model, GatewayExitContract contract, EvaluationOptions options, ScenarioDefinition def)
    {
        var s = model.Settings;
        if (model.LoadRefused)
        {
            var fatal = config.Diagnostics.First(d => d.Severity == DiagnosticSeverity.Fatal);
            return Verdict(config, def, "never runs", "job not loaded", false, null, "unloaded", "-", false,
                $"launchctl refuses to load the job: {fatal.Message}", "fix the plist (plutil -lint, and the keys named above)", null);
        }

        if (model.IsDisabled)
        {
            // docs/models.md §2.7: a disabled label is not loaded by launchctl bootstrap; no scenario can happen.
            var o = model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(0), options.SteadyRunTime), contract);
            var target = ServiceTarget(model.Domain.Kind, s.Label);
            var fix = model.Domain.DisabledJobs.Contains(s.Label)
                ? $"launchctl enable {target}, then launchctl bootstrap the plist again"
                : $"remove the Disabled key from the plist (or run 'launchctl enable {target}', which overrides it), then bootstrap it again";
            return Verdict(config, def, "never runs", o.Explanation, false, null, o.FinalState, o.LastExit, false,
                $"{o.Explanation}: the gateway is never started", fix, o.Unverified);
        }

        if (model.ProgramMissing)
        {
            // docs/models.md §2.6: every spawn fails; KeepAlive only makes launchd retry the failure.
            var o = model.Apply(new LaunchdKickstart(KillFirst: false, TimeSpan.Zero), contract);
            return Verdict(config, def, "never starts (program missing)", o.Explanation, false, o.Delay, o.FinalState, o.LastExit, false,
                $"{o.Explanation}: the gateway never runs", (s.ProgramPath is { } at ? $"install the gateway at '{at}', or point {(s.Program is null ? "ProgramArguments[0]" : "Program")} at the installed executable" : $"install '{(s.ProgramArguments.Length > 0 ? s.ProgramArguments[0] : "the gateway")}' on launchd's PATH, or give ProgramArguments[0] as an absolute path"), o.Unverified);
        }

        var steady = options.SteadyRunTime;

        // launchd sets no INVOCATION_ID (Hermes 0.16 on macOS exits 75 on the restart signal whatever it sees).
        contract = contract.InEnvironment(invocationIdVisible: false);
        switch (def.Scenario)
        {
            case LifecycleScenario.RestartCommand when contract.RestartCommandExitCode is { } code && code != contract.RestartExitCode:
                return RestartCommandWithOwnHelper(config, def, model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(code), steady), contract), contract, options, code);

            case LifecycleScenario.ServiceRestart or LifecycleScenario.RestartCommand or LifecycleScenario.UpdateCommand or LifecycleScenario.RestartFromInside:
            {
                var o = model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(contract.RestartExitCode), steady), contract);
                var v = ReviveNow(config, def, o, contract, options, $"drains, exits {contract.RestartExitCode} (planned restart)");
                if (def.Scenario == LifecycleScenario.RestartFromInside && v.Ok)
                {
                    var requester = s.AbandonProcessGroup
                        ? "AbandonProcessGroup=true leaves the requester running"
                        : "launchd sends SIGTERM to the job's process group when it exits, so a requester that did not start a new session dies with it";
                    v = v with { Why = $"{v.Why}; {requester}" };
                }

                return v;
            }

            case LifecycleScenario.OnDemandOnlyRestart:
            {
                var domain = model.Domain with { OnDemandOnly = true };
                var o = new LaunchdModel(s, domain).Apply(new LaunchdProcessEnded(ProcessEnding.Exit(contract.RestartExitCode), steady), contract);
                var v = ReviveNow(config, def, o, contract, options, $"drains, exits {contract.RestartExitCode} (planned restart)");
                return o.Pending
                    ? v with { Fix = "no plist setting can: only an explicit 'launchctl kickstart gui/<uid>/<label>' after the exit brings it back" }
                    : v;
            }

            case LifecycleScenario.RestartBurst:
            {
                LaunchdOutcome? last = null;
                for (var i = 1; i <= options.RestartBurstCount; i++)
                {
                    last = model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(contract.RestartExitCode), options.RestartBurstRunTime), contract);
                    var single = ReviveNow(config, def, last, contract, options, $"restart {i} of {options.RestartBurstCount}: exits {contract.RestartExitCode} after running {options.RestartBurstRunTime.TotalSeconds:0.#} s");
                    if (!single.Ok)
                    {
                        return single;
                    }
                }

                return Verdict(config, def, $"exits {contract.RestartExitCode} {options.RestartBurstCount} times, {options.RestartBurstRunTime.TotalSeconds:0.#} s apart", last!.Explanation, true, last.Delay, last.FinalState, last.LastExit, true,
                    $"ThrottleInterval={s.ThrottleInterval} s is no longer than a run of {options.RestartBurstRunTime.TotalSeconds:0.#} s, so no restart waits", null, last.Unverified);
            }

            case LifecycleScenario.ManagerRestart:
            {
                var o = model.Apply(new LaunchdKickstart(KillFirst: true, steady), contract);
                if (o.KilledWithoutSigterm)
                {
                    return Verdict(config, def, contract.Describe(o.Ending), o.Explanation, o.Revived, o.Delay, o.FinalState, o.LastExit, false,
                        $"{o.Explanation}: the drain did not happen (the gateway is killed without SIGTERM, then started again)", TransactionsFix, o.Unverified);
                }

                var killed = o.Ending?.Kind == EndingKind.Killed && o.Ending.Signal == UnixSignal.SIGKILL;
                return Verdict(config, def, contract.Describe(o.Ending), o.Explanation, o.Revived, o.Delay, o.FinalState, o.LastExit, !killed,
                    killed ? $"{o.Explanation}: a draining gateway is killed mid-drain" : "kickstart -k stops it (the drain fits in ExitTimeOut) and starts it at once",
                    killed ? $"set ExitTimeOut above {contract.DrainTimeout.TotalSeconds:0} s (drain budget plus headroom)" : null, o.Unverified);
            }

            case LifecycleScenario.ManagerStop:
            {
                var o = model.Apply(new LaunchdBootout(steady), contract);
                if (o.KilledWithoutSigterm)
                {
                    return Verdict(config, def, contract.Describe(o.Ending), o.Explanation, false, null, o.FinalState, o.LastExit, false,
                        $"{o.Explanation}: the drain did not happen (the gateway is killed without SIGTERM)", TransactionsFix, o.Unverified);
                }

                var killed = o.Ending?.Kind == EndingKind.Killed && o.Ending.Signal == UnixSignal.SIGKILL;
                return Verdict(config, def, contract.Describe(o.Ending), o.Explanation, false, null, o.FinalState, o.LastExit, !killed,
                    killed ? $"{o.Explanation}: the gateway is killed mid-drain" : "bootout removes the job after the drain; launchd has no failed state",
                    killed ? $"set ExitTimeOut above {contract.DrainTimeout.TotalSeconds:0} s (drain budget plus headroom)" : null, o.Unverified);
            }

            case LifecycleScenario.CleanExit:
            {
                var o = model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(contract.PlannedStopExitCode), steady), contract);
                return Verdict(config, def, $"exits {contract.PlannedStopExitCode} (planned stop)", o.Explanation, o.Revived || o.Pending, o.Delay, o.FinalState, o.LastExit, !o.Revived && !o.Pending,
                    o.Revived || o.Pending ? $"{o.Explanation}: a planned stop is undone" : o.Explanation,
                    o.Revived || o.Pending ? "use KeepAlive = { SuccessfulExit = false } so an exit 0 stays stopped" : null, o.Unverified);
            }

            case LifecycleScenario.ExternalTerm:
                return ReviveAndRecord(config, def, model.Apply(new LaunchdExternalSignal(contract.StopSignal, steady), contract), contract);
            case LifecycleScenario.ExternalKill:
                return ReviveAndRecord(config, def, model.Apply(new LaunchdProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGKILL), steady), contract), contract);
            case LifecycleScenario.OomKill:
            {
                var v = ReviveAndRecord(config, def, model.Apply(new LaunchdProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGKILL), steady), contract), contract);
                return v with { Unverified = "macOS has no OOM killer of systemd's kind; memory-pressure kills (jetsam) are modelled as SIGKILL" };
            }

            case LifecycleScenario.Crash:
                return ReviveAndRecord(config, def, model.Apply(new LaunchdProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGSEGV, contract.CoreDumps), steady), contract), contract);

            case LifecycleScenario.ConfigError:
            {
                var o = model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(contract.ConfigErrorExitCode), contract.FailedStartRunTime), contract);
                var revived = o.Revived || o.Pending;
                return Verdict(config, def, $"exits {contract.ConfigErrorExitCode} (configuration error) after {contract.FailedStartRunTime.TotalSeconds:0.#} s", o.Explanation, revived, o.Delay, o.FinalState, o.LastExit, !revived,
                    revived ? $"{o.Explanation}: a configuration error is retried forever" : o.Explanation,
                    revived ? $"launchd has no equivalent of RestartPreventExitStatus=: no KeepAlive condition tells exit {contract.ConfigErrorExitCode} from other failures (only a wrapper that turns it into 0, with KeepAlive = {{ SuccessfulExit = false }}, keeps it down)" : null,
                    o.Unverified);
            }

            case LifecycleScenario.CrashLoop:
            {
                var o = model.Apply(new LaunchdProcessEnded(ProcessEnding.Exit(contract.UnexpectedExitCode), contract.FailedStartRunTime), contract);
                var gateway = $"exits {contract.UnexpectedExitCode} {contract.FailedStartRunTime.TotalSeconds:0.#} s after every start";
                if (!o.Revived)
                {
                    return Verdict(config, def, gateway, o.Explanation, false, null, o.FinalState, o.LastExit, false, $"{o.Explanation}: the gateway stays dead",
                        "use KeepAlive = true or { SuccessfulExit = false }", o.Unverified);
                }

                var ok = o.Delay >= options.CrashLoopMinDelay;
                return Verdict(config, def, gateway, $"{o.Explanation}; launchd has no start limit and never gives up", true, o.Delay, o.FinalState, o.LastExit, ok,
                    ok ? $"ThrottleInterval={s.ThrottleInterval} s spaces the attempts {o.Delay!.Value.TotalSeconds:0} s apart, and launchd never gives up"
                       : $"ThrottleInterval={s.ThrottleInterval} s does not space out a run of {contract.FailedStartRunTime.TotalSeconds:0.#} s: respawn after {o.Delay!.Value.TotalSeconds:0} s",
                    ok ? null : "raise ThrottleInterval (10 s is launchd's default)",
                    "Apple's guide warns that jobs respawning too fast may be suspended; not seen in recent reports (unverified)");
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(def), def.Scenario, "Scenario without a launchd judgement.");
        }
    }

    public static SupervisorOutcome Answer(LaunchdConfiguration config, SupervisorEventRequest request, GatewayExitContract contract, EvaluationOptions options)
    {
        var model = new LaunchdModel(config.Job, options.LaunchdDomain);
        contract = contract.InEnvironment(invocationIdVisible: false);
        var run = request.RunTime ?? options.SteadyRunTime;
        LaunchdEvent ev = request.Kind switch
        {
            SupervisorEventKind.Exit => new LaunchdProcessEnded(ProcessEnding.Exit(request.ExitCode!.Value), run),
            SupervisorEventKind.Signal => new LaunchdExternalSignal(UnixSignals.Parse(request.Signal, SignalPlatform.Darwin), run),
            SupervisorEventKind.ManagerStop => new LaunchdBootout(run),
            SupervisorEventKind.ManagerRestart => new LaunchdKickstart(true, run),
            _ => new LaunchdProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGKILL), run),
        };
        var o = model.Apply(ev, request.Behavior(contract));
        return new SupervisorOutcome(config.Name, config.Path, ServicePlatform.Launchd, ev.Describe(), o.Ending?.ToString() ?? "(still running)",
            o.Revived, o.Delay, o.FinalState, o.LastExit, o.Rule.ToString(), o.Explanation, o.Unverified, null, null, null, o.Children?.Describe());
    }

    private static ScenarioVerdict ReviveNow(LaunchdConfiguration config, ScenarioDefinition def, LaunchdOutcome o, GatewayExitContract contract, EvaluationOptions options, string gateway)
    {
        var s = config.Job.Settings;
        if (o.Pending)
        {
            return Verdict(config, def, gateway, o.Explanation, false, null, o.FinalState, o.LastExit, false, o.Explanation,
                "only an explicit 'launchctl kickstart gui/<uid>/<label>' after the exit brings it back", o.Unverified);
        }

        if (!o.Revived)
        {
            var fix = o.Rule == LaunchdDecisionRule.KeepAliveConditions && s.KeepAlive.SuccessfulExit is false && o.SeenByLaunchd is { Kind: EndingKind.Exited, ExitCode: 0 }
                ? $"make the restart exit {contract.RestartExitCode}, not 0: a restart that exits 0 is a stop under SuccessfulExit=false"
                : "use KeepAlive = true or { SuccessfulExit = false } with a restart code other than 0";
            return Verdict(config, def, gateway, o.Explanation, false, null, o.FinalState, o.LastExit, false, $"{o.Explanation}: the gateway silently stays dark", fix, o.Unverified);
        }

        if (o.Delay > options.ReviveWithin)
        {
            return Verdict(config, def, gateway, o.Explanation, true, o.Delay, o.FinalState, o.LastExit, false,
                $"{o.Explanation}: more than the {options.ReviveWithin.TotalSeconds:0.#} s a planned restart may take",
                "kickstart the job after the exit ('launchctl kickstart gui/<uid>/<label>') instead of waiting for the throttle", o.Unverified);
        }

        return Verdict(config, def, gateway, o.Explanation, true, o.Delay, o.FinalState, o.LastExit, true, o.Explanation, null, o.Unverified);
    }

    private const string TransactionsFix = "remove EnableTransactions (or set it false): the gateway opens no launchd transactions, so with it launchd may SIGKILL it instead of sending SIGTERM";

    /// <summary>launchctl's service target for a label in a domain of this kind, with the uid left as a placeholder.</summary>
    private static string ServiceTarget(LaunchdDomainKind kind, string label) => kind switch
    {
        LaunchdDomainKind.System => $"system/{label}",
        LaunchdDomainKind.User => $"user/<uid>/{label}",
        _ => $"gui/<uid>/{label}",
    };

    /// <summary>Hermes' own launchd label for a profile: ai.hermes.gateway, or ai.hermes.gateway-&lt;suffix&gt;.</summary>
    private const string HermesLabel = "ai.hermes.gateway";

    /// <summary>
    /// A chat /restart that exits with another code than the restart signal (Hermes 0.16: 0, after a detached helper in
    /// its own session was spawned to run 'hermes gateway restart', which kickstarts -k the label Hermes derives for
    /// its HERMES_HOME). launchd kills only the job's process group, so the helper outlives the exit.
    /// </summary>
    private static ScenarioVerdict RestartCommandWithOwnHelper(LaunchdConfiguration config, ScenarioDefinition def, LaunchdOutcome o, GatewayExitContract contract, EvaluationOptions options, int code)
    {
        var gateway = $"exits {code} after spawning a detached 'hermes gateway restart' helper";
        var label = config.Name;
        var hermesOwn = label == HermesLabel || label.StartsWith(HermesLabel + "-", StringComparison.Ordinal);
        const string source = "no macOS here: the helper's path is read from Hermes 0.16's source (gateway/run.py _launch_detached_restart_command, hermes_cli/gateway.py launchd_restart), not run";
        if (o.Revived)
        {
            return Verdict(config, def, gateway, o.Explanation, true, o.Delay, o.FinalState, o.LastExit, o.Delay <= options.ReviveWithin,
                $"{o.Explanation}{(hermesOwn ? $"; the gateway's own helper then runs 'launchctl kickstart -k' on '{label}' as well: a second restart" : string.Empty)}",
                hermesOwn ? "use KeepAlive { SuccessfulExit = false } so only the helper restarts it" : null, source);
        }

        if (hermesOwn)
        {
            return Verdict(config, def, gateway, $"{o.Explanation}; the helper sees the exit within 0.2 s and runs 'launchctl kickstart -k' on '{label}'", true, TimeSpan.FromSeconds(2), "running", o.LastExit, true,
                $"launchd leaves exit {code} alone, and the gateway's own helper restarts the job: '{label}' is the label Hermes derives (when it matches this plist's HERMES_HOME)", null, source);
        }

        return Verdict(config, def, gateway, o.Explanation, false, null, o.FinalState, o.LastExit, false,
            $"{o.Explanation}, and the gateway's own helper kickstarts the label Hermes derives, not '{label}': the gateway silently stays dark",
            $"name the job as Hermes does for its HERMES_HOME ({HermesLabel}[-profile]), or use KeepAlive = true (then SIGINT and other clean exits are revived too)", source);
    }

    private static ScenarioVerdict ReviveAndRecord(LaunchdConfiguration config, ScenarioDefinition def, LaunchdOutcome o, GatewayExitContract contract)
    {
        var revived = o.Revived;
        return Verdict(config, def, contract.Describe(o.Ending), o.Explanation, revived, o.Delay, o.FinalState, o.LastExit, revived,
            revived ? $"{o.Explanation}; launchd keeps the '{o.LastExit}' for 'launchctl print'" : $"{o.Explanation}: the gateway stays dead",
            revived ? null : "use KeepAlive = true or { SuccessfulExit = false } so unexpected deaths are revived", o.Unverified);
    }

    private static ScenarioVerdict Verdict(LaunchdConfiguration config, ScenarioDefinition def, string gateway, string supervisor, bool revived, TimeSpan? delay,
        string final, string result, bool ok, string why, string? fix, string? unverified) =>
        new(config.Name, config.Path, config.Platform, def.Scenario, def.Trigger, gateway, supervisor, revived, delay, final, result, def.Intent, def.IntentText, ok, why, fix, unverified);
}
