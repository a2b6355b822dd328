using System.Collections.Immutable;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Launchd;

namespace HermesGateway.Core.Definition;

/// <summary>Writes a definition as a launchd plist: fixed key order, the right plist types, deterministic.</summary>
public static class LaunchdPlistRenderer
{
    public static string Render(ServiceDefinition d) => PlistWriter.ToXml(ToDictionary(d));

    public static PlistDict ToDictionary(ServiceDefinition d)
    {
        var o = d.Launchd ?? throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidArgument,
            $"'{d.Name}' is not a launchd definition.", d);
        var e = ImmutableArray.CreateBuilder<KeyValuePair<string, PlistValue>>();
        void Add(string key, PlistValue value) => e.Add(new(key, value));
        static PlistString Str(string s) => new(s);

        Add("Label", Str(d.Name));
        Add("ProgramArguments", new PlistArray([Str(d.Executable), .. d.Arguments.Select(a => (PlistValue)Str(a))]));
        if (d.WorkingDirectory is not null)
        {
            Add("WorkingDirectory", Str(d.WorkingDirectory));
        }

        var env = ImmutableArray.CreateBuilder<KeyValuePair<string, PlistValue>>();
        if (d.HermesHome is not null)
        {
            env.Add(new("HERMES_HOME", Str(d.HermesHome)));
        }

        env.AddRange(d.Environment.Select(v => new KeyValuePair<string, PlistValue>(v.Name, Str(v.Value))));
        if (env.Count > 0)
        {
            Add("EnvironmentVariables", new PlistDict(env.ToImmutable()));
        }

        if (d.User is not null)
        {
            Add("UserName", Str(d.User));
        }

        if (d.Group is not null)
        {
            Add("GroupName", Str(d.Group));
        }

        Add("RunAtLoad", new PlistBoolean(o.RunAtLoad));
        Add("KeepAlive", KeepAlive(o.KeepAlive));
        Add("ThrottleInterval", new PlistInteger(o.ThrottleInterval));
        if (d.StopTimeout != TimeSpan.MaxValue)
        {
            Add("ExitTimeOut", new PlistInteger((long)Math.Ceiling(d.StopTimeout.TotalSeconds)));
        }
        else
        {
            Add("ExitTimeOut", new PlistInteger(0));
        }

        if (d.StandardOutPath is not null)
        {
            Add("StandardOutPath", Str(d.StandardOutPath));
        }

        if (d.StandardErrorPath is not null)
        {
            Add("StandardErrorPath", Str(d.StandardErrorPath));
        }

        foreach (var extra in d.ExtraPlistKeys)
        {
            Add(extra.Key, extra.Value);
        }

        return new PlistDict(e.ToImmutable());
    }

    public static PlistValue KeepAlive(LaunchdKeepAlive k)
    {
        if (k.Unconditional || !k.KeepsAlive)
        {
            return new PlistBoolean(k.Unconditional);
        }

        var e = ImmutableArray.CreateBuilder<KeyValuePair<string, PlistValue>>();
        if (k.SuccessfulExit is { } se)
        {
            e.Add(new("SuccessfulExit", new PlistBoolean(se)));
        }

        if (k.Crashed is { } c)
        {
            e.Add(new("Crashed", new PlistBoolean(c)));
        }

        if (!k.PathState.IsEmpty)
        {
            e.Add(new("PathState", new PlistDict([.. k.PathState.Select(p => new KeyValuePair<string, PlistValue>(p.Key, new PlistBoolean(p.Value)))])));
        }

        if (!k.OtherJobEnabled.IsEmpty)
        {
            e.Add(new("OtherJobEnabled", new PlistDict([.. k.OtherJobEnabled.Select(p => new KeyValuePair<string, PlistValue>(p.Key, new PlistBoolean(p.Value)))])));
        }

        if (k.AfterInitialDemand)
        {
            e.Add(new("AfterInitialDemand", new PlistBoolean(true)));
        }

        return new PlistDict(e.ToImmutable());
    }
}
