namespace HermesGateway.Core.Tests.Security;

/// <summary>The unprivileged attacker: commands run as nobody (uid 65534) through setpriv, which only root can do.</summary>
internal static class Attacker
{
    public const int Uid = 65534;

    /// <summary>Runs <paramref name="command"/> as the attacker; a command that fails is a broken test, not a result.</summary>
    public static ProcessResult Run(params string[] command)
    {
        var result = Programs.Run("/usr/bin/setpriv", [$"--reuid={Uid}", $"--regid={Uid}", "--clear-groups", "--", .. command], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"as uid {Uid}: {string.Join(' ', command)} failed ({result.ExitCode}): {result.StandardError}");
        return result;
    }

    /// <summary>A shell command line as the attacker.</summary>
    public static ProcessResult Shell(string script) => Run("/bin/sh", "-c", script);
}

/// <summary>Runs only as root on Linux: the attacker is a real second uid (setpriv), which only root can arrange.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class AttackFactAttribute : FactAttribute
{
    public AttackFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "the attacks use setpriv, unshare and /proc (Linux)";
        }
        else if (!System.Environment.IsPrivilegedProcess)
        {
            Skip = "not root: the attacker must be a second, unprivileged uid (setpriv --reuid), which only root can run";
        }
    }
}
