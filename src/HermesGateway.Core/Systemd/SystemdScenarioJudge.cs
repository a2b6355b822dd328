using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Systemd;

/// <summary>Plays each lifecycle scenario through the systemd model and judges the result against the scenario's intent.</summary>
internal static class SystemdScenarioJudge
{
    public static ScenarioVerdict Judge(SystemdConfiguration config, SystemdModel model, GatewayExitContract contract, EvaluationOptions options, ScenarioDefinition def)
    {
        var unit = config.Unit;
        if (model.LoadRefused)
        {
            var fatal = unit.Diagnostics.First(d => d.Severity == DiagnosticSeverity.Fatal);
            return Verdict(config, def, "never runs", "unit not loaded (bad-setting)", false, null, "not loaded", "-", false,
                $"systemd refuses to load the unit: {fatal.Message}", "fix the setting systemd refuses (see 'systemd-analyze verify')", null);
        }

        var state = model.StartedByHand(TimeSpan.Zero);
        var steady = options.SteadyRunTime;
        var s = model.Settings;

        // The gateway neither says READY=1 nor pings a watchdog: such a unit never keeps it running, whatever the event.
        if (s.WaitsForReady)
        {
            var started = s.TimeoutStartSec is { } limit ? $"times out after TimeoutStartSec={SystemdModel.Fmt(limit)} (Result=timeout) and the gateway is stopped" : "waits for ever in activating (start)";
            return Verdict(config, def, "never sends READY=1", $"every start {started}", false, null, s.TimeoutStartSec is null ? "activating (start)" : "failed or restarting", "timeout", false,
                $"Type={SystemdNames.Of(s.Type)}: the Hermes gateway never sends READY=1, so every start {started}", "set Type=simple (or exec): the gateway does not speak the notify protocol", null);
        }

        if (s.WatchdogSec is { } watchdog)
        {
            return Verdict(config, def, "never sends WATCHDOG=1", $"{s.WatchdogSignal} every {SystemdModel.Fmt(watchdog)}", false, null, "aborted and restarted (or failed)", "watchdog", false,
                $"WatchdogSec={SystemdModel.Fmt(watchdog)}: the Hermes gateway never sends WATCHDOG=1, so systemd sends {s.WatchdogSignal} {SystemdModel.Fmt(watchdog)} after every start (Result=watchdog), draining nothing",
                "remove WatchdogSec=: the gateway does not ping the watchdog", null);
        }

        // What this unit's gateway sees: Hermes 0.16 picks its restart code by INVOCATION_ID, which the unit may unset.
        var invocationIdVisible = !SystemdModel.HidesInvocationId(s);
        var ownHelper = invocationIdVisible && contract.SupervisedRestartExitCode is not null;
        contract = contract.InEnvironment(invocationIdVisible);
        switch (def.Scenario)
        {
            case LifecycleScenario.ServiceRestart or LifecycleScenario.RestartCommand or LifecycleScenario.UpdateCommand or LifecycleScenario.RestartFromInside:
            {
                var code = def.Scenario == LifecycleScenario.RestartCommand ? contract.RestartCommandExitCode ?? contract.RestartExitCode : contract.RestartExitCode;
                var o = model.Apply(state, new MainProcessEnded(ProcessEnding.Exit(code), contract.RecordsRestartRequest), contract, steady);
                var recorded = contract.RecordsRestartRequest ? ", restart recorded in gateway_state.json" : string.Empty;
                var v = ReviveNow(config, def, o, contract, options, $"drains, exits {code} (planned restart{recorded})", code);
                if (v.Ok && o.Rule == SystemdDecisionRule.RestartReviver && ownHelper && code == contract.PlannedStopExitCode)
                {
                    v = v with { Unverified = "the gateway sees INVOCATION_ID: Hermes 0.16 also launches its own systemd-run helper when this is the user unit of its own name (hermes-gateway[-profile]), which restarts it a second time; UnsetEnvironment=INVOCATION_ID avoids it" };
                }
                if (def.Scenario == LifecycleScenario.RestartFromInside && v.Ok)
                {
                    var requester = s.KillMode switch
                    {
                        KillMode.Mixed => "KillMode=mixed SIGKILLs the rest of the cgroup, the requester included, once the gateway exits",
                        KillMode.ControlGroup => "KillMode=control-group sends SIGTERM to the rest of the cgroup, the requester included",
                        _ => $"KillMode={SystemdNames.Of(s.KillMode)} leaves the requester running beside the new gateway",
                    };
                    v = v with { Why = $"{v.Why}; {requester}, so only the supervisor can bring it back and a helper that must check the result has to run outside the unit" };
                }

                return v;
            }

            case LifecycleScenario.RestartBurst:
            {
                SystemdOutcome? last = null;
                var t = TimeSpan.Zero;
                for (var i = 1; i <= options.RestartBurstCount; i++)
                {
                    last = model.Apply(state, new MainProcessEnded(ProcessEnding.Exit(contract.RestartExitCode), contract.RecordsRestartRequest), contract, t + options.RestartBurstRunTime);
                    var single = ReviveNow(config, def, last, contract, options, $"restart {i} of {options.RestartBurstCount}: exits {contract.RestartExitCode} after running {options.RestartBurstRunTime.TotalSeconds:0.#} s", contract.RestartExitCode);
                    if (!single.Ok)
                    {
                        return single;
                    }

                    state = last.Final;
                    t = state.StartedAt;
                }

                return Verdict(config, def, $"exits {contract.RestartExitCode} {options.RestartBurstCount} times, {options.RestartBurstRunTime.TotalSeconds:0.#} s apart", last!.Explanation, true, last.Delay,
                    Describe(last.Final), SystemdNames.Of(last.Result), true,
                    s.StartLimitDisabled
                        ? "StartLimitIntervalSec=0 (or StartLimitBurst=0) puts no limit on planned restarts"
                        : $"{options.RestartBurstCount} starts stay within StartLimitBurst={s.StartLimitBurst} per StartLimitIntervalSec={SystemdModel.Fmt(s.StartLimitInterval)}", null, null);
            }

            case LifecycleScenario.ManagerRestart:
            {
                var o = model.Apply(state, new ManagerRestart(), contract, steady);
                var gateway = contract.Describe(o.Ending);
                var ok = o.Final.IsRunning && o.Result == ServiceResult.Success;
                string why;
                string? fix = null;
                if (!o.Final.IsRunning)
                {
                    why = o.Explanation;
                    fix = StartLimitFix(s);
                }
                else if (o.Result == ServiceResult.Timeout)
                {
                    why = $"TimeoutStopSec={Fmt(s.TimeoutStopSec)} is not longer than the {contract.DrainTimeout.TotalSeconds:0} s shutdown deadline: a draining gateway is killed mid-drain";
                    fix = $"raise TimeoutStopSec= above {contract.DrainTimeout.TotalSeconds:0} s (drain budget plus headroom)";
                }
                else if (o.Result != ServiceResult.Success)
                {
                    why = $"running again, but the stop half ended with Result={SystemdNames.Of(o.Result)} ({contract.Describe(o.Ending)}): every restart records a failure";
                    fix = "add an ExecStop= that writes the planned-stop marker for $MAINPID before the SIGTERM, so the stop half exits 0";
                }
                else
                {
                    why = "systemctl restart stops it cleanly (the drain fits in TimeoutStopSec=) and starts it again";
                }

                return Verdict(config, def, gateway, o.Explanation, o.Revived, o.Delay, Describe(o.Final), SystemdNames.Of(o.Result), ok, why, fix, MarkerNote(s));
            }

            case LifecycleScenario.ManagerStop:
            {
                var o = model.Apply(state, new ManagerStop(), contract, steady);
                return StayStopped(config, def, o, contract, contract.Describe(o.Ending), managerStop: true) with { Unverified = MarkerNote(s) };
            }

            case LifecycleScenario.CleanExit:
            {
                var o = model.Apply(state, new MainProcessEnded(ProcessEnding.Exit(contract.PlannedStopExitCode)), contract, steady);
                return StayStopped(config, def, o, contract, $"exits {contract.PlannedStopExitCode} (planned stop)", managerStop: false);
            }

            case LifecycleScenario.ExternalTerm:
                return ReviveAndRecord(config, def, model.Apply(state, new ExternalSignal(contract.StopSignal), contract, steady), contract);
            case LifecycleScenario.ExternalKill:
                return ReviveAndRecord(config, def, model.Apply(state, new MainProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGKILL)), contract, steady), contract);
            case LifecycleScenario.OomKill:
                return ReviveAndRecord(config, def, model.Apply(state, new OomKill(), contract, steady), contract);
            case LifecycleScenario.Crash:
                return ReviveAndRecord(config, def, model.Apply(state, new MainProcessEnded(ProcessEnding.KilledBy(UnixSignal.SIGSEGV, contract.CoreDumps)), contract, steady), contract);

            case LifecycleScenario.ConfigError:
            {
                var o = model.Apply(state, new MainProcessEnded(ProcessEnding.Exit(contract.ConfigErrorExitCode)), contract, contract.FailedStartRunTime);
                var shared = contract.ConfigErrorIsPlannedStopCode;
                var ok = !o.Revived && (o.Final.ActiveState == "failed" || (shared && !o.Final.IsRunning));
                string why;
                string? fix = null;
                if (shared && ok)
                {
                    why = $"{o.Explanation}. The gateway ends its permanent start-up error with exit {contract.ConfigErrorExitCode} ('startup_failed' in gateway_state.json), the planned-stop code: it is not retried, but no unit setting can mark it failed; a missing profile exits {contract.UnexpectedExitCode} like a crash and is retried with back-off (see CrashLoop)";
                }
                else if (o.Revived)
                {
                    why = $"{o.Explanation}: a configuration error is retried forever";
                    fix = $"add {contract.ConfigErrorExitCode} to RestartPreventExitStatus=";
                }
                else if (!ok)
                {
                    why = $"{o.Explanation}: the error is not visible as a failure";
                    fix = $"remove {contract.ConfigErrorExitCode} from SuccessExitStatus=";
                }
                else
                {
                    why = o.Rule == SystemdDecisionRule.RestartPreventExitStatus
                        ? $"{contract.ConfigErrorExitCode} is in RestartPreventExitStatus=: not revived, unit left failed"
                        : $"{o.Explanation}";
                }

                return Verdict(config, def, $"exits {contract.ConfigErrorExitCode} (configuration error) after {contract.FailedStartRunTime.TotalSeconds:0.#} s", o.Explanation, o.Revived, o.Delay,
                    Describe(o.Final), SystemdNames.Of(o.Result), ok, why, fix, null);
            }

            case LifecycleScenario.CrashLoop:
                return CrashLoop(config, def, model, state, contract, options);

            default:
                throw new ArgumentOutOfRangeException(nameof(def), def.Scenario, "Scenario without a systemd judgement.");
        }
    }

    public static SupervisorOutcome Answer(SystemdConfiguration config, SupervisorEventRequest request, GatewayExitContract contract, EvaluationOptions options)
    {
        var unit = config.Unit;
        var model = new SystemdModel(unit);
        contract = contract.InEnvironment(!SystemdModel.HidesInvocationId(unit.Settings));
        var run = request.RunTime ?? options.SteadyRunTime;
        var state = model.StartedByHand(TimeSpan.Zero);
        SystemdEvent ev = request.Kind switch
        {
            SupervisorEventKind.Exit => new MainProcessEnded(ProcessEnding.Exit(request.ExitCode!.Value)),
            SupervisorEventKind.Signal => new ExternalSignal(UnixSignals.Parse(request.Signal, SignalPlatform.Linux)),
            SupervisorEventKind.ManagerStop => new ManagerStop(),
            SupervisorEventKind.ManagerRestart => new ManagerRestart(),
            _ => new OomKill(),
        };
        var behavior = request.Behavior(contract);
        var (o, before, unverified) = WithTimers(model, behavior, ev, run) ?? (model.Apply(state, ev, behavior, run), null, null);
        var outcome = new SupervisorOutcome(config.Name, config.Path, ServicePlatform.Systemd, ev.Describe(), EndingText(o),
            o.Revived, o.Delay, Describe(o.Final), SystemdNames.Of(o.Result), o.Rule.ToString(), before is null ? o.Explanation : $"{before}; then {o.Explanation}", unverified, o.Final.NRestarts,
            (int)o.ExecMainCode, o.ExecMainStatus);
        if (ev is ManagerRestart)
        {
            // 'systemctl show' after a restart describes the new run (or, refused by the start limit, the failed unit);
            // the stop half's result is kept apart.
            outcome = outcome with
            {
                Result = SystemdNames.Of(o.Final.Result),
                ExecMainCode = (int)o.Final.ExecMainCode,
                ExecMainStatus = o.Final.ExecMainStatus,
                StopResult = SystemdNames.Of(o.Result),
                StopExecMainCode = (int)o.ExecMainCode,
                StopExecMainStatus = o.ExecMainStatus,
            };
        }

        return outcome;
    }

    /// <summary>How the main process ended in an answer: its ending, "(still running)", or "(no main process)" when the event found none.</summary>
    private static string EndingText(SystemdOutcome o) => o.Ending is { } ending
        ? SystemdValues.DescribeEnding(ending)
        : o.Rule is SystemdDecisionRule.NoProcess or SystemdDecisionRule.ManagerStart
          || (o.Rule is SystemdDecisionRule.NoChange or SystemdDecisionRule.StartLimit && o.Final.ActiveState is "inactive" or "failed")
            ? "(no main process)"
            : "(still running)";

    /// <summary>
    /// For a unit with timers of its own (WatchdogSec=, RuntimeMaxSec=, or Type=notify, whose start times out without
    /// READY=1; the gateway sends neither READY=1 nor WATCHDOG=1), the event is played through the simulator at
    /// <paramref name="run"/>, so what those timers did before it is part of the answer. Null for other units: a plain
    /// running unit has no timer that could fire before the event, and the single-step model answers it.
    /// </summary>
    private static (SystemdOutcome Outcome, string? Before, string? Unverified)? WithTimers(SystemdModel model, IProcessBehavior behavior, SystemdEvent ev, TimeSpan run)
    {
        var s = model.Settings;
        if (model.LoadRefused || (s.WatchdogSec is null && s.RuntimeMaxSec is null && s.Type is not (ServiceType.Notify or ServiceType.NotifyReload)))
        {
            return null;
        }

        var steps = new SystemdSimulator(model, new SystemdProcessProfile(behavior)).Run([new SystemdTimedEvent(run, ev)], TimeSpan.Zero);
        var posed = steps.Skip(1).FirstOrDefault(st => st.Posed);
        if (posed is not null && s.WaitsForReady && posed.Outcome.Final.IsRunning)
        {
            // The run that comes back waits for READY=1, which the process never sends: it starts, it does not run.
            posed = posed with { Outcome = posed.Outcome with { Final = posed.Outcome.Final with { ActiveState = "activating", SubState = "start" } } };
        }

        var timers = steps.Skip(1).TakeWhile(st => !st.Posed).ToList();
        if (posed is null)
        {
            var cut = model.Apply(model.StartedByHand(TimeSpan.Zero), ev, behavior, run);
            return (cut, null, $"unverified: the unit's own timers make more than {SystemdSimulator.MaxSteps} steps before t={SystemdModel.Fmt(run)}; the event is answered as if none had fired");
        }

        if (timers.Count == 0)
        {
            return (posed.Outcome, null, null);
        }

        var restarts = timers.Count(st => st.Started);
        var first = timers[0];
        var before = $"before the event at t={SystemdModel.Fmt(run)}: {first.Outcome.Event.Describe()}, done at t={SystemdModel.Fmt(first.At)}"
            + (timers.Count > 1 ? $" and {timers.Count - 1} more step(s) of systemd's own ({restarts} automatic restart(s))" : string.Empty)
            + $", leaving {Describe(timers[^1].State)}";
        return (posed.Outcome, before, null);
    }

    private static ScenarioVerdict ReviveNow(SystemdConfiguration config, ScenarioDefinition def, SystemdOutcome o, GatewayExitContract contract, EvaluationOptions options, string gateway, int code)
    {
        var s = config.Unit.Settings;
        string why;
        string? fix = null;
        var ok = false;
        if (!o.Revived)
        {
            why = o.Explanation;
            fix = o.Rule switch
            {
                SystemdDecisionRule.StartLimit => StartLimitFix(s),
                SystemdDecisionRule.RestartPreventExitStatus => $"remove {code} from RestartPreventExitStatus=",
                SystemdDecisionRule.RemainAfterExit => "set RemainAfterExit=no",
                _ when code == contract.PlannedStopExitCode && contract.RecordsRestartRequest =>
                    $"exit {code} is also a planned stop: add the module's ExecStopPost= restart reviver (New-HermesServiceDefinition writes it), which starts the unit only when gateway_state.json records the restart",
                _ when code == contract.PlannedStopExitCode => $"exit {code} is also a planned stop: hide INVOCATION_ID (UnsetEnvironment=INVOCATION_ID) so the gateway exits {contract.RestartExitCodeFor(false)}",
                _ => $"add {code} to RestartForceExitStatus= (it restarts whatever Restart= says)",
            };
        }
        else if (o.Delay > options.ReviveWithin)
        {
            why = $"revived only after {SystemdModel.Fmt(o.Delay!.Value)} (RestartSec={SystemdModel.Fmt(s.RestartSec)}{(s.RestartSteps > 0 ? ", RestartSteps=" : string.Empty)}), more than the {options.ReviveWithin.TotalSeconds:0.#} s a planned restart may take";
            fix = "lower RestartSec= (on systemd 254+ keep crash loops backing off with RestartSteps=/RestartMaxDelaySec=)";
        }
        else if (o.Result != ServiceResult.Success)
        {
            why = $"revived, but exit {code} is recorded as a failure (Result={SystemdNames.Of(o.Result)}): {code} is not in SuccessExitStatus=";
            fix = $"add {code} to SuccessExitStatus=";
        }
        else
        {
            ok = true;
            why = o.Rule switch
            {
                SystemdDecisionRule.RestartForceExitStatus => $"{code} is in RestartForceExitStatus= and SuccessExitStatus=: revived after {SystemdModel.Fmt(o.Delay!.Value)}, not a failure",
                SystemdDecisionRule.RestartReviver => $"exit {code} is clean and not restarted by Restart=, but the module's ExecStopPost= reads the recorded restart and starts the unit at once; not a failure",
                _ => $"{o.Explanation}; not a failure",
            };
        }

        return Verdict(config, def, gateway, o.Explanation, o.Revived, o.Delay, Describe(o.Final), SystemdNames.Of(o.Result), ok, why, fix, null);
    }

    private static ScenarioVerdict StayStopped(SystemdConfiguration config, ScenarioDefinition def, SystemdOutcome o, GatewayExitContract contract, string gateway, bool managerStop)
    {
        var s = config.Unit.Settings;
        var ok = !o.Revived && o.Final.ActiveState == "inactive" && o.Result != ServiceResult.Timeout;
        string why;
        string? fix = null;
        if (o.Revived)
        {
            why = $"{o.Explanation}: a planned stop is undone";
            fix = o.Rule == SystemdDecisionRule.RestartForceExitStatus
                ? $"remove {contract.PlannedStopExitCode} from RestartForceExitStatus="
                : $"use Restart=on-failure with RestartForceExitStatus={contract.RestartExitCode}, so only failures and planned restarts come back";
        }
        else if (o.Result == ServiceResult.Timeout)
        {
            why = $"TimeoutStopSec={Fmt(s.TimeoutStopSec)} is not longer than the {contract.DrainTimeout.TotalSeconds:0} s shutdown deadline: the gateway is killed mid-drain and the unit ends failed";
            fix = $"raise TimeoutStopSec= above {contract.DrainTimeout.TotalSeconds:0} s (drain budget plus headroom)";
        }
        else if (o.Final.ActiveState != "inactive")
        {
            why = managerStop && o.Ending?.Kind == EndingKind.Exited && o.Ending.ExitCode == contract.UnexpectedExitCode
                ? $"the gateway exits {contract.UnexpectedExitCode} on {s.KillSignal} without a planned-stop marker, {contract.UnexpectedExitCode} is not in SuccessExitStatus= and no ExecStop= marks the stop as planned: unit left {Describe(o.Final)}"
                : o.Explanation;
            fix = managerStop
                ? "add an ExecStop= that writes the planned-stop marker for $MAINPID before the SIGTERM, so only real stops exit 0"
                : $"keep {contract.PlannedStopExitCode} out of the failure list";
        }
        else
        {
            why = managerStop && SystemdModel.MarksPlannedStop(s)
                ? "ExecStop= writes the planned-stop marker, the gateway exits 0 and the unit ends inactive"
                : o.Explanation;
        }

        return Verdict(config, def, gateway, o.Explanation, o.Revived, o.Delay, Describe(o.Final), SystemdNames.Of(o.Result), ok, why, fix, null);
    }

    private static ScenarioVerdict ReviveAndRecord(SystemdConfiguration config, ScenarioDefinition def, SystemdOutcome o, GatewayExitContract contract)
    {
        var gateway = contract.Describe(o.Ending);
        var ok = o.Revived && o.Result != ServiceResult.Success;
        string why;
        string? fix = null;
        if (!o.Revived)
        {
            why = $"{o.Explanation}: the gateway stays dead";
            fix = o.Rule == SystemdDecisionRule.StartLimit ? StartLimitFix(config.Unit.Settings) : "use Restart=on-failure (or always) so unexpected deaths are revived";
        }
        else if (o.Result == ServiceResult.Success)
        {
            why = $"{o.Explanation}, but Result=success hides the death from alerting";
            fix = o.Ending?.Kind == EndingKind.Exited ? $"remove {o.Ending.ExitCode} from SuccessExitStatus=" : $"remove {o.Ending?.Signal} from SuccessExitStatus=";
        }
        else
        {
            why = o.Explanation;
        }

        return Verdict(config, def, gateway, o.Explanation, o.Revived, o.Delay, Describe(o.Final), SystemdNames.Of(o.Result), ok, why, fix, null);
    }

    private static ScenarioVerdict CrashLoop(SystemdConfiguration config, ScenarioDefinition def, SystemdModel model, SystemdUnitState state, GatewayExitContract contract, EvaluationOptions options)
    {
        var s = model.Settings;
        var run = contract.FailedStartRunTime;
        var revivals = 0L;
        TimeSpan? lastDelay = null;
        var t = TimeSpan.Zero;
        var stableSince = TimeSpan.Zero;
        var stableCycles = 0;
        SystemdOutcome? o = null;
        while (t < options.CrashLoopHorizon)
        {
            o = model.Apply(state, new MainProcessEnded(ProcessEnding.Exit(contract.UnexpectedExitCode)), contract, t + run);
            if (!o.Revived)
            {
                break;
            }

            revivals++;
            if (o.Delay == lastDelay)
            {
                stableCycles++;
            }
            else
            {
                stableSince = t;
                stableCycles = 0;
            }

            lastDelay = o.Delay;
            state = o.Final;
            t = state.StartedAt;

            // Once the period is constant for a whole start-limit window (and more starts than the burst),
            // every later window repeats this one: the loop can no longer give up.
            if (stableCycles > s.StartLimitBurst + 1 && (s.StartLimitDisabled || t - stableSince > s.StartLimitInterval))
            {
                var period = run + lastDelay!.Value;
                revivals += (long)((options.CrashLoopHorizon - t).Ticks / Math.Max(1, period.Ticks));
                break;
            }
        }

        var gateway = $"exits {contract.UnexpectedExitCode} {run.TotalSeconds:0.#} s after every start";
        if (!o!.Revived)
        {
            var fix = o.Rule == SystemdDecisionRule.StartLimit ? StartLimitFix(s) : "use Restart=on-failure (or always)";
            return Verdict(config, def, gateway, o.Explanation, false, lastDelay, Describe(o.Final), SystemdNames.Of(o.Result), false,
                $"gives up after {revivals + 1} runs: {o.Explanation}", fix, null);
        }

        var perHour = $"revived {revivals} times in {options.CrashLoopHorizon.TotalMinutes:0} min";
        if (lastDelay < options.CrashLoopMinDelay)
        {
            return Verdict(config, def, gateway, $"{perHour}, {SystemdModel.Fmt(lastDelay!.Value)} apart", true, lastDelay, Describe(o.Final), SystemdNames.Of(o.Result), false,
                $"never gives up, but restarts every {SystemdModel.Fmt(lastDelay.Value)} (RestartSec={SystemdModel.Fmt(s.RestartSec)}): no back-off",
                model.Version >= 254 ? "set RestartSteps= and RestartMaxDelaySec= so the delay grows" : "raise RestartSec= to at least 1 s", null);
        }

        var limit = s.StartLimitDisabled
            ? "StartLimitIntervalSec=0 never abandons it"
            : $"each run plus RestartSec= outlasts StartLimitIntervalSec={SystemdModel.Fmt(s.StartLimitInterval)}/StartLimitBurst={s.StartLimitBurst}, so the start limit is never hit";
        return Verdict(config, def, gateway, $"{perHour}, {SystemdModel.Fmt(lastDelay!.Value)} apart at the end", true, lastDelay, Describe(o.Final), SystemdNames.Of(o.Result), true,
            $"backs off ({SystemdModel.Fmt(lastDelay.Value)} between attempts) and {limit}", null, null);
    }

    private static string? MarkerNote(SystemdServiceSettings s) => SystemdModel.MentionsPlannedStopMarkerOtherwise(s)
        ? $"an ExecStop= mentions the planned-stop marker but is not the module's '{SystemdModel.PlannedStopMarkerCommand}' command; it is assumed not to mark the stop"
        : null;

    private static string StartLimitFix(SystemdServiceSettings s) =>
        $"set StartLimitIntervalSec=0 in [Unit], or make RestartSec= long enough that {s.StartLimitBurst} restarts outlast StartLimitIntervalSec={SystemdModel.Fmt(s.StartLimitInterval)}";

    internal static string Describe(SystemdUnitState st) => $"{st.ActiveState} ({st.SubState})";

    private static string Fmt(TimeSpan? t) => t is null ? "infinity" : SystemdModel.Fmt(t.Value);

    private static ScenarioVerdict Verdict(SystemdConfiguration config, ScenarioDefinition def, string gateway, string supervisor, bool revived, TimeSpan? delay,
        string final, string result, bool ok, string why, string? fix, string? unverified) =>
        new(config.Name, config.Path, config.Platform, def.Scenario, def.Trigger, gateway, supervisor, revived, delay, final, result, def.Intent, def.IntentText, ok, why, fix, unverified);
}
