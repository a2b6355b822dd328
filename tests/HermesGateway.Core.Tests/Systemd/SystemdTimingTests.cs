namespace HermesGateway.Core.Tests.Systemd;

/// <summary>docs/models.md §1.4 (delays, NRestarts, the start limit) and §1.5 (resulting states).</summary>
public sealed class SystemdTimingTests
{
    /// <summary>Lets the main process die <paramref name="runSeconds"/> after every start until the unit is not revived or the cycles run out.</summary>
    private static (List<SystemdOutcome> Outcomes, int Runs) CrashLoop(SystemdModel model, string ending, double runSeconds, int maxCycles)
    {
        var state = model.StartedByHand(TimeSpan.Zero);
        var outcomes = new List<SystemdOutcome>();
        var runs = 1;
        for (var i = 0; i < maxCycles; i++)
        {
            var o = model.Apply(state, new MainProcessEnded(Endings.Parse(ending)), DefaultSignalBehavior.Instance, state.StartedAt + TimeSpan.FromSeconds(runSeconds));
            outcomes.Add(o);
            if (!o.Revived)
            {
                break;
            }

            runs++;
            state = o.Final;
        }

        return (outcomes, runs);
    }

    [Fact]
    public void RestartSec_defaults_to_100_ms()
    {
        var model = Units.Model("Restart=on-failure");

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(ProcessEnding.Exit(1)), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.Equal(TimeSpan.FromMilliseconds(100), o.Delay);
        Assert.Equal(TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(100), o.Final.StartedAt);
    }

    [Fact]
    public void RestartSec_is_the_delay_before_the_restart()
    {
        var model = Units.Model("Restart=always", "RestartSec=5");

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(ProcessEnding.Exit(0)), DefaultSignalBehavior.Instance, TimeSpan.FromSeconds(100));

        Assert.Equal(TimeSpan.FromSeconds(5), o.Delay);
        Assert.Equal(TimeSpan.FromSeconds(105), o.Final.StartedAt);
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 2.27)]
    [InlineData(3, 5.14)]
    [InlineData(4, 11.67)]
    [InlineData(5, 26.46)]
    [InlineData(6, 60.0)]
    [InlineData(7, 60.0)]
    [InlineData(50, 60.0)]
    public void RestartSteps_grow_the_delay_exponentially_on_254(int n, double seconds)
    {
        // The man page example: RestartSec=1, RestartMaxDelaySec=60, RestartSteps=5.
        var unit = Units.ServiceOn(254, "Restart=always", "RestartSec=1", "RestartSteps=5", "RestartMaxDelaySec=60");
        Assert.Empty(unit.Diagnostics);

        Assert.Equal(seconds, new SystemdModel(unit).RestartDelay(n).TotalSeconds, 0.01);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(9)]
    public void RestartSteps_do_nothing_on_252(int n)
    {
        var settings = new SystemdServiceSettings { RestartSec = TimeSpan.FromSeconds(1), RestartSteps = 5, RestartMaxDelaySec = TimeSpan.FromSeconds(60) };

        Assert.Equal(TimeSpan.FromSeconds(1), new SystemdModel(settings, 252).RestartDelay(n));
        // The same settings on 254 grow from the second restart on.
        Assert.Equal(n == 1, new SystemdModel(settings, 254).RestartDelay(n) == TimeSpan.FromSeconds(1));
    }

    [Theory]
    // Steps unset, RestartSec=0, max unset (infinity), RestartSec >= max: RestartSec every time.
    [InlineData(2.0, 0, 60.0, 2.0)]
    [InlineData(0.0, 5, 60.0, 0.0)]
    [InlineData(2.0, 5, null, 2.0)]
    [InlineData(60.0, 5, 60.0, 60.0)]
    [InlineData(90.0, 5, 60.0, 90.0)]
    public void The_delay_does_not_grow_when_a_condition_of_the_formula_is_missing(double restartSec, int steps, double? max, double expected)
    {
        var settings = new SystemdServiceSettings
        {
            RestartSec = TimeSpan.FromSeconds(restartSec),
            RestartSteps = steps,
            RestartMaxDelaySec = max is null ? null : TimeSpan.FromSeconds(max.Value),
        };

        Assert.Equal(TimeSpan.FromSeconds(expected), new SystemdModel(settings, 255).RestartDelay(4));
    }

    [Fact]
    public void The_delay_grows_through_a_chain_of_automatic_restarts()
    {
        var model = Units.ModelOn(254, "Restart=always", "RestartSec=1", "RestartSteps=5", "RestartMaxDelaySec=60", "StartLimitIntervalSec=0");

        var (outcomes, _) = CrashLoop(model, "exit 1", runSeconds: 1, maxCycles: 7);

        Assert.Equal([1.0, 2.27, 5.14, 11.67, 26.46, 60.0, 60.0], outcomes.Select(o => Math.Round(o.Delay!.Value.TotalSeconds, 2)));
    }

    [Fact]
    public void NRestarts_counts_automatic_restarts_and_a_manual_restart_resets_it()
    {
        var model = Units.Model("Restart=always", "StartLimitIntervalSec=0");

        var (outcomes, _) = CrashLoop(model, "exit 1", runSeconds: 3, maxCycles: 4);
        Assert.Equal([1, 2, 3, 4], outcomes.Select(o => o.Final.NRestarts));

        var restarted = model.Apply(outcomes[^1].Final, new ManagerRestart(), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(5));
        Assert.Equal(0, restarted.Final.NRestarts);
    }

    [Fact]
    public void A_stop_keeps_the_NRestarts_of_the_chain()
    {
        var model = Units.Model("Restart=always", "StartLimitIntervalSec=0");
        var (outcomes, _) = CrashLoop(model, "exit 1", runSeconds: 3, maxCycles: 2);

        var stopped = model.Apply(outcomes[^1].Final, new ManagerStop(), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(5));

        Assert.Equal(2, stopped.Final.NRestarts);
    }

    [Theory]
    // e22: Burst 3 → exactly 3 runs, NRestarts=3, then failed keeping the run's Result (exit-code on 252).
    [InlineData("exit 1", ServiceResult.ExitCode)]
    [InlineData("kill SIGKILL", ServiceResult.Signal)]
    // A clean exit under Restart=always that hits the limit → start-limit-hit (e22c).
    [InlineData("exit 0", ServiceResult.StartLimitHit)]
    public void A_burst_of_three_gives_exactly_three_runs_then_failed(string ending, ServiceResult result)
    {
        var model = new SystemdModel(Units.Text("[Unit]\nStartLimitBurst=3\n[Service]\nExecStart=/bin/true\nRestart=always\n"));

        var (outcomes, runs) = CrashLoop(model, ending, runSeconds: 0.5, maxCycles: 20);
        var last = outcomes[^1];

        Assert.Equal(3, runs);
        Assert.True(last.StartLimitHit);
        Assert.Equal(SystemdDecisionRule.StartLimit, last.Rule);
        Assert.Equal("failed", last.Final.ActiveState);
        Assert.Equal(result, last.Final.Result);
        Assert.Equal(3, last.Final.NRestarts);
    }

    [Theory]
    [InlineData("[Unit]\nStartLimitIntervalSec=0\n")]
    [InlineData("[Unit]\nStartLimitBurst=0\n")]
    [InlineData("[Unit]\nStartLimitIntervalSec=infinity\nStartLimitBurst=0\n")]
    public void Interval_zero_or_burst_zero_disables_the_start_limit(string unitSection)
    {
        var unit = Units.Text(unitSection + "[Service]\nExecStart=/bin/true\nRestart=always\n");
        Assert.True(unit.Settings.StartLimitDisabled);

        var (outcomes, runs) = CrashLoop(new SystemdModel(unit), "exit 1", runSeconds: 0.01, maxCycles: 500);

        Assert.Equal(501, runs);
        Assert.All(outcomes, o => Assert.True(o.Revived));
    }

    [Fact]
    public void Defaults_are_five_starts_in_ten_seconds()
    {
        var (_, runs) = CrashLoop(Units.Model("Restart=always"), "exit 1", runSeconds: 0.1, maxCycles: 50);

        Assert.Equal(5, runs);
    }

    [Theory]
    // The window is fixed at its first start: start Burst+1 is refused while now − begin ≤ Interval.
    [InlineData(9.9, true)]
    [InlineData(10.0, true)]
    [InlineData(10.001, false)]
    [InlineData(30.0, false)]
    public void The_start_limit_window_is_fixed_at_its_first_start(double thirdStartAt, bool refused)
    {
        var model = new SystemdModel(new SystemdServiceSettings { StartLimitBurst = 2, StartLimitInterval = TimeSpan.FromSeconds(10) });
        var state = model.StartedByHand(TimeSpan.Zero);
        state = model.Start(state, TimeSpan.FromSeconds(5), manual: false, out var second);
        Assert.False(second);

        var after = model.Start(state, TimeSpan.FromSeconds(thirdStartAt), manual: false, out var third);

        Assert.Equal(refused, third);
        Assert.Equal(refused ? "failed" : "active", after.ActiveState);
        if (!refused)
        {
            // A new window begins with this start.
            Assert.Equal(TimeSpan.FromSeconds(thirdStartAt), after.StartLimitWindowBegin);
            Assert.Equal(1, after.StartLimitCount);
        }
    }

    [Theory]
    // Burst·(r+d) ≤ Interval → gives up after Burst runs; otherwise never.
    [InlineData(5, 10.0, 1.9, 0.1, true)]
    [InlineData(5, 10.0, 1.91, 0.1, false)]
    [InlineData(5, 10.0, 0.5, 0.1, true)]
    [InlineData(5, 10.0, 0.0, 2.0, true)]
    [InlineData(5, 10.0, 0.0, 2.001, false)]
    [InlineData(5, 10.0, 1.0, 2.0, false)]
    [InlineData(3, 30.0, 5.0, 5.0, true)]
    [InlineData(3, 30.0, 5.0, 5.5, false)]
    [InlineData(1, 10.0, 9.0, 1.0, true)]
    [InlineData(10, 60.0, 1.0, 5.0, true)]
    [InlineData(10, 60.0, 1.0, 5.1, false)]
    public void A_crash_loop_gives_up_exactly_when_burst_times_period_fits_in_the_interval(int burst, double interval, double run, double restartSec, bool givesUp)
    {
        var settings = new SystemdServiceSettings
        {
            Restart = RestartPolicy.Always,
            RestartSec = TimeSpan.FromSeconds(restartSec),
            StartLimitBurst = burst,
            StartLimitInterval = TimeSpan.FromSeconds(interval),
        };

        var (outcomes, runs) = CrashLoop(new SystemdModel(settings), "exit 1", run, maxCycles: 200);

        Assert.Equal(givesUp, outcomes[^1].StartLimitHit);
        Assert.Equal(givesUp ? burst : 201, runs);
    }

    [Theory]
    [InlineData("Restart=always", "exit 0")]
    [InlineData("Restart=on-success", "exit 0")]
    [InlineData("Restart=always", "kill SIGTERM")]
    [InlineData("Restart=always\nSuccessExitStatus=75", "exit 75")]
    public void RemainAfterExit_keeps_a_cleanly_exited_unit_active_exited_and_never_restarts(string restart, string ending)
    {
        // E r1
        var model = Units.Model("RemainAfterExit=yes", restart);

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(Endings.Parse(ending)), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.False(o.Revived);
        Assert.Equal(SystemdDecisionRule.RemainAfterExit, o.Rule);
        Assert.Equal(("active", "exited"), (o.Final.ActiveState, o.Final.SubState));
        Assert.Equal(ServiceResult.Success, o.Final.Result);
    }

    [Theory]
    // E r2: an unclean exit still restarts or fails.
    [InlineData("Restart=on-failure", true, "active", "running")]
    [InlineData("Restart=no", false, "failed", "failed")]
    public void RemainAfterExit_does_not_hide_an_unclean_exit(string restart, bool revived, string active, string sub)
    {
        var model = Units.Model("RemainAfterExit=yes", restart);

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(ProcessEnding.Exit(1)), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.Equal(revived, o.Revived);
        Assert.Equal(ServiceResult.ExitCode, o.Result);
        Assert.Equal((active, sub), (o.Final.ActiveState, o.Final.SubState));
    }

    [Theory]
    [InlineData("Restart=no", "exit 0", "inactive", "dead", ServiceResult.Success)]
    [InlineData("Restart=no", "exit 2", "failed", "failed", ServiceResult.ExitCode)]
    [InlineData("Restart=on-failure", "exit 0", "inactive", "dead", ServiceResult.Success)]
    [InlineData("Restart=on-success", "exit 2", "failed", "failed", ServiceResult.ExitCode)]
    [InlineData("Restart=on-failure", "exit 2", "active", "running", ServiceResult.Success)]
    [InlineData("Restart=always", "exit 0", "active", "running", ServiceResult.Success)]
    public void The_resulting_state_follows_section_1_5(string restart, string ending, string active, string sub, ServiceResult finalResult)
    {
        var model = Units.Model(restart);

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(Endings.Parse(ending)), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.Equal((active, sub), (o.Final.ActiveState, o.Final.SubState));
        // After a restart the new run starts with Result=success (service_start resets it, E e27).
        Assert.Equal(finalResult, o.Final.Result);
    }

    [Fact]
    public void A_revived_run_reports_the_result_of_the_run_that_ended()
    {
        var model = Units.Model("Restart=on-failure");

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(ProcessEnding.Exit(2)), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.True(o.Revived);
        Assert.Equal(ServiceResult.ExitCode, o.Result);
        Assert.Equal(ExecMainCode.Exited, o.ExecMainCode);
        Assert.Equal(2, o.ExecMainStatus);
    }
}
