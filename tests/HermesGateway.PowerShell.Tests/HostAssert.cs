using System.Management.Automation;
using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>The checks the suites share: an ErrorRecord as the module promises it, and progress a host can close.</summary>
public static class HostAssert
{
    /// <summary>The stable id leads the FullyQualifiedErrorId (PowerShell appends the command), with this category and target.</summary>
    public static void HermesError(ErrorRecord error, string id, ErrorCategory category, object? target)
    {
        Assert.StartsWith(id + ",", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(category, error.CategoryInfo.Category);
        Assert.Equal(target, error.TargetObject is PSObject p ? p.BaseObject : error.TargetObject);
    }

    /// <summary>
    /// Every activity the host was shown is closed: each record of RecordType Completed closes the activity of its id,
    /// and none is left open at the end. Returns how many activities there were.
    /// </summary>
    public static int EveryActivityCompleted(IReadOnlyList<ProgressRecord> records)
    {
        var open = new Dictionary<int, ProgressRecord>();
        var activities = 0;
        foreach (var r in records)
        {
            if (r.RecordType == ProgressRecordType.Completed)
            {
                open.Remove(r.ActivityId);
            }
            else if (open.TryAdd(r.ActivityId, r))
            {
                activities++;
            }
        }

        Assert.True(open.Count == 0, $"Progress left open on the host: {string.Join("; ", open.Values.Select(r => $"{r.Activity} ({r.StatusDescription})"))}.");
        return activities;
    }

    /// <summary>The lines the host was given that start with "What if: ".</summary>
    public static IReadOnlyList<string> WhatIfLines(RecordingHost host) =>
        [.. host.Recorded.Writes.Where(w => w.Text.StartsWith("What if: ", StringComparison.Ordinal)).Select(w => w.Text)];
}
