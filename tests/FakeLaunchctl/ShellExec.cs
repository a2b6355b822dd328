// How this fake starts a detached program, the same way for the daemon (DaemonClient.DaemonCommand) and for every job
// (Daemon.Spawn): /bin/sh runs a one-line script that sets up stdio and ends in exec "$@", through setsid where there
// is one, so the PID stays the program's and it leads its own session and process group.
namespace HermesGateway.FakeLaunchctl;

internal static class ShellExec
{
    public const string Shell = "/bin/sh";

    /// <summary>setsid(1), or null where there is none (then the program shares its starter's session).</summary>
    public static readonly string? Setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <summary>/bin/sh's arguments after its argv[0]: -c SCRIPT sh SCRIPT-ARGUMENTS... [setsid] PROGRAM-AND-ARGUMENTS...</summary>
    public static List<string> Arguments(string script, IEnumerable<string> scriptArguments, IEnumerable<string> program)
    {
        var argv = new List<string> { "-c", script, "sh" };
        argv.AddRange(scriptArguments);
        if (Setsid is not null)
        {
            argv.Add(Setsid);
        }

        argv.AddRange(program);
        return argv;
    }
}
