// The fake launchd's lifetime: start (socket, pid file, signal handlers, tick thread), the accept loop, one request's
// read-dispatch-answer, and the exit (Finish). The verbs are in Daemon.Verbs.cs, the jobs' processes in
// Daemon.Supervision.cs, the helpers over job state and the state directory in Daemon.State.cs.
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using HermesGateway.Core.Platform;

namespace HermesGateway.FakeLaunchctl;

/// <summary>
/// The fake launchd: owns the jobs, spawns their programs, reaps them and decides relaunches with the project's
/// LaunchdModel. One lock (<see cref="gate"/>) guards all job state; waits (bootout, kickstart -k) release it.
/// </summary>
internal sealed partial class Daemon : IDisposable
{
    public const string Verb = "__launchd";
    public const string PingVerb = "__ping";
    public const string ShutdownVerb = "__shutdown";

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
        Log($"fake launchd (a test double) started: pid {System.Environment.ProcessId}, state {state}, setsid {ShellExec.Setsid ?? "(none: jobs share the daemon's session)"}");

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
}
