namespace HermesGateway.Core.Tests.Service;

/// <summary>The two gateway processes a scripted supervisor knows: the one running, and the one a revival brings.</summary>
internal static class ScriptedPids
{
    public const int Old = 100;
    public const int New = 200;
}

internal sealed class ScriptedTable : IProcessTable
{
    public const long Started = 5000;

    public HashSet<int> Alive { get; } = [];

    public bool ExitWhenStartTimeIsRead { get; init; }

    public SilentHandle? LastHandle { get; private set; }

    public bool IsAlive(int pid) => Alive.Contains(pid);

    public long? StartTime(int pid)
    {
        if (ExitWhenStartTimeIsRead && LastHandle is not null)
        {
            LastHandle.Exited = true;
        }

        return Alive.Contains(pid) ? Started + pid : null;
    }

    public int? ParentPid(int pid) => null;

    public string? ControlGroup(int pid) => null;

    public IProcessHandle? Open(int pid) => Alive.Contains(pid) ? LastHandle = new SilentHandle(pid) : null;
}

/// <summary>A handle whose process, as far as it tells, never exits (unless told to).</summary>
internal sealed class SilentHandle(int pid) : IProcessHandle
{
    public int Pid => pid;

    public bool Exited { get; set; }

    public bool Disposed { get; private set; }

    public bool HasExited => Exited;

    public SignalDelivery Signal(UnixSignal signal) => SignalDelivery.Delivered;

    public bool WaitForExit(TimeSpan timeout)
    {
        Thread.Sleep(timeout < TimeSpan.FromMilliseconds(5) ? timeout : TimeSpan.FromMilliseconds(5));
        return Exited;
    }

    public void Dispose() => Disposed = true;
}

/// <summary>A supervisor whose gateway exits at the signal and comes back only if <see cref="OnRevive"/> says so.</summary>
internal sealed class ScriptedManager(ScriptedTable table) : IServiceManager
{
    public SilentHandle Handle { get; init; } = new(ScriptedPids.Old);

    public Action? OnRevive { get; init; }

    public int HardRestarts { get; private set; }

    /// <summary>Calls into the supervisor of any kind.</summary>
    public int Calls { get; private set; }

    /// <summary>Each step asks the host first, as the real managers do.</summary>
    public bool AskAtEachStep { get; init; }

    public int StepsAllowed { get; private set; }

    private void Step(IEngineHost host, string action)
    {
        if (AskAtEachStep && host.ShouldProcess("hermes-gateway", action))
        {
            StepsAllowed++;
        }
    }

    public ServicePlatform Platform => ServicePlatform.Systemd;

    public string SupervisorName => "systemd";

    public string DeactivationText => "disable it";

    public string TransientJobKind => "systemd-run";

    public bool IdentifyFails { get; init; }

    public RunningGateway? Identify(ServiceIdentity service, CancellationToken cancellation)
    {
        Calls++;
        if (IdentifyFails)
        {
            throw new HermesException(HermesErrorIds.NoUserBus, HermesErrorCategory.ResourceUnavailable, "no bus (scripted)");
        }

        var pid = table.Alive.Contains(ScriptedPids.New) ? ScriptedPids.New : table.Alive.Contains(ScriptedPids.Old) ? ScriptedPids.Old : 0;
        return pid == 0 ? null : new RunningGateway(pid, table.StartTime(pid)) { SupervisorDelay = TimeSpan.FromSeconds(2) };
    }

    public GatewayObservation Observe(ServiceIdentity service, CancellationToken cancellation) =>
        Identify(service, cancellation) is { } running ? new(running, "active (running)") : new(null, "inactive (dead)") { Stopped = true };

    public IReadOnlyList<string>? RecentLog(ServiceIdentity service, int lines, CancellationToken cancellation, out string why)
    {
        why = "a scripted supervisor keeps no log";
        return null;
    }

    /// <summary>Signals sent to the gateway.</summary>
    public int Signals { get; private set; }

    public IProcessHandle? SendSignal(ServiceIdentity service, RunningGateway target, UnixSignal signal, IEngineHost host)
    {
        Calls++;
        Signals++;
        Step(host, "scripted signal");
        table.Alive.Remove(target.Pid); // it drains at once and exits; the handle does not tell
        return Handle;
    }

    public string Revive(ServiceIdentity service, RunningGateway exited, TimeSpan waitForSupervisor, IEngineHost host)
    {
        Calls++;
        Step(host, "scripted revival");
        OnRevive?.Invoke();
        return "scripted revival";
    }

    public void HardRestart(ServiceIdentity service, IEngineHost host)
    {
        Calls++;
        Step(host, "scripted supervisor restart");
        HardRestarts++;
        OnRevive?.Invoke();
    }

    public string FilePath(string name, ServiceScope scope) => throw new NotSupportedException();

    public void CheckCanManage(ServiceScope scope) => throw new NotSupportedException();

    public IReadOnlyList<HermesException> MissingPrerequisites(ServiceDefinition definition) => throw new NotSupportedException();

    public SpecifierContext? SpecifiersFor(string path, ServiceScope scope) => throw new NotSupportedException();

    public IReadOnlyList<(string Directory, ServiceScope Scope)> ServiceDirectories => throw new NotSupportedException();

    public string Owner => "scripted";

    public bool ForAnotherAccount => false;

    public void Activate(ServiceDefinition definition, string path, bool fileChanged, bool start, IEngineHost host) => throw new NotSupportedException();

    public void Remove(ServiceIdentity service, Action removeFile, IEngineHost host) => throw new NotSupportedException();

    public HermesService Status(ServiceConfiguration config, ServiceScope scope, HermesService known) => throw new NotSupportedException();

    public void StartService(ServiceIdentity service, IEngineHost host) => throw new NotSupportedException();

    public void StopService(ServiceIdentity service, IEngineHost host) => throw new NotSupportedException();

    /// <summary>The log a hand-off was given (null: none was made).</summary>
    public string? HandOffLog { get; private set; }

    public string HandOff(ServiceIdentity service, IReadOnlyList<string> command, string log, IEngineHost host)
    {
        Calls++;
        HandOffLog = log;
        return "scripted-helper.service";
    }
}
