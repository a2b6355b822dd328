using System.Collections.Immutable;
using System.Globalization;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Systemd;

/// <summary>Reads units and drop-ins into <see cref="SystemdUnit"/>, treating unknown keys and bad values as systemd does.</summary>
public static class SystemdUnitReader
{
    public const int MinimumVersion = 240;
    public const int DefaultVersion = EvaluationOptions.DefaultSystemdVersion;

    private static readonly Lazy<ImmutableHashSet<string>> KnownKeys252 = new(LoadKnownKeys);

    /// <summary>Keys added after 252 that the model understands, with the version that introduced them.</summary>
    private static readonly Dictionary<string, int> NewerKeys = new(StringComparer.Ordinal)
    {
        ["Service.RestartSteps"] = 254,
        ["Service.RestartMaxDelaySec"] = 254,
        ["Service.RestartMode"] = 254,
    };

    public static void ValidateVersion(int version)
    {
        if (version < MinimumVersion || version > 999)
        {
            throw new HermesException(HermesErrorIds.SystemdVersionUnsupported, HermesErrorCategory.InvalidArgument,
                $"systemd {version} is not modelled; give a version from {MinimumVersion} (Type=exec exists since 240) upwards.", version);
        }
    }

    /// <summary>
    /// Reads a unit file and its drop-ins: '&lt;unit&gt;.d/', the dash-prefix directories ('hermes-.service.d/' for
    /// 'hermes-gateway.service') and the type directory 'service.d/', in any extra directories and beside the unit.
    /// All are applied in file-name order; of two drop-ins with the same file name the one in the higher-priority
    /// directory, and there the more specific name, wins (checked on systemd 252).
    /// </summary>
    public static SystemdUnit ReadFile(string path, int version = DefaultVersion, IEnumerable<string>? extraDropInDirectories = null)
    {
        ValidateVersion(version);
        var full = System.IO.Path.GetFullPath(path);
        var text = TextFiles.ReadText(full);
        var name = System.IO.Path.GetFileName(full);
        // Extra directories come in systemd's priority order and rank above the unit's own (e.g. /etc/systemd/system
        // above /usr/lib/systemd/system, where the unit itself lives).
        var searchDirs = (extraDropInDirectories ?? []).Select(System.IO.Path.GetFullPath).ToList();
        searchDirs.Add(System.IO.Path.GetDirectoryName(full)!);

        var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in searchDirs.Distinct().SelectMany(d => DropInDirectoryNames(name).Select(n => System.IO.Path.Combine(d, n))).Where(Directory.Exists))
        {
            foreach (var conf in Directory.EnumerateFiles(dir, "*.conf"))
            {
                byName.TryAdd(System.IO.Path.GetFileName(conf), conf);
            }
        }

        var dropIns = byName.Values.Select(p => (p, ReadDropIn(p))).ToList();
        return Parse(text, full, version, dropIns);
    }

    /// <summary>Drop-in directory names for a unit, most specific first: the unit, its dash prefixes, its type.</summary>
    public static IEnumerable<string> DropInDirectoryNames(string unitName)
    {
        yield return unitName + ".d";
        var dot = unitName.LastIndexOf('.');
        if (dot <= 0)
        {
            yield break;
        }

        var stem = unitName[..dot];
        var type = unitName[(dot + 1)..];
        for (var dash = stem.LastIndexOf('-', stem.Length - 2 >= 0 ? stem.Length - 2 : 0); dash > 0; dash = stem.LastIndexOf('-', dash - 1))
        {
            yield return $"{stem[..(dash + 1)]}.{type}.d";
        }

        yield return type + ".d";
    }

    /// <summary>An empty drop-in is valid (systemd reads it as no settings), unlike an empty unit file.</summary>
    private static string ReadDropIn(string path)
    {
        var bytes = TextFiles.ReadBytes(path);
        return bytes.AsSpan().Trim(" \t\r\n"u8).IsEmpty ? string.Empty : TextFiles.DecodeText(bytes, path);
    }

    public static SystemdUnit Parse(string text, string path, int version = DefaultVersion, IEnumerable<(string Path, string Text)>? dropIns = null)
    {
        ValidateVersion(version);
        var documents = new List<UnitFileDocument> { UnitFileDocument.Parse(text, path) };
        foreach (var (dropPath, dropText) in dropIns ?? [])
        {
            // A drop-in holding only comments (or nothing) is valid; only the unit file itself must have a section.
            documents.Add(UnitFileDocument.Parse(dropText, dropPath, requireSection: false));
        }

        var diagnostics = ImmutableArray.CreateBuilder<UnitDiagnostic>();
        var entries = ImmutableArray.CreateBuilder<UnitEntry>();
        foreach (var doc in documents)
        {
            diagnostics.AddRange(doc.Diagnostics);
            foreach (var section in doc.Sections.Distinct())
            {
                if (section is not ("Unit" or "Service" or "Install") && !section.StartsWith("X-", StringComparison.Ordinal))
                {
                    diagnostics.Add(new(DiagnosticSeverity.Warning, doc.Path, 0, section, null, $"Unknown section '{section}'. Ignoring."));
                }
            }

            entries.AddRange(doc.Entries);
        }

        var settings = new SystemdServiceSettings();
        var restartMaxDelaySet = false;
        var restartStepsSet = false;
        foreach (var e in entries)
        {
            if (e.Section is not ("Unit" or "Service" or "Install"))
            {
                continue;
            }

            if (!IsKnown(e.Section, e.Key, version))
            {
                diagnostics.Add(Warn(e, $"Unknown key name '{e.Key}' in section '{e.Section}', ignoring."));
                continue;
            }

            settings = Apply(settings, e, version, diagnostics, ref restartMaxDelaySet, ref restartStepsSet);
        }

        settings = Verify(settings, path, version, restartMaxDelaySet, restartStepsSet, diagnostics);
        NotModelled(settings, entries, path, version, diagnostics);
        return new SystemdUnit(System.IO.Path.GetFileName(path), path, documents.Skip(1).Select(d => d.Path).ToImmutableArray(), version, settings, entries.ToImmutable(), diagnostics.ToImmutable());
    }

    /// <summary>Keys systemd acts on during a service's life that the model does not play; each one found is named once.</summary>
    private static readonly ImmutableDictionary<string, string> LifecycleKeysNotModelled = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Service.ExecStartPre"] = "a failing ExecStartPre= fails the start before the main process runs",
        ["Service.ExecStartPost"] = "ExecStartPost= delays the start and can fail it",
        ["Service.ExecCondition"] = "ExecCondition= can skip the start (Result=exec-condition)",
        ["Service.TimeoutStartFailureMode"] = "the model always terminates (KillSignal=) on a start timeout",
        ["Service.TimeoutStopFailureMode"] = "the model always kills (FinalKillSignal=) on a stop timeout",
        ["Service.RuntimeRandomizedExtraSec"] = "the model uses RuntimeMaxSec= without the random extra",
        ["Service.NotifyAccess"] = "the model takes READY=1 and WATCHDOG=1 as accepted when the process sends them",
        ["Service.PIDFile"] = "the main PID is taken to be the started process",
        ["Service.BusName"] = "readiness by bus name is not played",
        ["Unit.SuccessAction"] = "the action on success (a reboot, an exit of the manager) is not played",
        ["Unit.FailureAction"] = "the action on failure (a reboot, an exit of the manager) is not played",
        ["Unit.StartLimitAction"] = "the action when the start limit is hit is not played",
        ["Unit.JobTimeoutSec"] = "job timeouts are not played",
        ["Unit.JobRunningTimeoutSec"] = "job timeouts are not played",
    }.ToImmutableDictionary(StringComparer.Ordinal);

    /// <summary>Settings the model reads (or finds) but does not model warn, so no answer silently leaves them out.</summary>
    private static void NotModelled(SystemdServiceSettings s, ImmutableArray<UnitEntry>.Builder entries, string path, int version, ImmutableArray<UnitDiagnostic>.Builder diagnostics)
    {
        void Say(UnitEntry? e, string section, string message) =>
            diagnostics.Add(new(DiagnosticSeverity.NotModelled, e?.File ?? path, e?.Line ?? 0, section, e?.Key, message));

        if (s.Type is ServiceType.Forking or ServiceType.Dbus or ServiceType.Oneshot)
        {
            var e = entries.LastOrDefault(x => x is { Section: "Service", Key: "Type" });
            Say(e, "Service", $"Type={SystemdNames.Of(s.Type)} is not modelled: its start is played as Type=simple's ({(s.Type == ServiceType.Oneshot ? "a oneshot start waits for the process to exit" : "readiness by the parent's exit or a bus name")}).");
        }

        var mode = entries.LastOrDefault(x => x is { Section: "Service", Key: "RestartMode" });
        if (version >= 254 && mode is { Value: "direct" or "debug" })
        {
            Say(mode, "Service", $"RestartMode={mode.Value} is not modelled: the states between a death and its restart are played as RestartMode=normal's.");
        }

        foreach (var e in entries.Where(x => x.Value.Length > 0 && LifecycleKeysNotModelled.ContainsKey(x.Section + "." + x.Key)).DistinctBy(x => x.Section + "." + x.Key))
        {
            Say(e, e.Section, $"{e.Key}= is not modelled: {LifecycleKeysNotModelled[e.Section + "." + e.Key]}.");
        }
    }

    private static bool IsKnown(string section, string key, int version)
    {
        var id = section + "." + key;
        if (NewerKeys.TryGetValue(id, out var since))
        {
            return version >= since;
        }

        return KnownKeys252.Value.Contains(id);
    }

    private static UnitDiagnostic Warn(UnitEntry e, string message) => new(DiagnosticSeverity.Warning, e.File, e.Line, e.Section, e.Key, message);

    private static SystemdServiceSettings Apply(SystemdServiceSettings s, UnitEntry e, int version, ImmutableArray<UnitDiagnostic>.Builder diagnostics, ref bool restartMaxDelaySet, ref bool restartStepsSet)
    {
        var v = e.Value;
        void Bad(string what) => diagnostics.Add(Warn(e, $"Failed to parse {what}, ignoring: {v}"));

        switch (e.Section, e.Key)
        {
            case ("Service", "Type"):
                // notify-reload exists from 253.
                if (!SystemdNames.TryParse<ServiceType>(v, SystemdNames.Of, out var type) || (type == ServiceType.NotifyReload && version < 253))
                {
                    Bad("service type");
                    return s;
                }

                return s with { Type = type };

            case ("Service", "Restart"):
                if (!SystemdNames.TryParse<RestartPolicy>(v, SystemdNames.Of, out var restart))
                {
                    Bad("service restart specifier");
                    return s;
                }

                return s with { Restart = restart };

            case ("Service", "RestartSec"):
                if (!SystemdValues.TryParseTimeSpan(v, out var restartSec))
                {
                    Bad("RestartSec= value");
                    return s;
                }

                return s with { RestartSec = restartSec ?? TimeSpan.MaxValue };

            case ("Service", "RestartSteps"):
                if (v.Length == 0)
                {
                    restartStepsSet = false;
                    return s with { RestartSteps = 0 };
                }

                if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var steps))
                {
                    Bad("RestartSteps= value");
                    return s;
                }

                restartStepsSet = steps > 0;
                return s with { RestartSteps = steps };

            case ("Service", "RestartMaxDelaySec"):
                if (v.Length == 0)
                {
                    restartMaxDelaySet = false;
                    return s with { RestartMaxDelaySec = null };
                }

                if (!SystemdValues.TryParseTimeSpan(v, out var maxDelay))
                {
                    Bad("RestartMaxDelaySec= value");
                    return s;
                }

                restartMaxDelaySet = maxDelay is not null;
                return s with { RestartMaxDelaySec = maxDelay };

            case ("Service", "RestartMode"):
                if (v is not ("normal" or "direct" or "debug"))
                {
                    Bad("RestartMode= value");
                }

                return s;

            case ("Service", "SuccessExitStatus"):
                return s with { SuccessExitStatus = ApplyStatusList(s.SuccessExitStatus, e, diagnostics) };
            case ("Service", "RestartPreventExitStatus"):
                return s with { RestartPreventExitStatus = ApplyStatusList(s.RestartPreventExitStatus, e, diagnostics) };
            case ("Service", "RestartForceExitStatus"):
                return s with { RestartForceExitStatus = ApplyStatusList(s.RestartForceExitStatus, e, diagnostics) };

            case ("Service", "RemainAfterExit"):
                if (!SystemdValues.TryParseBoolean(v, out var remain))
                {
                    Bad("RemainAfterExit= value");
                    return s;
                }

                return s with { RemainAfterExit = remain };

            case ("Service", "IgnoreSIGPIPE"):
                if (!SystemdValues.TryParseBoolean(v, out var ignorePipe))
                {
                    Bad("IgnoreSIGPIPE= value");
                    return s;
                }

                return s with { IgnoreSigpipe = ignorePipe };

            case ("Service", "SendSIGKILL"):
                if (!SystemdValues.TryParseBoolean(v, out var sendKill))
                {
                    Bad("SendSIGKILL= value");
                    return s;
                }

                return s with { SendSigkill = sendKill };

            case ("Service", "TimeoutStopSec" or "TimeoutSec" or "TimeoutStartSec"):
                if (!SystemdValues.TryParseTimeSpan(v, out var timeout))
                {
                    Bad($"{e.Key}= value");
                    return s;
                }

                // 0 traditionally meant "no timeout", like infinity; TimeoutSec= sets both.
                timeout = timeout == TimeSpan.Zero ? null : timeout;
                return e.Key switch
                {
                    "TimeoutStopSec" => s with { TimeoutStopSec = timeout },
                    "TimeoutStartSec" => s with { TimeoutStartSec = timeout },
                    _ => s with { TimeoutStopSec = timeout, TimeoutStartSec = timeout },
                };

            case ("Service", "TimeoutAbortSec"):
                if (v.Length == 0)
                {
                    return s with { TimeoutAbortSec = null, TimeoutAbortSet = false };
                }

                if (!SystemdValues.TryParseTimeSpan(v, out var abort))
                {
                    Bad("TimeoutAbortSec= value");
                    return s;
                }

                return s with { TimeoutAbortSec = abort == TimeSpan.Zero ? null : abort, TimeoutAbortSet = true };

            case ("Service", "WatchdogSec" or "RuntimeMaxSec"):
                if (!SystemdValues.TryParseTimeSpan(v, out var limit))
                {
                    Bad($"{e.Key}= value");
                    return s;
                }

                // WatchdogSec=0 turns the watchdog off; RuntimeMaxSec=infinity is no limit (0 is a limit of zero).
                return e.Key == "WatchdogSec"
                    ? s with { WatchdogSec = limit == TimeSpan.Zero ? null : limit }
                    : s with { RuntimeMaxSec = limit };

            case ("Service", "WatchdogSignal"):
                if (!SystemdValues.TryParseSignal(v, out var watchdogSignal))
                {
                    Bad("signal");
                    return s;
                }

                return s with { WatchdogSignal = watchdogSignal };

            case ("Service", "LimitCORE"):
                if (!SystemdValues.TryParseResourceLimit(v, out var coreSoft))
                {
                    Bad("resource value");
                    return s;
                }

                return s with { LimitCoreSoft = coreSoft };

            case ("Service", "KillSignal" or "RestartKillSignal" or "FinalKillSignal"):
                if (!SystemdValues.TryParseSignal(v, out var sig))
                {
                    Bad("signal");
                    return s;
                }

                return e.Key switch
                {
                    "KillSignal" => s with { KillSignal = sig },
                    "RestartKillSignal" => s with { RestartKillSignal = sig },
                    _ => s with { FinalKillSignal = sig },
                };

            case ("Service", "KillMode"):
                if (!SystemdNames.TryParse<KillMode>(v, SystemdNames.Of, out var mode))
                {
                    Bad("kill mode specifier");
                    return s;
                }

                if (mode == KillMode.None)
                {
                    diagnostics.Add(Warn(e, "Unit configured to use KillMode=none. This is unsafe, as it disables systemd's process lifecycle management for the service."));
                }

                return s with { KillMode = mode };

            case ("Service", "OOMPolicy"):
                if (!SystemdNames.TryParse<OomPolicy>(v, SystemdNames.Of, out var oom))
                {
                    Bad("OOM policy");
                    return s;
                }

                return s with { OomPolicy = oom };

            case ("Unit", "StartLimitIntervalSec" or "StartLimitInterval") or ("Service", "StartLimitInterval"):
                if (!SystemdValues.TryParseTimeSpan(v, out var interval))
                {
                    Bad($"{e.Key}= value");
                    return s;
                }

                return s with { StartLimitInterval = interval ?? TimeSpan.MaxValue };

            case ("Unit" or "Service", "StartLimitBurst"):
                if (!uint.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var burst))
                {
                    Bad("StartLimitBurst= value");
                    return s;
                }

                return s with { StartLimitBurst = (int)Math.Min(burst, int.MaxValue) };

            case ("Service", "ExecStart"):
                if (v.Length == 0)
                {
                    return s with { ExecStart = [], ExecStartIgnoresFailure = false };
                }

                if (!CheckCommand(e, diagnostics, out var prefixes))
                {
                    return s;
                }

                return s with { ExecStart = s.ExecStart.Add(v), ExecStartIgnoresFailure = prefixes.Contains('-', StringComparison.Ordinal) };

            case ("Service", "ExecStop"):
                return v.Length == 0 ? s with { ExecStop = [] } : CheckCommand(e, diagnostics, out _) ? s with { ExecStop = s.ExecStop.Add(v) } : s;
            case ("Service", "ExecStopPost"):
                return v.Length == 0 ? s with { ExecStopPost = [] } : CheckCommand(e, diagnostics, out _) ? s with { ExecStopPost = s.ExecStopPost.Add(v) } : s;
            case ("Service", "ExecReload"):
                return v.Length == 0 ? s with { ExecReload = [] } : CheckCommand(e, diagnostics, out _) ? s with { ExecReload = s.ExecReload.Add(v) } : s;
            case ("Service", "UnsetEnvironment"):
                // Each word is a name (unset whatever value) or NAME=VALUE (unset only that assignment); empty resets.
                return v.Length == 0 ? s with { UnsetEnvironment = [] } : s with { UnsetEnvironment = s.UnsetEnvironment.AddRange(v.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)) };

            default:
                return s;
        }
    }

    private static bool CheckCommand(UnitEntry e, ImmutableArray<UnitDiagnostic>.Builder diagnostics, out string prefixes)
    {
        // config_parse_exec(): a command line it cannot use makes the unit unloadable, unless the '-' prefix says
        // failures of this command are ignored; then it only warns (checked with systemd-analyze verify on 252).
        var ok = SystemdValues.TrySplitCommandLine(e.Value, out prefixes, out var words);
        var ignoresFailure = prefixes.Contains('-', StringComparison.Ordinal);
        var severity = ignoresFailure ? DiagnosticSeverity.Warning : DiagnosticSeverity.Fatal;
        var suffix = ignoresFailure ? ", ignoring" : string.Empty;
        if (!ok)
        {
            diagnostics.Add(new(severity, e.File, e.Line, e.Section, e.Key, $"Invalid command line{suffix}: {e.Value}"));
            return false;
        }

        var exe = words[0];
        if (exe.Contains('/', StringComparison.Ordinal) && !exe.StartsWith('/'))
        {
            diagnostics.Add(new(severity, e.File, e.Line, e.Section, e.Key, $"Neither a valid executable name nor an absolute path{suffix}: {exe}"));
            return false;
        }

        return true;
    }

    private static ExitStatusSet ApplyStatusList(ExitStatusSet current, UnitEntry e, ImmutableArray<UnitDiagnostic>.Builder diagnostics)
    {
        if (e.Value.Trim().Length == 0)
        {
            return ExitStatusSet.Empty;
        }

        var set = current;
        foreach (var word in e.Value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!SystemdValues.TryParseExitStatusWord(word, out var code, out var signal))
            {
                diagnostics.Add(Warn(e, $"Failed to parse {e.Key}= value, ignoring: {word}"));
                continue;
            }

            set = code is int c ? set.WithCode(c) : set.WithSignal(signal!.Value);
        }

        return set;
    }

    private static SystemdServiceSettings Verify(SystemdServiceSettings s, string path, int version, bool maxDelaySet, bool stepsSet, ImmutableArray<UnitDiagnostic>.Builder diagnostics)
    {
        void Fatal(string message) => diagnostics.Add(new(DiagnosticSeverity.Fatal, path, 0, "Service", null, message));

        if (s.ExecStart.IsEmpty && s.ExecStop.IsEmpty)
        {
            Fatal("Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.");
        }
        else if (s.Type != ServiceType.Oneshot && s.ExecStart.IsEmpty)
        {
            Fatal("Service has no ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.");
        }
        else if (s.Type != ServiceType.Oneshot && s.ExecStart.Length > 1)
        {
            Fatal("Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.");
        }

        if (s.Type == ServiceType.Oneshot && s.Restart is RestartPolicy.Always or RestartPolicy.OnSuccess)
        {
            Fatal("Service has Restart= set to either always or on-success, which isn't allowed for Type=oneshot services. Refusing.");
        }

        if (s.Type == ServiceType.Oneshot && !s.RestartForceExitStatus.IsEmpty && version < 256)
        {
            Fatal("Service has RestartForceExitStatus= set, which isn't allowed for Type=oneshot services. Refusing.");
        }

        if (version >= 254)
        {
            if (stepsSet != maxDelaySet && (stepsSet || maxDelaySet))
            {
                diagnostics.Add(new(DiagnosticSeverity.Warning, path, 0, "Service", null,
                    stepsSet ? "RestartSteps= is set but RestartMaxDelaySec= is not; ignoring RestartSteps=." : "RestartMaxDelaySec= is set but RestartSteps= is not; the delay does not grow."));
                if (stepsSet)
                {
                    s = s with { RestartSteps = 0 };
                }
            }

            if (s.RestartMaxDelaySec is { } max && max < s.RestartSec)
            {
                diagnostics.Add(new(DiagnosticSeverity.Warning, path, 0, "Service", null,
                    "RestartMaxDelaySec= has a value smaller than RestartSec=, lowering RestartSec= to RestartMaxDelaySec=."));
                s = s with { RestartSec = max };
            }
        }

        return s;
    }

    private static ImmutableHashSet<string> LoadKnownKeys()
    {
        using var stream = typeof(SystemdUnitReader).Assembly.GetManifestResourceStream("HermesGateway.Core.Systemd.known-keys-252.txt")
            ?? throw new InvalidOperationException("The systemd key table is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToImmutableHashSet(StringComparer.Ordinal);
    }
}
