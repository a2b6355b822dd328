using System.Text;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Policy;
using Xunit;

namespace HermesGateway.Core.Tests.Definition;

/// <summary>Every golden plist is accepted by Python's plistlib with the same values our definition holds.</summary>
public sealed class PlistAcceptanceTests
{
    [Fact]
    public void Every_golden_plist_reads_back_through_plistlib_with_the_same_values()
    {
        var dir = Directory.CreateTempSubdirectory("hermes-golden-plist-");
        try
        {
            var expected = new Dictionary<string, ServiceDefinition>(StringComparer.Ordinal);
            foreach (var (name, request) in GoldenCases.All.Where(c => c.Value.Platform == ServicePlatform.Launchd))
            {
                var d = ServiceDefinitionFactory.Create(request);
                var path = Path.Combine(dir.FullName, name);
                File.WriteAllText(path, ServiceFiles.Render(d), new UTF8Encoding(false));
                expected[path] = d;
            }

            Assert.NotEmpty(expected);
            var read = Plistlib.ReadAll(expected.Keys);
            Assert.All(expected, e => Plistlib.AssertSame(e.Value, read[e.Key], e.Key));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
