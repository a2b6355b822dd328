namespace HermesGateway.Core.Tests.Definition;

/// <summary>Adopting existing files (upstream's own) and the setting-level diff.</summary>
public sealed class AdoptionAndDiffTests
{
    private static string Example(string name) => Path.Combine(AppContext.BaseDirectory, "examples", name);

    [Theory]
    [InlineData("hermes-gateway.service")]
    [InlineData("ai.hermes.gateway.plist")]
    public void An_adopted_file_rewritten_from_its_definition_behaves_the_same_in_every_scenario(string file)
    {
        var original = ServiceFormats.Read(Example(file));
        var adopted = ServiceFiles.Read(Example(file));

        var before = ExitPolicyEvaluator.Evaluate(original).Select(v => (v.Scenario, v.Ok, v.Revived, v.Delay, v.FinalState, v.Result));
        var after = ExitPolicyEvaluator.Evaluate(ServiceFiles.ToConfiguration(adopted)).Select(v => (v.Scenario, v.Ok, v.Revived, v.Delay, v.FinalState, v.Result));

        Assert.Equal(before, after);
    }

    [Theory]
    [InlineData("hermes-gateway.service")]
    [InlineData("ai.hermes.gateway.plist")]
    public void An_adopted_file_differs_from_its_definition_in_no_setting_that_matters(string file)
    {
        var changes = ServiceDiff.CompareWithFile(Example(file), ServiceFiles.Read(Example(file)));

        // Rewriting keeps every setting; only what systemd treats as the same value may be spelled differently.
        Assert.Empty(changes);
    }

    [Theory]
    [InlineData("hermes-gateway.service")]
    [InlineData("ai.hermes.gateway.plist")]
    public void An_update_drops_the_flag_and_the_variable_Hermes_0_16_does_not_know(string file)
    {
        var adopted = ServiceFiles.Read(Example(file));
        var text = File.ReadAllText(Example(file));
        var expected = ServiceDefinitionFactory.Create(DefinitionRequest.From(adopted));

        Assert.DoesNotContain("--external-supervisor", expected.Arguments);
        Assert.DoesNotContain(expected.Environment, v => v.Name == "HERMES_SUPERVISED_CHILD");
        Assert.Contains(expected.Environment, v => v.Name == "HERMES_S6_SUPERVISED_CHILD" && v.Value == "1");
        // and drift names what goes: upstream's files carry both
        var (_, changes) = Core.Service.ServiceInstaller.Drift(text, adopted);
        var shown = string.Join("\n", changes.Select(c => c.ToString()));
        Assert.Contains("HERMES_SUPERVISED_CHILD", shown, StringComparison.Ordinal);
        if (adopted.Platform == ServicePlatform.Launchd)
        {
            Assert.Contains("--external-supervisor", shown, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Upstreams_unit_keeps_the_settings_the_definition_does_not_model()
    {
        var d = ServiceFiles.Read(Example("hermes-gateway.service"));

        Assert.Contains(d.ExtraUnitSettings, e => e is { Section: "Service", Key: "StandardOutput", Value: "journal" });
        Assert.Equal("/home/hermes/.hermes", d.HermesHome);
        Assert.Equal(["-m", "hermes_cli.main", "gateway", "run"], d.Arguments.ToArray());
        Assert.False(d.Systemd!.MarkPlannedStop);
        Assert.Equal(TimeSpan.FromSeconds(70), d.StopTimeout);
    }

    [Fact]
    public void A_drop_in_is_folded_into_the_adopted_definition()
    {
        using var dir = new TempDir();
        var unit = dir.Write("hermes-gateway.service", File.ReadAllText(Example("hermes-gateway.service")));
        dir.Write("hermes-gateway.service.d/override.conf", "[Service]\nTimeoutStopSec=120\nEnvironment=EXTRA=1\n");

        var d = ServiceFiles.Read(unit);

        Assert.Equal(TimeSpan.FromSeconds(120), d.StopTimeout);
        Assert.Contains(new EnvironmentVariable("EXTRA", "1"), d.Environment);
    }

    [Fact]
    public void Changing_one_setting_shows_exactly_that_setting_old_and_new()
    {
        var a = ServiceDefinitionFactory.Create(SystemdDefinitionTests.UserRequest());
        var b = a with { StopTimeout = TimeSpan.FromSeconds(95) };

        var change = Assert.Single(ServiceDiff.Compare(a, b));

        Assert.Equal(("Service", "TimeoutStopSec", "90s", "95s", SettingChangeKind.Changed), (change.Section, change.Setting, change.Old, change.New, change.Kind));
        Assert.Equal("~ TimeoutStopSec=90s → 95s", change.ToString());
    }

    [Fact]
    public void List_settings_show_added_and_removed_values_and_ignore_order()
    {
        var a = ServiceFiles.Read(Example("hermes-gateway.service"));
        var b = a with { Environment = [.. a.Environment.Reverse(), new EnvironmentVariable("NEW", "x")] };

        var change = Assert.Single(ServiceDiff.Compare(a, b));

        Assert.Equal(SettingChangeKind.Added, change.Kind);
        Assert.Equal("NEW=x", change.New);
    }

    [Fact]
    public void Plist_settings_are_compared_by_key_path()
    {
        var a = ServiceFiles.Read(Example("ai.hermes.gateway.plist"));
        var b = a with { Launchd = a.Launchd! with { KeepAlive = new HermesGateway.Core.Launchd.LaunchdKeepAlive { SuccessfulExit = false } }, StopTimeout = TimeSpan.FromSeconds(90) };

        var changes = ServiceDiff.Compare(a, b).Select(c => c.ToString()).ToList();

        Assert.Contains("~ ExitTimeOut=25 → 90", changes);
        Assert.Contains("- KeepAlive=true", changes);
        Assert.Contains("+ KeepAlive.SuccessfulExit=false", changes);
    }

    [Fact]
    public void Comments_blank_lines_and_spelling_of_times_are_no_change()
    {
        var unit = "[Service]\nExecStart=/bin/true\nRestartSec=5\nTimeoutStopSec=1min 30s\n";
        var same = "# a comment\n\n[Service]\nExecStart=/bin/true\n\nRestartSec=5s\nTimeoutStopSec=90\n";

        Assert.Empty(ServiceDiff.CompareText(unit, same, ServicePlatform.Systemd, "/x.service"));
    }

    public static TheoryData<string> OwnDefinitions() => ["plain", "short-stop", "long-drain", "hermes-0.16", "system", "launchd", "launchd-short-stop", "custom", "profile"];

    [Theory]
    [MemberData(nameof(OwnDefinitions))]
    public void A_file_this_module_wrote_and_nobody_touched_shows_no_drift(string kind)
    {
        var request = new DefinitionRequest
        {
            Platform = kind.StartsWith("launchd", StringComparison.Ordinal) ? ServicePlatform.Launchd : ServicePlatform.Systemd,
            Scope = kind == "system" ? ServiceScope.System : null,
            User = kind == "system" ? "hermes" : null,
            Name = "relay",
            HermesHome = "/srv/hermes",
            Executable = "/usr/bin/hermes",
            Description = "my relay",
            StopTimeout = kind.EndsWith("short-stop", StringComparison.Ordinal) ? TimeSpan.FromSeconds(60) : null,
            Profile = kind == "profile" ? "work" : null,
            Arguments = kind == "custom" ? ["-m", "hermes_cli.main", "gateway", "run", "--verbose"] : null,
            Environment = kind == "custom" ? [new("PATH", "/opt/h/bin:/usr/bin"), new("LANG", "C.UTF-8")] : null,
            WorkingDirectory = kind == "custom" ? "/srv" : null,
            DrainTimeout = kind == "long-drain" ? TimeSpan.FromMinutes(10) : null,
            Contract = kind == "hermes-0.16" ? GatewayExitContract.Hermes016 : null,
        };
        var definition = ServiceDefinitionFactory.Create(request);
        using var dir = new TempDir();
        var text = Core.Service.FileStamp.Apply(ServiceFiles.Render(definition), definition.Platform);
        var path = dir.Write(definition.FileName, text);

        var (summary, changes) = Core.Service.ServiceInstaller.Drift(text, ServiceFiles.Read(path));

        Assert.Empty(changes);
        Assert.Equal("none", summary);
    }
}
