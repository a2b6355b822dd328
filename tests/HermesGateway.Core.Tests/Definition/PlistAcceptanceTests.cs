namespace HermesGateway.Core.Tests.Definition;

/// <summary>Every golden plist is accepted by Python's plistlib with the same values our definition holds.</summary>
public sealed class PlistAcceptanceTests
{
    [Fact]
    public void Every_golden_plist_reads_back_through_plistlib_with_the_same_values()
    {
        var golden = GoldenCases.All.Where(c => c.Value.Platform == ServicePlatform.Launchd)
            .Select(c => (c.Key, ServiceDefinitionFactory.Create(c.Value))).ToList();
        Assert.NotEmpty(golden);
        Plistlib.AssertEachReadsBack("hermes-golden-plist-", golden);
    }
}
