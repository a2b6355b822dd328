using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Policy;

/// <summary>What one timeline item does.</summary>
public enum TimelineEventKind
{
    /// <summary>'exit CODE': the main process exits by itself.</summary>
    Exit,

    /// <summary>'signal SIG': kill -SIG from outside; the process reacts as its signal reaction says.</summary>
    Signal,

    /// <summary>'kill SIG': systemctl kill --kill-whom=main -s SIG.</summary>
    Kill,

    /// <summary>'oom': the kernel's OOM killer.</summary>
    Oom,

    /// <summary>'stop': systemctl stop.</summary>
    Stop,

    /// <summary>'start': systemctl start.</summary>
    Start,

    /// <summary>'restart': systemctl restart.</summary>
    Restart,

    /// <summary>'is-active': systemctl is-active.</summary>
    IsActive,
}

/// <summary>One parsed timeline item: when (from the first start, t = 0), what, and its argument.</summary>
public sealed record TimelineItem(TimeSpan At, TimelineEventKind Kind, int? ExitCode, UnixSignal? Signal, string Text);

/// <summary>A timeline to play against one unit, and what the process does besides the events.</summary>
/// <param name="Items">the timeline, one "&lt;time&gt; &lt;event&gt; [argument]" a string</param>
/// <param name="Reaction">how the process reacts to signals</param>
/// <param name="ReactionExitCode">the code the Exit reaction's handler exits with</param>
/// <param name="SendsReady">it sends READY=1 at once (Type=notify)</param>
/// <param name="PingsWatchdog">it sends WATCHDOG=1 in time (WatchdogSec=)</param>
/// <param name="ExecFailure">every start fails before exec with this status (200–245)</param>
public sealed record SupervisorTimelineRequest(
    IReadOnlyList<string> Items,
    SignalReaction Reaction = SignalReaction.Gateway,
    int? ReactionExitCode = null,
    bool SendsReady = false,
    bool PingsWatchdog = false,
    int? ExecFailure = null)
{
    /// <summary>The lowest status systemd gives a start that fails before exec (200/CHDIR...).</summary>
    public const int MinExecFailure = 200;

    /// <summary>The highest such status this module knows.</summary>
    public const int MaxExecFailure = 245;
}

/// <summary>
/// One step of a played timeline (Test-HermesExitPolicy -Timeline): an event, posed or the supervisor's own, and where the
/// service stands right after it.
/// </summary>
/// <param name="Name">the unit's name</param>
/// <param name="Path">the file it was read from</param>
/// <param name="Platform">its supervisor</param>
/// <param name="At">when it happened, from the first start</param>
/// <param name="Event">what happened</param>
/// <param name="Posed">the timeline posed it (false: a timer of the supervisor's or the process' own end)</param>
/// <param name="Ending">how the main process ended in this step, if it did</param>
/// <param name="Started">a run of the process started in this step</param>
/// <param name="RestartDue">when a pending automatic restart fires</param>
/// <param name="State">the state right after the step, e.g. "active (running)"</param>
/// <param name="Result">the Result= the supervisor reports right after the step</param>
/// <param name="ExecMainCode">and ExecMainCode= (1 exited, 2 killed, 3 dumped; 0 while no run has ended)</param>
/// <param name="ExecMainStatus">and ExecMainStatus= (the exit code or the signal's number)</param>
/// <param name="NRestarts">and NRestarts=</param>
/// <param name="IsActive">what 'systemctl is-active' prints right after the step</param>
/// <param name="IsActiveExitCode">and its exit status</param>
/// <param name="CommandExitCode">the exit status of the command the step stands for (null for events that are no command, or whose job has not ended)</param>
/// <param name="Rule">the rule that decided the step</param>
/// <param name="Explanation">why, in words</param>
/// <param name="Unverified">what in the answer is not proven against the supervisor</param>
public sealed record SupervisorStep(
    string Name,
    string Path,
    ServicePlatform Platform,
    TimeSpan At,
    string Event,
    bool Posed,
    string? Ending,
    bool Started,
    TimeSpan? RestartDue,
    string State,
    string Result,
    int? ExecMainCode,
    int? ExecMainStatus,
    int? NRestarts,
    string? IsActive,
    int? IsActiveExitCode,
    int? CommandExitCode,
    string Rule,
    string Explanation,
    string? Unverified);
