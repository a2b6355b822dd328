using System.Collections.Immutable;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Launchd;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Definition;

/// <summary>Reads a whole plist into a definition; keys the definition does not model are kept as written.</summary>
public static class LaunchdDefinitionReader
{
    private static readonly HashSet<string> Modelled = new(StringComparer.Ordinal)
    {
        "Label", "ProgramArguments", "WorkingDirectory", "EnvironmentVariables", "UserName", "GroupName", "RunAtLoad",
        "KeepAlive", "ThrottleInterval", "ExitTimeOut", "StandardOutPath", "StandardErrorPath",
    };

    public static ServiceDefinition FromJob(LaunchdJob job)
    {
        var d = job.Document;
        var s = job.Settings;
        if (s.ProgramArguments.IsEmpty || d["Program"] is not null)
        {
            throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidData,
                $"'{job.Path}' has no ProgramArguments (or also a Program) to take the gateway's command from.", job.Path);
        }

        string? Text(string key) => d[key] is PlistString str ? str.Value : null;
        string? home = null;
        var environment = new List<EnvironmentVariable>();
        var extras = ImmutableArray.CreateBuilder<KeyValuePair<string, PlistValue>>();
        foreach (var key in d.Keys)
        {
            var value = d[key]!;
            if (!Modelled.Contains(key) || (key == "EnvironmentVariables" && value is not PlistDict)
                || (key is "ThrottleInterval" or "ExitTimeOut" && value is not PlistInteger)
                || (key is "RunAtLoad" && value is not PlistBoolean))
            {
                extras.Add(new(key, value));
            }
        }

        if (d["EnvironmentVariables"] is PlistDict env)
        {
            foreach (var key in env.Keys)
            {
                if (env[key] is not PlistString str)
                {
                    continue; // launchd ignores values that are not strings
                }

                if (key == "HERMES_HOME")
                {
                    home = str.Value;
                }
                else
                {
                    environment.Add(new EnvironmentVariable(key, str.Value));
                }
            }
        }

        var arguments = s.ProgramArguments.RemoveAt(0);
        var profileAt = arguments.IndexOf("--profile");
        var user = Text("UserName");
        return new ServiceDefinition
        {
            Platform = ServicePlatform.Launchd,
            Scope = user is null ? ServiceScope.Agent : ServiceScope.Daemon,
            Name = s.Label,
            Profile = profileAt >= 0 && profileAt + 1 < arguments.Length ? arguments[profileAt + 1] : null,
            HermesHome = home,
            Executable = s.ProgramArguments[0],
            Arguments = arguments,
            WorkingDirectory = Text("WorkingDirectory"),
            Environment = [.. environment],
            User = user,
            Group = Text("GroupName"),
            StandardOutPath = Text("StandardOutPath"),
            StandardErrorPath = Text("StandardErrorPath"),
            StopTimeout = s.ExitTimeOut switch
            {
                0 => TimeSpan.MaxValue,
                { } n => TimeSpan.FromSeconds(n),
                null => TimeSpan.FromSeconds(LaunchdJobSettings.AssumedDefaultExitTimeOut),
            },
            Launchd = new LaunchdRestartOptions
            {
                KeepAlive = s.KeepAlive,
                ThrottleInterval = s.ThrottleInterval,
                RunAtLoad = s.RunAtLoad,
            },
            ExtraPlistKeys = extras.ToImmutable(),
        };
    }
}
