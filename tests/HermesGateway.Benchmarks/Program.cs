// Measures, in one run, how long the exit-policy verdicts take, and prints each figure as a ratio to its
// target. A program, not a test: timings on a shared machine are noisy, so nothing here asserts.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;
using HermesGateway.Core.Definition;

var inv = CultureInfo.InvariantCulture;
var sweepSize = args.Length > 0 ? int.Parse(args[0], inv) : 100_000;
var examples = Path.Combine(AppContext.BaseDirectory, "examples");
var unitPath = Path.Combine(examples, "hermes-gateway.service");
var plistPath = Path.Combine(examples, "ai.hermes.gateway.plist");

// 1. All scenarios for one unit and one plist, including reading and parsing the file.
double PerCall(Action action, int minIterations, TimeSpan minTime)
{
    action(); // warm-up: JIT and the embedded key table
    var sw = Stopwatch.StartNew();
    var n = 0;
    while (n < minIterations || sw.Elapsed < minTime)
    {
        action();
        n++;
    }

    return sw.Elapsed.TotalMilliseconds / n;
}

var unitMs = PerCall(() => ExitPolicyEvaluator.Evaluate(ServiceFormats.Read(unitPath)), 200, TimeSpan.FromSeconds(1));
var plistMs = PerCall(() => ExitPolicyEvaluator.Evaluate(ServiceFormats.Read(plistPath)), 200, TimeSpan.FromSeconds(1));

// A timeline of ten events in a row on the upstream unit (read + parse + play, and the timers after it for an hour).
string[] timeline = ["0 exit 1", "+500ms stop", "+1s start", "+0 is-active", "1min kill SIGKILL", "+1s restart", "+10s signal SIGTERM", "+1min oom", "+1min stop", "+1s start"];
var timelineMs = PerCall(() => ExitPolicyEvaluator.Play(ServiceFormats.Read(unitPath), new SupervisorTimelineRequest(timeline)), 200, TimeSpan.FromSeconds(1));

// 2. A sweep over generated unit configurations: every scenario for each.
var rng = new Random(20261122);
string[] restarts = ["no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"];
string[] restartSecs = ["100ms", "0", "1", "2", "5", "30s", "1min"];
string[] lists = ["", "75", "78", "1", "75 78", "SIGTERM", "143", "0"];
string[] bursts = ["0", "1", "3", "5", "10"];
string[] intervals = ["0", "10s", "30s", "1min", "5min"];
string[] stopTimeouts = ["5s", "30s", "70", "90s", "infinity"];
string[] execStops = ["", "ExecStop=/usr/local/bin/hermes-mark-planned-stop $MAINPID\n"];
string[] killSignals = ["SIGTERM", "SIGINT", "SIGKILL"];
var units = new List<ServiceConfiguration>(sweepSize);
var genWatch = Stopwatch.StartNew();
for (var i = 0; i < sweepSize; i++)
{
    string Pick(string[] a) => a[rng.Next(a.Length)];
    var text = new StringBuilder()
        .Append("[Unit]\nStartLimitIntervalSec=").Append(Pick(intervals)).Append("\nStartLimitBurst=").Append(Pick(bursts))
        .Append("\n[Service]\nExecStart=/usr/bin/hermes gateway run\n")
        .Append("Restart=").Append(Pick(restarts)).Append('\n')
        .Append("RestartSec=").Append(Pick(restartSecs)).Append('\n')
        .Append("SuccessExitStatus=").Append(Pick(lists)).Append('\n')
        .Append("RestartForceExitStatus=").Append(Pick(lists)).Append('\n')
        .Append("RestartPreventExitStatus=").Append(Pick(lists)).Append('\n')
        .Append("TimeoutStopSec=").Append(Pick(stopTimeouts)).Append('\n')
        .Append("KillSignal=").Append(Pick(killSignals)).Append('\n')
        .Append(Pick(execStops))
        .Append(rng.Next(8) == 0 ? "RemainAfterExit=yes\n" : string.Empty)
        .ToString();
    units.Add(new SystemdConfiguration(SystemdUnitReader.Parse(text, $"gen-{i}.service")));
}

var parseSeconds = genWatch.Elapsed.TotalSeconds;
var sweepWatch = Stopwatch.StartNew();
long verdicts = 0, ok = 0, allOk = 0;
foreach (var unit in units)
{
    var all = true;
    foreach (var v in ExitPolicyEvaluator.Evaluate(unit))
    {
        verdicts++;
        if (v.Ok)
        {
            ok++;
        }
        else
        {
            all = false;
        }
    }

    if (all)
    {
        allOk++;
    }
}

var sweepSeconds = sweepWatch.Elapsed.TotalSeconds;
const double unitTargetMs = 5, sweepTargetSeconds = 2;
Console.WriteLine(string.Create(inv, $"HermesGateway exit-policy benchmark ({Environment.ProcessorCount} cores, .NET {Environment.Version})"));
Console.WriteLine();
Console.WriteLine("| measurement | time | target | target / time |");
Console.WriteLine("|---|---|---|---|");
Console.WriteLine(string.Create(inv, $"| all scenarios, upstream unit (read + parse + verdicts) | {unitMs:0.000} ms | {unitTargetMs} ms | {unitTargetMs / unitMs:0.0}x |"));
Console.WriteLine(string.Create(inv, $"| all scenarios, upstream plist (read + parse + verdicts) | {plistMs:0.000} ms | {unitTargetMs} ms | {unitTargetMs / plistMs:0.0}x |"));
Console.WriteLine(string.Create(inv, $"| a 10-event timeline, upstream unit (read + parse + play) | {timelineMs:0.000} ms | {unitTargetMs} ms | {unitTargetMs / timelineMs:0.0}x |"));
Console.WriteLine(string.Create(inv, $"| sweep: verdicts for {sweepSize:N0} generated units | {sweepSeconds:0.00} s | {sweepTargetSeconds} s | {sweepTargetSeconds / sweepSeconds:0.00}x |"));
Console.WriteLine();
Console.WriteLine(string.Create(inv, $"Sweep: {verdicts:N0} verdicts ({verdicts / sweepSeconds:N0} per second), {ok:N0} met their intent; {allOk:N0} of {sweepSize:N0} units met every intent. Parsing the generated units took {parseSeconds:0.00} s (not in the sweep time)."));
