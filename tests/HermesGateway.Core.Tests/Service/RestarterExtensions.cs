using HermesGateway.Core.Restart;
using HermesGateway.Core.Service;

namespace HermesGateway.Core.Tests.Service;

internal static class RestarterExtensions
{
    /// <summary>A restart the host agreed to: its result, never the "declined" null.</summary>
    public static RestartResult Run(this GatewayRestarter restarter, HermesService service, RestartOptions options, IEngineHost host) =>
        restarter.Restart(service, options, host) ?? throw new Xunit.Sdk.XunitException($"the restart of {service.Name} was declined by the host");
}
