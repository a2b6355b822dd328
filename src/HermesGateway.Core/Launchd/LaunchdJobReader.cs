using System.Collections.Immutable;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Launchd;

/// <summary>Reads a plist (XML or binary) into a <see cref="LaunchdJob"/>, with what launchd would ignore or refuse.</summary>
public static class LaunchdJobReader
{
    public static LaunchdJob ReadFile(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var bytes = TextFiles.ReadBytes(full);
        if (PlistReader.LooksBinary(bytes))
        {
            if (BinaryPlistReader.Parse(bytes, full) is not PlistDict binary)
            {
                throw new HermesException(HermesErrorIds.PlistNotAJob, HermesErrorCategory.InvalidData,
                    $"'{full}' is a binary property list whose top-level value is not a dictionary, so it is not a launchd job.", full);
            }

            return FromDictionary(binary, full);
        }

        return Parse(TextFiles.DecodeText(bytes, full), full);
    }

    public static LaunchdJob Parse(string text, string path)
    {
        if (PlistReader.ParseXml(text, path) is not PlistDict dict)
        {
            throw new HermesException(HermesErrorIds.PlistNotAJob, HermesErrorCategory.InvalidData,
                $"'{path}' is a property list whose top-level value is not a dictionary, so it is not a launchd job.", path);
        }

        return FromDictionary(dict, path);
    }

    public static LaunchdJob FromDictionary(PlistDict dict, string path)
    {
        var diagnostics = ImmutableArray.CreateBuilder<UnitDiagnostic>();
        void Warn(string key, string message) => diagnostics.Add(new(DiagnosticSeverity.Warning, path, 0, null, key, message));
        void Fatal(string key, string message) => diagnostics.Add(new(DiagnosticSeverity.Fatal, path, 0, null, key, message));

        var s = new LaunchdJobSettings();
        T? Get<T>(string key)
            where T : PlistValue
        {
            var v = dict[key];
            if (v is null)
            {
                return null;
            }

            if (v is T t)
            {
                return t;
            }

            Warn(key, $"{key} is a {v.TypeName}, not the {typeof(T).Name[5..].ToLowerInvariant()} launchd expects; launchd ignores it.");
            return null;
        }

        if (Get<PlistString>("Label") is { } label && label.Value.Length > 0)
        {
            s = s with { Label = label.Value };
        }
        else
        {
            Fatal("Label", "The job has no Label; launchctl refuses to load it.");
        }

        if (Get<PlistString>("Program") is { } program)
        {
            s = s with { Program = program.Value };
            if (!program.Value.StartsWith('/'))
            {
                Fatal("Program", $"Program '{program.Value}' is not an absolute path.");
            }
        }

        if (Get<PlistArray>("ProgramArguments") is { } args)
        {
            var strings = args.Items.OfType<PlistString>().Select(x => x.Value).ToImmutableArray();
            if (strings.Length != args.Items.Length)
            {
                Warn("ProgramArguments", "ProgramArguments holds values that are not strings.");
            }

            s = s with { ProgramArguments = strings };
        }

        if (s.Program is null && s.ProgramArguments.IsEmpty)
        {
            Fatal("ProgramArguments", "The job has neither Program nor ProgramArguments; launchd has nothing to run.");
        }

        switch (dict["KeepAlive"])
        {
            case null:
                break;
            case PlistBoolean b:
                s = s with { KeepAlive = b.Value ? LaunchdKeepAlive.Always : LaunchdKeepAlive.Never };
                break;
            case PlistDict k:
                s = s with { KeepAlive = ReadKeepAlive(k, Warn) };
                break;
            default:
                Warn("KeepAlive", $"KeepAlive is a {dict["KeepAlive"]!.TypeName}; launchd takes a boolean or a dictionary and ignores it.");
                break;
        }

        if (dict["OnDemand"] is PlistBoolean onDemand && dict["KeepAlive"] is null)
        {
            // Deprecated: OnDemand=false means KeepAlive=true.
            s = s with { KeepAlive = onDemand.Value ? LaunchdKeepAlive.Never : LaunchdKeepAlive.Always };
        }

        if (Get<PlistBoolean>("RunAtLoad") is { } runAtLoad)
        {
            s = s with { RunAtLoad = runAtLoad.Value };
        }

        if (Get<PlistInteger>("ThrottleInterval") is { } throttle)
        {
            if (throttle.Value < 0 || throttle.Value > int.MaxValue)
            {
                Warn("ThrottleInterval", $"ThrottleInterval {throttle.Value} is out of range; launchd ignores it.");
            }
            else
            {
                s = s with { ThrottleInterval = (int)throttle.Value };
            }
        }

        if (Get<PlistInteger>("ExitTimeOut") is { } exitTimeOut)
        {
            s = s with { ExitTimeOut = (int)Math.Clamp(exitTimeOut.Value, 0, int.MaxValue) };
        }

        if (Get<PlistBoolean>("LaunchOnlyOnce") is { } once)
        {
            s = s with { LaunchOnlyOnce = once.Value };
        }

        if (Get<PlistBoolean>("Disabled") is { } disabled)
        {
            s = s with { Disabled = disabled.Value };
        }

        if (Get<PlistBoolean>("EnableTransactions") is { } transactions)
        {
            s = s with { EnableTransactions = transactions.Value };
        }

        if (Get<PlistBoolean>("AbandonProcessGroup") is { } abandon)
        {
            s = s with { AbandonProcessGroup = abandon.Value };
        }

        if (Get<PlistString>("UserName") is { } user)
        {
            s = s with { UserName = user.Value };
        }

        if (Get<PlistString>("ProcessType") is { } processType)
        {
            s = s with { ProcessType = processType.Value };
        }

        if (dict["TimeOut"] is not null)
        {
            Warn("TimeOut", "TimeOut is no longer implemented by launchd; it does not delay restarts (use ThrottleInterval).");
        }

        return new LaunchdJob(path, s, dict, diagnostics.ToImmutable());
    }

    private static LaunchdKeepAlive ReadKeepAlive(PlistDict k, Action<string, string> warn)
    {
        var keep = new LaunchdKeepAlive();
        foreach (var key in k.Keys)
        {
            var v = k[key];
            switch (key)
            {
                case "SuccessfulExit" when v is PlistBoolean b:
                    keep = keep with { SuccessfulExit = b.Value };
                    break;
                case "Crashed" when v is PlistBoolean b:
                    keep = keep with { Crashed = b.Value };
                    break;
                case "AfterInitialDemand" when v is PlistBoolean b:
                    keep = keep with { AfterInitialDemand = b.Value };
                    break;
                case "PathState" when v is PlistDict d:
                    keep = keep with { PathState = d.Keys.Where(p => d[p] is PlistBoolean).ToImmutableSortedDictionary(p => p, p => ((PlistBoolean)d[p]!).Value, StringComparer.Ordinal) };
                    break;
                case "OtherJobEnabled" when v is PlistDict d:
                    keep = keep with { OtherJobEnabled = d.Keys.Where(p => d[p] is PlistBoolean).ToImmutableSortedDictionary(p => p, p => ((PlistBoolean)d[p]!).Value, StringComparer.Ordinal) };
                    break;
                case "NetworkState":
                    warn("KeepAlive", "KeepAlive.NetworkState is no longer implemented by launchd and has no effect.");
                    break;
                default:
                    warn("KeepAlive", $"KeepAlive.{key} ({v?.TypeName}) is not a condition launchd knows; it is ignored.");
                    break;
            }
        }

        return keep;
    }
}
