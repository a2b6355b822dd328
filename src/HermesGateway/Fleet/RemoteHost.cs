using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Remoting;
using System.Management.Automation.Runspaces;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Fleet;

namespace HermesGateway.Fleet;

/// <summary>
/// One host of a fleet: its PSSession (remoting over SSH or WinRM, PowerShell's own), the HermesGateway module of this
/// build loaded there, or why it cannot be used. Commands run there through the session's runspace, one at a time.
/// </summary>
internal sealed class RemoteHost : IDisposable
{
    /// <summary>Lists the host's HermesGateway modules (loaded, and on its module path) with their assemblies' SHA-256.</summary>
    private const string ProbeScript = """
        param([string[]] $Files)
        $ProgressPreference = 'SilentlyContinue'; $ErrorActionPreference = 'Continue'
        $othersWrite = [System.IO.UnixFileMode]'GroupWrite, OtherWrite'
        function Describe($m, [bool] $loaded) {
            $hashes = @{}
            $writable = $false
            if (-not $IsWindows) { $writable = [bool]((Get-Item -LiteralPath $m.ModuleBase -Force).UnixFileMode -band $othersWrite) }
            foreach ($f in $Files) {
                $p = Join-Path $m.ModuleBase $f
                if (Test-Path -LiteralPath $p -PathType Leaf) {
                    $hashes[$f] = (Get-FileHash -LiteralPath $p -Algorithm SHA256).Hash
                    if (-not $IsWindows -and ((Get-Item -LiteralPath $p -Force).UnixFileMode -band $othersWrite)) { $writable = $true }
                }
            }
            $ids = @{}
            if ($loaded) {
                # What is loaded, whatever the files say now: the assemblies' module version ids.
                foreach ($a in [AppDomain]::CurrentDomain.GetAssemblies()) {
                    $n = $a.GetName().Name
                    if ($n -in 'HermesGateway', 'HermesGateway.Core') { $ids["$n.dll"] = $a.ManifestModule.ModuleVersionId.ToString() }
                }
            }
            [pscustomobject]@{ Version = $m.Version.ToString(); ModuleBase = $m.ModuleBase; Hashes = $hashes; Loaded = $loaded; LoadedIds = $ids; OthersCanWrite = $writable }
        }
        $loaded = Get-Module -Name HermesGateway
        if ($loaded) { Describe $loaded $true }
        foreach ($m in @(Get-Module -ListAvailable -Name HermesGateway)) { Describe $m $false }
        """;


    /// <summary>Imports the chosen module by its path (never by name: the path is the build that was checked).</summary>
    private const string ImportScript = """
        param([string] $Manifest)
        if (-not (Get-Module -Name HermesGateway)) { Import-Module -Name $Manifest -ErrorAction Stop }
        """;

    /// <summary>
    /// Runs one of the module's commands there, with the parameters given (switches as $true). Its warnings come back
    /// among its output (3>&amp;1), not through the session's host, so this side names the host they came from.
    /// </summary>
    private const string CommandScript = """
        param([string] $Command, [hashtable] $Parameters)
        # The session's own preferences (a $WhatIfPreference, an ErrorAction of Stop, default parameter values) do not
        # change what the command does here; this scope's settings end with it.
        $ProgressPreference = 'SilentlyContinue'; $ErrorActionPreference = 'Continue'; $WarningPreference = 'Continue'
        $WhatIfPreference = $false; $ConfirmPreference = 'None'; $PSDefaultParameterValues = @{}
        & "HermesGateway\$Command" @Parameters 3>&1
        """;

    public RemoteHost(PSSession session)
        : this(session.Runspace, session.ComputerName)
    {
        Session = session;
    }

    /// <summary>The caller's session (null for a connection this module reopened itself).</summary>
    public PSSession? Session { get; }

    private RemoteHost(Runspace runspace, string computerName)
    {
        Runspace = runspace;
        ComputerName = computerName;
    }

    public Runspace Runspace { get; }

    public string ComputerName { get; }

    /// <summary>The module of this build on that host, once checked and imported.</summary>
    public RemoteModule? Module { get; private set; }

    /// <summary>The HermesGateway modules the host reported (loaded, and on its module path).</summary>
    public IReadOnlyList<RemoteModule> Found { get; private set; } = [];

    /// <summary>Why the host cannot be used (unreachable, no module of this build); null when it can.</summary>
    public HermesException? Error { get; private set; }

    public bool Usable => Error is null && Module is not null;

    /// <summary>Whether the session's connection still stands.</summary>
    public bool Open => Runspace.RunspaceStateInfo.State == RunspaceState.Opened;

    /// <summary>
    /// Checks every host in parallel: reachable, with this build of the module, which is then imported there. A host that
    /// fails keeps its error (<see cref="Error"/>); the others are ready for commands.
    /// </summary>
    public static void Prepare(IReadOnlyList<RemoteHost> hosts, ModuleBuild local, TimeSpan timeout, CancellationToken cancellation, bool import = true)
    {
        var probes = hosts.Select(h => h.Open ? h.Begin(ProbeScript, new Hashtable(), (object)ModuleBuild.Files.ToArray()) : null).ToList();
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            if (probes[i] is not { } probe)
            {
                host.Error = Unreachable(host, host.Runspace.RunspaceStateInfo.Reason?.Message ?? $"its session is {host.Runspace.RunspaceStateInfo.State}");
                continue;
            }

            var answer = probe.End(timeout, cancellation);
            probe.Dispose();
            if (answer.Failure is { } failure)
            {
                host.Error = Unreachable(host, failure.Message);
                continue;
            }

            try
            {
                var found = answer.Output.Select(ToModule).ToList();
                host.Found = found;
                host.Module = RemoteModuleCheck.Choose(host.ComputerName, local, found);
            }
            catch (HermesException e)
            {
                host.Error = e;
            }
        }

        if (!import)
        {
            return;
        }

        var imports = hosts.Select(h => h.Module is { Loaded: false } m ? h.Begin(ImportScript, new Hashtable(), Path.Combine(m.ModuleBase, "HermesGateway.psd1")) : null).ToList();
        for (var i = 0; i < hosts.Count; i++)
        {
            if (imports[i] is not { } importing)
            {
                continue;
            }

            var answer = importing.End(timeout, cancellation);
            importing.Dispose();
            if (answer.Failure is not null || answer.Errors.Count > 0)
            {
                var host = hosts[i];
                host.Error = new HermesException(HermesErrorIds.ModuleVersionMismatch, HermesErrorCategory.InvalidOperation,
                    $"{host.ComputerName}: HermesGateway {host.Module!.Version} at {host.Module.ModuleBase} could not be imported: {answer.Failure?.Message ?? answer.Errors[0].ToString()}", host.ComputerName);
                host.Module = null;
            }
        }
    }

    /// <summary>Starts one of the module's commands on the host; the call runs while the caller goes on.</summary>
    public RemoteCall BeginCommand(string command, Hashtable parameters) => Begin(CommandScript, parameters, command);

    /// <summary>Runs one of the module's commands on the host and waits for it.</summary>
    public RemoteAnswer Command(string command, Hashtable parameters, TimeSpan timeout, CancellationToken cancellation)
    {
        using var call = BeginCommand(command, parameters);
        return call.End(timeout, cancellation);
    }

    /// <summary>Runs a script of the module's own on the host (never a caller's text) with these arguments, and waits for it.</summary>
    public RemoteAnswer Command(string script, TimeSpan timeout, CancellationToken cancellation, params object[] arguments)
    {
        using var call = Begin(script, new Hashtable(), arguments);
        return call.End(timeout, cancellation);
    }

    private RemoteCall Begin(string script, Hashtable parameters, params object[] arguments)
    {
        var shell = PowerShell.Create();
        shell.Runspace = Runspace;
        shell.AddScript(script, useLocalScope: true); // its preferences stay in its own scope, not the session's
        if (script == CommandScript)
        {
            shell.AddArgument(arguments[0]).AddArgument(parameters);
        }
        else
        {
            foreach (var a in arguments)
            {
                shell.AddArgument(a);
            }
        }

        return new RemoteCall(this, shell);
    }

    private static RemoteModule ToModule(PSObject o)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        var value = o.Properties["Hashes"]?.Value;
        if ((value is PSObject p ? p.BaseObject : value) is IDictionary dictionary)
        {
            foreach (DictionaryEntry e in dictionary)
            {
                hashes[e.Key.ToString()!] = e.Value?.ToString() ?? string.Empty;
            }
        }

        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var idValue = o.Properties["LoadedIds"]?.Value;
        if ((idValue is PSObject q ? q.BaseObject : idValue) is IDictionary idDictionary)
        {
            foreach (DictionaryEntry e in idDictionary)
            {
                ids[e.Key.ToString()!] = e.Value?.ToString() ?? string.Empty;
            }
        }

        return new RemoteModule(
            o.Properties["Version"]?.Value?.ToString() ?? "?",
            o.Properties["ModuleBase"]?.Value?.ToString() ?? "?",
            hashes,
            o.Properties["Loaded"]?.Value is true,
            ids,
            o.Properties["OthersCanWrite"]?.Value is true);
    }

    internal static HermesException Unreachable(RemoteHost host, string why) =>
        new(HermesErrorIds.HostUnreachable, HermesErrorCategory.ResourceUnavailable, $"{host.ComputerName}: cannot be reached over its session: {why}", host.ComputerName);

    /// <summary>
    /// A new connection to the host this one reached, made the way its session was (the same connection settings: host,
    /// port, user, key), checked and with the module imported; null when the host cannot be reached again within
    /// <paramref name="timeout"/>. The caller disposes it.
    /// </summary>
    public RemoteHost? Reopen(ModuleBuild local, TimeSpan timeout, CancellationToken cancellation)
    {
        Runspace runspace;
        try
        {
            runspace = RunspaceFactory.CreateRunspace(Runspace.ConnectionInfo);
            runspace.OpenAsync();
        }
        catch (Exception e) when (e is PSRemotingTransportException or InvalidRunspaceStateException or PSInvalidOperationException or ArgumentException)
        {
            return null;
        }

        var deadline = DateTime.UtcNow + timeout;
        while (runspace.RunspaceStateInfo.State is RunspaceState.BeforeOpen or RunspaceState.Opening && DateTime.UtcNow < deadline && !cancellation.IsCancellationRequested)
        {
            Thread.Sleep(100);
        }

        var again = new RemoteHost(runspace, ComputerName) { owned = true };
        if (runspace.RunspaceStateInfo.State != RunspaceState.Opened)
        {
            again.Dispose();
            return null;
        }

        Prepare([again], local, timeout, cancellation);
        return again;
    }

    private bool owned;

    /// <summary>Closes a connection this module opened itself (<see cref="Reopen"/>); a caller's session is left alone.</summary>
    public void Dispose()
    {
        if (owned)
        {
            try
            {
                Runspace.Dispose();
            }
            catch (Exception e) when (e is PSRemotingTransportException or InvalidRunspaceStateException)
            {
            }
        }
    }

    /// <summary>Marks the host unusable for the rest of the command (its connection broke).</summary>
    public void Lose(HermesException error)
    {
        Error = error;
    }
}

/// <summary>
/// What a command on a host gave back: its output (deserialized, with PSComputerName), its errors, or the failure of the
/// call itself; <see cref="ConnectionLost"/> when that failure is the connection breaking (not the command's own error).
/// </summary>
internal sealed record RemoteAnswer(IReadOnlyList<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, IReadOnlyList<string> Warnings, Exception? Failure, bool ConnectionLost = false);

/// <summary>A command running on a host.</summary>
internal sealed class RemoteCall : IDisposable
{
    private readonly PowerShell shell;
    private readonly IAsyncResult handle;

    public RemoteCall(RemoteHost host, PowerShell shell)
    {
        Host = host;
        this.shell = shell;
        try
        {
            handle = shell.BeginInvoke();
        }
        catch (Exception e) when (e is PSInvalidOperationException or InvalidRunspaceStateException or PSRemotingTransportException)
        {
            StartFailure = e;
            handle = Task.CompletedTask;
        }
    }

    public RemoteHost Host { get; }

    private Exception? StartFailure { get; }

    public WaitHandle WaitHandle => handle.AsyncWaitHandle;

    public bool IsCompleted => StartFailure is not null || handle.IsCompleted;

    /// <summary>Waits for the command (at most <paramref name="timeout"/>, then stops it) and collects what it gave back.</summary>
    public RemoteAnswer End(TimeSpan timeout, CancellationToken cancellation)
    {
        if (StartFailure is { } startFailure)
        {
            return new RemoteAnswer([], [], [], startFailure, !Host.Open);
        }

        var deadline = DateTime.UtcNow + timeout;
        while (!handle.IsCompleted)
        {
            if (cancellation.IsCancellationRequested || DateTime.UtcNow >= deadline)
            {
                Stop();
                return new RemoteAnswer([], [], [], cancellation.IsCancellationRequested
                    ? new OperationCanceledException(cancellation)
                    : new TimeoutException($"no answer within {timeout.TotalSeconds:0} s"));
            }

            handle.AsyncWaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
        }

        Exception? failure = null;
        List<PSObject> output = [];
        try
        {
            output = [.. shell.EndInvoke(handle).Where(o => o is not null)]; // a script's $null output is no object
        }
        catch (Exception e) when (e is RuntimeException or PSRemotingTransportException or InvalidRunspaceStateException or PSInvalidOperationException)
        {
            failure = e;
        }

        var warnings = shell.Streams.Warning.Select(w => w.Message).ToList();
        var isWarning = (PSObject o) => o.BaseObject is WarningRecord || o.TypeNames.Any(t => t.EndsWith("System.Management.Automation.WarningRecord", StringComparison.Ordinal));
        warnings.AddRange(output.Where(isWarning).Select(o => o.Properties["Message"]?.Value?.ToString() ?? o.ToString()));
        output = [.. output.Where(o => !isWarning(o))];
        foreach (var o in output)
        {
            Mark(o, Host.ComputerName);
        }

        var errors = shell.Streams.Error.ToList();
        if (failure is null && shell.InvocationStateInfo.State == PSInvocationState.Failed)
        {
            failure = shell.InvocationStateInfo.Reason;
        }

        var lost = failure is not null and not TimeoutException and not OperationCanceledException
            && (failure is PSRemotingTransportException || failure.InnerException is PSRemotingTransportException || !Host.Open);
        return new RemoteAnswer(output, errors, warnings, failure, lost);
    }

    /// <summary>Adds what Invoke-Command adds to a remote object: the computer it came from, shown in tables.</summary>
    public static void Mark(PSObject o, string computerName)
    {
        if (o.Properties["PSComputerName"] is null)
        {
            o.Properties.Add(new PSNoteProperty("PSComputerName", computerName));
        }

        if (o.Properties["PSShowComputerName"] is null)
        {
            o.Properties.Add(new PSNoteProperty("PSShowComputerName", true));
        }
    }

    /// <summary>Asks the host to stop the command, waiting a few seconds at most (a dead link must not hang the caller).</summary>
    public void Stop()
    {
        if (StartFailure is not null || handle.IsCompleted)
        {
            return;
        }

        try
        {
            shell.BeginStop(null, null).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is PSInvalidOperationException or PSRemotingTransportException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            shell.Dispose();
        }
        catch (Exception e) when (e is PSInvalidOperationException or PSRemotingTransportException)
        {
        }
    }
}
