using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Service;

/// <summary>
/// What a service needs on the machine its supervisor runs it on: its command, an executable file, and the accounts it
/// runs as. Asked through the supervisor's process runner, so the answer is that machine's (the name service, not
/// just /etc/passwd; the sandbox's, in the tests that run systemd in one).
/// </summary>
internal static class ServicePrerequisites
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>One error per prerequisite that is missing; <paramref name="groupLookup"/> is how this system lists a group (null: not checked).</summary>
    public static IReadOnlyList<HermesException> Missing(IProcessRunner runner, ServiceDefinition d, IReadOnlyList<string>? groupLookup)
    {
        var missing = new List<HermesException>();
        if (runner.Run("test", ["-f", d.Executable, "-a", "-x", d.Executable], Timeout).ExitCode != 0)
        {
            missing.Add(new HermesException(HermesErrorIds.ExecutableNotFound, HermesErrorCategory.ObjectNotFound,
                $"'{d.Executable}' is not an executable file on this machine, so {d.Name} cannot start. Install Hermes first, or give its path with -Executable", d.Executable));
        }

        if (d.User is { } user && runner.Run("id", ["-u", "--", user], Timeout).ExitCode != 0)
        {
            missing.Add(new HermesException(HermesErrorIds.AccountNotFound, HermesErrorCategory.ObjectNotFound,
                $"The user '{user}' does not exist on this machine, so {d.Name} cannot start. Create the account first (e.g. useradd --system --create-home {user})", user));
        }

        if (d.Group is { } group && groupLookup is not null && runner.Run(groupLookup[0], [.. groupLookup.Skip(1), "--", group], Timeout).ExitCode != 0)
        {
            missing.Add(new HermesException(HermesErrorIds.AccountNotFound, HermesErrorCategory.ObjectNotFound,
                $"The group '{group}' does not exist on this machine, so {d.Name} cannot start. Create it first (groupadd --system {group}) or leave -Group out", group));
        }

        return missing;
    }
}
