using HermesGateway.Core.Fleet;

namespace HermesGateway.Core.Tests.Fleet;

/// <summary>The pace and order of a rollout over a fleet: at most N down, halted at the first failure, canaries first.</summary>
public sealed class RollingPlanTests
{
    private static readonly string[] Three = ["gw1", "gw2", "gw3"];

    /// <summary>Plays a plan to its end: hosts finish in the order <paramref name="finishOrder"/> picks among those in hand.</summary>
    private static (List<string> Started, int MostInHand) Play(RollingPlan plan, Func<IReadOnlyList<string>, string> finishOrder, Func<string, bool>? succeeds = null)
    {
        var started = new List<string>();
        var inHand = new List<string>();
        var most = 0;
        while (!plan.Complete)
        {
            if (plan.GateDue)
            {
                plan.OpenGate();
                continue;
            }

            while (plan.Next() is { } next)
            {
                plan.Start(next);
                started.Add(next);
                inHand.Add(next);
                most = Math.Max(most, inHand.Count);
                Assert.Equal(inHand.Count, plan.InHand);
            }

            var done = finishOrder(inHand);
            inHand.Remove(done);
            plan.Finish(done, succeeds?.Invoke(done) ?? true, $"{done} failed");
        }

        return (started, most);
    }

    [Fact]
    public void Host_by_host_by_default_in_the_order_given()
    {
        var plan = new RollingPlan(Three);
        var (started, most) = Play(plan, h => h[0]);
        Assert.Equal(Three, started);
        Assert.Equal(1, most);
        Assert.False(plan.Halted);
        Assert.Empty(plan.NotRun);
    }

    [Theory]
    [InlineData(2, 5)]
    [InlineData(3, 7)]
    [InlineData(1, 4)]
    public void Never_more_than_MaxUnavailable_in_hand_whatever_order_they_finish_in(int max, int hosts)
    {
        var names = Enumerable.Range(1, hosts).Select(i => $"h{i}").ToArray();
        var random = new Random(max * 31 + hosts);
        for (var round = 0; round < 50; round++)
        {
            var plan = new RollingPlan(names, max);
            var (started, most) = Play(plan, h => h[random.Next(h.Count)]);
            Assert.Equal(names, started);
            Assert.Equal(Math.Min(max, hosts), most);
        }
    }

    [Fact]
    public void The_first_failure_halts_hosts_in_hand_finish_and_the_rest_are_not_run()
    {
        var plan = new RollingPlan(["a", "b", "c", "d", "e"], maxUnavailable: 2);
        var (started, _) = Play(plan, h => h[0], succeeds: h => h != "b");
        Assert.Equal(["a", "b", "c"], started); // c was already in hand when b failed; it finished, nothing after it started
        Assert.True(plan.Halted);
        Assert.Equal("b failed", plan.HaltReason);
        Assert.Equal(["d", "e"], plan.NotRun);
    }

    [Fact]
    public void Hosts_found_down_elsewhere_count_against_the_budget()
    {
        var plan = new RollingPlan(Three, maxUnavailable: 2);
        Assert.Null(plan.Next(othersDown: 2));
        Assert.Equal("gw1", plan.Next(othersDown: 1));
        plan.Start("gw1");
        Assert.Null(plan.Next(othersDown: 1));
        Assert.Equal("gw2", plan.Next(othersDown: 0));
    }

    [Fact]
    public void Canaries_go_alone_then_wait_at_the_gate_until_it_opens()
    {
        var plan = new RollingPlan(["a", "b", "c", "d"], maxUnavailable: 3, canary: 1);
        Assert.Equal("a", plan.Next());
        plan.Start("a");
        Assert.Null(plan.Next()); // room for 3, but b waits behind the gate
        Assert.False(plan.GateDue); // the canary is still in hand
        plan.Finish("a", true);
        Assert.True(plan.GateDue);
        Assert.Null(plan.Next());
        Assert.False(plan.Complete);
        plan.OpenGate();
        Assert.False(plan.GateDue);
        Assert.Equal("b", plan.Next());
    }

    [Fact]
    public void A_failed_canary_halts_before_the_gate()
    {
        var plan = new RollingPlan(Three, canary: 1);
        plan.Start(plan.Next()!);
        plan.Finish("gw1", false, "gw1 never came up");
        Assert.False(plan.GateDue);
        Assert.True(plan.Complete);
        Assert.Equal(["gw2", "gw3"], plan.NotRun);
    }

    [Fact]
    public void A_gate_shut_by_the_caller_halts_with_its_reason()
    {
        var plan = new RollingPlan(Three, canary: 2);
        foreach (var h in new[] { "gw1", "gw2" })
        {
            plan.Start(plan.Next()!);
            plan.Finish(h, true);
        }

        Assert.True(plan.GateDue);
        plan.Halt("the canary gate was declined");
        Assert.True(plan.Complete);
        Assert.Equal(["gw3"], plan.NotRun);
        Assert.Equal("the canary gate was declined", plan.HaltReason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void No_gate_without_canaries_or_when_every_host_is_one(int canary)
    {
        var plan = new RollingPlan(Three, canary: canary);
        var (started, _) = Play(plan, h => h[0]);
        Assert.Equal(Three, started);
    }

    [Fact]
    public void A_host_passed_over_is_not_a_failure_and_frees_its_turn()
    {
        var plan = new RollingPlan(Three);
        plan.Pass(plan.Next()!);
        Assert.Equal("gw2", plan.Next());
        Assert.False(plan.Halted);
        Assert.Equal(1, plan.Finished);
    }

    [Fact]
    public void Canaries_passed_over_reach_the_gate_with_none_done()
    {
        var plan = new RollingPlan(Three, canary: 2);
        plan.Pass("gw1");
        plan.Start(plan.Next()!);
        plan.Finish("gw2", true);
        Assert.True(plan.GateDue);
        Assert.Equal(1, plan.CanariesDone);
        var none = new RollingPlan(Three, canary: 1);
        none.Pass("gw1");
        Assert.True(none.GateDue);
        Assert.Equal(0, none.CanariesDone); // the caller halts, unless it was only -WhatIf
    }

    [Theory]
    [InlineData(0, 0, "-MaxUnavailable")]
    [InlineData(1, -1, "-Canary")]
    [InlineData(1, 4, "-Canary 4 is more than the 3 hosts")]
    public void Bad_pace_is_an_option_error(int max, int canary, string named)
    {
        var e = Assert.Throws<HermesException>(() => new RollingPlan(Three, max, canary));
        Assert.Equal(HermesErrorIds.OptionInvalid, e.ErrorId);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gw1", "GW1")]
    [InlineData("gw1", " ")]
    public void A_host_given_twice_or_unnamed_is_refused(string first, string second)
    {
        var e = Assert.Throws<HermesException>(() => new RollingPlan([first, second]));
        Assert.Equal(HermesErrorIds.OptionInvalid, e.ErrorId);
    }

    [Fact]
    public void Reporting_a_host_out_of_turn_is_a_programming_error()
    {
        var plan = new RollingPlan(Three);
        Assert.Throws<InvalidOperationException>(() => plan.Finish("gw1", true));
        Assert.Throws<InvalidOperationException>(() => plan.Start("nope"));
        plan.Start("gw1");
        Assert.Throws<InvalidOperationException>(() => plan.Start("gw1"));
    }
}

/// <summary>Which module a host's fleet command uses: exactly this build, or a clear error.</summary>
public sealed class RemoteModuleCheckTests
{
    private static readonly ModuleBuild Local = new("0.1.0", Hashes("AA", "BB"));

    private static Dictionary<string, string> Hashes(string cmdlets, string core, string manifest = "CC") =>
        new() { ["HermesGateway.dll"] = cmdlets, ["HermesGateway.Core.dll"] = core, ["HermesGateway.psd1"] = manifest, ["HermesGateway.format.ps1xml"] = "DD" };

    private static Dictionary<string, string> Ids(string cmdlets, string core) => new() { ["HermesGateway.dll"] = cmdlets, ["HermesGateway.Core.dll"] = core };

    private static RemoteModule Module(string version, string cmdlets = "AA", string core = "BB", bool loaded = false, string folder = "/m") =>
        new(version, folder, Hashes(cmdlets, core), loaded);

    [Fact]
    public void The_same_version_and_assemblies_is_used_even_among_others()
    {
        var chosen = RemoteModuleCheck.Choose("gw1", Local, [Module("0.2.0", folder: "/a"), Module("0.1.0", core: "bb", folder: "/b")]);
        Assert.Equal("/b", chosen.ModuleBase); // hashes compare without regard to case
    }

    [Fact]
    public void No_module_names_the_copy_command()
    {
        var e = Assert.Throws<HermesException>(() => RemoteModuleCheck.Choose("gw1", Local, []));
        Assert.Equal(HermesErrorIds.ModuleMissing, e.ErrorId);
        Assert.Contains("Copy-HermesModule", e.Message, StringComparison.Ordinal);
        Assert.Equal("gw1", e.Target);
    }

    [Fact]
    public void Other_versions_only_are_a_mismatch_naming_them()
    {
        var e = Assert.Throws<HermesException>(() => RemoteModuleCheck.Choose("gw1", Local, [Module("0.0.9"), Module("0.2.0")]));
        Assert.Equal(HermesErrorIds.ModuleVersionMismatch, e.ErrorId);
        Assert.Contains("0.0.9", e.Message, StringComparison.Ordinal);
        Assert.Contains("0.2.0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_version_built_differently_is_a_mismatch_naming_the_assembly()
    {
        var e = Assert.Throws<HermesException>(() => RemoteModuleCheck.Choose("gw1", Local, [Module("0.1.0", core: "CC")]));
        Assert.Equal(HermesErrorIds.ModuleVersionMismatch, e.ErrorId);
        Assert.Contains("HermesGateway.Core.dll differs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_not_a_match()
    {
        var partial = new RemoteModule("0.1.0", "/m", new Dictionary<string, string> { ["HermesGateway.dll"] = "AA", ["HermesGateway.Core.dll"] = "BB" }, false);
        Assert.Throws<HermesException>(() => RemoteModuleCheck.Choose("gw1", Local, [partial]));
    }

    [Fact]
    public void A_changed_manifest_is_another_build()
    {
        var e = Assert.Throws<HermesException>(() => RemoteModuleCheck.Choose("gw1", Local, [new RemoteModule("0.1.0", "/m", Hashes("AA", "BB", manifest: "EVIL"), false)]));
        Assert.Contains("HermesGateway.psd1 differs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void What_is_loaded_decides_not_the_files_now_on_disk()
    {
        var local = Local with { LoadedIds = Ids("m1", "m2") };
        // The files were replaced by this build's after another build was loaded: still another build running.
        var e = Assert.Throws<HermesException>(() => RemoteModuleCheck.Choose("gw1", local, [new RemoteModule("0.1.0", "/m", Hashes("AA", "BB"), true, Ids("old1", "old2")), Module("0.1.0")]));
        Assert.Equal(HermesErrorIds.ModuleVersionMismatch, e.ErrorId);
        Assert.Contains("loaded assemblies are not this build's", e.Message, StringComparison.Ordinal);
        // The same assemblies loaded: used.
        Assert.True(RemoteModuleCheck.Choose("gw1", local, [new RemoteModule("0.1.0", "/m", Hashes("xx", "yy"), true, Ids("M1", "M2"))]).Loaded);
    }

    [Fact]
    public void A_module_others_can_write_is_not_used()
    {
        var e = Assert.Throws<HermesException>(() => RemoteModuleCheck.Choose("gw1", Local, [new RemoteModule("0.1.0", "/m", Hashes("AA", "BB"), false, OthersCanWrite: true)]));
        Assert.Equal(HermesErrorIds.PermissionDenied, e.ErrorId);
    }

    [Fact]
    public void Another_build_loaded_in_the_session_blocks_it_even_when_this_build_is_installed()
    {
        var e = Assert.Throws<HermesException>(() => RemoteModuleCheck.Choose("gw1", Local, [Module("0.0.9", loaded: true, folder: "/old"), Module("0.1.0")]));
        Assert.Equal(HermesErrorIds.ModuleVersionMismatch, e.ErrorId);
        Assert.Contains("open a new session", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void This_build_already_loaded_is_used()
    {
        Assert.True(RemoteModuleCheck.Choose("gw1", Local, [Module("0.1.0", loaded: true)]).Loaded);
    }

    [Fact]
    public void A_build_is_read_from_its_folder()
    {
        var folder = Directory.CreateTempSubdirectory("hermes-build-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "HermesGateway.dll"), "one");
            File.WriteAllText(Path.Combine(folder, "HermesGateway.Core.dll"), "two");
            File.WriteAllText(Path.Combine(folder, "HermesGateway.psd1"), "@{}");
            File.WriteAllText(Path.Combine(folder, "HermesGateway.format.ps1xml"), "<x/>");
            var build = ModuleBuild.Of(folder, "0.1.0");
            Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData("one"u8)), build.Hashes["HermesGateway.dll"]);
            Assert.True(build.SameFiles(build.Hashes));
            File.WriteAllText(Path.Combine(folder, "HermesGateway.Core.dll"), "three");
            Assert.False(build.SameFiles(ModuleBuild.Of(folder, "0.1.0").Hashes));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}

/// <summary>How a host's gateways are described and judged healthy in a rollout.</summary>
public sealed class FleetStateTests
{
    [Theory]
    [InlineData("active", 12, false, true)]
    [InlineData("running", 12, null, true)]
    [InlineData("active", null, false, false)]
    [InlineData("activating", 12, false, false)]
    [InlineData("crash-loop", 12, true, false)]
    [InlineData("active", 12, true, false)]
    [InlineData("failed", null, false, false)]
    public void Healthy_means_a_process_the_supervisor_calls_running_and_no_crash_loop(string state, int? pid, bool? loop, bool healthy) =>
        Assert.Equal(healthy, FleetState.Healthy(state, pid, loop));

    [Theory]
    [InlineData("inactive", null, false, true, true)]
    [InlineData("inactive", null, false, false, false)]
    [InlineData("failed", null, false, false, true)]
    [InlineData("crash-loop", 5, true, false, true)]
    [InlineData("activating", null, true, false, true)]
    [InlineData(null, null, null, false, true)]
    [InlineData("unknown", null, null, false, true)]
    [InlineData("active", 5, false, false, false)]
    [InlineData("active", 5, false, true, false)]
    public void Down_depends_on_whether_the_rollout_leaves_gateways_running(string? state, int? pid, bool? loop, bool expectRunning, bool down) =>
        Assert.Equal(down, FleetState.Down(state, pid, loop, expectRunning));

    [Fact]
    public void Standing_after_a_restart_means_healthy_and_the_same_processes_through_the_wait()
    {
        (string, string?, int?, bool?)[] now = [("hermes-gateway", "active", 7, false)];
        Assert.True(FleetState.Standing(now, true));
        Assert.True(FleetState.Standing(now, true, new Dictionary<string, int?> { ["hermes-gateway"] = 7 }));
        Assert.False(FleetState.Standing(now, true, new Dictionary<string, int?> { ["hermes-gateway"] = 6 }));
        Assert.False(FleetState.Standing([], true));
        Assert.False(FleetState.Standing([("hermes-gateway", "activating", null, false)], true));
    }

    [Fact]
    public void Standing_after_an_install_without_start_means_not_failed()
    {
        Assert.True(FleetState.Standing([("relay", "inactive", null, false)], false));
        Assert.True(FleetState.Standing([], false));
        Assert.False(FleetState.Standing([("relay", "failed", null, false)], false));
    }

    [Fact]
    public void Described_one_line_per_host()
    {
        Assert.Equal("hermes-gateway: active (pid 412); relay: failed", FleetState.Describe([("hermes-gateway", "active", 412), ("relay", "failed", null)]));
        Assert.Equal("no gateway service", FleetState.Describe([]));
    }
}
