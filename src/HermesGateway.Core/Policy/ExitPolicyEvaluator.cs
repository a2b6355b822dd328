using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Policy;

/// <summary>Judges a unit or plist against the gateway's exit contract, scenario by scenario.</summary>
public static class ExitPolicyEvaluator
{
    /// <summary>The longest run time an event may give; keeps every sum of times the models make finite.</summary>
    public static readonly TimeSpan MaxRunTime = TimeSpan.FromDays(3650);

    public static IReadOnlyList<ScenarioVerdict> Evaluate(
        ServiceConfiguration config,
        GatewayExitContract? contract = null,
        EvaluationOptions? options = null,
        IEnumerable<LifecycleScenario>? scenarios = null)
    {
        contract = (contract ?? GatewayExitContract.Hermes).Validated();
        options ??= new EvaluationOptions();
        var explicitSelection = scenarios is not null;
        var selected = (scenarios ?? ScenarioCatalog.All.Select(d => d.Scenario)).Distinct().ToList();
        var results = new List<ScenarioVerdict>(selected.Count);
        foreach (var scenario in selected)
        {
            var definition = ScenarioCatalog.Get(scenario);
            if (!config.Covers(definition))
            {
                if (explicitSelection)
                {
                    results.Add(new ScenarioVerdict(config.Name, config.Path, config.Platform, scenario, definition.Trigger, "-", "not applicable", false, null, "-", "-",
                        definition.Intent, definition.IntentText, true, $"{config.Platform} has no such situation", null, null, Applicable: false));
                }

                continue;
            }

            results.Add(config.Judge(definition, contract, options));
        }

        return results;
    }

    public static SupervisorOutcome Answer(ServiceConfiguration config, SupervisorEventRequest request, GatewayExitContract? contract = null, EvaluationOptions? options = null)
    {
        contract = (contract ?? GatewayExitContract.Hermes).Validated();
        options ??= new EvaluationOptions();
        switch (request.Kind)
        {
            case SupervisorEventKind.Exit when request.ExitCode is null:
                throw new HermesException(HermesErrorIds.EventInvalid, HermesErrorCategory.InvalidArgument, "An Exit event needs an exit code (-ExitCode).", request);
            case SupervisorEventKind.Exit when request.ExitCode is < 0 or > 255:
                throw new HermesException(HermesErrorIds.ExitCodeOutOfRange, HermesErrorCategory.InvalidArgument, $"Exit code {request.ExitCode} is not between 0 and 255.", request.ExitCode);
            case SupervisorEventKind.Signal when string.IsNullOrWhiteSpace(request.Signal):
                throw new HermesException(HermesErrorIds.EventInvalid, HermesErrorCategory.InvalidArgument, "A Signal event needs a signal (-Signal).", request);
            case not SupervisorEventKind.Exit when request.ExitCode is not null:
                throw new HermesException(HermesErrorIds.EventInvalid, HermesErrorCategory.InvalidArgument, $"-ExitCode goes with the Exit event, not {request.Kind}.", request);
            case not SupervisorEventKind.Signal when request.Signal is not null:
                throw new HermesException(HermesErrorIds.EventInvalid, HermesErrorCategory.InvalidArgument, $"-Signal goes with the Signal event, not {request.Kind}.", request);
        }

        SignalReactions.Validate(request.Reaction, request.ReactionExitCode);
        if (request.RunTime is { } rt && (rt < TimeSpan.Zero || rt > MaxRunTime))
        {
            throw new HermesException(HermesErrorIds.EventInvalid, HermesErrorCategory.InvalidArgument,
                $"-RunTime is {rt}; give a run time between 0 and {MaxRunTime.TotalDays:0} days.", rt);
        }

        return config.Answer(request, contract, options);
    }

    /// <summary>Plays a timeline against a unit or plist (systemd: SystemdSimulator; launchd: LaunchdTimeline).</summary>
    public static IReadOnlyList<SupervisorStep> Play(ServiceConfiguration config, SupervisorTimelineRequest request, GatewayExitContract? contract = null, EvaluationOptions? options = null)
    {
        contract = (contract ?? GatewayExitContract.Hermes).Validated();
        options ??= new EvaluationOptions();
        if (request.Items is null)
        {
            throw new HermesException(HermesErrorIds.TimelineInvalid, HermesErrorCategory.InvalidArgument, "The timeline is missing.", request);
        }

        SignalReactions.Validate(request.Reaction, request.ReactionExitCode);
        if (request.ExecFailure is { } status && (status < SupervisorTimelineRequest.MinExecFailure || status > SupervisorTimelineRequest.MaxExecFailure))
        {
            throw new HermesException(HermesErrorIds.TimelineInvalid, HermesErrorCategory.InvalidArgument,
                $"An exec failure's status is {SupervisorTimelineRequest.MinExecFailure}–{SupervisorTimelineRequest.MaxExecFailure} (203 is EXEC: not found), not {status}.", status);
        }

        if (options.CrashLoopHorizon < TimeSpan.Zero)
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument, $"The horizon {options.CrashLoopHorizon} is negative.", options.CrashLoopHorizon);
        }

        return config.Play(request, contract, options);
    }
}
