namespace HermesGateway.Core.Tests.Platform;

/// <summary>
/// The machine's process table on Linux (procfs) and macOS (proc_pidinfo): the parent chain is what tells a restart
/// asked from inside the gateway's own tree, so it must work on both.
/// </summary>
public sealed class ProcessTableTests
{
    [Fact]
    public void A_childs_parent_is_this_process_and_a_reaped_child_is_gone()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            var table = LocalProcessTable.Instance;
            Assert.True(table.IsAlive(child.Id));
            Assert.Equal(Environment.ProcessId, table.ParentPid(child.Id));
            Assert.True(ProcessTable.IsSelfOrAncestor(table, Environment.ProcessId, child.Id));
            Assert.False(ProcessTable.IsSelfOrAncestor(table, child.Id, Environment.ProcessId));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }

        Assert.False(LocalProcessTable.Instance.IsAlive(child.Id));
        Assert.Null(LocalProcessTable.Instance.ParentPid(child.Id));
    }

    [Fact]
    public void The_start_time_is_the_one_the_gateway_records_for_itself()
    {
        var mine = LocalProcessTable.Instance.StartTime(Environment.ProcessId);
        if (OperatingSystem.IsLinux())
        {
            // /proc/<pid>/stat field 22, as the gateway writes it into gateway.pid and checks in its markers.
            Assert.NotNull(mine);
            Assert.Equal(Core.Platform.ProcessStartTime.Parse(File.ReadAllText($"/proc/{Environment.ProcessId}/stat")), mine);
        }
        else
        {
            // The gateway records none where there is no procfs; a value here would make its markers never match.
            Assert.Null(mine);
        }
    }
}
