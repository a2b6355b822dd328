using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Fleet;
using HermesGateway.Fleet;

namespace HermesGateway.Commands;

/// <summary>
/// Copy-HermesModule: puts this very build of the module on hosts, over their PSSessions (Copy-Item -ToSession), so
/// that -Session commands find it there: into a partial folder first, checked by hash, then renamed into place.
/// </summary>
[Cmdlet(VerbsCommon.Copy, "HermesModule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ModuleCopyResult))]
public sealed class CopyHermesModuleCommand : HermesCmdlet
{
    /// <summary>
    /// Where the host's module folder is, for the scope (PowerShell's own: on Linux and macOS the user's is under
    /// XDG_DATA_HOME, else ~/.local/share), and a partial folder's name beside it for this copy; nothing is created.
    /// </summary>
    private const string PlaceScript = """
        param([string] $Scope, [string] $Version)
        $root = if ($Scope -eq 'AllUsers') {
            if ($IsWindows) { Join-Path $env:ProgramFiles 'PowerShell/Modules' } else { '/usr/local/share/powershell/Modules' }
        } elseif ($IsWindows) {
            Join-Path ([Environment]::GetFolderPath('MyDocuments')) 'PowerShell/Modules'
        } elseif ($env:XDG_DATA_HOME) {
            Join-Path $env:XDG_DATA_HOME 'powershell/Modules'
        } else {
            Join-Path $HOME '.local/share/powershell/Modules'
        }
        $target = Join-Path $root "HermesGateway/$Version"
        $partial = Join-Path $root "HermesGateway/.$Version.partial-$([guid]::NewGuid().ToString('N'))"
        [pscustomobject]@{ Target = $target; Partial = $partial; Exists = (Test-Path -LiteralPath $target) }
        """;

    /// <summary>Creates the partial folder (and the module folders above it), only once the copy is confirmed.</summary>
    private const string MakeScript = "param([string] $Partial) $null = New-Item -ItemType Directory -Path $Partial -ErrorAction Stop";

    /// <summary>Checks the copied assemblies by hash, keeps any folder it replaces as a backup, renames the copy into place.</summary>
    private const string FinishScript = """
        param([string] $Partial, [string] $Target, [hashtable] $Hashes, [bool] $Replace)
        $ErrorActionPreference = 'Stop'
        foreach ($f in $Hashes.Keys) {
            $p = Join-Path $Partial $f
            $h = if (Test-Path -LiteralPath $p) { (Get-FileHash -LiteralPath $p -Algorithm SHA256).Hash } else { 'missing' }
            if ($h -ne $Hashes[$f]) { Remove-Item -LiteralPath $Partial -Recurse -Force; throw "$f arrived as $h, not $($Hashes[$f]); nothing was installed." }
        }
        $backup = $null
        if (Test-Path -LiteralPath $Target) {
            if (-not $Replace) { Remove-Item -LiteralPath $Partial -Recurse -Force; throw "$Target appeared meanwhile; nothing was installed." }
            $backup = "$Target.backup-$([DateTime]::UtcNow.ToString('yyyyMMddTHHmmssZ'))"
            Move-Item -LiteralPath $Target -Destination $backup
        }
        try {
            # Renamed, never moved into: a folder that appeared at the target meanwhile stops the copy.
            if (Test-Path -LiteralPath $Target) { throw "$Target appeared meanwhile" }
            Move-Item -LiteralPath $Partial -Destination $Target
        }
        catch {
            if ($backup -and -not (Test-Path -LiteralPath $Target)) { Move-Item -LiteralPath $backup -Destination $Target }
            throw "putting the copy in place failed ($_); $(if ($backup) { 'the build that was there is back in place' } else { 'nothing was installed' })."
        }
        $backup
        """;

    private const string CleanScript = "param([string] $Partial) Remove-Item -LiteralPath $Partial -Recurse -Force -ErrorAction SilentlyContinue";

    /// <summary>The hosts, one PSSession each.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public PSSession[] Session { get; set; } = [];

    /// <summary>CurrentUser (the session's account's module folder, the default) or AllUsers.</summary>
    [Parameter]
    [ValidateSet("CurrentUser", "AllUsers")]
    public string Scope { get; set; } = "CurrentUser";

    /// <summary>Replace another build of the same version found there (kept beside it as a backup).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var local = Fleet.Fleet.LocalBuild(this);
        var folder = Path.GetDirectoryName(typeof(CopyHermesModuleCommand).Assembly.Location)!;
        IReadOnlyList<RemoteHost> hosts;
        try
        {
            hosts = Fleet.Fleet.Hosts(Session);
        }
        catch (HermesException e)
        {
            WriteError(ToErrorRecord(e));
            return;
        }

        RemoteHost.Prepare(hosts, local, TimeSpan.FromSeconds(60), Cancellation, import: false);
        foreach (var host in hosts)
        {
            try
            {
                Copy(host, local, folder);
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
        }
    }

    private void Copy(RemoteHost host, ModuleBuild local, string folder)
    {
        var computer = host.ComputerName;
        if (host.Error?.ErrorId == HermesErrorIds.HostUnreachable)
        {
            throw host.Error;
        }

        // This build already on the host's module path: nothing to copy. (A session that has another build loaded
        // cannot use it until it is opened again; that is said, not hidden.)
        var loadedOther = host.Found.Any(m => m.Loaded) && !host.Usable;
        // (One others can write to is no copy of this build: it is not used, so a copy is due.)
        if (host.Found.FirstOrDefault(m => !m.Loaded && !m.OthersCanWrite && m.Version == local.Version && local.SameFiles(m.Hashes)) is { } present)
        {
            WarnLoaded(loadedOther, computer);
            WriteObject(new ModuleCopyResult(computer, local.Version, present.ModuleBase, ModuleCopyOutcome.Present, null));
            return;
        }

        var place = Run(host, PlaceScript, Scope, local.Version);
        var target = place.Properties["Target"].Value.ToString()!;
        var partial = place.Properties["Partial"].Value.ToString()!;
        var exists = place.Properties["Exists"].Value is true;
        try
        {
            if (exists && !Force)
            {
                throw new HermesException(HermesErrorIds.ModuleVersionMismatch, HermesErrorCategory.InvalidOperation,
                    $"{computer}: {target} holds another build of HermesGateway {local.Version}; nothing was copied. -Force replaces it (the old folder is kept beside it as a backup).", computer);
            }

            if (!ShouldProcess($"{computer}: {target}", $"Copy HermesGateway {local.Version} from {folder}"))
            {
                partial = string.Empty; // nothing was made
                return;
            }

            Run(host, MakeScript, partial);

            using (var copy = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                copy.AddCommand(@"Microsoft.PowerShell.Management\Copy-Item")
                    .AddParameter("Path", Path.Combine(WildcardPattern.Escape(folder), "*"))
                    .AddParameter("Destination", partial)
                    .AddParameter("Recurse")
                    .AddParameter("ToSession", host.Session)
                    .AddParameter("ErrorAction", ActionPreference.Stop);
                try
                {
                    copy.Invoke();
                }
                catch (RuntimeException e)
                {
                    throw new HermesException(HermesErrorIds.FileWriteFailed, HermesErrorCategory.InvalidOperation,
                        $"{computer}: copying the module to {partial} failed: {e.Message}; nothing was installed.", computer, e);
                }
            }

            var hashes = new Hashtable(StringComparer.Ordinal);
            foreach (var (file, hash) in local.Hashes)
            {
                hashes[file] = hash;
            }

            var backup = Run(host, FinishScript, partial, target, hashes, exists)?.BaseObject as string;
            partial = string.Empty;
            WarnLoaded(loadedOther, computer);
            WriteObject(new ModuleCopyResult(computer, local.Version, target, exists ? ModuleCopyOutcome.Replaced : ModuleCopyOutcome.Copied, backup));
        }
        finally
        {
            if (partial.Length > 0)
            {
                host.Command(CleanScript, TimeSpan.FromSeconds(60), Cancellation, partial);
            }
        }
    }

    private void WarnLoaded(bool loadedOther, string computer)
    {
        if (loadedOther)
        {
            WriteWarning($"{computer}: this session has another build of HermesGateway loaded; it keeps running that one. Open a new session to use this build there.");
        }
    }

    private PSObject Run(RemoteHost host, string script, params object[] arguments)
    {
        var answer = host.Command(script, TimeSpan.FromSeconds(120), Cancellation, arguments);
        if (answer.Failure is not null || answer.Errors.Count > 0)
        {
            var why = answer.Failure?.Message ?? answer.Errors[0].ToString();
            throw answer.ConnectionLost
                ? RemoteHost.Unreachable(host, why)
                : new HermesException(HermesErrorIds.FileWriteFailed, HermesErrorCategory.InvalidOperation, $"{host.ComputerName}: {why}", host.ComputerName, answer.Failure);
        }

        return answer.Output.Count > 0 ? answer.Output[0] : new PSObject();
    }
}
