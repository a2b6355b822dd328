namespace HermesGateway.Core.Tests.Differential;

/// <summary>A fact that is reported as skipped (never as passed) when the sde2e sandbox cannot run here.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SystemdSandboxFactAttribute : FactAttribute
{
    public SystemdSandboxFactAttribute()
    {
        // xunit 2 has no dynamic skip, so the decision is made when the attribute is read.
        Skip = SandboxPreconditions.SkipMessage;
    }
}

/// <summary>A theory that is reported as skipped (never as passed) when the sde2e sandbox cannot run here.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SystemdSandboxTheoryAttribute : TheoryAttribute
{
    public SystemdSandboxTheoryAttribute()
    {
        Skip = SandboxPreconditions.SkipMessage;
    }
}

internal static partial class SandboxPreconditions
{
    /// <summary>
    /// Where the suite must run (CI as root sets HERMES_REQUIRE_SANDBOX=1), a missing sandbox is not a skip: the
    /// tests run and fail with the reason.
    /// </summary>
    public static string? SkipMessage =>
        SkipReason is { } reason && Environment.GetEnvironmentVariable("HERMES_REQUIRE_SANDBOX") != "1"
            ? "systemd sandbox unavailable: " + reason
            : null;
}
