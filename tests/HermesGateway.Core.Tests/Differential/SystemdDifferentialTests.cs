using Xunit.Abstractions;

namespace HermesGateway.Core.Tests.Differential;

/// <summary>
/// The fields compared between the model and real systemd for one case. Both sides are reduced to this shape so a
/// failure prints the two verdicts one above the other.
/// </summary>
internal sealed record Verdict(
    bool Revived,
    bool AutoRestartScheduled,
    string Ending,
    string StopHalves,
    string FinalState,
    string FinalResult,
    string NRestarts,
    string Commands)
{
    private const string NotApplicable = "-";

    public static Verdict FromModel(DifferentialCase c, IReadOnlyList<SystemdStep> steps)
    {
        var final = steps[^1].State;
        var running = final.IsRunning;
        var waiting = final.SubState == "auto-restart";

        // As on the real side: the ending is what the unit showed while its restart waited, else the final state.
        var lastWait = steps.LastOrDefault(s => s.State.SubState == "auto-restart")?.State;
        var endedWith = (running || waiting) && lastWait is not null ? lastWait : final;
        var stopHalves = c.RecordsStopPost
            // ExecStopPost= runs after every end of a run: the stop halves of restarts and the run's own endings alike.
            ? string.Join("; ", steps.Where(s => s.Outcome.Ending is not null && s.Outcome.Rule != SystemdDecisionRule.StillRunning)
                .Select(s => Show(SystemdNames.Of(s.Event is ManagerRestart ? StopHalfResult(s.Outcome) : s.Outcome.Result), (int)s.Outcome.ExecMainCode, s.Outcome.ExecMainStatus)))
            : NotApplicable;
        var commands = steps.Skip(c.StartIndividually ? 0 : 1).Where(s => s.Posed && s.Event is not MainProcessEnded).Select((s, n) => s.Event switch
        {
            ManagerStart when n == 0 && c.StartNoBlock => "queued",
            IsActiveQuery => $"is-active:{s.IsActive}/{s.IsActiveExitCode}",
            ExternalSignal => s.Outcome.Rule == SystemdDecisionRule.NoProcess ? "failed" : "ok",
            _ => s.CommandExitCode switch { null => "pending", 0 => "ok", _ => "failed" },
        });
        return Normalise(c, new Verdict(
            running || (c.WatchRestarts is not null && waiting),
            !c.TimedTriggers && (steps.Any(s => s.RestartDue is not null) || final.NRestarts > 0),
            c.RecordsStopPost ? NotApplicable : Show(SystemdNames.Of(endedWith.Result), (int)endedWith.ExecMainCode, endedWith.ExecMainStatus),
            stopHalves,
            $"{final.ActiveState}/{final.SubState}",
            Show(SystemdNames.Of(final.Result), (int)final.ExecMainCode, final.ExecMainStatus),
            final.NRestarts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            c.Triggers.IsEmpty && !c.StartIndividually ? NotApplicable : string.Join(",", commands)), final.NRestarts);
    }

    public static Verdict FromSystemd(DifferentialCase c, CaseObservation o)
    {
        var final = o.Final!;
        var running = final is { ActiveState: "active", SubState: "running" };
        var waiting = final.SubState == "auto-restart";

        // The ending is visible while the restart waits (auto-restart); without a restart it is the final state.
        var endedWith = (running || waiting) && o.LastAutoRestart is { } wait ? wait : final;
        var commands = string.Join(",", o.Commands);
        return Normalise(c, new Verdict(
            running || (c.WatchRestarts is not null && waiting),
            // A fast loop can pass through auto-restart between two polls; the restart counter still shows it. A
            // restart cancelled during its wait leaves no count, and a poll may miss the wait: such cases show it by is-active.
            !c.TimedTriggers && (o.LastAutoRestart is not null || final.NRestarts > 0),
            c.RecordsStopPost ? NotApplicable : Show(endedWith.Result, endedWith.ExecMainCode, endedWith.ExecMainStatus),
            c.RecordsStopPost ? string.Join("; ", o.StopPost.Select(r => Show(r.Result, r.ExecMainCode, r.ExecMainStatus))) : NotApplicable,
            $"{final.ActiveState}/{final.SubState}",
            Show(final.Result, final.ExecMainCode, final.ExecMainStatus),
            final.NRestarts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            c.Triggers.IsEmpty && !c.StartIndividually ? NotApplicable : commands), final.NRestarts);
    }

    /// <summary>
    /// A loop that never gives up is sampled once it has restarted WatchRestarts times, at whatever point of a cycle
    /// it is: only "still going" and the restart count are comparable there.
    /// </summary>
    private static Verdict Normalise(DifferentialCase c, Verdict v, int restarts) => c.WatchRestarts is not { } watch
        ? v
        : v with
        {
            FinalState = v.FinalState.StartsWith("failed", StringComparison.Ordinal) || v.FinalState.StartsWith("inactive", StringComparison.Ordinal) ? v.FinalState : "still going",
            FinalResult = NotApplicable,
            NRestarts = restarts >= watch ? $">= {watch}" : v.NRestarts,
        };

    /// <summary>
    /// A restart refused by the start limit reports the unit's Result (start-limit-hit when the stop half was clean,
    /// else the stop half's failure, which is kept); ExecStopPost= saw the stop half's own Result.
    /// </summary>
    private static ServiceResult StopHalfResult(SystemdOutcome o) =>
        o.Rule == SystemdDecisionRule.StartLimit && o.Result == ServiceResult.StartLimitHit ? ServiceResult.Success : o.Result;

    private static string Show(string result, int code, int status) => $"{result} {code}/{status}";

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("  revived:                ").Append(Revived).Append('\n');
        sb.Append("  auto-restart scheduled: ").Append(AutoRestartScheduled).Append('\n');
        sb.Append("  ending (Result code/status): ").Append(Ending).Append('\n');
        sb.Append("  stop halves (ExecStopPost):  ").Append(StopHalves).Append('\n');
        sb.Append("  final state:            ").Append(FinalState).Append('\n');
        sb.Append("  final Result/ExecMain:  ").Append(FinalResult).Append('\n');
        sb.Append("  NRestarts:              ").Append(NRestarts).Append('\n');
        sb.Append("  systemctl commands:     ").Append(Commands).Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// Differential tests: each (unit, event) pair is run on a real systemd (252 on Debian 12, booted by sde2e) and
/// through <see cref="SystemdModel"/> for the same version, and the two must agree on the restart decision, Result, ExecMainCode/Status, the
/// final ActiveState/SubState and NRestarts.
/// </summary>
[Collection(SystemdSandboxGroup.Name)]
public sealed class SystemdDifferentialTests(SystemdSandbox sandbox, ITestOutputHelper output)
{
    public static TheoryData<string> Cases => new(DifferentialCatalog.All.Select(c => c.Name));

    [SystemdSandboxTheory]
    [MemberData(nameof(Cases))]
    public void Model_agrees_with_real_systemd(string caseName)
    {
        var c = DifferentialCatalog.ByName[caseName];
        var observed = sandbox.Observations[caseName];
        var outcomes = c.Predict(observed.UnitText, sandbox.SystemdVersion);
        Assert.True(observed.Error is null && observed.Final is not null, Report(c, observed, outcomes, null, null));

        var predicted = Verdict.FromModel(c, outcomes);
        var actual = Verdict.FromSystemd(c, observed);
        output.WriteLine($"{c.Name} ({c.UnitName})\nmodel:\n{predicted}systemd:\n{actual}");
        Assert.True(predicted == actual, Report(c, observed, outcomes, predicted, actual));
    }

    [SystemdSandboxFact]
    public void Sandbox_runs_a_systemd_the_model_knows()
    {
        var version = sandbox.SystemdVersion;
        output.WriteLine($"sandbox manager: systemd {version}");
        Assert.InRange(version, SystemdUnitReader.MinimumVersion, 999);
    }

    [Fact]
    public void Catalogue_covers_the_specified_rows()
    {
        var all = DifferentialCatalog.All;
        Assert.True(all.Length >= 40, $"only {all.Length} pairs");

        // Issue 14: at least 40 pairs beyond the 67 single-event ones, with timelines and the manager's own timers.
        Assert.True(all.Length >= 67 + 40, $"only {all.Length - 67} simulator pairs");
        Assert.Equal(129, all.Length);
        Assert.Contains(all, c => c.Triggers.Length >= 2 && c.Triggers.Any(t => t.After > TimeSpan.Zero));
        foreach (var key in new[] { "Type=notify", "Type=exec", "WatchdogSec=", "TimeoutStartSec=", "RuntimeMaxSec=", "LimitCORE=" })
        {
            Assert.Contains(all, c => c.ServiceLines.Any(l => l.StartsWith(key, StringComparison.Ordinal)));
        }

        Assert.Contains(all, c => c.Payload.ExecFailure is not null);
        Assert.Contains(all, c => c.Triggers.Any(t => t.Kind == TriggerKind.IsActive));
        Assert.Equal(all.Length, all.Select(c => c.UnitName).Distinct(StringComparer.Ordinal).Count());
        foreach (var restart in new[] { "no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always" })
        {
            Assert.Contains(all, c => c.ServiceLines.Contains($"Restart={restart}"));
        }

        foreach (var key in new[] { "SuccessExitStatus=", "RestartPreventExitStatus=", "RestartForceExitStatus=", "RemainAfterExit=yes", "TimeoutStopSec=" })
        {
            Assert.Contains(all, c => c.ServiceLines.Any(l => l.StartsWith(key, StringComparison.Ordinal)));
        }

        foreach (var kind in Enum.GetValues<TriggerKind>())
        {
            Assert.Contains(all, c => c.Triggers.Any(t => t.Kind == kind));
        }

        Assert.Contains(all, c => c.IgnoreFailurePrefix);
        Assert.Contains(all, c => c.Payload.EveryRun && c.UnitLines.Contains("StartLimitIntervalSec=0"));
        Assert.Contains(all, c => c.Payload.EveryRun && c.UnitLines.Contains("StartLimitIntervalSec=60"));
    }

    private static string Report(DifferentialCase c, CaseObservation o, IReadOnlyList<SystemdStep> outcomes, Verdict? predicted, Verdict? actual)
    {
        var sb = new StringBuilder();
        sb.Append(c.Name).Append(" (").Append(c.UnitName).Append(")\n");
        if (o.Error is not null)
        {
            sb.Append("sandbox problem: ").Append(o.Error).Append('\n');
        }

        if (predicted is not null && actual is not null)
        {
            sb.Append("model predicted:\n").Append(predicted).Append("systemd did:\n").Append(actual);
        }

        sb.Append("model reasoning:\n");
        foreach (var step in outcomes)
        {
            sb.Append("  t=").Append(step.At.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)).Append("s ")
                .Append(step.Event.Describe()).Append(": ").Append(step.Outcome.Explanation).Append(" → ").Append(step.State.ActiveState).Append('/').Append(step.State.SubState)
                .Append(" NRestarts=").Append(step.State.NRestarts).Append('\n');
        }

        sb.Append("observed states:\n");
        foreach (var snapshot in o.History)
        {
            sb.Append("  ").Append(snapshot).Append('\n');
        }

        sb.Append("unit:\n").Append(o.UnitText).Append("manager log:\n").Append(o.Log).Append('\n');
        return sb.ToString();
    }
}
