// Measures, in one run, how long Import-Module of the built module takes in-process, and prints each median as a
// ratio to its target (150 ms). A program, not a test: timings on a shared machine are noisy, so nothing asserts.
//   first import: a new process whose runspace has already imported an empty module, so PowerShell's own first-use
//                 cost is paid; what is timed is loading, jitting and binding this module (the target's subject)
//   raw first:    the same process' very first Import-Module, of an empty module: PowerShell's own share, for scale
//   warm:         a new runspace in a process that has imported the module once (what a second session pays)
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

var inv = CultureInfo.InvariantCulture;
const double TargetMs = 150;

if (args is ["--once", var onceManifest, var emptyManifest])
{
    var empty = ImportOnce(emptyManifest);
    var ours = ImportOnce(onceManifest);
    Console.WriteLine(string.Create(inv, $"{empty:F3} {ours:F3}"));
    return 0;
}

var runs = args.Length > 0 ? int.Parse(args[0], inv) : 15;
var manifest = args.Length > 1 ? Path.GetFullPath(args[1]) : FindManifest();
Console.WriteLine($"Import-Module {manifest}, {runs} runs each");
var emptyModule = Path.Combine(Path.GetTempPath(), $"hermes-import-benchmark-{Environment.ProcessId}");
Directory.CreateDirectory(emptyModule);
var emptyPath = Path.Combine(emptyModule, "EmptyModule.psd1");
File.WriteAllText(emptyPath, "@{ ModuleVersion = '1.0'; FunctionsToExport = @(); CmdletsToExport = @() }");

var cold = new List<double>();
var raw = new List<double>();
for (var i = 0; i < runs; i++)
{
    var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
    {
        info.ArgumentList.Add(typeof(Program).Assembly.Location);
    }

    info.ArgumentList.Add("--once");
    info.ArgumentList.Add(manifest);
    info.ArgumentList.Add(emptyPath);
    using var child = Process.Start(info)!;
    var text = child.StandardOutput.ReadToEnd();
    child.WaitForExit();
    if (child.ExitCode != 0)
    {
        Console.Error.WriteLine($"run {i} failed with exit {child.ExitCode}: {text}");
        return 1;
    }

    var figures = text.Trim().Split(' ');
    raw.Add(double.Parse(figures[0], inv));
    cold.Add(double.Parse(figures[1], inv));
}

Directory.Delete(emptyModule, recursive: true);

ImportOnce(manifest);
var warm = new List<double>();
for (var i = 0; i < runs; i++)
{
    warm.Add(ImportOnce(manifest));
}

Report("first import", cold);
Report("warm (new runspace)", warm);
Report("raw first, empty", raw, againstTarget: false);
Console.WriteLine("'raw first' is PowerShell's own first Import-Module in a process (an empty module), not this module's cost.");
return 0;

void Report(string what, List<double> ms, bool againstTarget = true)
{
    ms.Sort();
    var median = ms[ms.Count / 2];
    var p95 = ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(ms.Count * 0.95) - 1)];
    var ratio = againstTarget ? string.Create(inv, $"  median/target {median / TargetMs:F2} (target {TargetMs} ms)") : string.Empty;
    Console.WriteLine(string.Create(inv, $"{what,-21} median {median,7:F1} ms  p95 {p95,7:F1} ms{ratio}"));
}

// Only the Import-Module call is timed; the runspace is opened before the clock starts.
static double ImportOnce(string manifest)
{
    var state = InitialSessionState.CreateDefault2();
    using var runspace = RunspaceFactory.CreateRunspace(state);
    runspace.Open();
    using var ps = PowerShell.Create(runspace);
    ps.AddCommand("Import-Module").AddParameter("Name", manifest).AddParameter("PassThru");
    var sw = Stopwatch.StartNew();
    var result = ps.Invoke();
    sw.Stop();
    if (ps.HadErrors || result.Count != 1)
    {
        throw new InvalidOperationException($"Import-Module failed: {string.Join("; ", ps.Streams.Error)}");
    }

    return sw.Elapsed.TotalMilliseconds;
}

static string FindManifest()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HermesGateway.psd1")))
    {
        dir = dir.Parent;
    }

    if (dir is null)
    {
        throw new InvalidOperationException("No HermesGateway.psd1 above the program's folder: pass the built manifest's path.");
    }

    var built = Directory.GetFiles(Path.Combine(dir.FullName, "out", "HermesGateway"), "HermesGateway.psd1", SearchOption.AllDirectories);
    return built.Length > 0 ? built[0] : throw new InvalidOperationException("The module is not built: run 'dotnet build' first.");
}

internal sealed partial class Program;
