using System.Collections.ObjectModel;
using System.Management.Automation;
using HermesGateway.Core.Errors;

namespace HermesGateway.Commands;

/// <summary>What every HermesGateway cmdlet shares: turning engine errors into ErrorRecords with stable ids.</summary>
public abstract class HermesCmdlet : PSCmdlet
{
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
                    resolved = [SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _)];
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
