namespace HermesGateway.Core.Platform;

public enum EndingKind
{
    Exited,
    Killed,
}

/// <summary>How one run of a process ended, as the supervisor's waitpid() sees it.</summary>
public sealed record ProcessEnding(EndingKind Kind, int ExitCode, UnixSignal? Signal, bool CoreDumped)
{
    public static ProcessEnding Exit(int code) => new(EndingKind.Exited, code, null, false);

    public static ProcessEnding KilledBy(UnixSignal signal, bool coreDumped = false) => new(EndingKind.Killed, 0, signal, coreDumped);

    public override string ToString() => Kind == EndingKind.Exited
        ? $"exit {ExitCode}"
        : $"killed by {Signal}{(CoreDumped ? " (core dumped)" : string.Empty)}";
}

/// <summary>What a process does when a signal reaches it: ends (after some time) or keeps running.</summary>
public sealed record SignalResponse(ProcessEnding? Ending, TimeSpan After, string Why)
{
    public static SignalResponse Ignores(string why) => new(null, TimeSpan.Zero, why);
}

/// <summary>How a process reacts to signals; the gateway's contract is one, test payloads are others.</summary>
public interface IProcessBehavior
{
    SignalResponse OnSignal(UnixSignal signal, bool plannedStopMarked);
}

/// <summary>A process with no handlers: every signal takes its default action.</summary>
public sealed class DefaultSignalBehavior : IProcessBehavior
{
    public static readonly DefaultSignalBehavior Instance = new();

    public SignalResponse OnSignal(UnixSignal signal, bool plannedStopMarked) => DefaultResponse(signal, coreDumps: false);

    public static SignalResponse DefaultResponse(UnixSignal signal, bool coreDumps) => UnixSignals.DefaultAction(signal) switch
    {
        SignalDefaultAction.Terminate => new(ProcessEnding.KilledBy(signal), TimeSpan.Zero, $"{signal} terminates a process that does not handle it"),
        SignalDefaultAction.CoreDump => new(ProcessEnding.KilledBy(signal, coreDumps), TimeSpan.Zero, $"{signal} kills a process that does not handle it"),
        _ => SignalResponse.Ignores($"{signal} does not end a process by default"),
    };
}
