using System.Collections;
using System.Management.Automation;
using HermesGateway.Commands;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Fleet;

namespace HermesGateway.Fleet;

/// <summary>What a rollout does on each host, and at what pace.</summary>
internal sealed record RolloutRequest
{
    /// <summary>"Restart" or "Install": the word in results, progress and prompts.</summary>
    public required string Action { get; init; }

    /// <summary>The module's command run on each host (Restart-HermesGateway, Install-HermesService).</summary>
    public required string Command { get; init; }

    /// <summary>Its parameters there; -Confirm:$false is added (the prompt, if any, was here, per host).</summary>
    public required Hashtable Parameters { get; init; }

    /// <summary>Get-HermesService's parameters selecting the gateways the rollout is about (their health is the gate).</summary>
    public required Hashtable StatusParameters { get; init; }

    /// <summary>For ShouldProcess: "Restart the Hermes gateway 'hermes-gateway'".</summary>
    public required string What { get; init; }

    public int MaxUnavailable { get; init; } = 1;

    public int Canary { get; init; }

    /// <summary>How long the canaries must stay healthy (same process, running) before the rest go.</summary>
    public TimeSpan CanaryWait { get; init; }

    /// <summary>Ask before the hosts behind the canaries go.</summary>
    public bool CanaryConfirm { get; init; }

    /// <summary>The longest one host's command may run before it is stopped and the host counted as failed.</summary>
    public required TimeSpan HostTimeout { get; init; }

    /// <summary>How long to wait for hosts found down (by someone else) to come back before the rollout gives up.</summary>
    public required TimeSpan FleetWait { get; init; }

    /// <summary>Whether the gateways must be running afterwards (a restart; an install with -Start).</summary>
    public bool ExpectRunning { get; init; } = true;

    /// <summary>Whether a host may lack the gateways beforehand (an install: it brings them); a restart needs them everywhere.</summary>
    public bool AllowMissing { get; init; }
}

/// <summary>
/// A rollout over a fleet, run from one cmdlet: each host's command run there by the module of this build, at most
/// MaxUnavailable gateways down at once (those in hand, and any found down), health read before the next, halted at the
/// first failure with the rest left untouched and reported. Everything the plan decides is in <see cref="RollingPlan"/>;
/// this runs it: ShouldProcess per host, the fleet progress bar, results and errors, all on the pipeline thread.
/// </summary>
internal sealed class FleetRollout
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(60);
    private readonly HermesCmdlet cmdlet;
    private readonly RolloutRequest request;
    private readonly ModuleBuild local;
    private readonly CancellationToken cancellation;
    private readonly Dictionary<string, HostStatus> status = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The hosts whose command is running, with when it started.</summary>
    private readonly Dictionary<string, (RemoteCall Call, DateTimeOffset Started)> inHand = new(StringComparer.OrdinalIgnoreCase);

    public FleetRollout(HermesCmdlet cmdlet, RolloutRequest request, ModuleBuild local, CancellationToken cancellation)
    {
        this.cmdlet = cmdlet;
        this.request = request;
        this.local = local;
        this.cancellation = cancellation;
    }

    /// <summary>How a host's gateways stood when last read.</summary>
    private sealed record HostStatus(IReadOnlyList<(string Name, string? State, int? Pid, bool? CrashLoop)> Services, string Text, string? Error, bool Readable = true)
    {
        public Dictionary<string, int?> Pids => Services.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First().Pid);
    }

    /// <summary>Whether a host counts as down for -MaxUnavailable: unreadable, or its gateways down as the rollout sees it.</summary>
    private bool IsDown(HostStatus s) => !s.Readable || s.Services.Any(x => FleetState.Down(x.State, x.Pid, x.CrashLoop, request.ExpectRunning));

    /// <summary>Runs the rollout over <paramref name="hosts"/>; one result per host goes to the pipeline as it is known.</summary>
    public void Run(IReadOnlyList<RemoteHost> hosts, Func<RemoteHost, RemoteAnswer, IReadOnlyList<object>> results)
    {
        try
        {
            RunHosts(hosts, results);
        }
        finally
        {
            // Whatever ended the run (Ctrl+C, a pipeline that takes no more output, an exception): no command is left
            // running in a caller's session. A host's restart stopped mid-way leaves the gateway to its supervisor.
            foreach (var (call, _) in inHand.Values)
            {
                call.Stop();
                call.Dispose();
            }

            inHand.Clear();
        }
    }

    private void RunHosts(IReadOnlyList<RemoteHost> hosts, Func<RemoteHost, RemoteAnswer, IReadOnlyList<object>> results)
    {
        var plan = new RollingPlan(hosts.Select(h => h.ComputerName), request.MaxUnavailable, request.Canary);
        var byName = hosts.ToDictionary(h => h.ComputerName, StringComparer.OrdinalIgnoreCase);
        var activity = $"{request.Action} over {hosts.Count} host{(hosts.Count == 1 ? string.Empty : "s")}";
        var progress = new FleetProgress(cmdlet, 0x4E47, activity);
        var canaries = new HashSet<string>(plan.Hosts.Take(plan.Canary), StringComparer.OrdinalIgnoreCase);
        var whatIf = false;
        progress.Write("checking the hosts", 0);

        RemoteHost.Prepare(hosts, local, StatusTimeout, cancellation);
        foreach (var host in hosts.Where(h => !h.Usable))
        {
            cmdlet.WriteError(HermesCmdlet.ToErrorRecord(host.Error!));
        }

        // Every usable host's gateways, read before anything is touched: a host that lacks them stops the rollout
        // before it starts (it would fail at its turn, after others were already restarted).
        ReadStatus(hosts.Where(h => h.Usable));
        var missing = hosts.Where(h => h.Usable && status[h.ComputerName].Error is not null).ToList();
        if (missing.Count > 0)
        {
            foreach (var host in missing)
            {
                cmdlet.WriteError(HermesCmdlet.ToErrorRecord(new HermesException(HermesErrorIds.ServiceNotFound, HermesErrorCategory.ObjectNotFound,
                    $"{host.ComputerName}: {status[host.ComputerName].Error}", host.ComputerName)));
            }

            plan.Halt($"{string.Join(", ", missing.Select(h => h.ComputerName))} {(missing.Count == 1 ? "does" : "do")} not have the gateways to {request.Action.ToLowerInvariant()}");
        }

        foreach (var host in hosts.Where(h => !h.Usable))
        {
            plan.Pass(host.ComputerName); // not acted on; it counts as down (below)
            Emit(host.ComputerName, host.Error!.ErrorId == HermesErrorIds.HostUnreachable ? FleetHostOutcome.Unreachable : FleetHostOutcome.ModuleMismatch,
                null, null, "unknown (not read)", host.Error.Message, host.Error.ErrorId, []);
        }

        var canaryPids = new Dictionary<string, HostStatus>(StringComparer.OrdinalIgnoreCase);
        DateTime? blockedSince = null;

        void Emit(string computer, FleetHostOutcome outcome, DateTimeOffset? started, DateTimeOffset? ended, string? state, string? message, string? errorId, IReadOnlyList<object> objects)
        {
            cmdlet.WriteObject(new FleetHostResult
            {
                ComputerName = computer, Action = request.Action, Outcome = outcome, Canary = canaries.Contains(computer),
                StartedAt = started, EndedAt = ended, State = state, Message = message, ErrorId = errorId, Results = objects,
            });
        }

        void Progress(string what)
        {
            progress.Write($"{what} ({plan.Finished} of {hosts.Count} done{(plan.InHand > 0 ? $", {plan.InHand} in hand" : string.Empty)})",
                (int)(100.0 * plan.Finished / Math.Max(1, hosts.Count)));
        }

        // Hosts that could not be checked may have their gateway down: they count against -MaxUnavailable.
        var unknown = hosts.Count(h => !h.Usable);
        while (!plan.Complete && !cancellation.IsCancellationRequested)
        {
            if (plan.GateDue)
            {
                Gate(plan, hosts, canaryPids, whatIf, Progress);
                continue;
            }

            // Start as many as the plan allows now, each host's down state read fresh just before.
            var started = false;
            while (plan.Next() is { } candidate)
            {
                var idle = hosts.Where(h => h.Usable && !inHand.ContainsKey(h.ComputerName) && !string.Equals(h.ComputerName, candidate, StringComparison.OrdinalIgnoreCase)).ToList();
                ReadStatus(idle);
                var othersDown = unknown + idle.Count(h => IsDown(status[h.ComputerName]));
                if (!string.Equals(plan.Next(othersDown), candidate, StringComparison.OrdinalIgnoreCase))
                {
                    break;
                }

                var host = byName[candidate];
                if (!cmdlet.ShouldProcess($"{candidate}: {request.What}", request.What, candidate, out var reason))
                {
                    // -WhatIf says what it would do and returns nothing; a host declined at -Confirm is reported as skipped.
                    plan.Pass(candidate);
                    if (reason != ShouldProcessReason.WhatIf)
                    {
                        Emit(candidate, FleetHostOutcome.Skipped, null, null, status[candidate].Text, "declined at the confirmation", null, []);
                    }
                    else
                    {
                        // The host's own -WhatIf says what it would change there (its lines come through the session).
                        whatIf = true;
                        var preview = host.Command(request.Command, new Hashtable(request.Parameters) { ["WhatIf"] = true, ["Confirm"] = false }, StatusTimeout, cancellation);
                        foreach (var w in preview.Warnings)
                        {
                            cmdlet.WriteWarning($"{candidate}: {w}");
                        }

                        foreach (var e in preview.Errors)
                        {
                            cmdlet.WriteError(Relay(e, candidate));
                        }
                    }

                    continue;
                }

                var parameters = new Hashtable(request.Parameters) { ["Confirm"] = false };
                inHand[candidate] = (host.BeginCommand(request.Command, parameters), DateTimeOffset.Now);
                plan.Start(candidate);
                started = true;
                blockedSince = null;
                Progress($"{candidate}: {request.Action.ToLowerInvariant()}");
            }

            if (inHand.Count == 0)
            {
                if (plan.Complete || plan.GateDue)
                {
                    continue;
                }

                if (!started && plan.Next() is not null)
                {
                    // Blocked: other hosts are down. Someone else's rollout, or a crash: wait for them, then give up.
                    blockedSince ??= DateTime.UtcNow;
                    var down = hosts.Where(h => !h.Usable || IsDown(status[h.ComputerName])).Select(h => $"{h.ComputerName} ({(h.Usable ? status[h.ComputerName].Text : "not reachable or not usable: counted as down")})").ToList();
                    if (DateTime.UtcNow - blockedSince > request.FleetWait || unknown >= request.MaxUnavailable)
                    {
                        var error = new HermesException(HermesErrorIds.FleetUnavailable, HermesErrorCategory.ResourceUnavailable,
                            $"The rollout cannot take another host down: {down.Count} of the fleet's gateways {(down.Count == 1 ? "is" : "are")} down or unknown ({string.Join("; ", down)}), and -MaxUnavailable {request.MaxUnavailable} leaves no room.", null);
                        cmdlet.WriteError(HermesCmdlet.ToErrorRecord(error));
                        plan.Halt(error.Message);
                        continue;
                    }

                    Progress($"waiting for {string.Join(", ", down)} to come back");
                    Sleep(TimeSpan.FromSeconds(1));
                    continue;
                }
            }

            // Wait for one host in hand to finish.
            var finished = inHand.FirstOrDefault(p => p.Value.Call.IsCompleted).Key;
            if (finished is null)
            {
                var overdue = inHand.FirstOrDefault(p => DateTimeOffset.Now - p.Value.Started > request.HostTimeout).Key;
                if (overdue is null)
                {
                    Sleep(TimeSpan.FromMilliseconds(200));
                    Progress($"{string.Join(", ", inHand.Keys)}: {request.Action.ToLowerInvariant()}");
                    continue;
                }

                finished = overdue;
            }

            var (call, startedAt) = inHand[finished];
            inHand.Remove(finished);
            var answer = call.End(TimeSpan.Zero, cancellation);
            call.Dispose();
            Conclude(byName[finished], answer, startedAt, plan, canaryPids, results, Emit);
            Progress($"{finished}: {request.Action.ToLowerInvariant()} ended");
        }

        if (cancellation.IsCancellationRequested)
        {
            return; // Ctrl+C: the commands in hand are stopped (finally, below); the pipeline takes no more output
        }

        // Every host but these was reported when its turn ended (or passed over quietly under -WhatIf).
        var untouched = plan.NotRun.Select(n => byName[n]).ToList();
        ReadStatus(untouched.Where(h => h.Usable));
        foreach (var host in untouched)
        {
            var halted = plan.HaltReason is { } why ? $"not run: the rollout halted ({why})" : "not run";
            Emit(host.ComputerName, FleetHostOutcome.NotRun, null, null, host.Usable ? status[host.ComputerName].Text : null, halted, plan.Halted ? HermesErrorIds.RolloutHalted : null, []);
        }

        progress.Complete();
    }

    /// <summary>A host's command ended: the result, its health read again, and the plan told.</summary>
    private void Conclude(RemoteHost host, RemoteAnswer answer, DateTimeOffset startedAt, RollingPlan plan, Dictionary<string, HostStatus> canaryPids,
        Func<RemoteHost, RemoteAnswer, IReadOnlyList<object>> results, Action<string, FleetHostOutcome, DateTimeOffset?, DateTimeOffset?, string?, string?, string?, IReadOnlyList<object>> emit)
    {
        var computer = host.ComputerName;
        var objects = results(host, answer);
        foreach (var w in answer.Warnings)
        {
            cmdlet.WriteWarning($"{computer}: {w}");
        }

        if (answer.ConnectionLost)
        {
            // The command there died with the connection. The module's restart leaves the gateway to its supervisor, so
            // it should come up on its own: read it over a new connection (as the session was made), waiting for it.
            var state = "unknown: the host could not be reached again";
            using (var again = host.Reopen(local, TimeSpan.FromSeconds(30), cancellation))
            {
                if (again is { Usable: true })
                {
                    var deadline = DateTime.UtcNow + request.HostTimeout;
                    HostStatus read;
                    do
                    {
                        read = Read(again);
                        if (read.Readable && FleetState.Standing(read.Services, request.ExpectRunning))
                        {
                            break;
                        }

                        Sleep(TimeSpan.FromSeconds(1));
                    }
                    while (DateTime.UtcNow < deadline && !cancellation.IsCancellationRequested);
                    state = read.Text;
                }
            }

            var lost = new HermesException(HermesErrorIds.HostConnectionLost, HermesErrorCategory.ResourceUnavailable,
                $"{computer}: the connection was lost during the {request.Action.ToLowerInvariant()} ({answer.Failure!.Message}); read again over a new connection, its gateway is {state}. The rollout halted here.", computer, answer.Failure);
            cmdlet.WriteError(HermesCmdlet.ToErrorRecord(lost));
            host.Lose(lost);
            plan.Finish(computer, false, lost.Message);
            emit(computer, FleetHostOutcome.ConnectionLost, startedAt, DateTimeOffset.Now, state, lost.Message, lost.ErrorId, objects);
            return;
        }

        string? failure = null;
        string? errorId = null;
        if (answer.Failure is { } f)
        {
            // A terminating error of the host's command keeps its own id; a stopped or broken call is the fleet's.
            failure = f is TimeoutException ? $"its {request.Action.ToLowerInvariant()} did not end within {request.HostTimeout.TotalSeconds:0} s and was stopped" : f.Message.TrimEnd('.');
            errorId = f is IContainsErrorRecord { ErrorRecord.FullyQualifiedErrorId: { } id } && id.StartsWith("Hermes", StringComparison.Ordinal)
                ? id.Split(',')[0]
                : HermesErrorIds.FleetHostFailed;
        }
        else if (answer.Errors.Count > 0)
        {
            failure = answer.Errors[0].ToString().TrimEnd('.');
            errorId = answer.Errors[0].FullyQualifiedErrorId.Split(',')[0];
            foreach (var e in answer.Errors)
            {
                cmdlet.WriteError(Relay(e, computer));
            }
        }

        var after = Read(host);
        status[computer] = after;
        if (failure is null && !(after.Readable && FleetState.Standing(after.Services, request.ExpectRunning)))
        {
            failure = $"its gateway{(after.Services.Count > 1 ? "s are" : " is")} not {(request.ExpectRunning ? "healthy" : "standing")} after the {request.Action.ToLowerInvariant()}: {after.Text}";
            errorId = HermesErrorIds.FleetHostFailed;
        }

        if (failure is not null)
        {
            var error = new HermesException(errorId ?? HermesErrorIds.FleetHostFailed, HermesErrorCategory.InvalidOperation,
                $"{computer}: {failure}. The rollout halted here; the hosts after it were not touched.", computer, answer.Failure);
            if (answer.Errors.Count == 0)
            {
                cmdlet.WriteError(HermesCmdlet.ToErrorRecord(error));
            }

            plan.Finish(computer, false, $"{computer}: {failure}");
            emit(computer, FleetHostOutcome.Failed, startedAt, DateTimeOffset.Now, after.Text, error.Message, error.ErrorId, objects);
            return;
        }

        plan.Finish(computer, true);
        canaryPids[computer] = after;
        emit(computer, FleetHostOutcome.Done, startedAt, DateTimeOffset.Now, after.Text, null, null, objects);
    }

    /// <summary>
    /// The canaries are done: they must stay healthy, the same processes, through the canary wait; then, if asked, the
    /// user confirms. Else the rollout halts with the canaries' state.
    /// </summary>
    private void Gate(RollingPlan plan, IReadOnlyList<RemoteHost> hosts, Dictionary<string, HostStatus> canaryPids, bool whatIf, Action<string> progress)
    {
        var canaries = hosts.Take(plan.Canary).Where(h => canaryPids.ContainsKey(h.ComputerName)).ToList();
        if (canaries.Count == 0 || plan.CanariesDone == 0)
        {
            if (whatIf)
            {
                plan.OpenGate(); // -WhatIf: no canary was acted on, and none had to be
                return;
            }

            // Every canary was declined or could not be reached: nothing vouches for the rest.
            var none = new HermesException(HermesErrorIds.CanaryFailed, HermesErrorCategory.InvalidOperation,
                $"No canary was {request.Action.ToLowerInvariant()}ed ({string.Join(", ", hosts.Take(plan.Canary).Select(h => h.ComputerName))} declined or not usable), so nothing vouches for the other hosts; the rollout halted before them.", null);
            cmdlet.WriteError(HermesCmdlet.ToErrorRecord(none));
            plan.Halt(none.Message);
            return;
        }

        var until = DateTime.UtcNow + request.CanaryWait;
        do
        {
            foreach (var host in canaries)
            {
                var now = Read(host);
                var before = canaryPids[host.ComputerName];
                var changed = request.ExpectRunning && before.Pids.Any(p => !now.Pids.TryGetValue(p.Key, out var pid) || pid != p.Value);
                if (!now.Readable || !FleetState.Standing(now.Services, request.ExpectRunning, request.ExpectRunning ? before.Pids : null))
                {
                    var error = new HermesException(HermesErrorIds.CanaryFailed, HermesErrorCategory.InvalidOperation,
                        $"{host.ComputerName}: the canary did not stay healthy through the canary wait: {now.Text}{(changed ? $" (was {before.Text})" : string.Empty)}. The rollout halted; the hosts after the canaries were not touched.", host.ComputerName);
                    cmdlet.WriteError(HermesCmdlet.ToErrorRecord(error));
                    plan.Halt(error.Message);
                    return;
                }
            }

            if (DateTime.UtcNow >= until)
            {
                break;
            }

            progress($"canaries {string.Join(", ", canaries.Select(c => c.ComputerName))}: watching until {until.ToLocalTime():HH:mm:ss}");
            Sleep(TimeSpan.FromSeconds(1));
        }
        while (!cancellation.IsCancellationRequested);

        if (cancellation.IsCancellationRequested)
        {
            plan.Halt("stopped (Ctrl+C) at the canary gate");
            return;
        }

        var rest = plan.Hosts.Count - plan.Canary;
        bool go;
        try
        {
            go = !request.CanaryConfirm || cmdlet.ShouldContinue(
                $"The canaries ({string.Join(", ", canaries.Select(c => $"{c.ComputerName}: {canaryPids[c.ComputerName].Text}"))}) are healthy. {request.Action} the other {rest} host{(rest == 1 ? string.Empty : "s")}?",
                $"{request.Action} the rest of the fleet");
        }
        catch (Exception e) when (e is PSInvalidOperationException or System.Management.Automation.Host.HostException or NotImplementedException)
        {
            // A host that cannot ask (a runbook, -NonInteractive): nobody said yes.
            var error = new HermesException(HermesErrorIds.CanaryFailed, HermesErrorCategory.InvalidOperation,
                $"-CanaryConfirm asks before the other hosts go, but this host cannot ask ({e.Message}); the rollout halted after the canaries. Drop -CanaryConfirm to let -CanaryWait alone decide.", null, e);
            cmdlet.WriteError(HermesCmdlet.ToErrorRecord(error));
            plan.Halt(error.Message);
            return;
        }

        if (!go)
        {
            plan.Halt("the canary gate was declined");
            return;
        }

        plan.OpenGate();
    }

    /// <summary>Reads the selected gateways' state on these hosts, in parallel.</summary>
    private void ReadStatus(IEnumerable<RemoteHost> hosts)
    {
        var calls = hosts.Select(h => h.BeginCommand("Get-HermesService", new Hashtable(request.StatusParameters))).ToList();
        foreach (var call in calls)
        {
            status[call.Host.ComputerName] = ToStatus(call.End(StatusTimeout, cancellation));
            call.Dispose();
        }
    }

    private HostStatus Read(RemoteHost host) => ToStatus(host.Command("Get-HermesService", new Hashtable(request.StatusParameters), StatusTimeout, cancellation));

    private HostStatus ToStatus(RemoteAnswer answer)
    {
        if (answer.Failure is { } failure)
        {
            return new HostStatus([], $"unknown ({failure.Message})", null, Readable: false);
        }

        var services = answer.Output.Select(o => (
            Name: o.Properties["Name"]?.Value?.ToString() ?? "?",
            State: o.Properties["State"]?.Value?.ToString(),
            Pid: o.Properties["Pid"]?.Value is int pid ? pid : (int?)null,
            CrashLoop: o.Properties["CrashLoop"]?.Value is bool loop ? loop : (bool?)null)).ToList();
        var notFound = answer.Errors.All(e => e.FullyQualifiedErrorId.StartsWith(HermesErrorIds.ServiceNotFound, StringComparison.Ordinal));
        if (services.Count == 0 && request.AllowMissing && notFound)
        {
            return new HostStatus([], "not installed", null);
        }

        var error = answer.Errors.Count > 0 && !(request.AllowMissing && notFound) ? answer.Errors[0].ToString()
            : services.Count == 0 ? "no gateway service of that name is installed there" : null;
        return new HostStatus(services, FleetState.Describe(services.Select(s => (s.Name, s.State, s.Pid))), error, Readable: error is null);
    }

    /// <summary>A host's own error record, as this computer writes it: the same id and category, the host named first.</summary>
    internal static ErrorRecord Relay(ErrorRecord remote, string computer)
    {
        var id = remote.FullyQualifiedErrorId.Split(',')[0];
        var record = new ErrorRecord(remote.Exception, id, remote.CategoryInfo.Category, computer)
        {
            ErrorDetails = new ErrorDetails($"{computer}: {remote}"),
        };
        return record;
    }

    private void Sleep(TimeSpan span) => cancellation.WaitHandle.WaitOne(span);
}
