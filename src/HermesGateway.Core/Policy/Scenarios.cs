
namespace HermesGateway.Core.Policy;

/// <summary>The lifecycle events every unit and plist is judged against.</summary>
public enum LifecycleScenario
{
    ServiceRestart,
    RestartCommand,
    UpdateCommand,
    RestartFromInside,
    RestartBurst,
    ManagerRestart,
    ManagerStop,
    CleanExit,
    ExternalTerm,
    ExternalKill,
    OomKill,
    Crash,
    ConfigError,
    CrashLoop,
    OnDemandOnlyRestart,
}

/// <summary>What ought to happen.</summary>
public enum ScenarioIntent
{
    /// <summary>Back at once (within the revival limit), and not recorded as a failure.</summary>
    ReviveNow,

    /// <summary>Running afterwards, with the drain completed.</summary>
    RunningAfter,

    /// <summary>Stays stopped, not failed, with the drain completed.</summary>
    StayStoppedNotFailed,

    /// <summary>An unexpected death: revived, and recorded as a failure so alerting sees it.</summary>
    ReviveAndRecordFailure,

    /// <summary>Not revived (it would loop forever), and left visibly failed.</summary>
    DoNotRevive,

    /// <summary>Keeps being revived, with a delay between attempts, and never abandoned.</summary>
    BackOffWithoutGivingUp,
}

/// <summary>A lifecycle scenario, what it means for the gateway, and under which supervisors the situation exists (Systemd, Launchd).</summary>
public sealed record ScenarioDefinition(LifecycleScenario Scenario, string Trigger, ScenarioIntent Intent, string IntentText, bool Systemd, bool Launchd);

public static class ScenarioCatalog
{
    public static IReadOnlyList<ScenarioDefinition> All { get; } =
    [
        new(LifecycleScenario.ServiceRestart, "graceful restart by the restart signal (systemctl reload, kill -USR1, Restart-HermesGateway)", ScenarioIntent.ReviveNow, "revive now; not a failure", true, true),
        new(LifecycleScenario.RestartCommand, "/restart from chat while supervised", ScenarioIntent.ReviveNow, "revive now; not a failure", true, true),
        new(LifecycleScenario.UpdateCommand, "/update from chat: the update ends in a restart through the supervisor", ScenarioIntent.ReviveNow, "revive now; not a failure", true, true),
        new(LifecycleScenario.RestartFromInside, "restart asked from inside the gateway's own process tree (the agent runs 'hermes update')", ScenarioIntent.ReviveNow, "revive now, though the requester dies with the gateway", true, true),
        new(LifecycleScenario.RestartBurst, "several planned restarts in quick succession", ScenarioIntent.ReviveNow, "every restart revives now; no start limit or throttle holds one back", true, true),
        new(LifecycleScenario.ManagerRestart, "the supervisor's own restart (systemctl restart, launchctl kickstart -k)", ScenarioIntent.RunningAfter, "running afterwards, drain completed", true, true),
        new(LifecycleScenario.ManagerStop, "the supervisor's own stop (systemctl stop, launchctl bootout)", ScenarioIntent.StayStoppedNotFailed, "stay stopped, not failed, drain completed", true, true),
        new(LifecycleScenario.CleanExit, "the gateway ends itself cleanly (SIGINT, takeover by --replace)", ScenarioIntent.StayStoppedNotFailed, "stay stopped, not failed", true, true),
        new(LifecycleScenario.ExternalTerm, "SIGTERM from outside with no planned-stop marker", ScenarioIntent.ReviveAndRecordFailure, "revive; recorded as a failure", true, true),
        new(LifecycleScenario.ExternalKill, "SIGKILL from outside", ScenarioIntent.ReviveAndRecordFailure, "revive; recorded as a failure", true, true),
        new(LifecycleScenario.OomKill, "killed by the OOM killer", ScenarioIntent.ReviveAndRecordFailure, "revive; recorded as a failure", true, true),
        new(LifecycleScenario.Crash, "crash by signal (SIGSEGV)", ScenarioIntent.ReviveAndRecordFailure, "revive; recorded as a failure", true, true),
        new(LifecycleScenario.ConfigError, "permanent configuration error at start-up", ScenarioIntent.DoNotRevive, "do not revive; left visibly failed", true, true),
        new(LifecycleScenario.CrashLoop, "the gateway dies shortly after every start", ScenarioIntent.BackOffWithoutGivingUp, "back off without giving up", true, true),
        new(LifecycleScenario.OnDemandOnlyRestart, "planned restart while the GUI domain is in on-demand-only mode (macOS update staged)", ScenarioIntent.ReviveNow, "revive now", false, true),
    ];

    public static ScenarioDefinition Get(LifecycleScenario s) => All.First(d => d.Scenario == s);
}
