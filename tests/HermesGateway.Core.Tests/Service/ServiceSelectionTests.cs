namespace HermesGateway.Core.Tests.Service;

/// <summary>Issue 13, items 2 and 13: Restart and Stop acted on every gateway a call did not tell apart.</summary>
public sealed class ServiceSelectionTests
{
    private static HermesService Gateway(string name, ServiceScope scope, string? owner = null) => new()
    {
        Name = name, Platform = ServicePlatform.Systemd, Scope = scope, Owner = owner, Path = $"/x/{scope}/{owner}/{name}.service", State = "active", Drift = "none", Policy = "14/14 ok",
    };

    [Fact]
    public void A_user_and_a_system_unit_of_one_name_need_Scope_or_Owner_or_the_piped_service()
    {
        List<HermesService> twins = [Gateway("hermes-gateway", ServiceScope.User, "root"), Gateway("hermes-gateway", ServiceScope.System)];

        var e = ServiceSelection.Ambiguity(twins, ["hermes-gateway"], narrowed: false, "restart");

        Assert.NotNull(e);
        Assert.Equal(HermesErrorIds.ServiceAmbiguous, e.ErrorId);
        Assert.Contains("User unit of root, System unit", e.Message, StringComparison.Ordinal);
        Assert.Contains("-Scope or -Owner", e.Message, StringComparison.Ordinal);
        Assert.Null(ServiceSelection.Ambiguity(twins, ["hermes-gateway"], narrowed: true, "restart"));
    }

    [Fact]
    public void A_call_that_names_nothing_acts_on_the_only_gateway_but_not_on_several()
    {
        Assert.Null(ServiceSelection.Ambiguity([Gateway("hermes-gateway", ServiceScope.User)], null, narrowed: false, "stop"));

        var e = ServiceSelection.Ambiguity([Gateway("relay", ServiceScope.User), Gateway("hermes-gateway", ServiceScope.User)], null, narrowed: false, "stop");

        Assert.NotNull(e);
        Assert.Contains("(hermes-gateway, relay)", e.Message, StringComparison.Ordinal);
        Assert.Contains("-Name * to stop them all", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Different_names_or_a_wildcard_are_no_ambiguity()
    {
        List<HermesService> two = [Gateway("relay", ServiceScope.User), Gateway("hermes-gateway", ServiceScope.User)];

        Assert.Null(ServiceSelection.Ambiguity(two, ["relay", "hermes-gateway"], narrowed: false, "restart"));
        Assert.Null(ServiceSelection.Ambiguity(two, [], narrowed: false, "restart")); // -Name * : no literal name
    }
}
