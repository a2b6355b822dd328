namespace HermesGateway.Core.Tests.Platform;

/// <summary>Values at the edges of what the readers accept must give verdicts or HermesExceptions, never crashes.</summary>
public sealed class ExtremeValueTests
{
    public static TheoryData<string> ExtremeTimes => new()
    {
        "0", "1us", "922337203685s", "100000y", "29000y", "584000y", "infinity", "9223372036854775807us", "1.5e3",
    };

    [Theory]
    [MemberData(nameof(ExtremeTimes))]
    public void Every_scenario_and_event_is_answered_for_extreme_time_settings(string time)
    {
        foreach (var key in new[] { "RestartSec", "TimeoutStopSec", "RestartMaxDelaySec" })
        {
            var text = $"[Unit]\nStartLimitIntervalSec={time}\n[Service]\nExecStart=/usr/bin/hermes gateway run\nRestart=always\nRestartSteps=5\n{key}={time}\n";
            foreach (var version in new[] { 252, 254 })
            {
                var config = new SystemdConfiguration(SystemdUnitReader.Parse(text, "/t/gw.service", version));
                Assert.NotEmpty(ExitPolicyEvaluator.Evaluate(config));
                foreach (var kind in Enum.GetValues<SupervisorEventKind>())
                {
                    var request = new SupervisorEventRequest(kind, kind == SupervisorEventKind.Exit ? 1 : null, kind == SupervisorEventKind.Signal ? "SIGKILL" : null, ExitPolicyEvaluator.MaxRunTime);
                    Assert.NotNull(ExitPolicyEvaluator.Answer(config, request));
                }
            }
        }
    }

    [Fact]
    public void A_restart_delay_beyond_representable_time_is_never()
    {
        var model = Units.Model("Restart=always", "RestartSec=100000y");

        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(ProcessEnding.Exit(1)), DefaultSignalBehavior.Instance, TimeSpan.FromDays(3650));

        Assert.False(o.Revived);
        Assert.Equal("auto-restart", o.Final.SubState);
    }

    [Fact]
    public void A_time_span_past_64_bit_microseconds_is_refused_as_systemd_does()
    {
        Assert.False(SystemdValues.TryParseTimeSpan("600000y", out _));
        Assert.True(SystemdValues.TryParseTimeSpan("500000y", out var v));
        Assert.Null(v);
    }

    [Theory]
    [InlineData(Plist.MaxDepthForTest)]
    [InlineData(65_000)]
    public void Deeply_nested_plists_are_refused_not_a_stack_overflow(int depth)
    {
        var sb = new StringBuilder("<plist version=\"1.0\"><dict><key>Label</key><string>x</string><key>Deep</key>");
        sb.Insert(sb.Length, "<array>", depth).Insert(sb.Length, "</array>", depth).Append("</dict></plist>");

        var e = Assert.Throws<HermesException>(() => LaunchdJobReader.Parse(sb.ToString(), "/t/deep.plist"));

        Assert.Equal(HermesErrorIds.PlistMalformed, e.ErrorId);
    }

    [Fact]
    public void Nesting_within_the_limit_is_read()
    {
        var depth = PlistReader.MaxDepth - 2;
        var sb = new StringBuilder("<plist version=\"1.0\"><dict><key>Label</key><string>x</string><key>Program</key><string>/bin/true</string><key>Deep</key>");
        sb.Insert(sb.Length, "<array>", depth).Insert(sb.Length, "</array>", depth).Append("</dict></plist>");

        Assert.Equal("x", LaunchdJobReader.Parse(sb.ToString(), "/t/deep.plist").Settings.Label);
    }

    private static class Plist
    {
        public const int MaxDepthForTest = PlistReader.MaxDepth + 1;
    }
}
