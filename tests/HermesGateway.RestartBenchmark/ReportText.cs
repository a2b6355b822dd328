using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace HermesGateway.RestartBenchmark;

/// <summary>What the stub's report (<see cref="Report"/>) and the real gateway's (<see cref="RealReport"/>) write alike.</summary>
internal static class ReportText
{
    /// <summary>Seconds as milliseconds: one decimal below 100 ms, none above; "–" for a value that was not measured.</summary>
    public static string Ms(double seconds) =>
        double.IsNaN(seconds) ? "–" : (seconds * 1000).ToString(Math.Abs(seconds) < 0.1 ? "0.0" : "0", CultureInfo.InvariantCulture);

    /// <summary>
    /// A report's first lines: what was run (<paramref name="title"/>), the machine it ran on and what one
    /// <c>systemctl --user show</c> into the sandbox costs, how to read the times (<paramref name="legend"/>), a blank line.
    /// </summary>
    public static void AppendOpening(StringBuilder o, string title, double showCost, string legend)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        o.AppendLine(title);
        o.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores{(cpu is null ? string.Empty : ", " + cpu)}; {RuntimeInformation.OSDescription}. One 'systemctl --user show' into the sandbox (nsenter) costs {Ms(showCost)} ms (median).");
        o.AppendLine(legend);
        o.AppendLine();
    }

    /// <summary>A Markdown table's head: the column titles, then the row that makes them one.</summary>
    public static void AppendTableHead(StringBuilder o, params string[] columns)
    {
        o.AppendLine("| " + string.Join(" | ", columns) + " |");
        o.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", columns.Length)));
    }
}
