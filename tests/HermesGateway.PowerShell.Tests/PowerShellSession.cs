using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.RegularExpressions;

namespace HermesGateway.PowerShell.Tests;

/// <summary>What one invocation produced: its output, each stream, the error that ended it, and any Console writes.</summary>
public sealed record InvocationResult(
    IReadOnlyList<PSObject> Output,
    IReadOnlyList<ErrorRecord> Errors,
    ErrorRecord? TerminatingError,
    IReadOnlyList<WarningRecord> Warnings,
    IReadOnlyList<VerboseRecord> Verbose,
    string ConsoleOut,
    string ConsoleError)
{
    /// <summary>The output's objects unwrapped (bool, the module's records...).</summary>
    public IReadOnlyList<object> Objects => [.. Output.Select(o => o.BaseObject)];

    /// <summary>The error that ended the invocation; fails the test when it ran to the end.</summary>
    public ErrorRecord Terminated => TerminatingError ?? throw new Xunit.Sdk.XunitException(
        $"The invocation was expected to stop with an error, but it ran to the end ({Output.Count} output object(s), {Errors.Count} error(s)).");

    /// <summary>Fails the test when anything went wrong; for invocations that must simply work.</summary>
    public InvocationResult Succeeded()
    {
        if (TerminatingError is not null || Errors.Count > 0)
        {
            var first = TerminatingError ?? Errors[0];
            throw new Xunit.Sdk.XunitException($"Expected no errors, got {first.FullyQualifiedErrorId}: {first}");
        }

        return this;
    }
}

/// <summary>
/// PowerShell in this process: a runspace with a <see cref="RecordingHost"/> and the built module imported by path
/// (out/HermesGateway/&lt;version&gt;/HermesGateway.psd1), so the module's own assemblies are the ones that run.
/// </summary>
public sealed class PowerShellSession : IDisposable
{
    private static readonly Lazy<string> RepositoryRoot = new(FindRepositoryRoot);
    private static readonly Lazy<string> Manifest = new(FindModuleManifest);
    // Console.SetOut is process-wide: two sessions invoking at once must not capture (or restore) each other's writers.
    private static readonly Lock ConsoleSwap = new();

    private readonly Runspace runspace;

    public PowerShellSession()
    {
        Host = new RecordingHost();
        var state = InitialSessionState.CreateDefault2();
        runspace = RunspaceFactory.CreateRunspace(Host, state);
        try
        {
            runspace.Open();
            var import = Invoke("Import-Module -Name $args[0] -ErrorAction Stop", ModuleManifest);
            if (import.TerminatingError is { } e)
            {
                throw new InvalidOperationException($"The module at {ModuleManifest} does not import: {e}", e.Exception);
            }
        }
        catch
        {
            runspace.Dispose();
            throw;
        }
    }

    public RecordingHost Host { get; }

    /// <summary>The repository this test assembly was built from (the folder holding HermesGateway.sln).</summary>
    public static string RepoRoot => RepositoryRoot.Value;

    /// <summary>The module manifest the runspace imports: $HERMES_MODULE_MANIFEST, else the build's layout for the manifest's version.</summary>
    public static string ModuleManifest => Manifest.Value;

    public static string Examples => Path.Combine(RepoRoot, "tests", "examples");

    /// <summary>
    /// Runs <paramref name="script"/> (its arguments in $args) in the runspace, as a script: a cmdlet's terminating error
    /// ends only its statement there, as at a prompt, and lands in <see cref="InvocationResult.Errors"/>.
    /// </summary>
    public InvocationResult Invoke(string script, params object?[] arguments)
    {
        using var shell = System.Management.Automation.PowerShell.Create(runspace);
        shell.AddScript(script);
        foreach (var a in arguments)
        {
            shell.AddArgument(a);
        }

        return Run(shell, null);
    }

    /// <summary>
    /// Runs one command the way a host does: parameters bound by name, <paramref name="input"/> fed to its pipeline one
    /// object at a time. A terminating error (ThrowTerminatingError, -ErrorAction Stop) ends the call and is
    /// <see cref="InvocationResult.TerminatingError"/>; non-terminating ones are <see cref="InvocationResult.Errors"/>.
    /// </summary>
    public InvocationResult InvokeCommand(string command, IDictionary<string, object?>? parameters = null, IEnumerable<object?>? input = null)
    {
        using var shell = System.Management.Automation.PowerShell.Create(runspace);
        shell.AddCommand(command);
        foreach (var (name, value) in parameters ?? new Dictionary<string, object?>())
        {
            shell.AddParameter(name, value);
        }

        return Run(shell, input);
    }

    /// <summary>
    /// Starts <paramref name="command"/> without waiting, for tests that act while it runs (Ctrl+C is
    /// <see cref="System.Management.Automation.PowerShell.Stop"/>); the caller disposes the returned shell.
    /// </summary>
    public System.Management.Automation.PowerShell StartCommand(string command, IDictionary<string, object?> parameters, out IAsyncResult running)
    {
        var shell = System.Management.Automation.PowerShell.Create(runspace);
        shell.AddCommand(command);
        foreach (var (name, value) in parameters)
        {
            shell.AddParameter(name, value);
        }

        running = shell.BeginInvoke();
        return shell;
    }

    /// <summary>
    /// Invokes with Console.Out and Console.Error captured meanwhile, so a cmdlet that writes to the console directly
    /// shows up in the result instead of the test log.
    /// </summary>
    private static InvocationResult Run(System.Management.Automation.PowerShell shell, IEnumerable<object?>? input)
    {
        // Written into as it comes, so what a pipeline output before a terminating error is kept.
        using var output = new PSDataCollection<PSObject>();
        ErrorRecord? terminating = null;
        using var consoleOut = new StringWriter();
        using var consoleError = new StringWriter();
        lock (ConsoleSwap)
        {
            var (savedOut, savedError) = (Console.Out, Console.Error);
            Console.SetOut(consoleOut);
            Console.SetError(consoleError);
            try
            {
                shell.Invoke(input, output);
            }
            catch (RuntimeException e)
            {
                terminating = e.ErrorRecord;
            }
            finally
            {
                Console.SetOut(savedOut);
                Console.SetError(savedError);
            }
        }

        return new InvocationResult(
            [.. output],
            [.. shell.Streams.Error],
            terminating,
            [.. shell.Streams.Warning],
            [.. shell.Streams.Verbose],
            consoleOut.ToString(),
            consoleError.ToString());
    }

    /// <summary>A property of an object the module wrote, read the way a script would ($o.Name).</summary>
    public static object? Property(object? target, string name)
    {
        var value = target is null ? null : PSObject.AsPSObject(target).Properties[name]?.Value;
        return value is PSObject wrapped ? wrapped.BaseObject : value;
    }

    public void Dispose() => runspace.Dispose();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HermesGateway.sln")) && File.Exists(Path.Combine(dir.FullName, "HermesGateway.psd1")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No HermesGateway.sln above {AppContext.BaseDirectory}: these tests run from the repository's build output.");
    }

    private static string FindModuleManifest()
    {
        if (Environment.GetEnvironmentVariable("HERMES_MODULE_MANIFEST") is { Length: > 0 } given)
        {
            return Path.GetFullPath(given);
        }

        // The version lives in the repository's manifest only; the build lays the module out under it.
        var match = Regex.Match(File.ReadAllText(Path.Combine(RepoRoot, "HermesGateway.psd1")), @"ModuleVersion\s*=\s*'([0-9.]+)'");
        if (!match.Success)
        {
            throw new InvalidOperationException("HermesGateway.psd1 names no ModuleVersion.");
        }

        var manifest = Path.Combine(RepoRoot, "out", "HermesGateway", match.Groups[1].Value, "HermesGateway.psd1");
        return File.Exists(manifest)
            ? manifest
            : throw new InvalidOperationException($"The module is not built ({manifest} is missing): run 'dotnet build' in {RepoRoot}.");
    }
}
