using System.Collections.ObjectModel;
using System.Management.Automation;
using HermesGateway.Core.Engine;
using HermesGateway.Core.Errors;

namespace HermesGateway.Commands;

/// <summary>
/// What every HermesGateway cmdlet shares: the engine for this machine, built once per call; a host for it with Ctrl+C
/// wired to cancellation; and engine errors turned into ErrorRecords with stable ids.
/// </summary>
public abstract class HermesCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private GatewayEngine? engine;
    private CmdletEngineHost? host;

    /// <summary>The engine for this machine (the one composition of runner, environment, process table and clock).</summary>
    internal GatewayEngine Engine => engine ??= GatewayEngine.ForThisMachine();

    /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing).</summary>
    internal CancellationToken Cancellation => stopping.Token;

    /// <summary>The engine's view of this cmdlet: ShouldProcess, the streams, progress, Ctrl+C, the engine's clock.</summary>
    internal CmdletEngineHost EngineHost => host ??= new CmdletEngineHost(this, Engine.Clock, stopping.Token);

    protected override void StopProcessing() => stopping.Cancel();

    public void Dispose()
    {
        stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    internal static ErrorRecord ToErrorRecord(HermesException e) =>
        new(e, e.ErrorId, e.Category switch
        {
            HermesErrorCategory.InvalidArgument => ErrorCategory.InvalidArgument,
            HermesErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
            HermesErrorCategory.ReadError => ErrorCategory.ReadError,
            HermesErrorCategory.InvalidData => ErrorCategory.InvalidData,
            HermesErrorCategory.NotImplemented => ErrorCategory.NotImplemented,
            HermesErrorCategory.PermissionDenied => ErrorCategory.PermissionDenied,
            HermesErrorCategory.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
            HermesErrorCategory.OperationTimeout => ErrorCategory.OperationTimeout,
            _ => ErrorCategory.InvalidOperation,
        }, e.Target);

    private static readonly string[] CanaryGateParameters = ["CanaryWait", "CanaryConfirm"];

    /// <summary>
    /// The error for a rollout parameter (-MaxUnavailable, -Canary, ...) given without -Session, or a canary-gate
    /// parameter without -Canary; null when all is well.
    /// </summary>
    internal static HermesException? FleetParameterWithoutSession(PSCmdlet cmdlet)
    {
        var bound = cmdlet.MyInvocation.BoundParameters;
        var given = Fleet.Fleet.FleetOnly.Where(p => p != "Session" && bound.ContainsKey(p)).ToList();
        if (given.Count > 0 && !bound.ContainsKey("Session"))
        {
            return new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-{string.Join(", -", given)} shape a rollout over hosts and need -Session; nothing was done.", given[0]);
        }

        var canaryOnly = CanaryGateParameters.Where(bound.ContainsKey).ToList();
        return canaryOnly.Count > 0 && !(bound.TryGetValue("Canary", out var n) && n is int canary && canary > 0)
            ? new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-{string.Join(" and -", canaryOnly)} shape the canary gate and need -Canary 1 or more; nothing was done.", canaryOnly[0])
            : null;
    }

    /// <summary>
    /// One rollout at a time from this account on this computer: a second one (another window, a second runbook) waits
    /// for the first. Rollouts from other accounts or computers are not serialized by it; each rollout's fresh read of
    /// every host before it takes one down narrows that race (a gateway found down counts), but cannot close it.
    /// </summary>
    internal IDisposable FleetLock()
    {
        var folder = Core.Service.RestartLock.Directory(Engine.Environment);
        try
        {
            return Core.Service.RestartLock.Acquire(folder, "fleet-rollout", TimeSpan.Zero, Cancellation, out _);
        }
        catch (HermesException e) when (e.ErrorId == HermesErrorIds.RestartInProgress)
        {
            WriteWarning($"Another rollout from this account is running (it holds {Path.Combine(folder, "fleet-rollout.restart.lock")}); this one waits for it to end.");
            return Core.Service.RestartLock.Acquire(folder, "fleet-rollout", TimeSpan.FromHours(6), Cancellation, out _);
        }
    }

    /// <summary>A character no path given to the module contains, standing in for '\' while PowerShell resolves a path.</summary>
    private const char BackslashStandIn = '\uE000';

    /// <summary>
    /// A file-system path as given, made absolute against the current location ('~', '.', '..' and drives such as
    /// TestDrive: resolved), with every backslash kept. PowerShell's provider takes '\' for a directory separator and
    /// rewrites it to '/', but on Unix a backslash is a character of a file name like any other: a HERMES_HOME of
    /// '/srv/a\b' is one directory, not two. Only the separator of a drive-qualified path ('TestDrive:\x') is one.
    /// </summary>
    internal string ResolveLiteralPath(string path)
    {
        if (OperatingSystem.IsWindows() || !path.Contains('\\', StringComparison.Ordinal) || path.Contains(BackslashStandIn, StringComparison.Ordinal))
        {
            return SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        }

        // A provider-qualified path (a PSPath, 'Microsoft.PowerShell.Core\FileSystem::/srv/x') names its provider with a
        // backslash; the path proper starts after '::'.
        var qualifier = path.IndexOf("::", StringComparison.Ordinal);
        var start = qualifier < 0 ? 0 : qualifier + 2;
        var colon = path.IndexOf(':', start);
        var drive = colon > start ? path[start..colon] : string.Empty;
        var driveSeparator = qualifier < 0 && drive.Length > 0 && colon + 1 < path.Length && path[colon + 1] == '\\' && drive.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            && SessionState.Drive.GetAll().Any(d => string.Equals(d.Name, drive, StringComparison.OrdinalIgnoreCase))
            ? colon + 1
            : -1;
        var chars = path.ToCharArray();
        for (var i = start; i < chars.Length; i++)
        {
            if (chars[i] == '\\' && i != driveSeparator)
            {
                chars[i] = BackslashStandIn;
            }
        }

        return SessionState.Path.GetUnresolvedProviderPathFromPSPath(new string(chars)).Replace(BackslashStandIn, '\\');
    }

    /// <summary>
    /// Resolves -Path (wildcards allowed) or -LiteralPath (taken as written) to file-system paths; a path that
    /// matches nothing is an error for that item.
    /// </summary>
    internal IEnumerable<string> ResolvePaths(IEnumerable<string> paths, bool literal)
    {
        foreach (var path in paths)
        {
            Collection<string> resolved;
            try
            {
                ProviderInfo provider;
                if (literal)
                {
                    _ = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
                    resolved = [provider.Name == "FileSystem" ? ResolveLiteralPath(path) : path];
                }
                else
                {
                    resolved = GetResolvedProviderPathFromPSPath(path, out provider);
                }

                if (provider.Name != "FileSystem")
                {
                    WriteError(ToErrorRecord(new HermesException(HermesErrorIds.PathNotFound, HermesErrorCategory.InvalidArgument,
                        $"'{path}' is not a file-system path.", path)));
                    continue;
                }
            }
            catch (ItemNotFoundException)
            {
                resolved = [];
            }

            if (resolved.Count == 0)
            {
                WriteError(ToErrorRecord(new HermesException(HermesErrorIds.PathNotFound, HermesErrorCategory.ObjectNotFound,
                    $"'{path}' does not exist.", path)));
                continue;
            }

            foreach (var r in resolved)
            {
                yield return r;
            }
        }
    }
}
