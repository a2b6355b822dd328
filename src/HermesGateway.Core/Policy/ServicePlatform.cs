namespace HermesGateway.Core.Policy;

/// <summary>The supervisor a service runs under.</summary>
public enum ServicePlatform
{
    Systemd,
    Launchd,
}
