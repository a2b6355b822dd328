using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Fleet;

/// <summary>
/// The order and pace of a rollout over a fleet (a rolling restart, an install): which host may be taken down next.
/// Hosts go in the order given; at most <see cref="MaxUnavailable"/> gateways of the fleet are down at once, counting
/// those this rollout has in hand and those found down on other hosts; the first failure halts the rollout (hosts in
/// hand finish, no new one starts, the rest are left untouched). With canaries, the first <see cref="Canary"/> hosts
/// go alone and the rest wait behind a gate the caller opens (a health check, a confirmation) or shuts.
/// The plan decides; the caller acts (on the pipeline thread, where ShouldProcess and the streams are) and reports back.
/// </summary>
public sealed class RollingPlan
{
    private readonly List<string> hosts;
    private readonly Dictionary<string, HostState> states;
    private bool gateOpen;

    private enum HostState
    {
        Pending,
        InHand,
        Done,
        Failed,
        Passed,
    }

    public RollingPlan(IEnumerable<string> hosts, int maxUnavailable = 1, int canary = 0)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        this.hosts = [.. hosts];
        if (maxUnavailable < 1)
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-MaxUnavailable must be 1 or more (it was {maxUnavailable}): a rollout that may take no host down cannot start.", maxUnavailable);
        }

        if (canary < 0)
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-Canary must be 0 or more (it was {canary}).", canary);
        }

        states = new Dictionary<string, HostState>(StringComparer.OrdinalIgnoreCase);
        foreach (var host in this.hosts)
        {
            if (string.IsNullOrWhiteSpace(host) || !states.TryAdd(host, HostState.Pending))
            {
                throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                    string.IsNullOrWhiteSpace(host) ? "A session without a computer name cannot take part in a rollout." : $"{host} is given twice: each host is one session of the rollout.", host);
            }
        }

        if (canary > this.hosts.Count)
        {
            throw new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-Canary {canary} is more than the {this.hosts.Count} host{(this.hosts.Count == 1 ? string.Empty : "s")} given.", canary);
        }

        MaxUnavailable = maxUnavailable;
        Canary = canary;
        gateOpen = Canary == 0 || Canary == this.hosts.Count;
    }

    public IReadOnlyList<string> Hosts => hosts;

    public int MaxUnavailable { get; }

    /// <summary>How many hosts go first, alone, before the gate (0: no gate; all hosts: no gate either, nothing waits behind it).</summary>
    public int Canary { get; }

    /// <summary>Why the rollout halted; null while it goes on.</summary>
    public string? HaltReason { get; private set; }

    public bool Halted => HaltReason is not null;

    public int InHand => states.Values.Count(s => s == HostState.InHand);

    public int Finished => states.Values.Count(s => s is HostState.Done or HostState.Failed or HostState.Passed);

    /// <summary>
    /// The canaries are all done and healthy and hosts wait behind the gate: the caller checks health or asks, then calls
    /// <see cref="OpenGate"/> or <see cref="Halt"/>.
    /// </summary>
    public bool GateDue => !gateOpen && !Halted && InHand == 0 && hosts.Take(Canary).All(h => states[h] is HostState.Done or HostState.Passed);

    /// <summary>How many canaries were acted on and done (not passed over): none means the gate has nothing to judge.</summary>
    public int CanariesDone => hosts.Take(Canary).Count(h => states[h] == HostState.Done);

    /// <summary>Nothing is in hand and nothing more will start: halted, or every host had its turn.</summary>
    public bool Complete => InHand == 0 && (Halted || !states.ContainsValue(HostState.Pending));

    /// <summary>
    /// The next host to take down, or null: none left, halted, waiting at the gate, or the fleet already has
    /// <see cref="MaxUnavailable"/> gateways down (<paramref name="othersDown"/>: hosts not in hand found down).
    /// </summary>
    public string? Next(int othersDown = 0)
    {
        if (Halted || GateDue || InHand + Math.Max(0, othersDown) >= MaxUnavailable)
        {
            return null;
        }

        var candidates = gateOpen ? hosts : hosts.Take(Canary);
        return candidates.FirstOrDefault(h => states[h] == HostState.Pending);
    }

    /// <summary>The caller took <paramref name="host"/> in hand (its restart or install started).</summary>
    public void Start(string host) => Move(host, HostState.Pending, HostState.InHand);

    /// <summary>The host was not acted on (-WhatIf, or the confirmation declined): not a failure; the rollout goes on.</summary>
    public void Pass(string host) => Move(host, HostState.Pending, HostState.Passed);

    /// <summary>The host's action ended; a failure halts the rollout (hosts in hand still finish).</summary>
    public void Finish(string host, bool succeeded, string? reason = null)
    {
        Move(host, HostState.InHand, succeeded ? HostState.Done : HostState.Failed);
        if (!succeeded)
        {
            Halt(reason ?? $"{host} failed");
        }
    }

    /// <summary>The gate opened: the hosts behind it may go.</summary>
    public void OpenGate() => gateOpen = true;

    /// <summary>Halts the rollout: no further host starts. The first reason is kept.</summary>
    public void Halt(string reason) => HaltReason ??= reason;

    /// <summary>The hosts that never had their turn (the rollout halted first).</summary>
    public IReadOnlyList<string> NotRun => Complete ? [.. hosts.Where(h => states[h] == HostState.Pending)] : [];

    private void Move(string host, HostState from, HostState to)
    {
        if (!states.TryGetValue(host, out var state) || state != from)
        {
            throw new InvalidOperationException($"{host} is {(states.ContainsKey(host) ? state.ToString() : "not in the plan")}, not {from}.");
        }

        states[host] = to;
    }
}
