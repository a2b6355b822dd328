using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Platform;

/// <summary>Finds a program on a PATH, the way a shell would.</summary>
public static class ExecutableLocator
{
    public static string Find(string name, string? path)
    {
        foreach (var dir in (path ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!dir.StartsWith('/'))
            {
                continue; // a relative PATH entry would make the unit depend on the current directory
            }

            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        throw new HermesException(HermesErrorIds.ExecutableNotFound, HermesErrorCategory.ObjectNotFound,
            $"'{name}' is not on PATH; give the gateway's command with -Executable (an absolute path).", name);
    }
}
