using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Policy;

/// <summary>The answer for one scenario: what happens, and whether that is what was meant.</summary>
public sealed record ScenarioVerdict(
    string Name,
    string Path,
    ServicePlatform Platform,
    LifecycleScenario Scenario,
    string Trigger,
    string Gateway,
    string Supervisor,
    bool Revived,
    TimeSpan? Delay,
    string FinalState,
    string Result,
    ScenarioIntent Intent,
    string IntentText,
    bool Ok,
    string Why,
    string? Fix,
    string? Unverified,
    bool Applicable = true);

/// <summary>
/// The supervisor's answer to one raw event (Test-HermesExitPolicy -Event). <see cref="Children"/> says what becomes
/// of the processes the main process started, where the model answers it (launchd: docs/models.md §2.8); null otherwise.
/// </summary>
/// <remarks>
/// For a manager restart, Result, ExecMainCode, ExecMainStatus and NRestarts describe the new run (what 'systemctl show'
/// says after the restart); the stop half's are in StopResult, StopExecMainCode and StopExecMainStatus, and its ending in
/// Ending. Those three are null for every other event.
/// </remarks>
public sealed record SupervisorOutcome(
    string Name,
    string Path,
    ServicePlatform Platform,
    string Event,
    string Ending,
    bool Revived,
    TimeSpan? Delay,
    string FinalState,
    string Result,
    string Rule,
    string Explanation,
    string? Unverified,
    int? NRestarts,
    int? ExecMainCode,
    int? ExecMainStatus,
    string? Children = null,
    string? StopResult = null,
    int? StopExecMainCode = null,
    int? StopExecMainStatus = null);

/// <summary>A raw event to put to the supervisor model.</summary>
public enum SupervisorEventKind
{
    /// <summary>The process exits with a code.</summary>
    Exit,

    /// <summary>The process is sent a signal from outside (kill -SIG).</summary>
    Signal,

    /// <summary>systemctl stop / launchctl bootout.</summary>
    ManagerStop,

    /// <summary>systemctl restart / launchctl kickstart -k.</summary>
    ManagerRestart,

    /// <summary>The kernel's OOM killer.</summary>
    OomKill,
}

/// <summary>A raw event to put to the supervisor model, and how the process reacts to the signals it brings.</summary>
/// <param name="Kind">the event</param>
/// <param name="ExitCode">the code of an Exit event</param>
/// <param name="Signal">the signal of a Signal event</param>
/// <param name="RunTime">how long the process has run when the event comes</param>
/// <param name="Reaction">how the process reacts to signals (the gateway's contract by default)</param>
/// <param name="ReactionExitCode">the code the Exit reaction's handler exits with</param>
public sealed record SupervisorEventRequest(
    SupervisorEventKind Kind,
    int? ExitCode = null,
    string? Signal = null,
    TimeSpan? RunTime = null,
    SignalReaction Reaction = SignalReaction.Gateway,
    int? ReactionExitCode = null)
{
    /// <summary>The process behaviour the reaction stands for, given the gateway's contract.</summary>
    public IProcessBehavior Behavior(GatewayExitContract contract) => SignalReactions.Behavior(Reaction, contract, ReactionExitCode);
}

/// <summary>
/// Test-HermesExitPolicy's answer for one of several inputs: which file (or definition) it was, whether every selected
/// scenario meets its intent, and the names of those that do not.
/// </summary>
public sealed record ExitPolicyTestResult(string Name, string Path, ServicePlatform Platform, bool Ok, int Passed, int Total, IReadOnlyList<string> Failed)
{
    /// <summary>The Path of a result, verdict or outcome judged from a definition rather than a file.</summary>
    public const string DefinitionPath = "(definition)";

    public static ExitPolicyTestResult From(string name, string path, ServicePlatform platform, IReadOnlyList<ScenarioVerdict> verdicts) =>
        new(name, path, platform, verdicts.All(v => v.Ok), verdicts.Count(v => v.Ok), verdicts.Count, [.. verdicts.Where(v => !v.Ok).Select(v => v.Scenario.ToString())]);
}
