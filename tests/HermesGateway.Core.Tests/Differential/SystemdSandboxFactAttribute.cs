using Xunit;

namespace HermesGateway.Core.Tests.Differential;

/// <summary>A fact that is reported as skipped (never as passed) when the sde2e sandbox cannot run here.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SystemdSandboxFactAttribute : FactAttribute
{
    public SystemdSandboxFactAttribute()
    {
        // xunit 2 has no dynamic skip, so the decision is made when the attribute is read.
        if (SandboxPreconditions.SkipReason is { } reason)
        {
            Skip = "systemd sandbox unavailable: " + reason;
        }
    }
}

/// <summary>A theory that is reported as skipped (never as passed) when the sde2e sandbox cannot run here.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SystemdSandboxTheoryAttribute : TheoryAttribute
{
    public SystemdSandboxTheoryAttribute()
    {
        if (SandboxPreconditions.SkipReason is { } reason)
        {
            Skip = "systemd sandbox unavailable: " + reason;
        }
    }
}
