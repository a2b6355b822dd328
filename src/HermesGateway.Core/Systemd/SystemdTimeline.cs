using System.Globalization;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Systemd;

/// <summary>
/// Reads a timeline, one item a string: "&lt;time&gt; &lt;event&gt; [argument]". The time is a systemd-style span counted from
/// the first start ("0", "500ms", "1.5s", "2min", "1h"), or "+&lt;span&gt;" counted from the item before.
/// </summary>
public static class SystemdTimeline
{
    /// <summary>The most items one timeline may have.</summary>
    public const int MaxItems = 1000;

    private static readonly Dictionary<string, TimelineEventKind> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["exit"] = TimelineEventKind.Exit,
        ["signal"] = TimelineEventKind.Signal,
        ["kill"] = TimelineEventKind.Kill,
        ["oom"] = TimelineEventKind.Oom,
        ["stop"] = TimelineEventKind.Stop,
        ["start"] = TimelineEventKind.Start,
        ["restart"] = TimelineEventKind.Restart,
        ["is-active"] = TimelineEventKind.IsActive,
    };

    /// <summary>Parses <paramref name="items"/>; signals are read for <paramref name="platform"/>. Every error is HermesTimelineInvalid.</summary>
    public static IReadOnlyList<TimelineItem> Parse(IReadOnlyList<string> items, SignalPlatform platform = SignalPlatform.Linux)
    {
        if (items.Count == 0)
        {
            throw Invalid("The timeline is empty: give at least one item such as '5s exit 1'.", items);
        }

        if (items.Count > MaxItems)
        {
            throw Invalid($"The timeline has {items.Count} items; at most {MaxItems} are played.", items.Count);
        }

        var result = new List<TimelineItem>(items.Count);
        var previous = TimeSpan.Zero;
        for (var n = 0; n < items.Count; n++)
        {
            var item = ParseOne(items[n], n + 1, previous, platform);
            if (item.At < previous)
            {
                throw Invalid($"Timeline item {n + 1} ('{items[n]}') is at {SystemdModel.Fmt(item.At)}, before the item ahead of it ({SystemdModel.Fmt(previous)}): times may not go backwards.", items[n]);
            }

            previous = item.At;
            result.Add(item);
        }

        return result;
    }

    private static TimelineItem ParseOne(string? text, int number, TimeSpan previous, SignalPlatform platform)
    {
        if (text is null)
        {
            throw Invalid($"Timeline item {number} is null.", number);
        }

        if (text.Any(char.IsControl))
        {
            throw Invalid($"Timeline item {number} has a newline or another control character; give one item per string.", text);
        }

        var words = text.Split(' ', '\t').Where(w => w.Length > 0).ToArray();
        if (words.Length < 2)
        {
            throw Invalid($"Timeline item {number} ('{text}') needs a time and an event, such as '5s exit 1' or '+2s stop'.", text);
        }

        var relative = words[0].StartsWith('+');
        var span = relative ? words[0][1..] : words[0];
        if (span.Length == 0 || span.StartsWith('-') || span.StartsWith('+') || !SystemdValues.TryParseTimeSpan(span, out var parsed) || parsed is null)
        {
            throw Invalid($"Timeline item {number} ('{text}'): '{words[0]}' is not a time; give a span such as 0, 500ms, 1.5s, 2min or 1h, or +SPAN after the item before.", text);
        }

        if (parsed.Value > ExitPolicyEvaluator.MaxRunTime || (relative && previous + parsed.Value > ExitPolicyEvaluator.MaxRunTime))
        {
            throw Invalid($"Timeline item {number} ('{text}') is later than {ExitPolicyEvaluator.MaxRunTime.TotalDays:0} days.", text);
        }

        var at = relative ? previous + parsed.Value : parsed.Value;
        if (!Names.TryGetValue(words[1], out var kind))
        {
            throw Invalid($"Timeline item {number} ('{text}'): '{words[1]}' is not an event; use exit, signal, kill, oom, stop, start, restart or is-active.", text);
        }

        var wantsArgument = kind is TimelineEventKind.Exit or TimelineEventKind.Signal or TimelineEventKind.Kill;
        if (wantsArgument && words.Length < 3)
        {
            throw Invalid($"Timeline item {number} ('{text}'): {words[1]} needs {(kind == TimelineEventKind.Exit ? "an exit code" : "a signal")}.", text);
        }

        if (words.Length > (wantsArgument ? 3 : 2))
        {
            throw Invalid($"Timeline item {number} ('{text}'): {words[1]} takes {(wantsArgument ? "one argument" : "no argument")}; '{string.Join(' ', words.Skip(wantsArgument ? 3 : 2))}' is too much.", text);
        }

        int? code = null;
        UnixSignal? signal = null;
        if (kind == TimelineEventKind.Exit)
        {
            if (!int.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out var c) || c > 255)
            {
                throw Invalid($"Timeline item {number} ('{text}'): exit code '{words[2]}' is not a number between 0 and 255.", text);
            }

            code = c;
        }
        else if (wantsArgument)
        {
            if (!UnixSignals.TryParse(words[2], platform, out var s))
            {
                throw Invalid($"Timeline item {number} ('{text}'): '{words[2]}' is not a signal known on {platform} (e.g. SIGTERM, TERM or 15).", text);
            }

            signal = s;
        }

        return new TimelineItem(at, kind, code, signal, string.Join(' ', words));
    }

    /// <summary>
    /// Plays <paramref name="request"/>'s timeline against the unit through <see cref="SystemdSimulator"/>: the unit is
    /// started by hand at t = 0, and the manager's timers run on for <see cref="EvaluationOptions.CrashLoopHorizon"/>
    /// after the last item.
    /// </summary>
    public static IReadOnlyList<SupervisorStep> Play(SystemdConfiguration config, SupervisorTimelineRequest request, GatewayExitContract contract, EvaluationOptions options)
    {
        var items = Parse(request.Items, SignalPlatform.Linux);
        var unit = config.Unit;
        var model = new SystemdModel(unit);
        contract = contract.InEnvironment(!SystemdModel.HidesInvocationId(unit.Settings));
        var behavior = SignalReactions.Behavior(request.Reaction, contract, request.ReactionExitCode);
        var profile = request.ExecFailure is { } status
            ? SystemdProcessProfile.FailingExec(behavior, status) with { SendsReady = request.SendsReady, PingsWatchdog = request.PingsWatchdog }
            : new SystemdProcessProfile(behavior, request.SendsReady, request.PingsWatchdog);
        var timeline = items.Select(i => new SystemdTimedEvent(i.At, ToEvent(i))).ToList();
        var steps = new SystemdSimulator(model, profile).Run(timeline, options.CrashLoopHorizon);
        return [.. steps.Select(step => new SupervisorStep(
            config.Name, config.Path, ServicePlatform.Systemd, step.At, step.Event.Describe(), step.Posed,
            step.Outcome.Ending is { } ending ? SystemdValues.DescribeEnding(ending) : null,
            step.Started, step.RestartDue, SystemdScenarioJudge.Describe(step.State), SystemdNames.Of(step.State.Result),
            (int)step.State.ExecMainCode, step.State.ExecMainStatus, step.State.NRestarts, step.IsActive, step.IsActiveExitCode, step.CommandExitCode,
            step.Outcome.Rule.ToString(), step.Outcome.Explanation, null))];
    }

    private static SystemdEvent ToEvent(TimelineItem item) => item.Kind switch
    {
        TimelineEventKind.Exit => new MainProcessEnded(ProcessEnding.Exit(item.ExitCode!.Value)),
        TimelineEventKind.Signal => new ExternalSignal(item.Signal!.Value),
        TimelineEventKind.Kill => new ManagerKill(item.Signal!.Value),
        TimelineEventKind.Oom => new OomKill(),
        TimelineEventKind.Stop => new ManagerStop(),
        TimelineEventKind.Start => new ManagerStart(),
        TimelineEventKind.Restart => new ManagerRestart(),
        _ => new IsActiveQuery(),
    };

    private static HermesException Invalid(string message, object? target) =>
        new(HermesErrorIds.TimelineInvalid, HermesErrorCategory.InvalidArgument, message, target);
}

