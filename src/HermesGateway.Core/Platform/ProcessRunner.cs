using System.Diagnostics;
using System.Text;

namespace HermesGateway.Core.Platform;

/// <summary>The result of running a service manager's command.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;
}

/// <summary>The one seam through which the engine runs systemctl, loginctl and launchctl.</summary>
public interface IProcessRunner
{
    ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default);

    /// <summary>
    /// Runs a program that may not end by itself (journalctl -f) and yields each line of its standard output as it
    /// comes. When the program exits, <paramref name="exited"/> gets its exit code and standard error (output empty) and
    /// the lines end. Cancellation (or the caller abandoning the enumeration) kills the child and nothing else; a
    /// cancelled enumeration throws <see cref="OperationCanceledException"/>. A runner that cannot stream (a test's)
    /// runs the program to its end first: this default.
    /// </summary>
    IEnumerable<string> StreamLines(string fileName, IReadOnlyList<string> arguments, Action<ProcessResult> exited, CancellationToken cancellation = default)
    {
        var r = Run(fileName, arguments, TimeSpan.FromMinutes(10), cancellation);
        foreach (var line in r.StandardOutput.Split('\n'))
        {
            if (line.Length > 0)
            {
                yield return line.TrimEnd('\r');
            }
        }

        exited(r with { StandardOutput = string.Empty });
    }
}

/// <summary>
/// Runs real processes: argument lists, never a command string; output captured, both streams drained at once so a
/// chatty child cannot block; a time limit after which the child's whole tree is killed.
/// </summary>
/// <param name="environment">variables set for every child on top of the inherited environment and this runner's
/// locale settings (a harness pointing a tool at its own state, for example)</param>
public sealed class SystemProcessRunner(IReadOnlyDictionary<string, string>? environment = null) : IProcessRunner
{
    public static readonly SystemProcessRunner Instance = new();

    private readonly KeyValuePair<string, string>[] environment = [.. environment ?? new Dictionary<string, string>()];

    public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var psi = StartInfo(fileName, arguments);
        using var process = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new ProcessResult(127, string.Empty, $"{fileName}: {e.Message}", false);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var registration = cancellation.Register(() => Kill(process));
        var exited = process.WaitForExit(timeout <= TimeSpan.Zero ? 0 : (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds));
        if (!exited)
        {
            Kill(process);
        }

        process.WaitForExit();
        cancellation.ThrowIfCancellationRequested();
        lock (stdout)
        {
            lock (stderr)
            {
                return new ProcessResult(exited ? process.ExitCode : -1, stdout.ToString(), stderr.ToString(), !exited);
            }
        }
    }

    public IEnumerable<string> StreamLines(string fileName, IReadOnlyList<string> arguments, Action<ProcessResult> exited, CancellationToken cancellation = default)
    {
        var psi = StartInfo(fileName, arguments);
        using var process = new Process { StartInfo = psi };
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            exited(new ProcessResult(127, string.Empty, $"{fileName}: {e.Message}", false));
            yield break;
        }

        // However the enumeration ends (its end, Ctrl+C, the consumer stopping early), the child is not left running.
        try
        {
            process.StandardInput.Close();
            process.BeginErrorReadLine();
            var output = process.StandardOutput;
            while (true)
            {
                string? line;
                try
                {
                    line = output.ReadLineAsync(cancellation).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    Kill(process);
                    throw;
                }

                if (line is null)
                {
                    break;
                }

                yield return line;
            }

            process.WaitForExit();
            lock (stderr)
            {
                exited(new ProcessResult(process.ExitCode, string.Empty, stderr.ToString(), false));
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                Kill(process);
                process.WaitForExit();
            }
        }
    }

    private ProcessStartInfo StartInfo(string fileName, IReadOnlyList<string> arguments)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        // Service managers answer in English only if asked; their messages are matched to pick error ids.
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["SYSTEMD_PAGER"] = string.Empty;
        psi.Environment["SYSTEMD_COLORS"] = "0";
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        return psi;
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }
}
