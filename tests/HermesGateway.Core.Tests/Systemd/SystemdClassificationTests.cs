namespace HermesGateway.Core.Tests.Systemd;

/// <summary>docs/models.md §1.1: how an ending is classified (Result=, ExecMainCode=, ExecMainStatus=).</summary>
public sealed class SystemdClassificationTests
{
    [Theory]
    // exit(0) is always clean.
    [InlineData("simple", "", "exit 0", ServiceResult.Success, 1, 0)]
    [InlineData("oneshot", "", "exit 0", ServiceResult.Success, 1, 0)]
    // exit(N): clean only if listed in SuccessExitStatus=.
    [InlineData("simple", "75", "exit 75", ServiceResult.Success, 1, 75)]
    [InlineData("simple", "TEMPFAIL", "exit 75", ServiceResult.Success, 1, 75)]
    [InlineData("simple", "", "exit 75", ServiceResult.ExitCode, 1, 75)]
    [InlineData("simple", "75", "exit 1", ServiceResult.ExitCode, 1, 1)]
    [InlineData("simple", "", "exit 255", ServiceResult.ExitCode, 1, 255)]
    [InlineData("oneshot", "3", "exit 3", ServiceResult.Success, 1, 3)]
    [InlineData("oneshot", "", "exit 3", ServiceResult.ExitCode, 1, 3)]
    // SIGHUP/SIGINT/SIGTERM/SIGPIPE are clean for every type but oneshot ("daemon" vs "command" clean mode).
    [InlineData("simple", "", "kill SIGHUP", ServiceResult.Success, 2, 1)]
    [InlineData("simple", "", "kill SIGINT", ServiceResult.Success, 2, 2)]
    [InlineData("simple", "", "kill SIGTERM", ServiceResult.Success, 2, 15)]
    [InlineData("simple", "", "kill SIGPIPE", ServiceResult.Success, 2, 13)]
    [InlineData("exec", "", "kill SIGTERM", ServiceResult.Success, 2, 15)]
    [InlineData("notify", "", "kill SIGINT", ServiceResult.Success, 2, 2)]
    [InlineData("forking", "", "kill SIGHUP", ServiceResult.Success, 2, 1)]
    [InlineData("oneshot", "", "kill SIGHUP", ServiceResult.Signal, 2, 1)]
    [InlineData("oneshot", "", "kill SIGINT", ServiceResult.Signal, 2, 2)]
    [InlineData("oneshot", "", "kill SIGTERM", ServiceResult.Signal, 2, 15)]
    [InlineData("oneshot", "", "kill SIGPIPE", ServiceResult.Signal, 2, 13)]
    // A signal listed in SuccessExitStatus= is clean, for oneshot too.
    [InlineData("simple", "SIGUSR1", "kill SIGUSR1", ServiceResult.Success, 2, 10)]
    [InlineData("simple", "USR1", "kill SIGUSR1", ServiceResult.Success, 2, 10)]
    [InlineData("simple", "SIGKILL", "kill SIGKILL", ServiceResult.Success, 2, 9)]
    [InlineData("oneshot", "SIGTERM", "kill SIGTERM", ServiceResult.Success, 2, 15)]
    // Any other signal is Result=signal.
    [InlineData("simple", "", "kill SIGKILL", ServiceResult.Signal, 2, 9)]
    [InlineData("simple", "", "kill SIGUSR1", ServiceResult.Signal, 2, 10)]
    [InlineData("simple", "", "kill SIGSEGV", ServiceResult.Signal, 2, 11)]
    [InlineData("simple", "", "kill SIGABRT", ServiceResult.Signal, 2, 6)]
    [InlineData("simple", "SIGUSR2", "kill SIGUSR1", ServiceResult.Signal, 2, 10)]
    [InlineData("oneshot", "15", "kill SIGTERM", ServiceResult.Signal, 2, 15)]
    // A core dump is never clean, even when the signal is listed.
    [InlineData("simple", "", "core SIGSEGV", ServiceResult.CoreDump, 3, 11)]
    [InlineData("simple", "SIGSEGV", "core SIGSEGV", ServiceResult.CoreDump, 3, 11)]
    [InlineData("simple", "SIGABRT", "core SIGABRT", ServiceResult.CoreDump, 3, 6)]
    [InlineData("oneshot", "SIGQUIT", "core SIGQUIT", ServiceResult.CoreDump, 3, 3)]
    // 143 = 128+SIGTERM is an exit code, not a signal.
    [InlineData("simple", "", "exit 143", ServiceResult.ExitCode, 1, 143)]
    [InlineData("simple", "SIGTERM", "exit 143", ServiceResult.ExitCode, 1, 143)]
    [InlineData("simple", "143", "exit 143", ServiceResult.Success, 1, 143)]
    [InlineData("simple", "143", "kill SIGUSR1", ServiceResult.Signal, 2, 10)]
    public void Ending_is_classified_as_the_spec_table_says(string type, string successExitStatus, string ending, ServiceResult result, int execMainCode, int execMainStatus)
    {
        var model = Units.Model($"Type={type}", $"SuccessExitStatus={successExitStatus}");
        var e = Endings.Parse(ending);

        Assert.Equal(result, model.Classify(e).Result);
        Assert.Equal((ExecMainCode)execMainCode, SystemdModel.CodeOf(e));
        Assert.Equal(execMainStatus, SystemdModel.StatusOf(e));
    }

    [Theory]
    [InlineData("exit 0", ServiceResult.Success, "inactive", "dead", 1, 0)]
    [InlineData("exit 1", ServiceResult.ExitCode, "failed", "failed", 1, 1)]
    [InlineData("kill SIGTERM", ServiceResult.Success, "inactive", "dead", 2, 15)]
    [InlineData("kill SIGKILL", ServiceResult.Signal, "failed", "failed", 2, 9)]
    [InlineData("core SIGSEGV", ServiceResult.CoreDump, "failed", "failed", 3, 11)]
    [InlineData("exit 143", ServiceResult.ExitCode, "failed", "failed", 1, 143)]
    public void Main_process_ending_under_Restart_no_reports_result_and_exec_main_fields(string ending, ServiceResult result, string active, string sub, int code, int status)
    {
        var model = Units.Model("Restart=no");
        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(Endings.Parse(ending)), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.False(o.Revived);
        Assert.Equal(result, o.Result);
        Assert.Equal((ExecMainCode)code, o.ExecMainCode);
        Assert.Equal(status, o.ExecMainStatus);
        Assert.Equal(result, o.Final.Result);
        Assert.Equal((ExecMainCode)code, o.Final.ExecMainCode);
        Assert.Equal(status, o.Final.ExecMainStatus);
        Assert.Equal(active, o.Final.ActiveState);
        Assert.Equal(sub, o.Final.SubState);
    }

    [Theory]
    [InlineData("exit 1", 1, 1)]
    [InlineData("exit 78", 1, 78)]
    [InlineData("kill SIGKILL", 2, 9)]
    [InlineData("kill SIGUSR1", 2, 10)]
    [InlineData("core SIGSEGV", 3, 11)]
    public void ExecStart_dash_prefix_forces_success_but_keeps_exec_main_fields(string ending, int code, int status)
    {
        var unit = Units.Text("[Service]\nExecStart=-/bin/true\nRestart=on-failure\n");
        Assert.True(unit.Settings.ExecStartIgnoresFailure);
        var model = new SystemdModel(unit);
        var o = model.Apply(model.StartedByHand(TimeSpan.Zero), new MainProcessEnded(Endings.Parse(ending)), DefaultSignalBehavior.Instance, TimeSpan.FromMinutes(1));

        Assert.Equal(ServiceResult.Success, o.Result);
        Assert.Equal((ExecMainCode)code, o.ExecMainCode);
        Assert.Equal(status, o.ExecMainStatus);
        Assert.False(o.Revived);
        Assert.Equal("inactive", o.Final.ActiveState);
    }

    [Fact]
    public void Without_the_dash_prefix_the_same_exit_fails()
    {
        var unit = Units.Text("[Service]\nExecStart=/bin/true\n");
        Assert.False(unit.Settings.ExecStartIgnoresFailure);
        Assert.Equal(ServiceResult.ExitCode, new SystemdModel(unit).Classify(ProcessEnding.Exit(1)).Result);
    }

    [Theory]
    [InlineData(UnixSignal.SIGHUP, true)]
    [InlineData(UnixSignal.SIGINT, true)]
    [InlineData(UnixSignal.SIGTERM, true)]
    [InlineData(UnixSignal.SIGPIPE, true)]
    [InlineData(UnixSignal.SIGQUIT, false)]
    [InlineData(UnixSignal.SIGUSR1, false)]
    [InlineData(UnixSignal.SIGUSR2, false)]
    [InlineData(UnixSignal.SIGALRM, false)]
    [InlineData(UnixSignal.SIGKILL, false)]
    [InlineData(UnixSignal.SIGBUS, false)]
    public void Only_the_four_daemon_signals_are_clean_without_a_list(UnixSignal signal, bool clean)
    {
        var model = Units.Model();
        Assert.Equal(clean ? ServiceResult.Success : ServiceResult.Signal, model.Classify(ProcessEnding.KilledBy(signal)).Result);
    }
}
