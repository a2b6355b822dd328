using System.Diagnostics;
using System.Globalization;
using HermesGateway.Core.Platform;

namespace HermesGateway.RestartBenchmark;

/// <summary>
/// A private systemd 252 booted with ../shared/tools/sde2e for this run only. Everything it needs lives under
/// /tmp/hermes-sde2e-bench-&lt;id&gt;, which the sandbox shares with the host; <see cref="Down"/> kills the whole
/// namespace and removes that folder, and is safe to call more than once and after a half-finished boot.
/// </summary>
internal sealed class Sandbox
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);
    private readonly string script;
    private int booted; // 1 once 'up' was attempted: from then on Down must run
    private int downed;

    public Sandbox(string script)
    {
        this.script = script;
        var id = Guid.NewGuid().ToString("N")[..10];
        Root = Path.Combine("/tmp", "hermes-sde2e-bench-" + id);
        State = Path.Combine(Root, "state-" + id); // sde2e names its cgroup after this folder: unique per run
    }

    public string Root { get; }

    public string State { get; }

    /// <summary>HOME of the uid-0 user whose user manager runs the gateway units.</summary>
    public string Home => Path.Combine(Root, "home");

    public string UserUnits => Path.Combine(Home, ".config", "systemd", "user");

    /// <summary>The sandbox's PID 1 (a host PID); its /proc/&lt;pid&gt;/root/proc is the sandbox's process table.</summary>
    public int ManagerPid { get; private set; }

    public void Up()
    {
        Directory.CreateDirectory(UserUnits);
        Interlocked.Exchange(ref booted, 1);
        // systemctl --user enable writes its .wants links under /root/.config inside the sandbox (a throw-away overlay).
        var env = new Dictionary<string, string> { ["SDE2E_EXTRA_USER_UNIT_PATH"] = UserUnits + ":/root/.config/systemd/user" };
        var up = Tool(["up", State], env);
        if (up.ExitCode != 0 || !int.TryParse(up.Output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            throw new InvalidOperationException($"sde2e up failed ({up.ExitCode}): {up.Error.Trim()} {up.Output.Trim()}");
        }

        ManagerPid = pid;
        var usermgr = Tool(["usermgr", State], null).Output.Trim();
        var start = Tool(["ctl", State, "start", usermgr + "0.service"], null);
        if (start.ExitCode != 0)
        {
            throw new InvalidOperationException($"starting the sandbox's user manager failed ({start.ExitCode}): {start.Error.Trim()}");
        }
    }

    public void Down()
    {
        if (Interlocked.Exchange(ref downed, 1) == 1)
        {
            return;
        }

        if (Volatile.Read(ref booted) == 1)
        {
            var r = Tool(["down", State], null);
            if (r.ExitCode != 0)
            {
                Console.Error.WriteLine($"sde2e down {State} failed ({r.ExitCode}): {r.Error.Trim()}");
            }
        }

        try
        {
            if (Directory.Exists(Root))
            {
                Directory.Delete(Root, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"could not remove {Root}: {e.Message}");
        }
    }

    private (int ExitCode, string Output, string Error) Tool(string[] arguments, Dictionary<string, string>? env)
    {
        var r = new SystemProcessRunner(env).Run(script, arguments, ToolTimeout);
        return r.TimedOut ? (-1, r.StandardOutput, $"timed out after {ToolTimeout.TotalSeconds:0} s; " + r.StandardError) : (r.ExitCode, r.StandardOutput, r.StandardError);
    }
}

/// <summary>
/// The engine's own process runner, with each command entered into the sandbox's namespaces (nsenter, as sde2e exec
/// does, without the shell script around it); counts the calls and the time spent in them.
/// </summary>
internal sealed class SandboxRunner(Sandbox sandbox) : IProcessRunner
{
    private readonly Lock gate = new();
    private int calls;
    private TimeSpan spent;
    private double lastKillAt = double.NaN;

    /// <summary>When the last 'systemctl kill' through this runner returned (epoch seconds); NaN since the last reset.</summary>
    public double LastKillAt
    {
        get
        {
            lock (gate)
            {
                return lastKillAt;
            }
        }
    }

    public (int Calls, TimeSpan Spent) Stats
    {
        get
        {
            lock (gate)
            {
                return (calls, spent);
            }
        }
    }

    public void ResetStats()
    {
        lock (gate)
        {
            calls = 0;
            spent = TimeSpan.Zero;
            lastKillAt = double.NaN;
        }
    }

    public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default)
    {
        string[] args = ["-t", sandbox.ManagerPid.ToString(CultureInfo.InvariantCulture), "-m", "-p", "-u", "-i", "-C", "--", fileName, .. arguments];
        var clock = Stopwatch.StartNew();
        var r = SystemProcessRunner.Instance.Run("nsenter", args, timeout, cancellation);
        var end = Clock.Now();
        lock (gate)
        {
            calls++;
            spent += clock.Elapsed;
            if (arguments.Contains("kill"))
            {
                lastKillAt = end;
            }
        }

        return r;
    }
}
