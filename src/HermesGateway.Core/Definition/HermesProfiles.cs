namespace HermesGateway.Core.Definition;

/// <summary>A Hermes profile that exists: its name and the HERMES_HOME a service for it gets by default.</summary>
public sealed record HermesProfile(string Name, string HermesHome);

/// <summary>
/// The profiles a user has: the directories under ~/.hermes/profiles whose names Hermes accepts (what -Profile may
/// name). Only the directory is listed, nothing in it is read, so this is fast enough for tab completion.
/// </summary>
public static class HermesProfiles
{
    /// <summary>Where the profiles of the user with this home directory live.</summary>
    public static string ProfilesDirectory(string homeDirectory) => ServiceDefinitionFactory.DefaultHermesHome(homeDirectory, null) + "/profiles";

    /// <summary>The profiles, sorted by name (ordinal); none when the directory is missing or cannot be read.</summary>
    public static IReadOnlyList<HermesProfile> List(string homeDirectory)
    {
        var root = ProfilesDirectory(homeDirectory);
        var found = new List<HermesProfile>();
        try
        {
            // A symbolic link to a directory counts: it is what Hermes would open for the profile.
            foreach (var path in Directory.EnumerateDirectories(root))
            {
                var name = Path.GetFileName(path);
                if (ServiceDefinitionFactory.IsProfileName(name))
                {
                    found.Add(new HermesProfile(name, ServiceDefinitionFactory.DefaultHermesHome(homeDirectory, name)));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Missing or unreadable: offer what was listed (completion must not fail).
        }

        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return found;
    }
}
