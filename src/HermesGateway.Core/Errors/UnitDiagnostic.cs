namespace HermesGateway.Core.Errors;

/// <summary>How a supervisor takes a problem in a unit file or plist.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The supervisor ignores the line or value (systemd logs it).</summary>
    Warning,

    /// <summary>The supervisor refuses to load the file (systemd: LoadState=bad-setting; launchd: the job is not loaded).</summary>
    Fatal,

    /// <summary>The supervisor takes it, but the model does not model what it does: answers leave it out.</summary>
    NotModelled,
}

/// <summary>Something the supervisor would complain about when loading a unit file or plist: systemd's log line, launchd's refusal.</summary>
public sealed record UnitDiagnostic(DiagnosticSeverity Severity, string File, int Line, string? Section, string? Key, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}
