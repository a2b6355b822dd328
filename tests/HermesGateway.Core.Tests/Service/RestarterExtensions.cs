namespace HermesGateway.Core.Tests.Service;

internal static class RestarterExtensions
{
    /// <summary>A restart the host agreed to: its result, never the "declined" null.</summary>
    public static RestartResult Run(this GatewayRestarter restarter, ServiceIdentity service, RestartOptions options, IEngineHost host) =>
        restarter.Restart(service, options, host) ?? throw new Xunit.Sdk.XunitException($"the restart of {service.Name} was declined by the host");

    /// <summary>
    /// Two restarts of the same service at once, as two callers would start them: the second 200 ms after the first,
    /// while it drains. Both results; a failure of the first is rethrown here.
    /// </summary>
    public static (RestartResult First, RestartResult Second) RunTwoAtOnce(this GatewayRestarter restarter, ServiceIdentity service)
    {
        RestartResult? first = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                first = restarter.Run(service, new RestartOptions(), new TestHost());
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e;
            }
        });
        thread.Start();
        Thread.Sleep(200);
        var second = restarter.Run(service, new RestartOptions(), new TestHost());
        thread.Join();
        Xunit.Assert.Null(failure);
        return (first!, second);
    }
}
