// Restart benchmark: Restart-HermesGateway's engine against systemctl restart, upstream's signal-then-poll and the
// modelled launchd respawn, on a real systemd 252 (sde2e) with the stub gateway, measured in one run. Prints one
// Markdown table (stdout); progress goes to stderr. A program, not a test: it asserts no time.
// With --real: the real gateway (../shared/fixtures/hermes-agent) instead of the stub, and three paths in one run on one
// sandbox: the engine and systemctl restart on the module's default unit, and the gateway's own systemd shortcut under
// upstream's unit (RealGateway.cs).
//
//   dotnet run -c Release --project tests/HermesGateway.RestartBenchmark -- [restarts=20] [--drain S] [--start S] [--gap S]
//   dotnet run -c Release --project tests/HermesGateway.RestartBenchmark -- --real [restarts=5] [--gap S=3]
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using HermesGateway.Core.Platform;
using HermesGateway.RestartBenchmark;

int restarts;
Knobs knobs;
bool real;
try
{
    (restarts, knobs, real) = Arguments.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine("usage: HermesGateway.RestartBenchmark [restarts=20] [--drain 0.2] [--start 0.1] [--gap 1.0]");
    Console.Error.WriteLine("       HermesGateway.RestartBenchmark --real [restarts=5] [--gap 3.0]");
    return 2;
}

if (!ServiceEnvironment.Current().IsRoot)
{
    Console.Error.WriteLine("The benchmark boots its own systemd with ../shared/tools/sde2e, which needs root.");
    return 2;
}

var repo = Arguments.RepoRoot() ?? throw new InvalidOperationException("HermesGateway.sln not found above the working directory or the program");
var script = Path.GetFullPath(Path.Combine(repo, "..", "shared", "tools", "sde2e"));
var stub = real
    ? Path.GetFullPath(Path.Combine(repo, "..", "shared", "fixtures", "hermes-agent", "hermes"))
    : Path.Combine(repo, "tests", "stub-gateway", "stub_gateway.py");
if (!File.Exists(script) || !File.Exists(stub))
{
    Console.Error.WriteLine($"missing {(File.Exists(script) ? stub : script)}");
    return 2;
}

// systemctl --user inside the sandbox finds the uid-0 user manager through its runtime directory.
Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", "/run/user/0");
Environment.SetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS", null);

using var cts = new CancellationTokenSource();
void Interrupt(PosixSignalContext context)
{
    context.Cancel = true;
    Console.Error.WriteLine($"{context.Signal}: stopping, then taking the sandbox down");
    cts.Cancel();
}

using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Interrupt);

var sandbox = new Sandbox(script);
AppDomain.CurrentDomain.ProcessExit += (_, _) => sandbox.Down();
var wall = Stopwatch.StartNew();
var host = new BenchHost(cts.Token);
var results = new List<ConfigResult>();
var showCost = double.NaN;
string? realTable = null;
var realFailed = false;
try
{
    Console.Error.WriteLine($"booting systemd 252 in {sandbox.State}");
    sandbox.Up();
    var runner = new SandboxRunner(sandbox);
    if (real)
    {
        var bench = new RealBench(sandbox, runner, host, stub);
        Console.Error.WriteLine($"[real] installing {bench.Module.Unit} (the module's default unit) with the engine");
        bench.InstallModuleUnit();
        Console.Error.WriteLine($"[real] writing and starting {bench.Upstream.Unit} (upstream's unit)");
        bench.InstallUpstreamUnit();
        var costs = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var clock = Stopwatch.StartNew();
            bench.Module.Show();
            costs.Add(clock.Elapsed.TotalSeconds);
        }

        var (samples, failures) = RealRunner.Run(bench, restarts, knobs.GapSeconds, host);
        bench.StopAll();
        realTable = RealReport.Render(samples, failures, restarts, knobs.GapSeconds, Stats.Median(costs), host.Warnings, wall.Elapsed);
        realFailed = failures.Values.Any(n => n > 0);
    }
    else
    {
        // The sandbox's own procfs, seen through its PID 1's root: the engine's process table pointed at it. Its process
        // handles are /proc/<pid> directories of another PID namespace, which signal exactly like a pidfd but cannot be
        // polled: the exit is seen by asking the kernel every millisecond (on a machine's own /proc, pidfd_open + poll).
        var processes = new LocalProcessTable($"/proc/{sandbox.ManagerPid}/root/proc");
        foreach (var (label, name, restartSec) in new (string, string, TimeSpan?)[]
                 {
                     ("module default unit", "hermes-gateway-bench-default", null),
                     ("default unit but", "hermes-gateway-bench-100ms", TimeSpan.FromMilliseconds(100)),
                 })
        {
            var rig = new Rig(sandbox, runner, processes, host, knobs, name, restartSec);
            Console.Error.WriteLine($"[{label}] installing {rig.Unit} with the engine");
            rig.Install(stub);
            if (double.IsNaN(showCost))
            {
                showCost = rig.ShowCost(20);
            }

            results.Add(Runner.Run(label, rig, restarts, host));
            rig.Stop();
        }
    }
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("interrupted; no table");
    return 130;
}
finally
{
    Console.Error.WriteLine("taking the sandbox down");
    sandbox.Down();
}

if (realTable is not null)
{
    Console.Write(realTable);
    return realFailed ? 1 : 0;
}

Console.Write(Report.Render(results, restarts, knobs, showCost, host.Warnings, wall.Elapsed));
return results.Any(r => r.Failures > 0) ? 1 : 0;

namespace HermesGateway.RestartBenchmark
{
    internal static class Arguments
    {
        public static (int Restarts, Knobs Knobs, bool Real) Parse(string[] args)
        {
            var inv = CultureInfo.InvariantCulture;
            int? restarts = null;
            double? gap = null;
            var real = false;
            var knobs = new Knobs(DrainSeconds: 0.2, StartSeconds: 0.1, GapSeconds: 1.0);
            for (var i = 0; i < args.Length; i++)
            {
                double Value() => i + 1 < args.Length && double.TryParse(args[++i], NumberStyles.Float, inv, out var v) && v >= 0
                    ? v
                    : throw new FormatException($"{args[i - 1]} needs a number of seconds");
                switch (args[i])
                {
                    case "--drain":
                        knobs = knobs with { DrainSeconds = Value() };
                        break;
                    case "--start":
                        knobs = knobs with { StartSeconds = Value() };
                        break;
                    case "--gap":
                        gap = Value();
                        break;
                    case "--real":
                        real = true;
                        break;
                    default:
                        restarts = int.TryParse(args[i], NumberStyles.None, inv, out var n) && n >= 1
                            ? n
                            : throw new FormatException($"'{args[i]}' is not a number of restarts");
                        break;
                }
            }

            // The real gateway takes about 1–3 s to start and settles for a while after: fewer restarts, longer pauses.
            return (restarts ?? (real ? 5 : 20), knobs with { GapSeconds = gap ?? (real ? 3.0 : 1.0) }, real);
        }

        public static string? RepoRoot()
        {
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "HermesGateway.sln")))
                    {
                        return dir.FullName;
                    }
                }
            }

            return null;
        }
    }

    internal sealed record ConfigResult(string Label, string Unit, TimeSpan RestartSec, IReadOnlyDictionary<string, List<Sample>> Samples, int Failures, IReadOnlyList<string> Strategies);

    internal static class Runner
    {
        private static readonly string[] Methods = ["ours", "systemctl restart", "upstream", "experiment"];

        public static ConfigResult Run(string label, Rig rig, int restarts, BenchHost host)
        {
            var samples = Methods.ToDictionary(m => m, _ => new List<Sample>(), StringComparer.Ordinal);
            var strategies = new List<string>();
            var failures = 0;

            // One unmeasured round first (JIT, the engine's first lock file and JSON), except the slow upstream poll.
            foreach (var method in new[] { "ours", "systemctl restart", "experiment" })
            {
                Once(rig, method, host, label, "warm-up", ref failures, record: null);
            }

            for (var i = 0; i < restarts; i++)
            {
                // Interleaved, starting one method later each round, so slow drifts of the machine hit every method alike.
                for (var k = 0; k < Methods.Length; k++)
                {
                    var method = Methods[(i + k) % Methods.Length];
                    Once(rig, method, host, label, $"{i + 1}/{restarts}", ref failures, s =>
                    {
                        samples[method].Add(s);
                        if (s.Engine is { } r)
                        {
                            strategies.Add(r.Strategy);
                        }
                    });
                }
            }

            return new ConfigResult($"{label} RestartSec={Report.Duration(rig.RestartSec)}", rig.Unit, rig.RestartSec, samples, failures, strategies);
        }

        private static void Once(Rig rig, string method, BenchHost host, string label, string round, ref int failures, Action<Sample>? record)
        {
            try
            {
                var s = method switch
                {
                    "ours" => rig.Ours(),
                    "systemctl restart" => rig.SystemctlRestart(),
                    "upstream" => rig.Upstream(),
                    _ => rig.RestartFromAutoRestart(),
                };
                record?.Invoke(s);
                Console.Error.WriteLine(FormattableString.Invariant($"[{label}] {round} {method}: downtime {s.Downtime * 1000:0} ms, total {s.Total * 1000:0} ms"));
            }
            catch (Exception e) when (Failures.IsRecoverable(e) && !host.Cancellation.IsCancellationRequested)
            {
                failures++;
                Console.Error.WriteLine($"[{label}] {round} {method} FAILED: {e.GetType().Name}: {e.Message}");
                rig.Recover();
            }

            rig.Rest();
        }
    }

    internal static class Report
    {
        public static string Render(IReadOnlyList<ConfigResult> results, int restarts, Knobs knobs, double showCost, int warnings, TimeSpan took)
        {
            var inv = CultureInfo.InvariantCulture;
            var o = new StringBuilder();
            string Pair(IReadOnlyList<double> v) => $"{ReportText.Ms(Stats.Median(v))} / {ReportText.Ms(Stats.P95(v))}";
            string Ratio(IReadOnlyList<double> alt, IReadOnlyList<double> ours, Func<IReadOnlyList<double>, double> f) =>
                alt.Count == 0 ? "–" : (f(alt) / f(ours)).ToString("0.00", inv) + "×";
            string Ratios(IReadOnlyList<double> alt, IReadOnlyList<double> ours) => $"{Ratio(alt, ours, Stats.Median)} / {Ratio(alt, ours, Stats.P95)}";

            ReportText.AppendOpening(
                o,
                string.Create(inv, $"Restart benchmark: systemd 252 in sde2e (user units), stub gateway (drain_seconds={knobs.DrainSeconds:0.###}, start_seconds={knobs.StartSeconds:0.###}), {restarts} restarts per method and unit, interleaved, {knobs.GapSeconds:0.#} s between restarts."),
                showCost,
                "Times in ms, median / p95 (nearest rank). Downtime: the old PID's exit → the new PID reports itself running (the stub's own event times). Total: the command → the method knows the new PID is running. Ratios: the method ÷ ours (above 1: slower than ours).");
            ReportText.AppendTableHead(o, "unit", "method", "downtime", "of it: exit→new process (systemd fork / launchd delay)", "total", "downtime ÷ ours", "total ÷ ours");
            foreach (var c in results)
            {
                var ours = c.Samples["ours"];
                var oursDown = ours.Select(s => s.Downtime).ToList();
                var oursTotal = ours.Select(s => s.Total).ToList();
                var unit = c.Label;
                void Row(string method, IReadOnlyList<double> down, IReadOnlyList<double> gap, IReadOnlyList<double> total) =>
                    o.AppendLine(inv, $"| {unit} | {method} | {Pair(down)} | {Pair(gap)} | {Pair(total)} | {Ratios(down, oursDown)} | {Ratios(total, oursTotal)} |");
                void Measured(string method, List<Sample> l) =>
                    Row(method, l.Select(s => s.Downtime).ToList(), l.Select(s => s.ExitToFork).ToList(), l.Select(s => s.Total).ToList());
                Measured("**ours** (Restart-HermesGateway engine: SIGUSR1, drain wait, systemd revives, health)", ours);
                Measured("(a) `systemctl restart` (SIGTERM stop + start; no graceful restart: exit 1)", c.Samples["systemctl restart"]);
                Measured("(b) upstream: SIGUSR1, poll PID exit every 0.5 s, then unit + state file every 1 s (auto-restart) / 2 s", c.Samples["upstream"]);
                foreach (var ti in new[] { 10, 30 })
                {
                    var modelled = ours.Select(s => (Sample: s, Model: LaunchdRespawn.Model(s, ti))).ToList();
                    Row($"(c) launchd respawn without kickstart, modelled, ThrottleInterval={ti} s", modelled.Select(m => m.Model.Downtime).ToList(),
                        modelled.Select(m => m.Model.Downtime - m.Sample.StartUp).ToList(), modelled.Select(m => m.Model.Total).ToList());
                }

                Measured("(x) experiment, not the engine: SIGUSR1, 20 ms exit poll, `systemctl restart` while in auto-restart", c.Samples["experiment"]);
            }

            o.AppendLine();
            o.AppendLine("Where the time goes (ms, median / p95). Our overhead = total − stub drain − stub start-up = command→signal + exit→fork + running→done (the engine does not wait out RestartSec=: it has systemd restart the unit at once). Target: ≤ 50 ms median.");
            o.AppendLine();
            ReportText.AppendTableHead(o, "unit", "stub drain (signal→exit)", "stub start-up (fork→running)", "of it: fork→first event", "exit→fork (systemd)", "**our overhead**", "of it: command→signal", "of it: exit→fork", "of it: running→engine returns", "our downtime − start-up", "systemctl calls / restart", "time in them");
            foreach (var c in results)
            {
                var ours = c.Samples["ours"];
                const double rs = 0; // nothing waits out RestartSec= any more
                List<double> L(Func<Sample, double> f) => ours.Select(f).ToList();
                var calls = ours.Select(s => (double)s.Calls).ToList();
                o.AppendLine(inv, $"| {c.Label} | {Pair(L(s => s.Drain))} | {Pair(L(s => s.StartUp))} | {Pair(L(s => s.StartedAt - s.ForkAt))} | {Pair(L(s => s.ExitToFork))} | **{Pair(L(s => s.Overhead - rs))}** | {Pair(L(s => s.ToSignal))} | {Pair(L(s => s.ExitToFork - rs))} | {Pair(L(s => s.Detection))} | {Pair(L(s => s.Downtime - s.StartUp - rs))} | {Stats.Median(calls):0} / {Stats.P95(calls):0} | {Pair(L(s => s.CallSeconds))} |");
            }

            o.AppendLine();
            foreach (var c in results)
            {
                var ours = c.Samples["ours"];
                var ran = ours.Select(s => s.RanBeforeSignal).ToList();
                var strategies = string.Join(", ", c.Strategies.GroupBy(s => s, StringComparer.Ordinal).Select(g => $"'{g.Key}' ×{g.Count()}"));
                var modelled = ours.Select(s => LaunchdRespawn.Model(s, 10)).FirstOrDefault();
                var counts = string.Join(", ", c.Samples.Select(kv => $"{kv.Key} {kv.Value.Count}"));
                o.AppendLine(inv, $"- {c.Label} ({c.Unit}): measured restarts: {counts}; failed: {c.Failures}; engine strategies: {strategies}.");
                o.AppendLine(inv, $"  (c) uses the run time each old instance had before its signal in our restarts, {Pair(ran)} ms{(modelled.Why is null ? string.Empty : $"; the model says: {modelled.Why}")}. A gateway that had run at least ThrottleInterval is respawned at once: its modelled downtime is the start-up alone, {Pair(ours.Select(s => s.StartUp).ToList())} ms.");
            }

            o.AppendLine(inv, $"- Engine warnings: {warnings}. (a) and (x) end at the stub's own 'running' event (an ideal observer); ours ends when Restart() returns; (b) when its poll sees 'running'. (c) adds no tool overhead: modelled drain + throttle delay + measured start-up.");
            o.AppendLine(inv, $"- Run took {took.TotalSeconds:0} s.");
            return o.ToString();
        }

        public static string Duration(TimeSpan t) => t.TotalSeconds >= 1 && t.TotalSeconds == Math.Floor(t.TotalSeconds)
            ? t.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + "s"
            : t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + "ms";
    }
}
