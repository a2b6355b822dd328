using System.Globalization;
using System.Text.RegularExpressions;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Launchd;

/// <summary>What 'launchctl print &lt;domain&gt;/&lt;label&gt;' says about a job (its format "is NOT API": only stable fields are read).</summary>
public sealed record LaunchdJobStatus(string Target, bool Loaded, string State, int? Pid, int? Runs, int? LastExitCode, string? LastTerminatingSignal)
{
    public bool IsRunning => Loaded && State == "running" && Pid is > 0;
}

/// <summary>launchctl behind the process-runner seam; its error codes turned into stable error ids.</summary>
public sealed partial class LaunchctlClient
{
    /// <summary>launchctl's errno-style answers (launchctl error &lt;n&gt;).</summary>
    public const int NoSuchProcess = 3;
    public const int ServiceNotFound = 113;
    public const int DomainNotSupported = 125;

    private readonly IProcessRunner runner;

    public LaunchctlClient(IProcessRunner runner, TimeSpan? timeout = null)
    {
        this.runner = runner;
        Timeout = timeout ?? TimeSpan.FromSeconds(60);
    }

    public TimeSpan Timeout { get; }

    public static string Domain(LaunchdDomainKind kind, uint uid) => kind switch
    {
        LaunchdDomainKind.Gui => $"gui/{uid}",
        LaunchdDomainKind.User => $"user/{uid}",
        _ => "system",
    };

    public static string Target(string domain, string label) => $"{domain}/{label}";

    public ProcessResult Run(IReadOnlyList<string> arguments, CancellationToken ct = default) => runner.Run("launchctl", arguments, Timeout, ct);

    /// <summary>Whether the domain exists here (a gui domain exists only while the user has a GUI session).</summary>
    public bool DomainExists(string domain, CancellationToken ct = default) => Run(["print", domain], ct).Succeeded;

    public void Bootstrap(string domain, string plistPath, CancellationToken ct = default) =>
        Check(Run(["bootstrap", domain, plistPath], ct), Target(domain, Path.GetFileNameWithoutExtension(plistPath)), "bootstrap");

    /// <summary>bootout: SIGTERM, SIGKILL after ExitTimeOut, job removed. Returns false when it was not loaded.</summary>
    public bool Bootout(string target, CancellationToken ct = default)
    {
        var r = Run(["bootout", target], ct);
        if (r.ExitCode is NoSuchProcess or ServiceNotFound)
        {
            return false;
        }

        Check(r, target, "bootout");
        return true;
    }

    public void Enable(string target, CancellationToken ct = default) => Check(Run(["enable", target], ct), target, "enable");

    public void Disable(string target, CancellationToken ct = default) => Check(Run(["disable", target], ct), target, "disable");

    public void Kickstart(string target, bool killFirst, CancellationToken ct = default) =>
        Check(Run(killFirst ? ["kickstart", "-k", target] : ["kickstart", target], ct), target, "kickstart");

    /// <summary>launchctl kill &lt;signal&gt; &lt;target&gt;: launchd signals the job's process.</summary>
    public void Kill(string target, string signalName, CancellationToken ct = default) => Check(Run(["kill", signalName, target], ct), target, "kill");

    public LaunchdJobStatus Print(string target, CancellationToken ct = default)
    {
        var r = Run(["print", target], ct);
        if (r.ExitCode is ServiceNotFound or NoSuchProcess)
        {
            return new LaunchdJobStatus(target, false, "not loaded", null, null, null, null);
        }

        Check(r, target, "print");
        string? Field(Regex rx) => rx.Match(r.StandardOutput) is { Success: true } m ? m.Groups[1].Value.Trim() : null;
        int? Int(Regex rx) => int.TryParse(Field(rx), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
        return new LaunchdJobStatus(target, true, Field(StateLine()) ?? "unknown", Int(PidLine()), Int(RunsLine()), Int(LastExitLine()), Field(LastSignalLine()));
    }

    /// <summary>Whether 'launchctl print-disabled' lists the label as disabled in the domain.</summary>
    public bool IsDisabled(string domain, string label, CancellationToken ct = default)
    {
        var r = Run(["print-disabled", domain], ct);
        return r.Succeeded && Regex.IsMatch(r.StandardOutput, $"\"{Regex.Escape(label)}\"\\s*=>\\s*(disabled|true)");
    }

    private static void Check(ProcessResult r, string target, string verb)
    {
        if (r.Succeeded)
        {
            return;
        }

        var message = (r.StandardError + r.StandardOutput).Trim();
        throw r.ExitCode switch
        {
            _ when r.TimedOut => new HermesException(HermesErrorIds.ServiceManagerFailed, HermesErrorCategory.OperationTimeout, $"launchctl {verb} did not answer in time.", target),
            127 => new HermesException(HermesErrorIds.ServiceManagerFailed, HermesErrorCategory.ObjectNotFound, $"launchctl is not available here: {message}", target),
            DomainNotSupported => new HermesException(HermesErrorIds.LaunchdDomainMissing, HermesErrorCategory.ResourceUnavailable,
                $"launchctl {verb} {target}: the domain does not exist here (no GUI session for a gui/ domain: use Scope Agent with the user/ domain, or log in).", target),
            ServiceNotFound or NoSuchProcess => new HermesException(HermesErrorIds.ServiceNotFound, HermesErrorCategory.ObjectNotFound,
                $"launchctl {verb} {target}: the job is not loaded.", target),
            _ when r.StandardError.Contains("Operation not permitted", StringComparison.OrdinalIgnoreCase) || r.ExitCode == 1 && r.StandardError.Contains("root", StringComparison.OrdinalIgnoreCase)
                => new HermesException(HermesErrorIds.NotRoot, HermesErrorCategory.PermissionDenied, $"launchctl {verb} {target} needs root: {message}", target),
            _ => new HermesException(HermesErrorIds.ServiceManagerFailed, HermesErrorCategory.InvalidOperation, $"launchctl {verb} {target} failed ({r.ExitCode}): {message}", target),
        };
    }

    [GeneratedRegex(@"^\s*state = (.+)$", RegexOptions.Multiline)]
    private static partial Regex StateLine();

    [GeneratedRegex(@"^\s*pid = (\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex PidLine();

    [GeneratedRegex(@"^\s*runs = (\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex RunsLine();

    [GeneratedRegex(@"^\s*last exit code = (-?\d+)", RegexOptions.Multiline)]
    private static partial Regex LastExitLine();

    [GeneratedRegex(@"^\s*last terminating signal = (.+)$", RegexOptions.Multiline)]
    private static partial Regex LastSignalLine();
}
