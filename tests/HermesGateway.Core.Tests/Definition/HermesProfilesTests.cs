namespace HermesGateway.Core.Tests.Definition;

/// <summary>The profiles listed for -Profile completion: validly named directories under ~/.hermes/profiles.</summary>
public sealed class HermesProfilesTests : IDisposable
{
    private readonly TempDir dir = new();

    private string Home => Path.Combine(dir.Path, "home");

    private string Profiles => Path.Combine(Home, ".hermes", "profiles");

    private void Make(params string[] names)
    {
        foreach (var name in names)
        {
            Directory.CreateDirectory(Path.Combine(Profiles, name));
        }
    }

    [Fact]
    public void Profile_directories_are_listed_sorted_with_the_HERMES_HOME_a_service_for_them_gets()
    {
        Make("work", "alpha", "web");

        var listed = HermesProfiles.List(Home);

        Assert.Equal(["alpha", "web", "work"], listed.Select(p => p.Name));
        Assert.Equal(Path.Combine(Profiles, "work"), listed[2].HermesHome);
        var definition = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Systemd,
            Profile = "work",
            HomeDirectory = Home,
            Executable = "/usr/local/bin/hermes",
        });
        Assert.Equal(definition.HermesHome, listed[2].HermesHome);
    }

    [Theory]
    [InlineData("work", true)]
    [InlineData("0", true)]
    [InlineData("a_b-c9", true)]
    [InlineData("x234567890123456789012345678901234567890123456789012345678901234", true)] // 64 characters
    [InlineData("x2345678901234567890123456789012345678901234567890123456789012345", false)] // 65
    [InlineData("Work", false)]
    [InlineData(".hidden", false)]
    [InlineData("-dash", false)]
    [InlineData("_under", false)]
    [InlineData("with space", false)]
    [InlineData("dot.ted", false)]
    [InlineData("caf\u00e9", false)]
    [InlineData("new\nline", false)]
    public void Only_names_Hermes_accepts_for_a_profile_are_listed(string name, bool listed)
    {
        Make("keep", name);

        Assert.Equal(listed ? new[] { "keep", name }.Order(StringComparer.Ordinal) : ["keep"], HermesProfiles.List(Home).Select(p => p.Name));
    }

    [Fact]
    public void Files_and_dangling_links_are_not_profiles_but_a_link_to_a_directory_is()
    {
        Make("work");
        dir.Write(Path.GetRelativePath(dir.Path, Path.Combine(Profiles, "notes")), "a file, not a profile");
        var elsewhere = Directory.CreateDirectory(Path.Combine(dir.Path, "elsewhere", "linked")).FullName;
        File.CreateSymbolicLink(Path.Combine(Profiles, "linked"), elsewhere);
        File.CreateSymbolicLink(Path.Combine(Profiles, "gone"), Path.Combine(dir.Path, "nowhere"));

        Assert.Equal(["linked", "work"], HermesProfiles.List(Home).Select(p => p.Name));
    }

    [Fact]
    public void Profiles_in_other_places_are_not_listed()
    {
        Directory.CreateDirectory(Path.Combine(Home, ".hermes", "work")); // the root itself is no profile directory
        Directory.CreateDirectory(Path.Combine(Profiles, "work", "profiles", "nested"));

        Assert.Equal(["work"], HermesProfiles.List(Home).Select(p => p.Name));
    }

    [Fact]
    public void No_profiles_directory_or_a_file_in_its_place_lists_nothing()
    {
        Assert.Empty(HermesProfiles.List(Home));
        Assert.Empty(HermesProfiles.List(Path.Combine(dir.Path, "no-such-home")));

        dir.Write(Path.GetRelativePath(dir.Path, Profiles), "not a directory");
        Assert.Empty(HermesProfiles.List(Home));
    }

    [Fact]
    public void A_home_given_with_a_trailing_slash_lists_the_same_paths()
    {
        Make("work");

        Assert.Equal(HermesProfiles.List(Home), HermesProfiles.List(Home + "/"));
        Assert.Equal(Profiles, HermesProfiles.ProfilesDirectory(Home + "/"));
    }

    public void Dispose() => dir.Dispose();
}
