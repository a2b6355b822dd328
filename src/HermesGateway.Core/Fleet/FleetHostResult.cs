namespace HermesGateway.Core.Fleet;

/// <summary>How a rollout ended for one host.</summary>
public enum FleetHostOutcome
{
    /// <summary>Acted on and healthy afterwards.</summary>
    Done,

    /// <summary>Acted on, and the action failed or the gateway did not come up healthy: the rollout halted here.</summary>
    Failed,

    /// <summary>Its session broke while it was being acted on; its state was read again over a new connection where possible.</summary>
    ConnectionLost,

    /// <summary>Not acted on: its session could not be used.</summary>
    Unreachable,

    /// <summary>Not acted on: it has no HermesGateway module of this build.</summary>
    ModuleMismatch,

    /// <summary>Not acted on: the rollout halted before its turn. Untouched.</summary>
    NotRun,

    /// <summary>Not acted on: -WhatIf, or the confirmation was declined.</summary>
    Skipped,
}

/// <summary>One host's part in a rollout over a fleet (Restart-HermesGateway or Install-HermesService with -Session).</summary>
public sealed class FleetHostResult
{
    /// <summary>The host, as its session names it.</summary>
    public required string ComputerName { get; init; }

    /// <summary>Restart or Install.</summary>
    public required string Action { get; init; }

    public required FleetHostOutcome Outcome { get; init; }

    /// <summary>Whether this host's gateway was one of the rollout's canaries.</summary>
    public bool Canary { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>How long the action took on that host (restart: from the request to the new gateway's health check).</summary>
    public TimeSpan? Duration => StartedAt is { } s && EndedAt is { } e ? e - s : null;

    /// <summary>The host's gateways as they stood last read ("hermes-gateway: running (pid 412)"), after the action or, for a host not acted on, at the end.</summary>
    public string? State { get; init; }

    /// <summary>What went wrong, or why the host was not acted on; null when done.</summary>
    public string? Message { get; init; }

    /// <summary>The stable id of the error written for this host; null when done or skipped.</summary>
    public string? ErrorId { get; init; }

    /// <summary>What the host's own command returned: its RestartResults, or the installed HermesServices (as they came over the session).</summary>
    public IReadOnlyList<object> Results { get; init; } = [];

    public override string ToString() => $"{ComputerName}: {Outcome}";
}

/// <summary>One line for a host's gateways as Get-HermesService there described them.</summary>
public static class FleetState
{
    /// <summary>"hermes-gateway: active (pid 412); relay: failed"; "no gateway service" for none.</summary>
    public static string Describe(IEnumerable<(string Name, string? State, int? Pid)> services)
    {
        var parts = services.Select(s => $"{s.Name}: {s.State ?? "unknown"}{(s.Pid is { } pid && pid > 0 ? $" (pid {pid})" : string.Empty)}").ToList();
        return parts.Count == 0 ? "no gateway service" : string.Join("; ", parts);
    }

    /// <summary>
    /// Whether a gateway stands healthy, as Get-HermesService describes it: a process (a PID) under a supervisor that
    /// calls it active (systemd) or running (launchd), and not restarting it in a loop.
    /// </summary>
    public static bool Healthy(string? state, int? pid, bool? crashLoop) => state is "active" or "running" && pid is > 0 && crashLoop != true;

    /// <summary>
    /// Whether a gateway counts as down for -MaxUnavailable. When the rollout leaves gateways running (a restart, an
    /// install with -Start), anything but healthy is down, and a gateway that cannot be read is too. When it does not
    /// (an install without -Start), a gateway stopped on purpose is not an outage: only one its supervisor reports failed
    /// or restarting in a loop is down.
    /// </summary>
    public static bool Down(string? state, int? pid, bool? crashLoop, bool expectRunning) => expectRunning
        ? !Healthy(state, pid, crashLoop)
        : state is null or "failed" or "crash-loop" or "unknown" || crashLoop == true;

    /// <summary>
    /// Whether a host's gateways stand as the rollout needs after its action there, and through a canary wait: healthy
    /// and (during the wait) the same processes as right after the action, when they must run; not down otherwise.
    /// </summary>
    public static bool Standing(IReadOnlyList<(string Name, string? State, int? Pid, bool? CrashLoop)> services, bool expectRunning,
        IReadOnlyDictionary<string, int?>? pidsAfterAction = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!expectRunning)
        {
            return services.All(s => !Down(s.State, s.Pid, s.CrashLoop, false));
        }

        return services.Count > 0
            && services.All(s => Healthy(s.State, s.Pid, s.CrashLoop))
            && (pidsAfterAction is null || pidsAfterAction.All(p => services.Any(s => s.Name == p.Key && s.Pid == p.Value)));
    }
}
