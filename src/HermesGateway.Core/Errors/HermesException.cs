namespace HermesGateway.Core.Errors;

/// <summary>Kinds of failure, mapped one-to-one onto PowerShell's ErrorCategory by the cmdlets.</summary>
public enum HermesErrorCategory
{
    InvalidArgument,
    ObjectNotFound,
    ReadError,
    InvalidData,
    NotImplemented,
    PermissionDenied,
    InvalidOperation,
    ResourceUnavailable,
    OperationTimeout,
}

/// <summary>
/// Every failure the engine reports: a stable <see cref="ErrorId"/> that scripts and tests can rely on,
/// a category, and the object the failure is about.
/// </summary>
public sealed class HermesException : Exception
{
    public HermesException(string errorId, HermesErrorCategory category, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
        Target = target;
    }

    public string ErrorId { get; }

    public HermesErrorCategory Category { get; }

    public object? Target { get; }
}

/// <summary>The stable error ids. Tests assert these, never message text.</summary>
public static class HermesErrorIds
{
    public const string PathNotFound = "HermesPathNotFound";
    public const string FileUnreadable = "HermesFileUnreadable";
    public const string FileEmpty = "HermesFileEmpty";
    public const string FileNotText = "HermesFileNotText";
    public const string FileTooLarge = "HermesFileTooLarge";
    public const string UnitMalformed = "HermesUnitMalformed";
    public const string PlistMalformed = "HermesPlistMalformed";
    public const string PlistNotAJob = "HermesPlistNotAJob";
    public const string PlatformUnknown = "HermesPlatformUnknown";
    public const string SignalUnknown = "HermesSignalUnknown";
    public const string ExitCodeOutOfRange = "HermesExitCodeOutOfRange";
    public const string ExitContractInvalid = "HermesExitContractInvalid";
    public const string EventInvalid = "HermesEventInvalid";
    public const string SignalReactionInvalid = "HermesSignalReactionInvalid";
    public const string TimelineInvalid = "HermesTimelineInvalid";
    public const string TimelineUnsupported = "HermesTimelineUnsupported";
    public const string SystemdVersionUnsupported = "HermesSystemdVersionUnsupported";
    public const string ScenarioNotApplicable = "HermesScenarioNotApplicable";
    public const string ValueNotRepresentable = "HermesValueNotRepresentable";
    public const string OptionInvalid = "HermesOptionInvalid";
    public const string ExecutableNotFound = "HermesExecutableNotFound";
    public const string AccountNotFound = "HermesAccountNotFound";
    public const string PermissionDenied = "HermesPermissionDenied";
    public const string FileWriteFailed = "HermesFileWriteFailed";
    public const string FileChangedByHand = "HermesFileChangedByHand";
    public const string NoUserBus = "HermesNoUserBus";
    public const string LingerFailed = "HermesLingerFailed";
    public const string JournalUnavailable = "HermesJournalUnavailable";
    public const string LogUnavailable = "HermesLogUnavailable";
    public const string NotRoot = "HermesNotRoot";
    public const string UnitNotFound = "HermesUnitNotFound";
    public const string LaunchdDomainMissing = "HermesLaunchdDomainMissing";
    public const string ServiceDisabled = "HermesServiceDisabled";
    public const string ServiceManagerFailed = "HermesServiceManagerFailed";
    public const string ServiceNotFound = "HermesServiceNotFound";
    public const string ServiceAmbiguous = "HermesServiceAmbiguous";
    public const string StopTimeout = "HermesStopTimeout";
    public const string PidNotProven = "HermesPidNotProven";
    public const string RestartTimeout = "HermesRestartTimeout";
    public const string RestartFailed = "HermesRestartFailed";
    public const string RestartInProgress = "HermesRestartInProgress";
    public const string GatewayExitedOnStart = "HermesGatewayExitedOnStart";
    public const string WaitTimeout = "HermesWaitTimeout";
    public const string NameInvalid = "HermesNameInvalid";
    public const string DefinitionInvalid = "HermesDefinitionInvalid";
    public const string HermesHomeMissing = "HermesHomeMissing";
    public const string SpecifierUnresolvable = "HermesSpecifierUnresolvable";

    /// <summary>An object (from remoting) that describes a service on another computer: it is acted on there, not here.</summary>
    public const string RemoteObject = "HermesRemoteObject";

    /// <summary>A host of a fleet that could not be reached over its session (closed, broken, refused).</summary>
    public const string HostUnreachable = "HermesHostUnreachable";

    /// <summary>A host whose session broke while it was acting (the connection was lost mid-restart or mid-install).</summary>
    public const string HostConnectionLost = "HermesHostConnectionLost";

    /// <summary>A host with no HermesGateway module at all.</summary>
    public const string ModuleMissing = "HermesModuleMissing";

    /// <summary>A host whose HermesGateway is another version or another build than this one.</summary>
    public const string ModuleVersionMismatch = "HermesModuleVersionMismatch";

    /// <summary>A host a rollout did not act on because it halted before that host's turn.</summary>
    public const string RolloutHalted = "HermesRolloutHalted";

    /// <summary>A rollout that could not take another host down: too many of the fleet's gateways were already down.</summary>
    public const string FleetUnavailable = "HermesFleetUnavailable";

    /// <summary>A host whose action ended without an error id of its own, or whose gateways did not stand as needed afterwards.</summary>
    public const string FleetHostFailed = "HermesFleetHostFailed";

    /// <summary>A canary host that did not stay healthy through the canary wait, or a gate declined.</summary>
    public const string CanaryFailed = "HermesCanaryFailed";

    /// <summary>A write (install, uninstall) into another account's home, which root refuses: that account does it itself.</summary>
    public const string OtherAccountWriteRefused = "HermesOtherAccountWriteRefused";
}
