using System.Text;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Service;

/// <summary>
/// A launchd job's log: the plist's StandardOutPath and StandardErrorPath files. Their lines carry no time and no
/// PID, so Time and Pid are null; Level is Information for standard output and unknown (null) for standard error,
/// which is not necessarily an error; Stream says which file a line came from. -Since keeps a file only if it was
/// written since then (its mtime). Files are read without following a link in their last component (a job's log
/// in another account's folder is never a way to make root read elsewhere); -Follow looks at them again every poll
/// interval and starts a file over when it shrank (rotated or truncated).
/// </summary>
public sealed class LaunchdGatewayLog(TimeSpan pollInterval) : IGatewayLogSource
{
    public IEnumerable<HermesGatewayLogEntry> Read(ServiceIdentity service, GatewayLogRequest request, CancellationToken cancellation)
    {
        var format = ServiceFormats.For(service.Platform);
        var definition = format.ToDefinition(format.ReadFile(service.Path, Policy.EvaluationOptions.DefaultSystemdVersion), null);
        var files = Files(definition.StandardOutPath, definition.StandardErrorPath);
        if (files.Count == 0)
        {
            throw new HermesException(HermesErrorIds.LogUnavailable, HermesErrorCategory.ObjectNotFound,
                $"{service.Path} sets neither StandardOutPath nor StandardErrorPath: launchd keeps no log of {service.Name}.", service.Name);
        }

        var offsets = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (path, stream) in files)
        {
            var bytes = AtomicFile.ReadRegular(path);
            var consumed = 0;
            var lines = bytes is null ? [] : Lines(bytes, 0, bytes.Length, out consumed);
            if (bytes is not null && consumed < bytes.Length && !request.Follow)
            {
                lines.Add(Encoding.UTF8.GetString(bytes, consumed, bytes.Length - consumed));
            }

            // Followed, a last line still without its newline is read once it is complete.
            offsets[path] = bytes is null ? 0 : consumed;
            if (bytes is null || (request.Since is { } since && File.GetLastWriteTimeUtc(path) < since.UtcDateTime))
            {
                continue;
            }

            foreach (var line in request.Tail is { } n ? lines.TakeLast(n) : lines)
            {
                yield return Entry(service.Name, line, stream);
            }
        }

        while (request.Follow)
        {
            // Not the token's WaitHandle: its source may be disposed by a caller that gave up.
            var until = DateTime.UtcNow + pollInterval;
            while (DateTime.UtcNow < until)
            {
                cancellation.ThrowIfCancellationRequested();
                Thread.Sleep(20);
            }

            foreach (var (path, stream) in files)
            {
                var bytes = AtomicFile.ReadRegular(path);
                if (bytes is null)
                {
                    continue;
                }

                var from = bytes.Length < offsets[path] ? 0 : offsets[path];
                var fresh = Lines(bytes, from, bytes.Length, out var used);
                foreach (var line in fresh)
                {
                    yield return Entry(service.Name, line, stream);
                }

                // A last line without its newline yet is read when it is complete.
                offsets[path] = from + used;
            }
        }
    }

    private static List<(string Path, string Stream)> Files(string? stdout, string? stderr)
    {
        if (stdout is not null && stdout == stderr)
        {
            return [(stdout, "stdout, stderr")];
        }

        var files = new List<(string, string)>();
        if (stdout is not null)
        {
            files.Add((stdout, "stdout"));
        }

        if (stderr is not null)
        {
            files.Add((stderr, "stderr"));
        }

        return files;
    }

    private static HermesGatewayLogEntry Entry(string service, string line, string stream) =>
        new(null, service, null, stream == "stdout" ? GatewayLogLevel.Information : null, line) { Stream = stream };

    /// <summary>The complete lines in bytes[from..to) (UTF-8, invalid bytes as U+FFFD); <paramref name="consumed"/>: the bytes they take up.</summary>
    internal static List<string> Lines(byte[] bytes, int from, int to, out int consumed)
    {
        var lines = new List<string>();
        var start = from;
        for (var i = from; i < to; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                lines.Add(Encoding.UTF8.GetString(bytes, start, i - start).TrimEnd('\r'));
                start = i + 1;
            }
        }

        consumed = start - from;
        return lines;
    }
}
