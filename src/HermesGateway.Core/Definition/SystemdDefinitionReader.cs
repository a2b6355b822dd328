using System.Collections.Immutable;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Definition;

/// <summary>
/// Reads a whole unit (with its drop-ins) into a definition, so an existing installation — this module's or
/// upstream's own — can be adopted, compared and tested. What the definition does not model is kept as written.
/// </summary>
public static class SystemdDefinitionReader
{
    /// <summary>
    /// The unit as a definition. Specifiers in its values are resolved as systemd resolves them for this unit (see
    /// <see cref="SpecifierContext"/>; without one given, the calling user's facts for a user unit); one the engine
    /// cannot resolve is refused, and so is a HERMES_HOME that is not an absolute path: the engine writes the gateway's
    /// markers there and must never take '%h/...' or a relative path literally, relative to its own working directory.
    /// </summary>
    public static ServiceDefinition FromUnit(SystemdUnit unit, SpecifierContext? context = null)
    {
        var s = unit.Settings;
        var x = context ?? SpecifierContext.For(unit.Name, LooksLikeSystemUnit(unit), ServiceEnvironment.Current());
        string R(string value, string what, bool dollars = false) =>
            SystemdSpecifiers.Expand(dollars ? value.Replace("$$", "$", StringComparison.Ordinal) : value, x, what);
        var extras = ImmutableArray.CreateBuilder<ExtraUnitSetting>();
        string? description = null, user = null, group = null, workingDirectory = null, environmentFile = null, stdout = null, stderr = null;
        string? home = null;
        var environment = new List<EnvironmentVariable>();
        var after = new List<string>();
        var wants = new List<string>();
        var wantedBy = new List<string>();
        var markPlannedStop = false;
        var hideInvocationId = false;
        var reviveRequestedRestart = false;
        string? markerHome = null;
        UnixSignal? reloadSignal = null;
        int? burst = null;
        TimeSpan? interval = null;

        foreach (var e in unit.Entries)
        {
            var v = e.Value;
            switch (e.Section, e.Key)
            {
                case ("Unit", "Description"):
                    description = R(v, "Description=");
                    break;
                case ("Unit", "After"):
                    Accumulate(after, v);
                    break;
                case ("Unit", "Wants"):
                    Accumulate(wants, v);
                    break;
                case ("Install", "WantedBy"):
                    Accumulate(wantedBy, v);
                    break;
                case ("Unit", "StartLimitIntervalSec" or "StartLimitInterval") or ("Service", "StartLimitInterval"):
                    interval = s.StartLimitInterval;
                    break;
                case ("Unit" or "Service", "StartLimitBurst"):
                    burst = s.StartLimitBurst;
                    break;
                case ("Service", "Type"):
                    break; // taken from the parsed settings below
                case ("Service", "User"):
                    user = v.Length == 0 ? null : v;
                    break;
                case ("Service", "Group"):
                    group = v.Length == 0 ? null : v;
                    break;
                case ("Service", "WorkingDirectory"):
                    workingDirectory = v.Length == 0 ? null : R(v, "WorkingDirectory=");
                    break;
                case ("Service", "EnvironmentFile"):
                    environmentFile = v.Length == 0 ? null : R(v, "EnvironmentFile=");
                    break;
                case ("Service", "Environment"):
                    if (v.Trim().Length == 0)
                    {
                        environment.Clear();
                        home = null;
                        break;
                    }

                    // systemd resolves the specifiers of the whole value first, then splits it into assignments.
                    if (!SystemdValues.TrySplitCommandLine(R(v, "Environment="), out var prefix, out var words) || prefix.Length > 0)
                    {
                        extras.Add(new(e.Section, e.Key, v));
                        break;
                    }

                    foreach (var word in words)
                    {
                        var eq = word.IndexOf('=', StringComparison.Ordinal);
                        if (eq <= 0)
                        {
                            continue; // systemd ignores an assignment without '='
                        }

                        var variable = word[..eq];
                        var value = word[(eq + 1)..];
                        if (variable == "HERMES_HOME")
                        {
                            home = value;
                            continue;
                        }

                        environment.RemoveAll(x => x.Name == variable);
                        environment.Add(new EnvironmentVariable(variable, value));
                    }

                    break;
                case ("Service", "UnsetEnvironment") when v == SystemdModel.InvocationIdVariable:
                    hideInvocationId = true;
                    break;
                case ("Service", "ExecStop") when ParsePlannedStop(v, x) is { } marker:
                    markPlannedStop = true;
                    markerHome = marker;
                    break;
                case ("Service", "ExecStopPost") when ParseReviver(v, x) is { } reviverHome:
                    reviveRequestedRestart = true;
                    markerHome ??= reviverHome;
                    break;
                case ("Service", "ExecReload") when ParseReload(v) is { } sig:
                    reloadSignal = sig;
                    break;
                case ("Service", "StandardOutput") when v.StartsWith("append:", StringComparison.Ordinal):
                    stdout = R(v["append:".Length..], "StandardOutput=");
                    break;
                case ("Service", "StandardError") when v.StartsWith("append:", StringComparison.Ordinal):
                    stderr = R(v["append:".Length..], "StandardError=");
                    break;
                case ("Service", "ExecStart" or "Restart" or "RestartSec" or "RestartSteps" or "RestartMaxDelaySec" or "SuccessExitStatus"
                    or "RestartForceExitStatus" or "RestartPreventExitStatus" or "KillMode" or "KillSignal" or "TimeoutStopSec"):
                    break; // taken from the parsed settings below
                default:
                    extras.Add(new(e.Section, e.Key, v));
                    break;
            }
        }

        if (s.ExecStart.IsEmpty || !SystemdValues.TrySplitCommandLine(s.ExecStart[^1], out var execPrefix, out var exec) || execPrefix.Length > 0)
        {
            throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidData,
                $"'{unit.Path}' has no plain ExecStart= command line to take the gateway's command from.", unit.Path);
        }

        // systemd execs the first word as written ('$' is expanded in the arguments only).
        var command = exec.Select((w, i) => R(w, "ExecStart=", dollars: i > 0)).ToImmutableArray();
        var hermesHome = home ?? markerHome;
        if (hermesHome is not null && !hermesHome.StartsWith('/'))
        {
            throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidData,
                $"'{unit.Path}' sets HERMES_HOME to '{hermesHome}', which is not an absolute path: the gateway would resolve it against its working directory, this module against its own. Write the absolute path.", unit.Path);
        }

        var arguments = command.RemoveAt(0);
        var profileAt = arguments.IndexOf("--profile");
        var name = unit.ServiceName;
        var system = user is not null || wantedBy.Contains("multi-user.target");
        return new ServiceDefinition
        {
            Platform = ServicePlatform.Systemd,
            Scope = system ? ServiceScope.System : ServiceScope.User,
            Name = name,
            Profile = profileAt >= 0 && profileAt + 1 < arguments.Length ? arguments[profileAt + 1] : null,
            Description = description,
            HermesHome = hermesHome,
            Executable = command[0],
            Arguments = arguments,
            WorkingDirectory = workingDirectory,
            Environment = [.. environment],
            EnvironmentFile = environmentFile,
            User = user,
            Group = group,
            StandardOutPath = stdout,
            StandardErrorPath = stderr,
            StopTimeout = s.TimeoutStopSec ?? TimeSpan.MaxValue,
            Systemd = new SystemdRestartOptions
            {
                Restart = s.Restart,
                RestartSec = s.RestartSec,
                RestartSteps = s.RestartSteps,
                RestartMaxDelay = s.RestartMaxDelaySec,
                StartLimitInterval = interval,
                StartLimitBurst = burst,
                SuccessExitStatus = s.SuccessExitStatus,
                RestartForceExitStatus = s.RestartForceExitStatus,
                RestartPreventExitStatus = s.RestartPreventExitStatus,
                KillMode = s.KillMode,
                KillSignal = s.KillSignal,
                MarkPlannedStop = markPlannedStop,
                HideInvocationId = hideInvocationId,
                ReviveRequestedRestart = reviveRequestedRestart,
                ReloadSignal = reloadSignal,
                Type = s.Type,
                After = [.. after],
                Wants = [.. wants],
                WantedBy = [.. wantedBy],
            },
            ExtraUnitSettings = extras.ToImmutable(),
        };
    }

    /// <summary>The module's own ExecStop= form: '/bin/sh -c SCRIPT hermes-mark-planned-stop HOME $MAINPID'; gives HOME.</summary>
    public static string? ParsePlannedStop(string value, SpecifierContext context)
    {
        if (!SystemdValues.TrySplitCommandLine(value, out var prefix, out var w) || prefix.Length > 0)
        {
            return null;
        }

        return w.Length == 6 && w[0] == "/bin/sh" && w[1] == "-c" && w[3] == SystemdModel.PlannedStopMarkerCommand && w[5] == "$MAINPID"
            ? SystemdSpecifiers.Expand(w[4].Replace("$$", "$", StringComparison.Ordinal), context, "ExecStop=")
            : null;
    }

    /// <summary>The module's own ExecStopPost= form: '/bin/sh -c SCRIPT hermes-revive-requested-restart HOME --user|--system %n'; gives HOME.</summary>
    public static string? ParseReviver(string value, SpecifierContext context)
    {
        if (!SystemdValues.TrySplitCommandLine(value, out var prefix, out var w) || prefix is not ("" or "+"))
        {
            return null;
        }

        return w.Length == 7 && w[0] == "/bin/sh" && w[1] == "-c" && w[3] == SystemdModel.RestartReviverCommand && w[5] is "--user" or "--system" && w[6] == "%n"
            ? SystemdSpecifiers.Expand(w[4].Replace("$$", "$", StringComparison.Ordinal), context, "ExecStopPost=")
            : null;
    }

    /// <summary>The module's own ExecReload= form: '/bin/kill -SIG $MAINPID'; gives the signal.</summary>
    public static UnixSignal? ParseReload(string value)
    {
        if (!SystemdValues.TrySplitCommandLine(value, out var prefix, out var w) || prefix.Length > 0)
        {
            return null;
        }

        return w.Length == 3 && w[0] == "/bin/kill" && w[1].StartsWith('-') && w[2] == "$MAINPID" && UnixSignals.TryParse(w[1][1..], SignalPlatform.Linux, out var sig)
            ? sig
            : null;
    }

    /// <summary>The same test the definition's Scope is decided by: a User= or WantedBy=multi-user.target makes a system unit.</summary>
    private static bool LooksLikeSystemUnit(SystemdUnit unit)
    {
        string? user = null;
        var multiUser = false;
        foreach (var e in unit.Entries)
        {
            switch (e.Section, e.Key)
            {
                case ("Service", "User"):
                    user = e.Value.Length == 0 ? null : e.Value;
                    break;
                case ("Install", "WantedBy"):
                    multiUser = e.Value.Trim().Length > 0 && (multiUser || e.Value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Contains("multi-user.target"));
                    break;
            }
        }

        return user is not null || multiUser;
    }

    private static void Accumulate(List<string> list, string value)
    {
        if (value.Trim().Length == 0)
        {
            list.Clear();
            return;
        }

        list.AddRange(value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }
}
