using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Policy;

/// <summary>How the supervised process reacts to the signals an event sends it.</summary>
public enum SignalReaction
{
    /// <summary>The gateway's exit contract: it drains and exits with the contract's codes (the default).</summary>
    Gateway,

    /// <summary>No handlers: every signal takes its default action (terminate, dump core, or nothing).</summary>
    Default,

    /// <summary>Every signal that can be caught is ignored; SIGKILL and SIGSTOP still act by default.</summary>
    Ignore,

    /// <summary>A handler exits with one code on every catchable signal whose default action would end the process.</summary>
    Exit,
}

/// <summary>Makes the <see cref="IProcessBehavior"/> a <see cref="SignalReaction"/> stands for.</summary>
public static class SignalReactions
{
    /// <summary>The behaviour for <paramref name="reaction"/>; <paramref name="exitCode"/> is required for Exit and refused otherwise.</summary>
    /// <param name="reaction">the reaction</param>
    /// <param name="contract">the gateway's contract, used for <see cref="SignalReaction.Gateway"/></param>
    /// <param name="exitCode">the code the handler exits with (Exit only, 0–255)</param>
    /// <param name="handlerTime">how long a handler takes before the process ends (Ignore logs and goes on at once; Exit ends after it)</param>
    public static IProcessBehavior Behavior(SignalReaction reaction, GatewayExitContract contract, int? exitCode = null, TimeSpan? handlerTime = null)
    {
        Validate(reaction, exitCode, handlerTime);
        return reaction switch
        {
            SignalReaction.Gateway => contract,
            SignalReaction.Default => DefaultSignalBehavior.Instance,
            SignalReaction.Ignore => IgnoringBehavior.Instance,
            _ => new ExitingBehavior(exitCode!.Value, handlerTime ?? TimeSpan.Zero),
        };
    }

    /// <summary>Refuses an Exit without a code, a code with another reaction, a code out of 0–255, and a negative handler time.</summary>
    public static void Validate(SignalReaction reaction, int? exitCode, TimeSpan? handlerTime = null)
    {
        if (!Enum.IsDefined(reaction))
        {
            throw new HermesException(HermesErrorIds.SignalReactionInvalid, HermesErrorCategory.InvalidArgument, $"{reaction} is not a signal reaction (Gateway, Default, Ignore or Exit).", reaction);
        }

        if (reaction == SignalReaction.Exit && exitCode is null)
        {
            throw new HermesException(HermesErrorIds.SignalReactionInvalid, HermesErrorCategory.InvalidArgument,
                "The Exit reaction needs the code its handler exits with (-ReactionExitCode).", reaction);
        }

        if (reaction != SignalReaction.Exit && exitCode is not null)
        {
            throw new HermesException(HermesErrorIds.SignalReactionInvalid, HermesErrorCategory.InvalidArgument,
                $"-ReactionExitCode goes with the Exit reaction, not {reaction}.", exitCode);
        }

        if (exitCode is < 0 or > 255)
        {
            throw new HermesException(HermesErrorIds.ExitCodeOutOfRange, HermesErrorCategory.InvalidArgument, $"Exit code {exitCode} is not between 0 and 255.", exitCode);
        }

        if (handlerTime is { } t && (t < TimeSpan.Zero || t > ExitPolicyEvaluator.MaxRunTime))
        {
            throw new HermesException(HermesErrorIds.SignalReactionInvalid, HermesErrorCategory.InvalidArgument,
                $"The handler time is {t}; give one between 0 and {ExitPolicyEvaluator.MaxRunTime.TotalDays:0} days.", t);
        }
    }

    /// <summary>SIGKILL and SIGSTOP cannot be caught, blocked or ignored.</summary>
    public static bool Catchable(UnixSignal signal) => signal is not (UnixSignal.SIGKILL or UnixSignal.SIGSTOP);
}

/// <summary>A process that ignores every signal it can: only SIGKILL (and SIGSTOP, which does not end it) act.</summary>
public sealed class IgnoringBehavior : IProcessBehavior
{
    public static readonly IgnoringBehavior Instance = new();

    public SignalResponse OnSignal(UnixSignal signal, bool plannedStopMarked) => SignalReactions.Catchable(signal)
        ? SignalResponse.Ignores($"the process ignores {signal}")
        : DefaultSignalBehavior.DefaultResponse(signal, coreDumps: false);
}

/// <summary>A process whose handler exits with <see cref="ExitCode"/> on every catchable signal that would otherwise end it.</summary>
public sealed class ExitingBehavior(int exitCode, TimeSpan handlerTime) : IProcessBehavior
{
    public int ExitCode { get; } = exitCode;

    public TimeSpan HandlerTime { get; } = handlerTime;

    public SignalResponse OnSignal(UnixSignal signal, bool plannedStopMarked)
    {
        if (!SignalReactions.Catchable(signal) || UnixSignals.DefaultAction(signal) is not (SignalDefaultAction.Terminate or SignalDefaultAction.CoreDump))
        {
            return DefaultSignalBehavior.DefaultResponse(signal, coreDumps: false);
        }

        var took = HandlerTime == TimeSpan.Zero ? string.Empty : $" after {HandlerTime.TotalSeconds:0.###} s";
        return new(ProcessEnding.Exit(ExitCode), HandlerTime, $"its handler for {signal} exits {ExitCode}{took}");
    }
}
