using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HermesGateway.Core.Tests.StubGateway;

/// <summary>A fact about the stub gateway, a POSIX process: skipped on Windows only.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class StubGatewayFactAttribute : FactAttribute
{
    public StubGatewayFactAttribute(bool linuxOnly = false)
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "the stub gateway is a POSIX process (signals, /proc)";
        }
        else if (linuxOnly && !OperatingSystem.IsLinux())
        {
            Skip = "needs /proc/<pid>/stat start times (Linux); elsewhere the PID alone decides";
        }
    }
}

/// <summary>A theory about the stub gateway: skipped on Windows only.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class StubGatewayTheoryAttribute : TheoryAttribute
{
    public StubGatewayTheoryAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "the stub gateway is a POSIX process (signals, /proc)";
        }
    }
}

/// <summary>kill(2), used only on the PIDs of children a test started itself.</summary>
internal static class NativeMethods
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGSEGV = 11;
    public const int SIGTERM = 15;

    /// <summary>10 on Linux, 30 on macOS and the BSDs.</summary>
    public static int SIGUSR1 => OperatingSystem.IsLinux() ? 10 : 30;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);

    public static void Signal(Process child, int signal)
    {
        // Only a child of ours that has not been reaped: its PID cannot have been reused yet.
        if (child.HasExited)
        {
            throw new InvalidOperationException($"child {child.Id} has already exited (code {child.ExitCode}); not signalling");
        }

        if (Kill(child.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({child.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}

/// <summary>Where the stub is and what runs it.</summary>
internal static class StubLocation
{
    private static readonly Lazy<string> RootLazy = new(FindRepoRoot);
    private static readonly Lazy<string> PythonLazy = new(FindPython);

    public static string RepoRoot => RootLazy.Value;

    public static string Script => Path.Combine(RepoRoot, "tests", "stub-gateway", "stub_gateway.py");

    /// <summary>The real interpreter behind python3 on PATH (not a shim), so the child's PID is the gateway's PID.</summary>
    public static string Python => PythonLazy.Value;

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HermesGateway.psd1")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no folder holding HermesGateway.psd1 above {AppContext.BaseDirectory}");
    }

    private static string FindPython()
    {
        const string Missing = "python3 was not found on PATH. The stub gateway tests run tests/stub-gateway/stub_gateway.py " +
            "with Python 3 (standard library only; CI images have it): install python3 or put it on PATH.";
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "python3"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(Missing);

        var info = new ProcessStartInfo(onPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("import sys; assert sys.version_info >= (3, 8), sys.version; print(sys.executable)");
        using var probe = Process.Start(info) ?? throw new InvalidOperationException(Missing);
        var stdout = probe.StandardOutput.ReadToEndAsync();
        var stderr = probe.StandardError.ReadToEndAsync();
        if (!probe.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            probe.Kill();
            throw new InvalidOperationException($"{onPath} did not answer within 30 s. " + Missing);
        }

        probe.WaitForExit();
        var executable = stdout.Result.Trim();
        if (probe.ExitCode != 0 || !File.Exists(executable))
        {
            throw new InvalidOperationException($"{onPath} is not a usable Python 3 (exit {probe.ExitCode}): {stderr.Result.Trim()}. " + Missing);
        }

        return executable;
    }
}

/// <summary>A temporary HERMES_HOME and the stub gateways a test started in it; Dispose kills what still runs.</summary>
internal sealed class StubHome : IDisposable
{
    private static readonly string[] Inherited =
    [
        "HERMES_HOME", "INVOCATION_ID", "XPC_SERVICE_NAME", "HERMES_GATEWAY_EXTERNAL_SUPERVISOR", "PYTHONFAULTHANDLER",
    ];

    /// <summary>
    /// Runs argv[1:] and prints its end as waitpid(2) reported it: Python's returncode is -N for a death by signal N
    /// (WIFSIGNALED), the exit status otherwise, so a crash cannot be mistaken for exit(128 + N).
    /// </summary>
    private const string ReaperCode =
        "import json, subprocess, sys\n" +
        "child = subprocess.Popen(sys.argv[1:])\n" +
        "code = child.wait()\n" +
        "print('reaper: ' + json.dumps({'pid': child.pid, 'returncode': code}), flush=True)\n";

    private readonly List<StubRun> runs = [];

    public StubHome()
    {
        Root = Path.Combine(Path.GetTempPath(), "hermes-stub-" + Guid.NewGuid().ToString("N"));
        Dir = Path.Combine(Root, "home");
        Directory.CreateDirectory(Dir);
    }

    /// <summary>The temp folder (HOME for runs that resolve HERMES_HOME themselves).</summary>
    public string Root { get; }

    public string Dir { get; }

    public string PathOf(string name) => Path.Combine(Dir, name);

    public bool Exists(string name) => File.Exists(PathOf(name));

    /// <summary>Starts `python3 stub_gateway.py gateway run` (or <paramref name="arguments"/>) with HERMES_HOME set to this home.</summary>
    /// <param name="environment">variables to set for the child (after the inherited supervisor and knob variables are removed)</param>
    /// <param name="arguments">the command line after the script; `gateway run` when null</param>
    /// <param name="viaShebang">run the script itself (its #! line) instead of python3 script</param>
    /// <param name="setHermesHome">false: the stub resolves HERMES_HOME itself from HOME (set to <see cref="Root"/>)</param>
    /// <param name="reaped">run the stub under a Python parent that waits for it and prints how it ended ("reaper: {json}")</param>
    public StubRun Start(IReadOnlyDictionary<string, string>? environment = null, IEnumerable<string>? arguments = null, bool viaShebang = false, bool setHermesHome = true, bool reaped = false)
    {
        var info = new ProcessStartInfo(viaShebang ? StubLocation.Script : StubLocation.Python)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Root,
        };
        if (reaped)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(ReaperCode);
            info.ArgumentList.Add(StubLocation.Python);
        }

        if (!viaShebang)
        {
            info.ArgumentList.Add(StubLocation.Script);
        }

        foreach (var argument in arguments ?? ["gateway", "run"])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in Inherited.Concat(info.Environment.Keys.Where(k => k.StartsWith("HERMES_STUB_", StringComparison.Ordinal))).ToList())
        {
            info.Environment.Remove(name);
        }

        if (setHermesHome)
        {
            info.Environment["HERMES_HOME"] = Dir;
        }
        else
        {
            info.Environment["HOME"] = Root;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var run = new StubRun(info);
        this.runs.Add(run);
        return run;
    }

    /// <summary>Writes stub-control.json atomically (temp + rename), as tests change it between runs.</summary>
    public void WriteControl(JsonObject control) => WriteAtomically(PathOf("stub-control.json"), control.ToJsonString());

    public JsonObject ReadJson(string name) =>
        JsonNode.Parse(File.ReadAllText(PathOf(name)))?.AsObject() ?? throw new InvalidDataException($"{name} holds no JSON object");

    /// <summary>The way Python's datetime.isoformat() writes a UTC time, as the gateway does.</summary>
    public const string PythonIsoFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'";

    /// <summary>Writes a planned-stop or takeover marker in the gateway's shape; written_at in .NET's "o" form unless told.</summary>
    public void WriteMarker(string name, long targetPid, long? targetStartTime, DateTimeOffset writtenAt, string timeFormat = "o")
    {
        var marker = new JsonObject
        {
            ["target_pid"] = targetPid,
            ["target_start_time"] = targetStartTime,
            ["stopper_pid"] = Environment.ProcessId,
            ["written_at"] = writtenAt.UtcDateTime.ToString(timeFormat, CultureInfo.InvariantCulture),
        };
        if (name == ".gateway-takeover.json")
        {
            marker["replacer_pid"] = Environment.ProcessId;
        }

        WriteAtomically(PathOf(name), marker.ToJsonString());
    }

    public void WriteRaw(string name, string text) => WriteAtomically(PathOf(name), text);

    /// <summary>The event log, oldest first; a line still being written is left out.</summary>
    public IReadOnlyList<JsonObject> Events()
    {
        var path = PathOf("stub-events.jsonl");
        if (!File.Exists(path))
        {
            return [];
        }

        var events = new List<JsonObject>();
        foreach (var line in File.ReadAllLines(path))
        {
            try
            {
                if (JsonNode.Parse(line) is JsonObject o)
                {
                    events.Add(o);
                }
            }
            catch (JsonException)
            {
                // a partial last line
            }
        }

        return events;
    }

    public void Dispose()
    {
        foreach (var run in this.runs)
        {
            run.Dispose();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>One stub gateway child process.</summary>
internal sealed class StubRun : IDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private readonly Process process;
    private readonly StringBuilder output = new();

    public StubRun(ProcessStartInfo info)
    {
        this.process = new Process { StartInfo = info };
        this.process.OutputDataReceived += (_, e) => Append(e.Data);
        this.process.ErrorDataReceived += (_, e) => Append(e.Data);
        if (!this.process.Start())
        {
            throw new InvalidOperationException($"could not start {info.FileName}");
        }

        this.process.BeginOutputReadLine();
        this.process.BeginErrorReadLine();
        Pid = this.process.Id;
        this.process.StandardInput.Close();
    }

    public int Pid { get; }

    public Process Process => this.process;

    /// <summary>What the stub printed (its events echoed to stderr), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (this.output)
            {
                return this.output.ToString();
            }
        }
    }

    public void Signal(int signal) => NativeMethods.Signal(this.process, signal);

    /// <summary>Waits until gateway_state.json names this process in <paramref name="state"/>.</summary>
    public JsonObject WaitForState(StubHome home, string state, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (timeout ?? DefaultTimeout))
        {
            try
            {
                var doc = home.ReadJson("gateway_state.json");
                if ((string?)doc["gateway_state"] == state && (int?)doc["pid"] == Pid)
                {
                    return doc;
                }
            }
            catch (Exception e) when (e is IOException or JsonException or InvalidDataException)
            {
                // not written yet
            }

            if (this.process.HasExited)
            {
                break;
            }

            Thread.Sleep(10);
        }

        throw new Xunit.Sdk.XunitException($"stub {Pid} did not reach state '{state}' (exited: {this.process.HasExited}).\n{Output}");
    }

    /// <summary>Waits for the exit and returns .NET's exit code (128 + signal number for a death by signal).</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        if (!this.process.WaitForExit(timeout ?? DefaultTimeout))
        {
            throw new Xunit.Sdk.XunitException($"stub {Pid} did not exit within {(timeout ?? DefaultTimeout).TotalSeconds} s.\n{Output}");
        }

        this.process.WaitForExit(); // drains the redirected output
        return this.process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!this.process.HasExited)
            {
                this.process.Kill(entireProcessTree: true);
                this.process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        this.process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (this.output)
        {
            this.output.AppendLine(line);
        }
    }
}
