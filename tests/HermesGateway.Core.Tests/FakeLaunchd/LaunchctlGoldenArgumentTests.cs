using System.Text.RegularExpressions;

namespace HermesGateway.Core.Tests.FakeLaunchd;

/// <summary>
/// Golden argument lists, NOT through the fake: a recording runner answers launchctl with canned texts, and the exact
/// argument lists the engine sends for install, start, stop and uninstall are asserted, each checked against the
/// forms in launchctl(1) (Apple, 1 Oct 2014, as mirrored in keith/xcode-man-pages docs/launchctl.1.html):
///   bootstrap | bootout domain-target [service-path service-path2 ...] | service-target
///   enable | disable service-target
///   kickstart [-kp] service-target
///   print domain-target | service-target
///   print-disabled domain-target
///   kill signal-name | signal-number service-target
/// where a domain-target is system/, user/&lt;uid&gt;, login/&lt;asid&gt;, gui/&lt;uid&gt;, session/&lt;asid&gt; or pid/&lt;pid&gt;
/// and a service-target is domain-target/service-name.
/// </summary>
public sealed partial class LaunchctlGoldenArgumentTests
{
    private const string Label = "ai.hermes.gateway";
    private const string Plist = "/Users/h/Library/LaunchAgents/ai.hermes.gateway.plist";

    private static readonly ServiceIdentity Job = new(Label, ServicePlatform.Launchd, ServiceScope.Agent, Plist);

    private static readonly ServiceEnvironment Mac = new() { Home = "/Users/h", Uid = 501, UserName = "h", IsMacOS = true };

    [Fact]
    public void Install_of_a_new_disabled_job_enables_then_bootstraps()
    {
        var launchctl = new CannedLaunchctl { Disabled = true };
        Manager(launchctl).Activate(Definition(), Plist, fileChanged: true, start: false, new TestHost());
        AssertGolden(launchctl,
        [
            ["print", "gui/501"],
            ["print-disabled", "gui/501"],
            ["enable", "gui/501/ai.hermes.gateway"],
            ["print", "gui/501/ai.hermes.gateway"],
            ["bootstrap", "gui/501", Plist],
        ]);
    }

    [Fact]
    public void Install_with_start_kickstarts_when_the_load_did_not_start_it()
    {
        var launchctl = new CannedLaunchctl { StartsAtLoad = false };
        Manager(launchctl).Activate(Definition(), Plist, fileChanged: true, start: true, new TestHost());
        AssertGolden(launchctl,
        [
            ["print", "gui/501"],
            ["print-disabled", "gui/501"],
            ["print", "gui/501/ai.hermes.gateway"],
            ["bootstrap", "gui/501", Plist],
            ["print", "gui/501/ai.hermes.gateway"],
            ["kickstart", "gui/501/ai.hermes.gateway"],
        ]);
    }

    [Fact]
    public void Install_of_a_changed_file_over_a_loaded_job_boots_it_out_and_bootstraps_again()
    {
        var launchctl = new CannedLaunchctl { Loaded = true, Running = true };
        Manager(launchctl).Activate(Definition(), Plist, fileChanged: true, start: false, new TestHost());
        AssertGolden(launchctl,
        [
            ["print", "gui/501"],
            ["print-disabled", "gui/501"],
            ["print", "gui/501/ai.hermes.gateway"],
            ["print", "gui/501"],
            ["print", "gui/501/ai.hermes.gateway"],
            ["bootout", "gui/501/ai.hermes.gateway"],
            ["bootstrap", "gui/501", Plist],
        ]);
    }

    [Fact]
    public void Reinstall_of_an_unchanged_loaded_job_only_reads()
    {
        var launchctl = new CannedLaunchctl { Loaded = true, Running = true };
        Manager(launchctl).Activate(Definition(), Plist, fileChanged: false, start: false, new TestHost());
        AssertGolden(launchctl,
        [
            ["print", "gui/501"],
            ["print-disabled", "gui/501"],
            ["print", "gui/501/ai.hermes.gateway"],
        ]);
    }

    [Fact]
    public void Start_of_a_booted_out_job_bootstraps_it()
    {
        var launchctl = new CannedLaunchctl();
        Manager(launchctl).StartService(Job, new TestHost());
        AssertGolden(launchctl,
        [
            ["print", "gui/501"],
            ["print", "gui/501/ai.hermes.gateway"],
            ["bootstrap", "gui/501", Plist],
            ["print", "gui/501/ai.hermes.gateway"],
        ]);
    }

    [Fact]
    public void Start_of_a_loaded_idle_job_kickstarts_it()
    {
        var launchctl = new CannedLaunchctl { Loaded = true };
        Manager(launchctl).StartService(Job, new TestHost());
        AssertGolden(launchctl,
        [
            ["print", "gui/501"],
            ["print", "gui/501/ai.hermes.gateway"],
            ["print", "gui/501/ai.hermes.gateway"],
            ["kickstart", "gui/501/ai.hermes.gateway"],
        ]);
    }

    [Fact]
    public void Stop_and_uninstall_boot_the_job_out()
    {
        foreach (var uninstall in new[] { false, true })
        {
            var launchctl = new CannedLaunchctl { Loaded = true, Running = true };
            var manager = Manager(launchctl);
            if (uninstall)
            {
                manager.Remove(Job, () => { }, new TestHost());
            }
            else
            {
                manager.StopService(Job, new TestHost());
            }

            AssertGolden(launchctl,
            [
                ["print", "gui/501"],
                ["print", "gui/501/ai.hermes.gateway"],
                ["bootout", "gui/501/ai.hermes.gateway"],
            ]);
        }
    }

    /// <summary>
    /// Issue 11 (suspected, confirmed): Stop waited on the bare PID after bootout, so a PID reused by another process
    /// held it for 120 s and ended in a false StopTimeout. The PID counts only with the start time it had.
    /// </summary>
    [Fact]
    public void Stop_does_not_wait_on_a_PID_that_another_process_now_has()
    {
        var launchctl = new CannedLaunchctl { Loaded = true, Running = true };
        var table = new ReusedPid();
        var manager = new LaunchdServiceManager(launchctl, Mac, table) { BootstrapRetryFor = TimeSpan.Zero };

        var clock = System.Diagnostics.Stopwatch.StartNew();
        manager.StopService(Job, new TestHost());

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
    }

    /// <summary>PID 4242 stays alive after the bootout, but as another process (another start time).</summary>
    private sealed class ReusedPid : IProcessTable
    {
        private int reads;

        public bool IsAlive(int pid) => true;

        public long? StartTime(int pid) => Interlocked.Increment(ref reads) == 1 ? 100 : 999;

        public int? ParentPid(int pid) => 1;

        public string? ControlGroup(int pid) => null;
    }

    [Fact]
    public void Without_a_GUI_session_every_call_names_user_uid()
    {
        var launchctl = new CannedLaunchctl { NoGuiSession = true };
        Manager(launchctl).Activate(Definition(), Plist, fileChanged: true, start: false, new TestHost());
        AssertGolden(launchctl,
        [
            ["print", "gui/501"],
            ["print-disabled", "user/501"],
            ["print", "user/501/ai.hermes.gateway"],
            ["bootstrap", "user/501", Plist],
        ]);
    }

    [Fact]
    public void Daemons_are_bootstrapped_into_system()
    {
        var launchctl = new CannedLaunchctl();
        var root = Mac with { Uid = 0, UserName = "root" };
        var d = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Launchd, Scope = ServiceScope.Daemon, Executable = "/opt/hermes/bin/hermes", HermesHome = "/var/lib/hermes", User = "hermes",
        });
        new LaunchdServiceManager(launchctl, root, NoProcesses.Instance).Activate(d, "/Library/LaunchDaemons/ai.hermes.gateway.plist", fileChanged: true, start: false, new TestHost());
        AssertGolden(launchctl,
        [
            ["print-disabled", "system"],
            ["print", "system/ai.hermes.gateway"],
            ["bootstrap", "system", "/Library/LaunchDaemons/ai.hermes.gateway.plist"],
        ]);
    }

    [Fact]
    public void The_client_maps_launchctl_exit_codes_to_error_ids()
    {
        Expect(HermesErrorIds.LaunchdDomainMissing, 125, "Bootstrap failed: 125: Domain does not support specified action");
        Expect(HermesErrorIds.ServiceNotFound, 113, "Could not find service \"ai.hermes.gateway\" in domain for user gui: 501");
        Expect(HermesErrorIds.ServiceManagerFailed, 5, "Bootstrap failed: 5: Input/output error");

        static void Expect(string id, int code, string stderr)
        {
            var client = new LaunchctlClient(new FixedAnswer(new ProcessResult(code, string.Empty, stderr + "\n", false)));
            var e = Assert.Throws<HermesException>(() => client.Bootstrap("gui/501", Plist));
            Assert.Equal(id, e.ErrorId);
        }
    }

    private static LaunchdServiceManager Manager(CannedLaunchctl launchctl) =>
        new(launchctl, Mac, NoProcesses.Instance) { BootstrapRetryFor = TimeSpan.Zero };

    private static ServiceDefinition Definition() => ServiceDefinitionFactory.Create(new DefinitionRequest
    {
        Platform = ServicePlatform.Launchd, Executable = "/Users/h/.local/bin/hermes", HermesHome = "/Users/h/.hermes",
    });

    private static void AssertGolden(CannedLaunchctl launchctl, string[][] expected)
    {
        Assert.Equal(expected.Select(a => string.Join(" | ", a)), launchctl.Calls.Select(a => string.Join(" | ", a)));
        foreach (var call in launchctl.Calls)
        {
            Assert.True(Launchctl1.IsDocumentedForm(call), $"not a launchctl(1) form: {string.Join(' ', call)}");
        }
    }

    /// <summary>The launchctl(1) grammar quoted in the class comment, for the subcommands the engine may use.</summary>
    private static partial class Launchctl1
    {
        public static bool IsDocumentedForm(string[] a) => a.Length > 0 && a[0] switch
        {
            "bootstrap" => a.Length >= 3 && DomainTarget().IsMatch(a[1]) && a.Skip(2).All(p => p.StartsWith('/')),
            "bootout" => (a.Length == 2 && ServiceTarget().IsMatch(a[1])) || (a.Length >= 3 && DomainTarget().IsMatch(a[1]) && a.Skip(2).All(p => p.StartsWith('/'))),
            "enable" or "disable" => a.Length == 2 && ServiceTarget().IsMatch(a[1]),
            "kickstart" => a.Length >= 2 && a.Skip(1).SkipLast(1).All(o => o is "-k" or "-p" or "-kp") && ServiceTarget().IsMatch(a[^1]),
            "print" => a.Length == 2 && (DomainTarget().IsMatch(a[1]) || ServiceTarget().IsMatch(a[1])),
            "print-disabled" => a.Length == 2 && DomainTarget().IsMatch(a[1]),
            "kill" => a.Length == 3 && SignalName().IsMatch(a[1]) && ServiceTarget().IsMatch(a[2]),
            _ => false,
        };

        [GeneratedRegex(@"^(system/?|(user|gui|login|session|pid)/\d+)$")]
        private static partial Regex DomainTarget();

        [GeneratedRegex(@"^(system|(user|gui|login|session|pid)/\d+)/[A-Za-z0-9][A-Za-z0-9._-]*$")]
        private static partial Regex ServiceTarget();

        [GeneratedRegex(@"^(SIG)?[A-Z0-9]+$|^\d+$")]
        private static partial Regex SignalName();
    }

    /// <summary>Records each launchctl argument list and answers as launchctl does, from a little job state.</summary>
    private sealed class CannedLaunchctl : IProcessRunner
    {
        public List<string[]> Calls { get; } = [];

        public bool NoGuiSession { get; init; }

        public bool Disabled { get; set; }

        public bool Loaded { get; set; }

        public bool Running { get; set; }

        public bool StartsAtLoad { get; init; } = true;

        public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default)
        {
            Assert.Equal("launchctl", fileName);
            Calls.Add([.. arguments]);
            static ProcessResult Ok(string stdout = "") => new(0, stdout, string.Empty, false);
            var target = arguments.Count > 1 ? arguments[^1] : string.Empty;
            if (NoGuiSession && target.StartsWith("gui/", StringComparison.Ordinal))
            {
                return new ProcessResult(125, string.Empty, "Domain does not support specified action\n", false);
            }

            switch (arguments[0])
            {
                case "print" when target == "system" || (target.Count(c => c == '/') == 1 && !target.StartsWith("system/", StringComparison.Ordinal)):
                    return Ok($"{target} = {{\n\ttype = login\n}}\n");
                case "print" when !Loaded:
                    return new ProcessResult(113, string.Empty, $"Could not find service \"{Label}\" in domain for user gui: 501\n", false);
                case "print":
                    return Ok($"{target} = {{\n\tstate = {(Running ? "running" : "not running")}\n{(Running ? "\tpid = 4242\n" : string.Empty)}\truns = 1\n\tlast exit code = (never exited)\n}}\n");
                case "print-disabled":
                    return Ok($"disabled services = {{\n\t\"{Label}\" => {(Disabled ? "disabled" : "enabled")}\n}}\n");
                case "enable":
                    Disabled = false;
                    return Ok();
                case "bootstrap" when Loaded || Disabled:
                    return new ProcessResult(5, string.Empty, "Bootstrap failed: 5: Input/output error\n", false);
                case "bootstrap":
                    (Loaded, Running) = (true, StartsAtLoad);
                    return Ok();
                case "bootout" when !Loaded:
                    return new ProcessResult(113, string.Empty, "Boot-out failed: 113: Could not find specified service\n", false);
                case "bootout":
                    (Loaded, Running) = (false, false);
                    return Ok();
                case "kickstart":
                    Running = true;
                    return Ok();
                default:
                    return new ProcessResult(64, string.Empty, "Usage: launchctl ...\n", false);
            }
        }
    }

    /// <summary>A process table where the job's old PID is already gone (nothing on this machine is touched).</summary>
    private sealed class NoProcesses : IProcessTable
    {
        public static readonly NoProcesses Instance = new();

        public bool IsAlive(int pid) => false;

        public long? StartTime(int pid) => null;
    
        public int? ParentPid(int pid) => null;

        public string? ControlGroup(int pid) => null;
    }

    private sealed class FixedAnswer(ProcessResult answer) : IProcessRunner
    {
        public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default) => answer;
    }
}
