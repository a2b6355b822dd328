namespace HermesGateway.Core.Tests.Definition;

/// <summary>
/// The rendered files, byte for byte. A deliberate change to the output is reviewed by regenerating them with
/// HERMES_UPDATE_GOLDEN=1 and reading the diff.
/// </summary>
public sealed class GoldenFileTests
{
    public static TheoryData<string> Cases => new(GoldenCases.All.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rendered_file_matches_its_golden_copy(string name)
    {
        var text = ServiceFiles.Render(ServiceDefinitionFactory.Create(GoldenCases.All[name]));
        var golden = Path.Combine(GoldenCases.SourceDirectory, name);
        if (Environment.GetEnvironmentVariable("HERMES_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(golden, text);
        }

        Assert.True(File.Exists(golden), $"no golden file {golden}; run the tests once with HERMES_UPDATE_GOLDEN=1");
        Assert.Equal(File.ReadAllText(golden), text);
    }

    [Fact]
    public void Rendering_is_deterministic()
    {
        foreach (var request in GoldenCases.All.Values)
        {
            Assert.Equal(ServiceFiles.Render(ServiceDefinitionFactory.Create(request)), ServiceFiles.Render(ServiceDefinitionFactory.Create(request)));
        }
    }
}

internal static class GoldenCases
{
    /// <summary>The golden files live in the source tree, beside this file.</summary>
    public static string SourceDirectory => Path.Combine(RepoRoot(), "tests", "HermesGateway.Core.Tests", "Definition", "Golden");

    public static readonly Dictionary<string, DefinitionRequest> All = new(StringComparer.Ordinal)
    {
        ["user-hermes-gateway.service"] = SystemdDefinitionTests.UserRequest(),
        ["user-hermes-gateway-work.service"] = SystemdDefinitionTests.UserRequest("work"),
        ["user-systemd255-hermes-gateway.service"] = SystemdDefinitionTests.UserRequest(version: 255),
        ["system-hermes-gateway.service"] = new()
        {
            Platform = ServicePlatform.Systemd,
            Scope = ServiceScope.System,
            Executable = "/opt/hermes/venv/bin/hermes",
            HermesHome = "/srv/hermes/.hermes",
            User = "hermes",
            Group = "hermes",
            EnvironmentFile = "/etc/hermes/gateway.env",
        },
        ["agent-ai.hermes.gateway.plist"] = LaunchdDefinitionTests.AgentRequest(),
        ["agent-ai.hermes.gateway-work.plist"] = LaunchdDefinitionTests.AgentRequest("work"),
        ["daemon-ai.hermes.gateway.plist"] = new()
        {
            Platform = ServicePlatform.Launchd,
            Scope = ServiceScope.Daemon,
            Executable = "/opt/hermes/venv/bin/hermes",
            HermesHome = "/Users/hermes/.hermes",
            User = "hermes",
            Group = "staff",
        },
    };

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HermesGateway.psd1")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("The repository root (with HermesGateway.psd1) is not above the test assembly.");
    }
}
