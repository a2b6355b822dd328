using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace HermesGateway.FakeLaunchctl;

/// <summary>
/// The CLI side of the protocol: one connection per command to $FAKE_LAUNCHD_STATE/launchd.sock, one JSON line
/// {"Argv": [...]} out, one JSON line {"Exit", "Out", "Err"} back. A connection the daemon closes without an answer
/// (it was exiting) is retried; starting a daemon is serialised by the daemon.lock file.
/// </summary>
internal static class DaemonClient
{
    /// <summary>The daemon's answer; null when no daemon runs and none was to be started.</summary>
    public static WireResponse? Send(string stateDir, string[] argv, bool startIfMissing)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            switch (TrySend(stateDir, argv, out var answer))
            {
                case SendResult.Answered:
                    return answer;
                case SendResult.NoDaemon when !startIfMissing:
                    return null;
                case SendResult.NoDaemon:
                    if (!EnsureDaemon(stateDir))
                    {
                        return null;
                    }

                    break;
                default:
                    Thread.Sleep(50);
                    break;
            }
        }

        return null;
    }

    public static bool Ping(string stateDir) => TrySend(stateDir, [Daemon.PingVerb], out _) == SendResult.Answered;

    /// <summary>Starts the daemon (detached: its own session, stdio on /dev/null and launchd.log) unless one answers.</summary>
    public static bool EnsureDaemon(string stateDir)
    {
        using var _ = StateDirectory.Lock(stateDir, StateDirectory.DaemonLock);
        if (Ping(stateDir))
        {
            return true;
        }

        var start = DaemonCommand(stateDir);
        using (Process.Start(start))
        {
            // Not waited for: the daemon outlives this command. Its parent is this short-lived CLI, so init adopts it.
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (Ping(stateDir))
            {
                return true;
            }

            Thread.Sleep(25);
        }

        return false;
    }

    /// <summary>/bin/sh -c 'exec setsid fake-launchctl __launchd STATE &lt;/dev/null &gt;&gt;launchd.log 2&gt;&amp;1': the same line the tests use.</summary>
    public static ProcessStartInfo DaemonCommand(string stateDir)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var daemon = new List<string> { self };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            daemon.Add(typeof(DaemonClient).Assembly.Location);
        }

        daemon.Add(Daemon.Verb);
        daemon.Add(stateDir);
        var psi = new ProcessStartInfo(ShellExec.Shell) { UseShellExecute = false };
        foreach (var a in ShellExec.Arguments("log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1", [Path.Combine(stateDir, StateDirectory.LogFile)], daemon))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment[StateDirectory.EnvironmentVariable] = stateDir;
        return psi;
    }

    private enum SendResult
    {
        Answered,
        NoDaemon,
        Dropped,
    }

    private static SendResult TrySend(string stateDir, string[] argv, out WireResponse? answer)
    {
        answer = null;
        var path = Path.Combine(stateDir, StateDirectory.SocketFile);
        if (!File.Exists(path))
        {
            return SendResult.NoDaemon;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            return SendResult.NoDaemon;
        }

        try
        {
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var line = JsonSerializer.Serialize(new WireRequest(argv)) + "\n";
            stream.Write(Encoding.UTF8.GetBytes(line));
            stream.Flush();
            socket.Shutdown(SocketShutdown.Send);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var reply = reader.ReadToEnd();
            if (reply.Length == 0)
            {
                return SendResult.Dropped;
            }

            answer = JsonSerializer.Deserialize<WireResponse>(reply);
            return answer is null ? SendResult.Dropped : SendResult.Answered;
        }
        catch (Exception e) when (e is IOException or SocketException or JsonException)
        {
            return SendResult.Dropped;
        }
    }
}
