using System.Collections.Immutable;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.FakeLaunchctl;

/// <summary>
/// The fake launchd: owns the jobs, spawns their programs, reaps them and decides relaunches with the project's
/// LaunchdModel. One lock (<see cref="gate"/>) guards all job state; waits (bootout, kickstart -k) release it.
/// </summary>
internal sealed class Daemon : IDisposable
{
    public const string Verb = "__launchd";
    public const string PingVerb = "__ping";
    public const string ShutdownVerb = "__shutdown";

    /// <summary>launchd's _PATH_STDPATH: where a relative ProgramArguments[0] is looked up, and the jobs' default PATH.</summary>
    private const string StdPath = "/usr/bin:/bin:/usr/sbin:/sbin";

    /// <summary>cd to the working directory, open StandardOutPath/StandardErrorPath (appending), exec: the PID stays the job's.</summary>
    private const string ExecScript = "cd \"$1\" 2>/dev/null || cd /; o=$2; e=$3; shift 3; exec \"$@\" </dev/null >>\"$o\" 2>>\"$e\"";

    private static readonly string? Setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    private readonly object gate = new();
    private readonly List<Job> jobs = [];
    private readonly string state;
    private readonly ManualResetEventSlim done = new();
    private readonly object logGate = new();
    private Socket? listener;
    private DateTime lastActivity = DateTime.UtcNow;
    private int active;
    private bool exiting;

    private Daemon(string stateDir) => state = stateDir;

    public void Dispose()
    {
        listener?.Dispose();
        done.Dispose();
    }

    public static int Run(string stateDir)
    {
        if (string.IsNullOrEmpty(stateDir) || !Directory.Exists(stateDir))
        {
            return 78;
        }

        using var daemon = new Daemon(stateDir);
        return daemon.Serve();
    }

    private int Serve()
    {
        var socketPath = Path.Combine(state, StateDirectory.SocketFile);
        if (File.Exists(socketPath))
        {
            if (DaemonClient.Ping(state))
            {
                Log("another fake launchd already answers on launchd.sock; exiting");
                return 0;
            }

            File.Delete(socketPath);
        }

        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(64);
        StateDirectory.WriteAtomic(Path.Combine(state, StateDirectory.DaemonPidFile),
            JsonSerializer.Serialize(new ProcessRecord(string.Empty, string.Empty, System.Environment.ProcessId, ProcessStartTime.Read(System.Environment.ProcessId))));
        Persist();
        Log($"fake launchd (a test double) started: pid {System.Environment.ProcessId}, state {state}, setsid {Setsid ?? "(none: jobs share the daemon's session)"}");

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; StartFinish("SIGTERM"); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; StartFinish("SIGINT"); });
        new Thread(TickLoop) { IsBackground = true, Name = "tick" }.Start();
        while (true)
        {
            Socket client;
            try
            {
                client = listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                break;
            }

            lock (gate)
            {
                active++;
                lastActivity = DateTime.UtcNow;
            }

            new Thread(() => Handle(client)) { IsBackground = true, Name = "request" }.Start();
        }

        done.Wait();
        return 0;
    }

    private void Handle(Socket client)
    {
        var shutdown = false;
        try
        {
            using var stream = new NetworkStream(client, ownsSocket: true);
            using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
            var line = reader.ReadLine();
            var request = line is null ? null : JsonSerializer.Deserialize<WireRequest>(line);
            if (request?.Argv is not { Length: > 0 } argv)
            {
                return;
            }

            lock (gate)
            {
                if (exiting && argv[0] != ShutdownVerb)
                {
                    // Dropped without an answer: the client retries and starts a new daemon if it needs one.
                    return;
                }
            }

            shutdown = argv[0] == ShutdownVerb;
            var answer = Execute(argv);
            Log($"launchctl {string.Join(' ', argv)} -> {answer.Exit.ToString(CultureInfo.InvariantCulture)}{(answer.Err.Length > 0 ? " " + answer.Err.Trim().Replace('\n', ' ') : string.Empty)}");
            stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(answer) + "\n"));
            stream.Flush();
        }
        catch (Exception e) when (e is IOException or SocketException or JsonException or ObjectDisposedException)
        {
            Log("request failed: " + e.Message);
        }
        finally
        {
            lock (gate)
            {
                active--;
                lastActivity = DateTime.UtcNow;
                Monitor.PulseAll(gate);
            }

            if (shutdown)
            {
                Finish("shutdown request (test helper)");
            }
        }
    }

    private WireResponse Execute(string[] argv)
    {
        if (argv[0] == PingVerb)
        {
            return new WireResponse(0, System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n", string.Empty);
        }

        if (argv[0] == ShutdownVerb)
        {
            KillAllAndWait("shutdown request");
            return new WireResponse(0, string.Empty, string.Empty);
        }

        var (c, usage) = Command.Parse(argv);
        if (c is null)
        {
            return new WireResponse(64, string.Empty, usage + "\n");
        }

        return c.Verb switch
        {
            FakeLaunchctl.Verb.Bootstrap => Bootstrap(c),
            FakeLaunchctl.Verb.Bootout => Bootout(c),
            FakeLaunchctl.Verb.Kickstart => Kickstart(c),
            FakeLaunchctl.Verb.Kill => Kill(c),
            FakeLaunchctl.Verb.PrintService => PrintService(c),
            FakeLaunchctl.Verb.PrintDomain => PrintDomain(c),
            FakeLaunchctl.Verb.Submit => Submit(InCallerSession(c)),
            FakeLaunchctl.Verb.Remove => RemoveByLabel(InCallerSession(c)),
            _ => new WireResponse(64, string.Empty, Command.GeneralUsage() + "\n"),
        };
    }

    private WireResponse Bootstrap(Command c)
    {
        foreach (var path in c.Paths!)
        {
            var failed = BootstrapOne(c.Domain, path);
            if (failed is not null)
            {
                return new WireResponse(failed.Value.Code, string.Empty, $"Bootstrap failed: {failed.Value.Code.ToString(CultureInfo.InvariantCulture)}: {(failed.Value.Code == 2 ? "No such file or directory" : "Input/output error")}\nfake-launchctl: {failed.Value.Why}\n");
            }
        }

        return new WireResponse(0, string.Empty, string.Empty);
    }

    private (int Code, string Why)? BootstrapOne(DomainTarget domain, string path)
    {
        if (!File.Exists(path))
        {
            return (2, $"{path} does not exist");
        }

        if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            return (5, $"{path} is group- or world-writable; launchd.plist(5): configuration files must disallow group and world writes");
        }

        LaunchdJob definition;
        try
        {
            definition = LaunchdJobReader.ReadFile(path);
        }
        catch (HermesException e)
        {
            return (5, $"{path} is not a loadable property list: {e.Message}");
        }

        if (definition.LoadRefused)
        {
            return (5, $"{path} cannot be loaded: {string.Join("; ", definition.Diagnostics.Where(d => d.Severity == Core.Errors.DiagnosticSeverity.Fatal).Select(d => d.Message))}");
        }

        lock (gate)
        {
            var label = definition.Settings.Label;
            if (Find(domain, label) is { } loaded)
            {
                return (5, loaded.BootingOut ? $"service {label} is still being booted out of {domain.Name}" : $"service {label} is already loaded in {domain.Name}");
            }

            if (DisabledDatabase.IsDisabled(state, domain.Name, label, definition.Settings.Disabled))
            {
                return (5, $"service {label} is disabled in {domain.Name} (launchctl enable {domain.Name}/{label})");
            }

            var job = new Job(domain, path, definition);
            jobs.Add(job);
            Log($"{job.Target}: loaded from {path}");
            StartAtLoad(job);
            Persist();
        }

        return null;
    }

    /// <summary>launchd.plist(5): RunAtLoad, or KeepAlive (which "implicitly implies RunAtLoad"); AfterInitialDemand holds it back.</summary>
    private void StartAtLoad(Job j)
    {
        var s = j.Definition.Settings;
        var k = s.KeepAlive;
        var facts = Facts(j);
        var conditions = k.PathState.Any(p => facts.ExistingPaths.Contains(p.Key) == p.Value) || k.OtherJobEnabled.Any(p => facts.LoadedJobs.Contains(p.Key) == p.Value);
        var wants = s.RunAtLoad || (!k.AfterInitialDemand && (k.Unconditional || k.SuccessfulExit is not null || k.Crashed is not null || conditions));
        if (!wants)
        {
            Set(j, JobState.NotRunning, "loaded: neither RunAtLoad nor KeepAlive starts it; only demand (kickstart) does");
        }
        else if (OnDemandOnly(j, facts))
        {
            Pend(j, "the start at load");
        }
        else
        {
            Spawn(j, s.RunAtLoad ? "RunAtLoad" : "KeepAlive implies RunAtLoad");
        }
    }

    /// <summary>submit and remove act on the caller's session: user/&lt;uid&gt; while there is no GUI session.</summary>
    private Command InCallerSession(Command c)
    {
        var session = Command.CallerSession(DomainConfig.Read(state).NoGuiSession);
        return c with { Domain = session, Service = c.Service! with { Domain = session } };
    }

    /// <summary>
    /// launchctl submit: a job without a plist on disk whose program launchd keeps alive (launchctl's submit sets
    /// OnDemand=false: it is started at once and relaunched whenever it exits, throttled like any job).
    /// </summary>
    private WireResponse Submit(Command c)
    {
        var folder = Path.Combine(state, "submitted");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, c.Service!.Label + ".plist");
        var entries = new List<KeyValuePair<string, PlistValue>>
        {
            new("Label", new PlistString(c.Service.Label)),
            new("ProgramArguments", new PlistArray([.. c.ProgramArguments!.Select(a => (PlistValue)new PlistString(a))])),
            new("KeepAlive", new PlistBoolean(true)),
        };
        if (c.StandardOutPath is { } o)
        {
            entries.Add(new("StandardOutPath", new PlistString(o)));
        }

        if (c.StandardErrorPath is { } e)
        {
            entries.Add(new("StandardErrorPath", new PlistString(e)));
        }

        File.WriteAllText(path, PlistWriter.ToXml(new PlistDict([.. entries])));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var failed = BootstrapOne(c.Domain, path);
        return failed is null
            ? new WireResponse(0, string.Empty, string.Empty)
            : new WireResponse(1, string.Empty, $"launchctl submit: {failed.Value.Why}\n");
    }

    /// <summary>launchctl remove: unloads the job; a running one gets launchd's SIGTERM, and the command does not wait for it.</summary>
    private WireResponse RemoveByLabel(Command c)
    {
        lock (gate)
        {
            if (Find(c.Domain, c.Service!.Label) is not { } j)
            {
                return new WireResponse(113, string.Empty, "Could not find specified service\n");
            }

            if (j.Instance is null)
            {
                Remove(j, "removed (not running)");
            }
            else if (!j.BootingOut)
            {
                j.BootingOut = true;
                j.RestartAfterStop = false;
                Stop(j, "remove");
            }

            return new WireResponse(0, string.Empty, string.Empty);
        }
    }

    private WireResponse Bootout(Command c)
    {
        lock (gate)
        {
            if (Find(c.Domain, c.Service!.Label) is not { } j)
            {
                return Output.NotFound(c);
            }

            if (j.Instance is null)
            {
                Remove(j, "booted out (not running)");
                return new WireResponse(0, string.Empty, string.Empty);
            }

            if (!j.BootingOut)
            {
                j.BootingOut = true;
                j.RestartAfterStop = false;
                Stop(j, "bootout");
            }

            // Like launchctl bootout, answer once the process is gone and the job removed.
            while (jobs.Contains(j) && !exiting)
            {
                Monitor.Wait(gate, 500);
            }

            return new WireResponse(0, string.Empty, string.Empty);
        }
    }

    private WireResponse Kickstart(Command c)
    {
        lock (gate)
        {
            if (Find(c.Domain, c.Service!.Label) is not { } j)
            {
                return Output.NotFound(c);
            }

            if (j.BootingOut)
            {
                return new WireResponse(37, string.Empty, $"{Program.Failed(c)}: 37: Operation already in progress\n");
            }

            j.DemandedOnce = true;
            if (j.Instance is { } running)
            {
                if (c.KillFirst)
                {
                    j.RestartAfterStop = true;
                    Stop(j, "kickstart -k");
                    while (jobs.Contains(j) && j.RestartAfterStop && !exiting)
                    {
                        Monitor.Wait(gate, 500);
                    }
                }
                else
                {
                    Log($"{j.Target}: kickstart: already running as {running.Pid.ToString(CultureInfo.InvariantCulture)}");
                }
            }
            else
            {
                Spawn(j, c.KillFirst ? "kickstart -k" : "kickstart");
            }

            var pid = j.Instance?.Pid;
            return new WireResponse(0, c.PrintPid && pid is { } p ? $"service spawned with pid: {p.ToString(CultureInfo.InvariantCulture)}\n" : string.Empty, string.Empty);
        }
    }

    private WireResponse Kill(Command c)
    {
        if (!UnixSignals.TryParse(c.Signal, SignalPlatform.Darwin, out var signal) || !UnixSignals.TryGetNumber(signal, SignalPlatform.Linux, out var number))
        {
            return new WireResponse(64, string.Empty, $"Unrecognized signal: {c.Signal}\n{Command.Usages["kill"]}\n");
        }

        lock (gate)
        {
            if (Find(c.Domain, c.Service!.Label) is not { } j)
            {
                return Output.NotFound(c);
            }

            if (j.Instance is not { } running)
            {
                return new WireResponse(3, string.Empty, "Could not kill service: 3: No such process\n");
            }

            Log($"{j.Target}: launchctl kill {signal} -> pid {running.Pid.ToString(CultureInfo.InvariantCulture)}");
            Native.Signal(running.Pid, number);
            return new WireResponse(0, string.Empty, string.Empty);
        }
    }

    private WireResponse PrintDomain(Command c)
    {
        lock (gate)
        {
            var services = jobs.Where(j => j.Domain == c.Domain).OrderBy(j => j.Label, StringComparer.Ordinal)
                .Select(j => (j.Label, j.Instance?.Pid, Output.LastExitColumn(j.LastEnding))).ToList();
            return new WireResponse(0, Output.Domain(c.Domain, services), string.Empty);
        }
    }

    private WireResponse PrintService(Command c)
    {
        lock (gate)
        {
            return Find(c.Domain, c.Service!.Label) is { } j ? new WireResponse(0, Describe(j), string.Empty) : Output.NotFound(c);
        }
    }

    private static string Describe(Job j)
    {
        static string Ms(DateTime? t) => t is { } v ? new DateTimeOffset(v).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : "-";
        var s = j.Definition.Settings;
        var doc = j.Definition.Document;
        var sb = new StringBuilder(Output.Header).Append('\n');
        void Line(string text) => sb.Append('\t').Append(text).Append('\n');
        sb.Append(j.Target).Append(" = {\n");
        Line($"active count = {(j.Instance is null ? "0" : "1")}");
        Line($"path = {j.PlistPath}");
        Line($"type = {(j.Domain.Kind == LaunchdDomainKind.System ? "LaunchDaemon" : "LaunchAgent")}");
        Line($"state = {(j.Instance is not null ? "running" : j.State == JobState.SpawnScheduled ? "spawn scheduled" : "not running")}");
        sb.Append('\n');
        Line($"program = {s.Program ?? (s.ProgramArguments.IsEmpty ? "(none)" : s.ProgramArguments[0])}");
        Line("arguments = {");
        foreach (var a in s.ProgramArguments)
        {
            Line("\t" + a);
        }

        Line("}");
        sb.Append('\n');
        if (doc["WorkingDirectory"] is PlistString wd)
        {
            Line($"working directory = {wd.Value}");
        }

        if (doc["StandardOutPath"] is PlistString so)
        {
            Line($"stdout path = {so.Value}");
        }

        if (doc["StandardErrorPath"] is PlistString se)
        {
            Line($"stderr path = {se.Value}");
        }

        Line("environment = {");
        foreach (var (k, v) in JobEnvironment(j).Where(e => e.Key != "PATH" || doc["EnvironmentVariables"] is PlistDict))
        {
            Line($"\t{k} => {v}");
        }

        Line("}");
        sb.Append('\n');
        Line($"domain = {j.Domain.Name}");
        Line($"runs = {j.Runs.ToString(CultureInfo.InvariantCulture)}");
        if (j.Instance is { } i)
        {
            Line($"pid = {i.Pid.ToString(CultureInfo.InvariantCulture)}");
        }

        Line(Output.LastExit(j.LastEnding, j.LastExConfig));
        sb.Append('\n');
        Line($"minimum runtime = {s.ThrottleInterval.ToString(CultureInfo.InvariantCulture)}");
        Line($"exit timeout = {(s.ExitTimeOut ?? LaunchdJobSettings.AssumedDefaultExitTimeOut).ToString(CultureInfo.InvariantCulture)}");
        var properties = new List<string>();
        if (s.KeepAlive.KeepsAlive)
        {
            properties.Add("keepalive");
        }

        if (s.RunAtLoad)
        {
            properties.Add("runatload");
        }

        if (s.LaunchOnlyOnce)
        {
            properties.Add("launch only once");
        }

        Line($"properties = {(properties.Count == 0 ? "(none)" : string.Join(" | ", properties))}");
        sb.Append('\n');
        Line("fake (test double) fields, in ms since the epoch:");
        Line($"fake state = {(j.BootingOut ? "booting out" : j.RestartAfterStop ? "kickstart -k in progress" : j.State switch { JobState.Pending => "pending spawn (" + j.PendingReason + ")", JobState.SpawnScheduled => "spawn scheduled", JobState.Running => "running", _ => "not running" })}");
        Line($"fake last spawn at = {Ms(j.LastSpawnAt)}");
        Line($"fake last exit at = {Ms(j.LastExitAt)}");
        Line($"fake last ran for = {(j.LastRanFor is { } r ? ((long)r.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : "-")}");
        Line($"fake respawn delay = {(j.LastDelay is { } d ? ((long)d.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : "-")}");
        Line($"fake spawn at = {Ms(j.SpawnAt)}");
        Line($"fake decision = {j.Decision}");
        sb.Append("}\n");
        return sb.ToString();
    }

    private Job? Find(DomainTarget domain, string label) => jobs.FirstOrDefault(j => j.Domain == domain && j.Label == label);

    private LaunchdDomain Facts(Job j)
    {
        var config = DomainConfig.Read(state);
        return new LaunchdDomain
        {
            Kind = j.Domain.Kind,
            OnDemandOnly = config.OnDemandOnly,
            ExistingPaths = j.Definition.Settings.KeepAlive.PathState.Keys.Where(p => File.Exists(p) || Directory.Exists(p)).ToImmutableHashSet(StringComparer.Ordinal),
            LoadedJobs = jobs.Where(x => x.Domain == j.Domain && !x.BootingOut).Select(x => x.Label).ToImmutableHashSet(StringComparer.Ordinal),
        };
    }

    /// <summary>LaunchdModel's rule: an on-demand-only domain pends KeepAlive/RunAtLoad spawns, except in system.</summary>
    private static bool OnDemandOnly(Job j, LaunchdDomain facts) => facts.OnDemandOnly && j.Domain.Kind != LaunchdDomainKind.System;

    private void Set(Job j, JobState s, string decision)
    {
        j.State = s;
        j.Decision = decision;
        Log($"{j.Target}: {decision}");
    }

    private void Pend(Job j, string what)
    {
        j.SpawnAt = null;
        j.PendingReason = "domain in on-demand-only mode";
        Set(j, JobState.Pending, $"{what}: pending spawn, domain in on-demand-only mode");
    }

    /// <summary>
    /// A folder whose 'launchctl' runs this fake against this state: first on every job's PATH, as /bin/launchctl is on
    /// a Mac's, so a job (a submitted restart helper) can call launchctl back.
    /// </summary>
    private string LaunchctlShimFolder()
    {
        var folder = Path.Combine(state, "bin");
        var shim = Path.Combine(folder, "launchctl");
        if (!File.Exists(shim) && System.Environment.ProcessPath is { } fake)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(shim, $"#!/bin/sh\nFAKE_LAUNCHD_STATE='{state}' exec '{fake}' \"$@\"\n");
            File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        return folder;
    }

    private static Dictionary<string, string> JobEnvironment(Job j, string path = StdPath)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = path };
        foreach (var name in new[] { "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR" })
        {
            if (System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } v)
            {
                env[name] = v;
            }
        }

        if (j.Definition.Document["EnvironmentVariables"] is PlistDict vars)
        {
            foreach (var key in vars.Keys)
            {
                // launchd.plist(5): values other than strings are ignored.
                if (vars[key] is PlistString value)
                {
                    env[key] = value.Value;
                }
            }
        }

        env["XPC_SERVICE_NAME"] = j.Label;
        return env;
    }

    private static string? Resolve(string? file)
    {
        if (string.IsNullOrEmpty(file))
        {
            return null;
        }

        static bool Runnable(string p) => File.Exists(p) && (File.GetUnixFileMode(p) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        if (file.StartsWith('/'))
        {
            return Runnable(file) ? file : null;
        }

        return StdPath.Split(':').Select(d => Path.Combine(d, file)).FirstOrDefault(Runnable);
    }

    private string Writable(string? path, string what, Job j)
    {
        if (path is null)
        {
            return "/dev/null";
        }

        try
        {
            using var _ = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log($"{j.Target}: cannot open {what} {path} ({e.Message}); the job's {what} goes to /dev/null, as launchd's does");
            return "/dev/null";
        }
    }

    private void Spawn(Job j, string why)
    {
        var s = j.Definition.Settings;
        var doc = j.Definition.Document;
        var now = DateTime.UtcNow;
        j.Runs++;
        j.LastSpawnAt = now;
        j.SpawnAt = null;
        j.PendingReason = null;
        var file = Resolve(s.Program ?? (s.ProgramArguments.IsEmpty ? null : s.ProgramArguments[0]));
        if (file is null)
        {
            // launchd reports an unrunnable program as "last exit code = 78: EX_CONFIG" and keeps applying KeepAlive.
            Log($"{j.Target}: {why}: the program cannot be run: exit 78 (EX_CONFIG)");
            j.Instance = null;
            Ended(j, ProcessEnding.Exit(78), TimeSpan.Zero, stoppedByLaunchd: false, exConfig: true);
            return;
        }

        var cwd = doc["WorkingDirectory"] is PlistString wd && Directory.Exists(wd.Value) ? wd.Value : "/";
        var argv = new List<string>
        {
            "sh", "-c", ExecScript, "sh", cwd,
            Writable((doc["StandardOutPath"] as PlistString)?.Value, "StandardOutPath", j),
            Writable((doc["StandardErrorPath"] as PlistString)?.Value, "StandardErrorPath", j),
        };
        if (Setsid is not null)
        {
            argv.Add(Setsid);
        }

        argv.Add(file);
        argv.AddRange(s.ProgramArguments.Skip(1));
        var env = JobEnvironment(j, LaunchctlShimFolder() + ":" + StdPath).Select(e => e.Key + "=" + e.Value).ToList();
        int pid;
        try
        {
            pid = Native.Spawn("/bin/sh", argv, env);
        }
        catch (IOException e)
        {
            Log($"{j.Target}: {why}: {e.Message}");
            Ended(j, ProcessEnding.Exit(78), TimeSpan.Zero, stoppedByLaunchd: false, exConfig: true);
            return;
        }

        var instance = new Instance(pid, now, ProcessStartTime.Read(pid));
        j.Instance = instance;
        Set(j, JobState.Running, $"spawned pid {pid.ToString(CultureInfo.InvariantCulture)} ({why}), run {j.Runs.ToString(CultureInfo.InvariantCulture)}");
        new Thread(() => Reaper(j, instance)) { IsBackground = true, Name = "reaper " + pid.ToString(CultureInfo.InvariantCulture) }.Start();
        Persist();
    }

    private void Reaper(Job j, Instance instance)
    {
        Native.WaitExitedNoReap(instance.Pid);
        lock (gate)
        {
            // launchd.plist(5) AbandonProcessGroup: when the job dies, launchd SIGTERMs its process group. The zombie
            // leader still holds the PGID, so the group cannot be someone else's.
            if (!j.Definition.Settings.AbandonProcessGroup && Setsid is not null)
            {
                Native.SignalGroup(instance.Pid, Native.SIGTERM);
            }

            var status = Native.Reap(instance.Pid);
            var ending = Decode(status);
            j.Instance = null;
            var ranFor = DateTime.UtcNow - instance.StartedAt;
            Log($"{j.Target}: pid {instance.Pid.ToString(CultureInfo.InvariantCulture)} ended: {ending} after {ranFor.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
            if (j.BootingOut)
            {
                j.LastEnding = ending;
                j.LastExitAt = DateTime.UtcNow;
                Remove(j, "booted out: the process is gone, the job removed");
            }
            else if (j.RestartAfterStop)
            {
                j.LastEnding = ending;
                j.LastExitAt = DateTime.UtcNow;
                j.LastRanFor = ranFor;
                j.RestartAfterStop = false;
                Spawn(j, "kickstart -k");
            }
            else
            {
                Ended(j, ending, ranFor, instance.StoppedByLaunchd, exConfig: false);
            }

            Persist();
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>job_keepalive() through LaunchdModel: what launchd saw, whether it relaunches, the on-demand-only pend, the throttle.</summary>
    private void Ended(Job j, ProcessEnding ending, TimeSpan ranFor, bool stoppedByLaunchd, bool exConfig)
    {
        var facts = Facts(j);
        var model = new LaunchdModel(j.Definition.Settings, facts);
        var seen = model.SeenByLaunchd(ending);
        j.LastEnding = seen;
        j.LastExConfig = exConfig;
        j.LastExitAt = DateTime.UtcNow;
        j.LastRanFor = ranFor;
        j.LastDelay = null;
        var (relaunch, rule, why) = model.ShouldRelaunch(seen, stoppedByLaunchd, j.DemandedOnce);
        if (!relaunch)
        {
            Set(j, JobState.NotRunning, $"{seen}: {rule}: {why}: not relaunched");
            return;
        }

        if (OnDemandOnly(j, facts))
        {
            Pend(j, $"{seen}: {rule}: {why}");
            return;
        }

        var delay = model.ThrottleDelay(ranFor);
        if (exConfig && delay == TimeSpan.Zero)
        {
            // Not launchd's rule: keeps a ThrottleInterval=0 job with a missing program from spinning the daemon.
            delay = TimeSpan.FromSeconds(1);
        }

        j.LastDelay = delay;
        if (delay == TimeSpan.Zero)
        {
            Spawn(j, $"{seen}: {rule}: {why}: relaunched at once");
            return;
        }

        j.SpawnAt = DateTime.UtcNow + delay;
        Set(j, JobState.SpawnScheduled, $"{seen}: {rule}: {why}: respawn in {delay.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (ThrottleInterval {j.Definition.Settings.ThrottleInterval.ToString(CultureInfo.InvariantCulture)} s, ran {ranFor.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s)");
    }

    private static ProcessEnding Decode(int? status)
    {
        if (status is not { } w)
        {
            return ProcessEnding.Exit(255);
        }

        var signal = w & 0x7f;
        if (signal == 0)
        {
            return ProcessEnding.Exit((w >> 8) & 0xff);
        }

        return UnixSignals.TryFromNumber(signal, SignalPlatform.Linux, out var s)
            ? ProcessEnding.KilledBy(s, (w & 0x80) != 0)
            : ProcessEnding.Exit(128 + signal);
    }

    /// <summary>launchd's stop: SIGTERM now, SIGKILL after ExitTimeOut (the tick loop sends it).</summary>
    private void Stop(Job j, string why)
    {
        var instance = j.Instance!;
        instance.StoppedByLaunchd = true;
        var timeout = new LaunchdModel(j.Definition.Settings).EffectiveExitTimeOut;
        instance.KillAt = timeout == TimeSpan.MaxValue ? null : DateTime.UtcNow + timeout;
        Log($"{j.Target}: {why}: SIGTERM to pid {instance.Pid.ToString(CultureInfo.InvariantCulture)}, SIGKILL after {(timeout == TimeSpan.MaxValue ? "never (ExitTimeOut=0)" : timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s")}");
        Native.Signal(instance.Pid, Native.SIGTERM);
    }

    private void Remove(Job j, string why)
    {
        jobs.Remove(j);
        j.SpawnAt = null;
        Set(j, JobState.NotRunning, why);
        lastActivity = DateTime.UtcNow;
        Persist();
        Monitor.PulseAll(gate);
    }

    private void TickLoop()
    {
        while (true)
        {
            Thread.Sleep(50);
            string? finish = null;
            lock (gate)
            {
                if (exiting)
                {
                    return;
                }

                var now = DateTime.UtcNow;
                DomainConfig? config = null;
                foreach (var j in jobs.ToList())
                {
                    if (j.Instance is { KillAt: { } at } running && at <= now)
                    {
                        running.KillAt = null;
                        Log($"{j.Target}: ExitTimeOut passed: SIGKILL to pid {running.Pid.ToString(CultureInfo.InvariantCulture)}");
                        Native.Signal(running.Pid, Native.SIGKILL);
                    }

                    if (j.State is JobState.SpawnScheduled or JobState.Pending && j.Instance is null)
                    {
                        var facts = Facts(j);
                        if (j.State == JobState.SpawnScheduled && j.SpawnAt <= now)
                        {
                            if (OnDemandOnly(j, facts))
                            {
                                Pend(j, "the scheduled respawn");
                            }
                            else
                            {
                                Spawn(j, "throttle delay over");
                            }
                        }
                        else if (j.State == JobState.Pending && !OnDemandOnly(j, facts))
                        {
                            // Unverified: that launchd runs pended spawns once the domain leaves on-demand-only mode.
                            Spawn(j, "the domain left on-demand-only mode");
                        }
                    }
                }

                if (!Directory.Exists(state))
                {
                    finish = "the state directory was deleted";
                }
                else if (jobs.Count == 0 && active == 0)
                {
                    config ??= DomainConfig.Read(state);
                    if (now - lastActivity > TimeSpan.FromSeconds(config.IdleExitSeconds))
                    {
                        finish = $"idle for {config.IdleExitSeconds.ToString(CultureInfo.InvariantCulture)} s with no job";
                    }
                }
            }

            if (finish is not null)
            {
                Finish(finish);
                return;
            }
        }
    }

    private void StartFinish(string why) => new Thread(() => Finish(why)) { IsBackground = true }.Start();

    /// <summary>Stops answering, kills every job it started (SIGKILL to each job's process group), reaps them and exits.</summary>
    private void Finish(string why)
    {
        lock (gate)
        {
            if (exiting)
            {
                return;
            }

            exiting = true;
        }

        Log($"exiting: {why}");
        var stateExists = Directory.Exists(state);
        FileStream? startLock = null;
        try
        {
            // Under daemon.lock, so a CLI starting the next daemon never sees this one's socket half gone.
            startLock = stateExists ? StateDirectory.Lock(state, StateDirectory.DaemonLock, TimeSpan.FromSeconds(5)) : null;
        }
        catch (IOException)
        {
            startLock = null;
        }

        try
        {
            listener?.Close();
            if (Directory.Exists(state))
            {
                File.Delete(Path.Combine(state, StateDirectory.SocketFile));
                File.Delete(Path.Combine(state, StateDirectory.DaemonPidFile));
            }
        }
        catch (IOException)
        {
            // the state directory is going away
        }
        finally
        {
            startLock?.Dispose();
        }

        KillAllAndWait(why);
        lock (gate)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (active > 0 && DateTime.UtcNow < deadline)
            {
                Monitor.Wait(gate, 100);
            }
        }

        Log("fake launchd exited");
        done.Set();
    }

    private void KillAllAndWait(string why)
    {
        lock (gate)
        {
            foreach (var j in jobs.ToList())
            {
                j.BootingOut = true;
                if (j.Instance is { } running)
                {
                    running.StoppedByLaunchd = true;
                    Log($"{j.Target}: {why}: SIGKILL to pid {running.Pid.ToString(CultureInfo.InvariantCulture)} and its process group");
                    Native.Signal(running.Pid, Native.SIGKILL);
                    if (Setsid is not null)
                    {
                        Native.SignalGroup(running.Pid, Native.SIGKILL);
                    }
                }
                else
                {
                    Remove(j, why);
                }
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (jobs.Count > 0 && DateTime.UtcNow < deadline)
            {
                Monitor.Wait(gate, 100);
            }

            Persist();
        }
    }

    /// <summary>jobs.json: every process this daemon started and has not reaped, with its start time (for the tests' Shutdown()).</summary>
    private void Persist()
    {
        try
        {
            if (!Directory.Exists(state))
            {
                return;
            }

            var records = jobs.Where(j => j.Instance is not null)
                .Select(j => new ProcessRecord(j.Domain.Name, j.Label, j.Instance!.Pid, j.Instance.StartTicks)).ToList();
            StateDirectory.WriteAtomic(Path.Combine(state, StateDirectory.JobsFile), JsonSerializer.Serialize(records, JsonOptions.Indented));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the state directory is being deleted: the tick loop notices and exits
        }
    }

    private void Log(string message)
    {
        lock (logGate)
        {
            try
            {
                File.AppendAllText(Path.Combine(state, StateDirectory.LogFile),
                    $"{DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} {message}\n");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // no state directory, no log
            }
        }
    }
}

/// <summary>A process the fake started: PID plus /proc start time, so a reused PID is never mistaken for it.</summary>
internal sealed record ProcessRecord(string Domain, string Label, int Pid, long? StartTicks);
