// What a job's program is started with, as launchd gives it: the standard PATH and the program lookup in it, the
// environment, the launchctl shim first on the PATH, and the exec script that sets up the working directory and stdio.
// The daemon spawns it (Daemon.Supervision.cs); print shows the environment (Output.Service).
using HermesGateway.Core.Launchd;

namespace HermesGateway.FakeLaunchctl;

internal static class JobProcess
{
    /// <summary>launchd's _PATH_STDPATH: where a relative ProgramArguments[0] is looked up, and the jobs' default PATH.</summary>
    public const string StdPath = "/usr/bin:/bin:/usr/sbin:/sbin";

    /// <summary>cd to the working directory, open StandardOutPath/StandardErrorPath (appending), exec: the PID stays the job's.</summary>
    public const string ExecScript = "cd \"$1\" 2>/dev/null || cd /; o=$2; e=$3; shift 3; exec \"$@\" </dev/null >>\"$o\" 2>>\"$e\"";

    /// <summary>
    /// A folder whose 'launchctl' runs this fake against this state: first on every job's PATH, as /bin/launchctl is on
    /// a Mac's, so a job (a submitted restart helper) can call launchctl back.
    /// </summary>
    public static string LaunchctlShimFolder(string state)
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

    public static Dictionary<string, string> Environment(Job j, string path = StdPath)
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

    public static string? Resolve(string? file)
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
}
