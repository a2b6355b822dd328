using System.Text;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Core.Service;

/// <summary>
/// What to install and how: <c>Force</c> replaces a file a person wrote (with a backup), <c>Start</c> starts the gateway,
/// <c>EnableLinger</c> keeps a user's manager running without a session (systemd), <c>EnvironmentFileVariables</c> go
/// to the environment file (0600), and <c>Contract</c> is the gateway's exit contract the file is judged against for
/// the warning about lifecycle scenarios it would not meet (null: the documented contract).
/// </summary>
public sealed record InstallRequest(ServiceDefinition Definition, bool Force = false, bool Start = false, bool EnableLinger = false, IReadOnlyList<EnvironmentVariable>? EnvironmentFileVariables = null, GatewayExitContract? Contract = null);

public enum InstallOutcome
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>What an install did. An action the host declined (-WhatIf, No at -Confirm) has no result: the engine returns null.</summary>
public sealed record InstallResult(string Path, InstallOutcome Outcome, string? BackupPath, IReadOnlyList<SettingChange> Changes, HermesService? Service);

/// <summary>What an uninstall did; null when the host declined it.</summary>
/// <summary>What Uninstall-HermesService -PassThru returns: which service was removed, its file, and the backup kept of it.</summary>
public sealed record UninstallResult(string Name, ServicePlatform Platform, ServiceScope Scope, string Path, string? BackupPath);

/// <summary>
/// Installs, removes, finds, starts and stops gateway services. Every side effect is asked for through the host
/// first, so -WhatIf shows the plan and touches nothing; nothing a person wrote is replaced without -Force and a backup.
/// </summary>
public sealed class ServiceInstaller
{
    private static readonly UnixFileMode ServiceFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private static readonly UnixFileMode SecretFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>systemd's READ_FULL_BYTES_MAX (252): the largest environment file it reads.</summary>
    public const int EnvironmentFileMaxBytes = 64 * 1024 * 1024 - 1;

    private readonly IReadOnlyList<IServiceManager> managers;

    public ServiceInstaller(params IServiceManager[] managers) => this.managers = managers;

    /// <summary>The installer for this machine's supervisor (launchd on macOS, systemd elsewhere) and the caller's lock folder.</summary>
    public static ServiceInstaller ForThisMachine(IProcessRunner runner, ServiceEnvironment environment, IProcessTable? processes = null) =>
        new([ServiceManagers.ForThisMachine(runner, environment, processes), .. ServiceManagers.ForOtherAccounts(runner, environment, processes)])
        {
            LockDirectory = RestartLock.Directory(environment),
        };

    /// <summary>
    /// The caller's restart-lock folder: a stop waits for a restart of the same service under way (which would otherwise
    /// undo it), and an uninstall removes the service's lock and last result. Null: neither (tests of other things).
    /// </summary>
    public string? LockDirectory { get; init; }

    /// <summary>How long a stop waits for a restart of the same service to finish before it gives up.</summary>
    public TimeSpan StopLockWait { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The supervisors this installer manages services under.</summary>
    public IReadOnlyList<IServiceManager> Managers => managers;

    public IServiceManager For(ServicePlatform platform) =>
        managers.FirstOrDefault(m => m.Platform == platform && !m.ForAnotherAccount)
        ?? throw new HermesException(HermesErrorIds.PlatformUnknown, HermesErrorCategory.InvalidArgument,
            $"{platform} services are not managed on this machine.", platform);

    /// <summary>
    /// The manager of exactly this service: for a user-scope one, the manager of its <see cref="ServiceIdentity.Owner"/>
    /// (the caller's own, or, for root, another account's); for a system-scope one, the machine's.
    /// </summary>
    public IServiceManager For(ServiceIdentity service)
    {
        var own = For(service.Platform);
        if (service.Owner is null || service.Scope != ServiceFormats.For(service.Platform).UserScope || service.Owner == own.Owner)
        {
            return own;
        }

        return managers.FirstOrDefault(m => m.Platform == service.Platform && m.ForAnotherAccount && m.Owner == service.Owner)
            ?? throw new HermesException(HermesErrorIds.ServiceNotFound, HermesErrorCategory.ObjectNotFound,
                $"{service.Name} is {service.Owner}'s user service, and {service.Owner}'s services cannot be managed from this account (only root manages another account's user services).", service.Name);
    }

    public InstallResult? Install(InstallRequest request, IEngineHost host)
    {
        var d = request.Definition;

        // A definition need not come from the factory (one read from a file, or changed with 'with'): its name is
        // checked again before it reaches a path or a systemctl/launchctl command line.
        ServiceDefinitionFactory.ValidateName(d.Name, d.Platform);
        var manager = For(d.Platform);
        manager.CheckCanManage(d.Scope);
        var path = manager.FilePath(d.Name, d.Scope);
        var text = FileStamp.Apply(ServiceFiles.Render(d), d.Platform);
        var envFileText = request.EnvironmentFileVariables is { Count: > 0 } vars ? EnvironmentFileText(d, vars) : null;
        CheckWorkingDirectory(d, request.Start, host);
        CheckPrerequisites(manager, d, request.Start, host);
        WarnOfUnmetScenarios(d, request.Contract, host);
        var (current, unreadable) = ReadExisting(path, request.Force);

        if (unreadable is null && current == text && (envFileText is null || SameFile(d.EnvironmentFile!, envFileText)))
        {
            host.WriteVerbose($"{path} is already what this definition renders; nothing is written or reloaded.");
            manager.Activate(d, path, fileChanged: false, request.Start, host);
            KeepUserServicesRunning(request, manager, path, host);
            return new InstallResult(path, InstallOutcome.Unchanged, null, [], Status(path, d.Scope, manager));
        }

        var exists = current is not null || unreadable is not null;
        var changes = current is null
            ? ServiceDiff.CompareText(ServiceFormats.For(d.Platform).EmptyDocument, text, d.Platform, path)
            : ServiceDiff.CompareText(current, text, d.Platform, path);
        var refusal = current is not null && !FileStamp.IsUntouched(current) && !request.Force
            ? $"{path} was {(FileStamp.HasStamp(current) ? "edited by hand after this module wrote it" : "not written by this module")}; -Force replaces it and keeps a backup. {changes.Count} setting(s) would change."
            : null;
        if (refusal is not null && !host.IsWhatIf)
        {
            throw new HermesException(HermesErrorIds.FileChangedByHand, HermesErrorCategory.InvalidOperation, refusal, path);
        }

        // Only the environment file differs: the unit is neither backed up nor rewritten.
        var unitChanged = unreadable is not null || current != text;
        var action = new StringBuilder(!unitChanged ? "Keep " : exists ? "Update " : "Create ").Append(ServiceFormats.For(d.Platform).Noun).Append(' ').Append(path);
        foreach (var c in changes)
        {
            action.Append('\n').Append("  ").Append(Shorten(c));
        }

        if (unreadable is not null)
        {
            action.Append("\n  replaces a file that cannot be read (").Append(unreadable.ErrorId).Append("), kept as it is in the backup");
        }

        if (exists && unitChanged)
        {
            action.Append("\n  backup: ").Append(System.IO.Path.GetFileName(path)).Append('.').Append(host.Now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture)).Append(".bak");
        }

        if (envFileText is not null)
        {
            action.Append("\n  environment file (mode 0600): ").Append(d.EnvironmentFile)
                .Append(" with ").Append(string.Join(", ", request.EnvironmentFileVariables!.Select(v => v.Name)));
        }

        foreach (var call in manager.ActivationCalls(d, path, request.Start))
        {
            action.Append("\n  then: ").Append(call);
        }

        if (refusal is not null)
        {
            // -WhatIf only: the preview says what would change and that this call, as given, would be refused.
            host.ShouldProcess(path, action.Append("\n  refused without -Force: ").Append(refusal).ToString());
            return null;
        }

        if (!host.ShouldProcess(path, action.ToString()))
        {
            return null;
        }

        var backup = exists && unitChanged ? BackUpServiceFile(path, host) : null;
        if (envFileText is not null)
        {
            if (File.Exists(d.EnvironmentFile!) || new FileInfo(d.EnvironmentFile!).LinkTarget is not null)
            {
                // It holds secrets: the backup is 0600 whatever the file's mode, and only the newest one is kept.
                AtomicFile.Backup(d.EnvironmentFile!, host.Now, SecretFileMode, keep: 1);
            }

            AtomicFile.Write(d.EnvironmentFile!, envFileText, SecretFileMode);
        }

        if (unitChanged)
        {
            AtomicFile.Write(path, text, ServiceFileMode);
            host.WriteVerbose($"Wrote {path}{(backup is null ? string.Empty : $"; the previous file is kept as {backup}")}.");
        }
        else
        {
            host.WriteVerbose($"{path} is unchanged; only the environment file {d.EnvironmentFile} was written.");
        }

        manager.Activate(d, path, fileChanged: true, request.Start, host);
        KeepUserServicesRunning(request, manager, path, host);
        return new InstallResult(path, exists ? InstallOutcome.Updated : InstallOutcome.Created, backup, changes, Status(path, d.Scope, manager));
    }

    /// <summary>
    /// -EnableLinger, whether or not the file changed, after the activation: a linger that cannot be enabled (logind
    /// unreachable, polkit refusing) leaves the service installed and enabled as it would be without the switch, and
    /// the error says so (HermesLingerFailed); the install is not undone, since linger only decides whether the user's
    /// manager outlives the session.
    /// </summary>
    private static void KeepUserServicesRunning(InstallRequest request, IServiceManager manager, string path, IEngineHost host)
    {
        if (!request.EnableLinger || manager is not IUserSessionKeeper keeper)
        {
            return;
        }

        try
        {
            keeper.KeepUserServicesRunning(request.Definition.Scope, host);
        }
        catch (HermesException e) when (e.ErrorId == HermesErrorIds.LingerFailed)
        {
            throw new HermesException(e.ErrorId, e.Category,
                $"{e.Message} {path} is installed and enabled all the same; it runs while the user has a session. Run 'loginctl enable-linger' as root (or from a login session) to keep it running after logout.",
                e.Target, e);
        }
    }

    /// <summary>
    /// The directory the supervisor changes into before it runs the gateway (WorkingDirectory=, by default HERMES_HOME)
    /// must exist: otherwise systemd ends every start with status 200/CHDIR and, under Restart=on-failure, retries
    /// forever, while the install looked successful (launchd likewise fails each spawn). With -Start that is refused
    /// before anything is written; without it the service would fail at its first start, which a warning says.
    /// </summary>
    private static void CheckWorkingDirectory(ServiceDefinition d, bool start, IEngineHost host)
    {
        var directory = d.WorkingDirectory ?? d.HermesHome;
        if (directory is null || Directory.Exists(directory))
        {
            return;
        }

        var what = d.WorkingDirectory is not null && d.WorkingDirectory != d.HermesHome ? "WorkingDirectory" : "HERMES_HOME";
        var owner = d.User ?? "the user the service runs as";
        var status = ServiceFormats.For(d.Platform).MissingDirectoryEffect;
        if (start)
        {
            throw new HermesException(HermesErrorIds.HermesHomeMissing, HermesErrorCategory.ObjectNotFound,
                $"{what} '{directory}' does not exist, so the gateway cannot start ({status}). Create it (owned by {owner}, mode 0700) or set up Hermes for it first; nothing was written.", directory);
        }

        host.WriteWarning($"{what} '{directory}' does not exist: until it does, {d.Name} cannot start ({status}). Create it (owned by {owner}, mode 0700) before starting the service.");
    }

    /// <summary>
    /// Backs up a unit or plist before it is replaced or removed. A backup of a file this module wrote and nobody
    /// changed can be written again from its definition: of those only the newest is kept, so updates leave one file,
    /// not one each. A backup of anything a person wrote or edited is never removed.
    /// </summary>
    private static string BackUpServiceFile(string path, IEngineHost host) =>
        AtomicFile.Backup(path, host.Now, mode: null, keep: 1, prunable: bytes => FileStamp.IsUntouched(Encoding.UTF8.GetString(bytes)));

    /// <summary>
    /// A command that is not there, or an account the machine does not know, fails every start (systemd: 203/EXEC,
    /// 217/USER, 216/GROUP). With -Start that is refused before anything is written; without it, a unit may be staged
    /// before Hermes or its account is set up, which a warning says.
    /// </summary>
    private static void CheckPrerequisites(IServiceManager manager, ServiceDefinition d, bool start, IEngineHost host)
    {
        var missing = manager.MissingPrerequisites(d);
        if (start && missing.Count > 0)
        {
            var first = missing[0];
            throw new HermesException(first.ErrorId, first.Category, first.Message + "; nothing was written.", first.Target);
        }

        foreach (var e in missing)
        {
            host.WriteWarning(e.Message + ".");
        }
    }

    /// <summary>
    /// The file being replaced, as text; or, with -Force, the error that kept it from being read (too large, not
    /// text, empty): -Force must always be able to replace a file, the module's own included, that can no longer be
    /// read. It is then backed up byte for byte as it is. Without -Force such a file is refused, saying so.
    /// </summary>
    private static (string? Text, HermesException? Unreadable) ReadExisting(string path, bool force)
    {
        if (!File.Exists(path))
        {
            return (null, null);
        }

        try
        {
            return (TextFiles.ReadText(path), null);
        }
        catch (HermesException e) when (e.ErrorId is HermesErrorIds.FileTooLarge or HermesErrorIds.FileNotText or HermesErrorIds.FileEmpty)
        {
            if (!force)
            {
                throw new HermesException(e.ErrorId, e.Category,
                    $"{e.Message} -Force replaces it and keeps a backup of it as it is.", path, e);
            }

            return (null, e);
        }
    }

    public UninstallResult? Uninstall(ServiceIdentity service, IEngineHost host)
    {
        var manager = For(service);
        if (manager.ForAnotherAccount)
        {
            // Removing (and backing up) a file in a folder that account controls would have root write where the account
            // can aim it; the account removes its own service.
            throw new HermesException(HermesErrorIds.OtherAccountWriteRefused, HermesErrorCategory.PermissionDenied,
                $"{service.Path} is {service.Owner}'s own user service: root does not write into another account's home. Run Uninstall-HermesService as {service.Owner} (e.g. 'sudo -u {service.Owner} pwsh' with its user manager reachable, or 'machinectl shell {service.Owner}@').", service.Path);
        }

        manager.CheckCanManage(service.Scope);
        var path = service.Path;
        if (!File.Exists(path))
        {
            throw new HermesException(HermesErrorIds.ServiceNotFound, HermesErrorCategory.ObjectNotFound, $"{path} does not exist.", path);
        }

        var calls = string.Concat(manager.RemovalCalls(service).Select(c => "\n  " + c));
        if (!host.ShouldProcess(path, $"Stop {service.Name} as a planned stop, {manager.DeactivationText}, and remove {path} (a backup is kept){calls}"))
        {
            return null;
        }

        string? backup = null;
        manager.Remove(service, () =>
        {
            backup = BackUpServiceFile(path, host);
            File.Delete(path);
            host.WriteVerbose($"Removed {path}; kept {backup}.");
        }, host);
        if (LockDirectory is not null && !RestartLock.Forget(LockDirectory, RestartLock.Key(service)))
        {
            host.WriteWarning($"A restart of {service.Name} still holds its lock in {LockDirectory}; its lock and result files stay.");
        }

        return new UninstallResult(service.Name, service.Platform, service.Scope, path, backup);
    }

    /// <summary>
    /// The installed gateway (this module's or upstream's) that installing <paramref name="name"/> — or, without a
    /// name, <paramref name="profile"/>'s default name on either supervisor — would replace, so that the new file can
    /// keep its identity (command, HERMES_HOME, account); null when there is none.
    /// </summary>
    public ServiceDefinition? Existing(string? name, string? profile)
    {
        string[] names = name is not null
            ? [ServiceFormats.ServiceName(name)]
            : [.. ServiceFormats.All.Select(f => ServiceDefinitionFactory.DefaultName(f.Platform, profile))];
        // Another account's service of the same name (root sees them) is not the one an install here would replace.
        var found = Find(n => names.Contains(n, StringComparer.Ordinal)).Where(s => For(s.Identity) is { ForAnotherAccount: false }).ToList();
        return found.Count > 0 ? found[0].Definition : null;
    }

    /// <summary>Every installed gateway (this module's and upstream's), optionally only those whose name passes the filter.</summary>
    public IReadOnlyList<HermesService> Find(Func<string, bool>? nameFilter = null)
    {
        var found = new List<HermesService>();
        foreach (var manager in managers)
        {
            foreach (var gateway in InstalledGateways.In(manager))
            {
                if (nameFilter is null || nameFilter(gateway.Name))
                {
                    found.Add(Status(gateway.Path, gateway.Scope, manager));
                }
            }
        }

        return found;
    }

    public void Start(ServiceIdentity service, IEngineHost host)
    {
        var manager = For(service);
        manager.CheckCanManage(service.Scope);
        manager.StartService(service, host);
    }

    public void Stop(ServiceIdentity service, IEngineHost host)
    {
        var manager = For(service);
        manager.CheckCanManage(service.Scope);
        if (LockDirectory is null)
        {
            manager.StopService(service, host);
            return;
        }

        // A restart under way would bring the gateway back after this stop. Once the stop is confirmed (so -WhatIf writes
        // nothing, not even the lock) the lock is taken; if a restart held it, what the stop had read is stale, so it is
        // read again and the stop made on the gateway the restart left, without asking a second time.
        var locking = new LockOnConfirm(host, () => RestartLock.Acquire(LockDirectory, RestartLock.Key(service), StopLockWait, host.Cancellation, out var waited) is var held && waited
            ? (held, true)
            : (held, false));
        try
        {
            manager.StopService(service, locking);
            if (locking.WaitedForRestart)
            {
                host.WriteVerbose($"Waited for a restart of {service.Name} to finish; stopping the gateway it left.");
                locking.Confirmed = true;
                manager.StopService(service, locking);
            }
        }
        finally
        {
            locking.Held?.Dispose();
        }
    }

    /// <summary>
    /// A host that takes a lock the first time an action is confirmed and holds it for the caller to release. When the
    /// lock had to be waited for, that first action is declined (the caller acts again on fresh facts, with
    /// <see cref="Confirmed"/> set, so the user is not asked twice).
    /// </summary>
    private sealed class LockOnConfirm(IEngineHost inner, Func<(IDisposable Held, bool Waited)> acquire) : IEngineHost
    {
        public IDisposable? Held { get; private set; }

        public bool WaitedForRestart { get; private set; }

        public bool Confirmed { get; set; }

        public bool IsWhatIf => inner.IsWhatIf;

        public CancellationToken Cancellation => inner.Cancellation;

        public DateTimeOffset Now => inner.Now;

        public TimeProvider Clock => inner.Clock;

        public void WriteProgress(string activity, string status, double percent) => inner.WriteProgress(activity, status, percent);

        public bool ShouldProcess(string target, string action)
        {
            if (Confirmed)
            {
                inner.WriteVerbose($"{target}: {action}");
                return true;
            }

            if (!inner.ShouldProcess(target, action))
            {
                return false;
            }

            if (Held is null)
            {
                (Held, WaitedForRestart) = acquire();
                if (WaitedForRestart)
                {
                    return false;
                }
            }

            return true;
        }

        public void WriteVerbose(string message) => inner.WriteVerbose(message);

        public void WriteWarning(string message) => inner.WriteWarning(message);
    }

    public static HermesService Status(string path, ServiceScope scope, IServiceManager manager)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(path);
        ServiceConfiguration config;
        ServiceDefinition? adopted = null;
        string text;
        var owner = scope == ServiceFormats.For(manager.Platform).UserScope ? manager.Owner : null;
        try
        {
            if (manager.ForAnotherAccount)
            {
                // A folder another account controls: only a regular file there is read, never through a link (which
                // could aim root's read at any file of the machine).
                text = TextFiles.DecodeText(
                    AtomicFile.ReadRegular(path) ?? throw new HermesException(HermesErrorIds.FileUnreadable, HermesErrorCategory.ReadError,
                        $"'{path}' is not a regular file (a link, a FIFO), or too large; in another account's folder it is not read.", path),
                    path);
                config = ServiceFormats.For(manager.Platform).Parse(text, path, EvaluationOptions.DefaultSystemdVersion);
            }
            else
            {
                config = ServiceFormats.Read(path, manager.Platform);
                text = File.ReadAllText(path);
            }

            // Specifiers resolve as the manager that loads the file resolves them: the scope it was found in, and this
            // machine's account for a user unit.
            adopted = ServiceFiles.ToDefinition(config, manager.SpecifiersFor(path, scope));
        }
        catch (HermesException e)
        {
            return new HermesService
            {
                Name = name, Platform = manager.Platform, Scope = scope, Path = path, Owner = owner, State = "unreadable", Drift = $"unknown ({e.ErrorId})", Policy = "-",
            };
        }

        var verdicts = ExitPolicyEvaluator.Evaluate(config);
        var (drift, changes) = Drift(text, adopted);
        var known = new HermesService
        {
            Name = name,
            Platform = manager.Platform,
            Scope = scope,
            Path = path,
            Owner = owner,
            State = "unknown",
            HermesHome = adopted.HermesHome,
            Drift = drift,
            DriftChanges = changes,
            Drifted = drift.StartsWith("unknown", StringComparison.Ordinal) ? null : changes.Count > 0,
            Policy = $"{verdicts.Count(v => v.Ok)}/{verdicts.Count} ok",
            PolicyVerdicts = verdicts,
            PolicyOk = verdicts.All(v => v.Ok),
            PolicyFailed = [.. verdicts.Where(v => !v.Ok).Select(v => v.Scenario.ToString())],
            InstalledByModule = FileStamp.HasStamp(text),
            Definition = adopted,
        };
        var status = manager.Status(config, scope, known);
        return status.StartedAt is { } started ? status with { Uptime = DateTimeOffset.UtcNow - started } : status;
    }

    /// <summary>What this module would write for the same gateway (same command, home, account, environment), compared with the file.</summary>
    public static (string Summary, IReadOnlyList<SettingChange> Changes) Drift(string fileText, ServiceDefinition adopted)
    {
        ServiceDefinition expected;
        try
        {
            // A stop timeout this module wrote was chosen at install (and warned about if short): kept as chosen. In a
            // file from elsewhere a short one is what kills drains, and drift names it.
            var request = DefinitionRequest.From(adopted);
            expected = ServiceDefinitionFactory.Create(FileStamp.HasStamp(fileText) ? request with { StopTimeout = adopted.StopTimeout } : request);
        }
        catch (HermesException e)
        {
            return ($"unknown: {e.Message}", []);
        }

        var changes = ServiceDiff.CompareText(fileText, ServiceFiles.Render(expected), adopted.Platform, "/" + adopted.FileName);
        var handEdited = FileStamp.HasStamp(fileText) && !FileStamp.IsUntouched(fileText);
        var summary = changes.Count == 0 ? "none" : changes.Count == 1 ? $"1 setting: {changes[0]}" : $"{changes.Count} settings";
        return (handEdited ? summary + " (hand-edited)" : summary, changes);
    }

    private static string EnvironmentFileText(ServiceDefinition d, IReadOnlyList<EnvironmentVariable> variables)
    {
        // Only a systemd definition can have an EnvironmentFile (the factory refuses one for launchd).
        if (d.EnvironmentFile is null)
        {
            throw new HermesException(HermesErrorIds.DefinitionInvalid, HermesErrorCategory.InvalidArgument,
                "Environment-file variables need a definition with -EnvironmentFile (systemd).", d);
        }

        var sb = new StringBuilder("# Secrets for ").Append(d.Name).Append(", written by HermesGateway (mode 0600).\n");
        foreach (var v in variables)
        {
            if (!SystemdEscaping.IsEnvironmentName(v.Name))
            {
                throw new HermesException(HermesErrorIds.NameInvalid, HermesErrorCategory.InvalidArgument, $"'{v.Name}' is not a valid environment variable name.", v.Name);
            }

            ServiceDefinitionFactory.RefuseOverlongEnvironmentString(v);
            if (v.Value.Any(c => c is '\n' or '\r' or '\0'))
            {
                throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                    $"The value of {v.Name} holds a line break or NUL, which an environment file cannot carry.", v.Name);
            }

            // Shell-like double quotes, as systemd reads EnvironmentFile=: \ " $ and ` are escaped; nothing is expanded.
            sb.Append(v.Name).Append("=\"");
            foreach (var c in v.Value)
            {
                if (c is '\\' or '"' or '$' or '`')
                {
                    sb.Append('\\');
                }

                sb.Append(c);
            }

            sb.Append("\"\n");
        }

        // systemd reads an environment file whole (read_full_stream) and refuses one of READ_FULL_BYTES_MAX or more.
        var text = sb.ToString();
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > EnvironmentFileMaxBytes)
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"The environment file would be {bytes} bytes; systemd reads environment files of at most {EnvironmentFileMaxBytes} bytes (64 MiB - 1, READ_FULL_BYTES_MAX), so the service would not start.", d.EnvironmentFile);
        }

        return text;
    }

    /// <summary>A change as one readable line: long values cut, the planned-stop marker named for what it does.</summary>
    private static string Shorten(SettingChange c)
    {
        static string Cut(string? v) => v is { Length: > 80 } ? v[..77] + "..." : v ?? string.Empty;
        var text = c.Kind switch
        {
            SettingChangeKind.Added => $"+ {c.Setting}={Cut(c.New)}",
            SettingChangeKind.Removed => $"- {c.Setting}={Cut(c.Old)}",
            _ => $"~ {c.Setting}={Cut(c.Old)} → {Cut(c.New)}",
        };
        return c.Setting == "ExecStop" && (c.New ?? c.Old ?? string.Empty).Contains(SystemdModel.PlannedStopMarkerCommand, StringComparison.Ordinal)
            ? text + "   (marks systemctl stop as planned)"
            : text;
    }

    /// <summary>
    /// Says which lifecycle scenarios the file would not meet under <paramref name="contract"/> (what no setting of this
    /// supervisor can meet, <see cref="ServiceDefinition.Limitations"/>, aside): a definition is installed as given, but
    /// not silently when, for example, its stop timeout would cut the gateway's drain.
    /// </summary>
    private static void WarnOfUnmetScenarios(ServiceDefinition d, GatewayExitContract? contract, IEngineHost host)
    {
        var limited = d.Limitations.Select(l => l.Scenario).ToHashSet();
        var options = ServiceFormats.For(d.Platform).EvaluationOptionsFor(d);
        var unmet = ExitPolicyEvaluator.Evaluate(ServiceFiles.ToConfiguration(d, options.SystemdVersion), contract, options)
            .Where(v => !v.Ok && !limited.Contains(v.Scenario))
            .ToList();
        if (unmet.Count > 0)
        {
            host.WriteWarning($"{d.FileName} would not meet {unmet.Count} lifecycle scenario(s): {string.Join("; ", unmet.Select(v => $"{v.Scenario} ({v.Why})"))}. It is installed as given; Test-HermesExitPolicy explains each.");
        }
    }

    /// <summary>
    /// Whether the file already holds <paramref name="text"/>. Read only when it is a regular file (a link, a FIFO or a
    /// device in a directory another account owns is "different" and gets replaced, never read through as root).
    /// </summary>
    private static bool SameFile(string path, string text) => AtomicFile.ReadRegular(path) is { } bytes && bytes.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(text));
}
