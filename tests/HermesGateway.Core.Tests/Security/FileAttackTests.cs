using TestHost = HermesGateway.Core.Tests.Service.TestHost;

namespace HermesGateway.Core.Tests.Security;

/// <summary>
/// Issue 11: no file, lock or marker an unprivileged user can turn against root. The module often runs as root and
/// writes into directories another account owns (a system unit's User= owns its HERMES_HOME, where the planned-stop
/// marker and often the environment file live). Each test lets that account — uid 65534, through setpriv — do what
/// it can do there (swap names for links while root writes, place links at names it can predict) and checks that
/// root's files stay as they were and that nothing of root's ends up where that account can read it.
/// </summary>
public sealed class FileAttackTests : IDisposable
{
    private const uint Nobody = Attacker.Uid;
    private const string RootSecretText = "root's secret\n";
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The mode of root's file in the races: a chmod to the marker's 0644 or the environment file's 0600 shows.</summary>
    private const UnixFileMode ReadOnly = UnixFileMode.UserRead;

    /// <summary>How long a race is run before the write is taken to be immune to it.</summary>
    private static readonly TimeSpan RaceTime = TimeSpan.FromSeconds(6);

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_MarkerTempFileSwappedForALink_DoesNotChmodARootFile()
    {
        var home = AccountsDirectory("home");
        var secret = RootSecret(ReadOnly);

        var attacker = Swapper.Start(home, @"\.*gateway-planned-stop\.json\..+", secret);
        using (attacker)
        {
            Race(() => PlannedStopMarker.Write(home, 4242, 1, 1, DateTimeOffset.UtcNow), () => Unchanged(secret, ReadOnly));
        }

        var swaps = attacker.Swaps; // every line it printed has been read once it ended
        Assert.True(Unchanged(secret, ReadOnly), $"after {swaps} swaps root's 0400 file is {ModeOf(secret)}");
        Assert.True(swaps > 0, "the attacker never saw a temp file to swap");
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_EnvironmentFileTempSwappedForALink_DoesNotChmodARootFile()
    {
        var home = AccountsDirectory("home");
        var secret = RootSecret(ReadOnly);
        var n = 0;

        var attacker = Swapper.Start(home, @"\.\.env\..+", secret);
        using (attacker)
        {
            Race(() => Install(home, $"value-{n++}"), () => Unchanged(secret, ReadOnly));
        }

        var swaps = attacker.Swaps; // every line it printed has been read once it ended
        Assert.True(Unchanged(secret, ReadOnly), $"after {swaps} swaps root's 0400 file is {ModeOf(secret)}");
        Assert.True(swaps > 0, "the attacker never saw a temp file to swap");
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_BackupSwappedForALink_DoesNotChmodARootFile()
    {
        var home = AccountsDirectory("home");
        var secret = RootSecret(ReadOnly);
        var n = 0;

        var attacker = Swapper.Start(home, @"\.env\..+\.bak", secret);
        using (attacker)
        {
            Race(
                () =>
                {
                    // The account puts back an environment file of its own, mode 0666, before each install backs it up.
                    Attacker.Run("/bin/sh", "-c", "umask 0 && printf 'A=1\\n' > \"$1/.env.new\" && /bin/mv -f \"$1/.env.new\" \"$1/.env\"", "sh", home);
                    Install(home, $"value-{n++}");
                },
                () => Unchanged(secret, ReadOnly));
        }

        var swaps = attacker.Swaps; // every line it printed has been read once it ended
        Assert.True(Unchanged(secret, ReadOnly), $"after {swaps} swaps root's 0400 file is {ModeOf(secret)}");
        Assert.True(swaps > 0, "the attacker never saw a backup to swap");
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_SetuidEnvironmentFile_IsNotBackedUpAsASetuidRootFile()
    {
        var home = AccountsDirectory("home");
        var env = Path.Combine(home, ".env");
        Attacker.Run("/bin/sh", "-c", "/bin/cp /bin/true \"$1\" && /bin/chmod 4755 \"$1\"", "sh", env);
        Assert.True(File.GetUnixFileMode(env).HasFlag(UnixFileMode.SetUser));

        Install(home, "value");

        var backup = Assert.Single(Backups(home));
        Assert.Null(new FileInfo(backup).LinkTarget);
        Assert.Equal(Private, File.GetUnixFileMode(backup)); // root-owned: no setuid bit, no other reader
        Assert.Equal(File.ReadAllBytes("/bin/true"), File.ReadAllBytes(backup));
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_EnvironmentFileLinkedToARootFile_IsNotCopiedWhereTheAccountCanReadIt()
    {
        var home = AccountsDirectory("home");
        // Readable by mode, but in a folder only root may enter: the account cannot read it, a copy of it it could.
        var hidden = RootSecret(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Attacker.Run("/bin/ln", "-s", hidden, Path.Combine(home, ".env"));

        Install(home, "value");

        var read = Attacker.Run("/bin/sh", "-c", "for f in \"$1\"/.env.*.bak; do /bin/cat \"$f\"; done; exit 0", "sh", home);
        Assert.DoesNotContain(RootSecretText.Trim(), read.StandardOutput, StringComparison.Ordinal);
        Assert.Single(Backups(home));
        Assert.Equal(RootSecretText, File.ReadAllText(hidden));
        Assert.Null(new FileInfo(Path.Combine(home, ".env")).LinkTarget); // the new file replaced the link, not its target
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_LinkAtThePredictableBackupName_IsNeitherFollowedNorABlock()
    {
        var home = AccountsDirectory("home");
        var vault = RootDirectory();
        Attacker.Run("/bin/sh", "-c", "printf 'OLD=1\\n' > \"$1/.env\"", "sh", home);
        // TestHost's clock is fixed, so the name the backup would get is known in advance, as a real clock's nearly is.
        var predicted = Path.Combine(home, ".env.20261122T101500Z.bak");
        Attacker.Run("/bin/ln", "-s", Path.Combine(vault, "planted"), predicted);

        Install(home, "value");

        Assert.False(File.Exists(Path.Combine(vault, "planted")), "root created a file through the account's link");
        Assert.Empty(Directory.GetFileSystemEntries(vault));
        // The link is left alone or removed as an old backup (unlinked, not followed); the backup went elsewhere.
        var backup = Assert.Single(Backups(home), b => b != predicted);
        Assert.Null(new FileInfo(backup).LinkTarget);
        Assert.Equal("OLD=1\n", File.ReadAllText(backup));
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_EnvironmentFileBackups_HoldOnlyTheLastSecretsAndArePrivate()
    {
        var home = AccountsDirectory("home");

        Install(home, "first");
        Install(home, "second");
        Install(home, "third");

        // Old secrets do not pile up: only the file the last install replaced is kept, 0600.
        var backup = Assert.Single(Backups(home));
        Assert.Contains("second", File.ReadAllText(backup), StringComparison.Ordinal);
        Assert.Equal(Private, File.GetUnixFileMode(backup));
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_EnvironmentFileReplacedByAFifo_DoesNotHangRootsInstall()
    {
        var home = AccountsDirectory("home");
        var env = Path.Combine(home, ".env");
        Attacker.Run("/usr/bin/mkfifo", env);

        var install = Task.Run(() =>
        {
            try
            {
                Install(home, "value");
                return null;
            }
            catch (HermesException e)
            {
                return e;
            }
        });
        var ended = install.Wait(TimeSpan.FromSeconds(15)) || Unblock(install, env);

        Assert.True(ended, "root's install blocked reading the account's FIFO");
        // Refusing to copy what is not a regular file is fine; hanging on it or reading it is not.
        Assert.True(install.Result is null or { ErrorId: HermesErrorIds.FileWriteFailed }, install.Result?.ToString());
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_HermesHomeSwappedForALinkToARootDirectory_IsRefused()
    {
        var parent = AccountsDirectory("account");
        var vault = RootDirectory();
        var home = Path.Combine(parent, ".hermes");
        Attacker.Run("/bin/ln", "-s", vault, home);

        Expect.Error(HermesErrorIds.FileWriteFailed, () => PlannedStopMarker.Write(home, 4242, 1, 1, DateTimeOffset.UtcNow));

        Assert.Empty(Directory.GetFileSystemEntries(vault));
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_CrashRightAfterTheRename_FindsTheDirectoryFsynced()
    {
        // strace watches the one thread that writes; the rename is durable only once the directory is fsynced.
        var target = Path.Combine(dir.Path, "state.json");
        var trace = Path.Combine(dir.Path, "strace.out");
        var calls = TraceThread(trace, () => AtomicFile.Write(target, "{}\n", UnixFileMode.UserRead | UnixFileMode.UserWrite));

        var rename = calls.FindIndex(l => l.StartsWith("rename", StringComparison.Ordinal) && l.Contains("state.json\"", StringComparison.Ordinal));
        Assert.True(rename >= 0, "no rename onto the target in the trace:\n" + string.Join('\n', calls));
        Assert.Contains(calls.Skip(rename + 1), l => l.StartsWith($"fsync({DirectoryFd(l)}<{dir.Path}>)", StringComparison.Ordinal));
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_ExecStopMarkerScriptOnAFullDisk_LeavesNoTempFile()
    {
        var mount = Directory.CreateDirectory(Path.Combine(dir.Path, "mnt")).FullName;
        // A private mount namespace: a 16 KiB tmpfs, filled up, holds HERMES_HOME; the script marks our own PID.
        var result = Run("/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
            "m=$1; /bin/mount -t tmpfs -o size=16k tmpfs \"$m\" || exit 99; /bin/mkdir \"$m/home\"; " +
            "/bin/dd if=/dev/zero of=\"$m/fill\" bs=4096 2>/dev/null; " +
            "/bin/sh -c \"$2\" hermes-mark-planned-stop \"$m/home\" \"$3\"; echo \"exit=$?\"; /bin/ls -A \"$m/home\"",
            "sh", mount, SystemdUnitRenderer.PlannedStopScript, System.Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("exit=0\n", result.StandardOutput); // the script ends with 0 and the home holds nothing: no marker, no temp file
        Assert.Empty(Directory.GetFileSystemEntries(mount));
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_LinkAtTheExecStopScriptsTempName_IsNotFollowed()
    {
        // The unit's User= runs the script; here root, in a HERMES_HOME another account may write to (mode 0777).
        var home = Directory.CreateDirectory(Path.Combine(dir.Path, "shared-home")).FullName;
        File.SetUnixFileMode(home, (UnixFileMode)0b111_111_111);
        var secret = RootSecret();
        // As PID 1 of a new PID namespace the script's $$ is 1: its temp name, if derived from it, is known.
        Attacker.Run("/bin/ln", "-s", secret, Path.Combine(home, PlannedStopMarker.FileName + ".1"));

        var result = RunScriptAsPidOne(home);

        Assert.Equal(0, result.ExitCode);
        Assert.True(Unchanged(secret), $"root's file now reads '{File.ReadAllText(secret)}' ({ModeOf(secret)})");
        Assert.Contains("\"target_pid\": 1,", File.ReadAllText(PlannedStopMarker.PathIn(home)), StringComparison.Ordinal);
    }

    [AttackFact]
    [Trait("Category", "Attack")]
    public void Attack_LinkToADirectoryAtTheMarkersName_DoesNotRedirectTheExecStopScriptsMarker()
    {
        var home = Directory.CreateDirectory(Path.Combine(dir.Path, "shared-home")).FullName;
        File.SetUnixFileMode(home, (UnixFileMode)0b111_111_111);
        var vault = RootDirectory();
        Attacker.Run("/bin/ln", "-s", vault, PlannedStopMarker.PathIn(home));

        var result = RunScriptAsPidOne(home);

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(vault)); // nothing of root's was moved into the link's target
        Assert.Equal([PlannedStopMarker.FileName], Directory.GetFileSystemEntries(home).Select(Path.GetFileName));
    }

    // ----- the scene -----

    /// <summary>A directory owned by the unprivileged account, as a system unit's User= owns its HERMES_HOME.</summary>
    private string AccountsDirectory(string name)
    {
        var path = Directory.CreateDirectory(Path.Combine(dir.Path, name)).FullName;
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        Run("/bin/chown", $"{Nobody}:{Nobody}", path);
        return path;
    }

    /// <summary>A directory only root may enter.</summary>
    private string RootDirectory()
    {
        var path = Directory.CreateDirectory(Path.Combine(dir.Path, "root-only-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>A file of root's, mode 0600 unless said otherwise, in a directory only root may enter.</summary>
    private string RootSecret(UnixFileMode mode = Private)
    {
        var path = Path.Combine(RootDirectory(), "secret");
        File.WriteAllText(path, RootSecretText);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static bool Unchanged(string secret, UnixFileMode mode = Private) => File.GetUnixFileMode(secret) == mode && File.ReadAllText(secret) == RootSecretText;

    private static string ModeOf(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8).PadLeft(4, '0');

    private static string[] Backups(string home) => Directory.GetFiles(home, ".env.*.bak");

    /// <summary>Repeats root's write until the attack succeeds or <see cref="RaceTime"/> has passed.</summary>
    private static void Race(Action write, Func<bool> intact)
    {
        var until = DateTime.UtcNow + RaceTime;
        while (DateTime.UtcNow < until && intact())
        {
            try
            {
                write();
            }
            catch (HermesException)
            {
                // A write the attacker made fail is not the attack succeeding; the check after the race decides.
            }
        }
    }

    /// <summary>Install -Force as root of a system unit whose User= owns <paramref name="home"/>, with an environment file there.</summary>
    private void Install(string home, string secretValue)
    {
        var env = new ServiceEnvironment
        {
            Home = "/root",
            Uid = 0,
            UserName = "root",
            SystemUnitDirectory = Path.Combine(dir.Path, "etc", "systemd", "system"),
        };
        var definition = ServiceDefinitionFactory.Create(new DefinitionRequest
        {
            Platform = ServicePlatform.Systemd,
            Scope = ServiceScope.System,
            Executable = "/usr/local/bin/hermes",
            HermesHome = home,
            User = "nobody",
            EnvironmentFile = Path.Combine(home, ".env"),
        });
        var runner = new Service.RecordingRunner()
            .On((f, a) => f == "systemctl" && a.Contains("show"), stdout: Service.RecordingRunner.Show())
            .On((f, a) => f == "systemctl" && a.Contains("is-enabled"), exitCode: 1, stdout: "disabled\n");
        new ServiceInstaller(new SystemdServiceManager(runner, env))
            .Install(new InstallRequest(definition, Force: true, EnvironmentFileVariables: [new EnvironmentVariable("API_KEY", secretValue)]), new TestHost());
    }

    /// <summary>A reader blocked on a FIFO gets EOF from a writer that opens and closes it: repeated until the task ended (false).</summary>
    private static bool Unblock(Task blocked, string fifo)
    {
        while (!blocked.IsCompleted)
        {
            Run("/usr/bin/timeout", "1", "/bin/sh", "-c", ": > \"$1\"", "sh", fifo);
        }

        return false;
    }

    /// <summary>Runs the ExecStop= script as root, as PID 1 of a new PID namespace, marking itself (PID 1).</summary>
    private static ProcessResult RunScriptAsPidOne(string home) =>
        Run("/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "/bin/sh", "-c", SystemdUnitRenderer.PlannedStopScript, SystemdModel.PlannedStopMarkerCommand, home, "1");

    // ----- processes -----

    private static ProcessResult Run(string file, params string[] args) => Programs.Run(file, args, TimeSpan.FromSeconds(60));

    /// <summary>
    /// The attacker: uid 65534 watching its own directory in a tight loop (os.scandir) and replacing every entry whose
    /// name matches with a link to <c>target</c>, atomically (a link at a side name renamed over it).
    /// </summary>
    private sealed class Swapper : IDisposable
    {
        private const string Code = """
            import os, re, sys
            d, pat, target = sys.argv[1], re.compile(sys.argv[2]), sys.argv[3]
            n = 0
            print('ready', flush=True)
            while True:
                try:
                    entries = list(os.scandir(d))
                except OSError:
                    continue
                for e in entries:
                    if not pat.fullmatch(e.name):
                        continue
                    try:
                        if e.is_symlink():
                            continue
                    except OSError:
                        continue
                    side = os.path.join(d, '.swap-%d' % n)
                    n += 1
                    try:
                        os.symlink(target, side)
                        os.rename(side, e.path)
                        print('swapped ' + e.name, flush=True)
                    except OSError:
                        try:
                            os.unlink(side)
                        except OSError:
                            pass
            """;

        private readonly Process process;
        private readonly ManualResetEventSlim ready = new();
        private int swaps;

        private Swapper(Process process) => this.process = process;

        public int Swaps => Volatile.Read(ref swaps);

        public static Swapper Start(string directory, string pattern, string target)
        {
            var start = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = "/" };
            foreach (var a in new[] { $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "--", "/usr/bin/python3", "-I", "-c", Code, directory, pattern, target })
            {
                start.ArgumentList.Add(a);
            }

            var swapper = new Swapper(Process.Start(start)!);
            swapper.process.OutputDataReceived += (_, e) =>
            {
                if (e.Data == "ready")
                {
                    swapper.ready.Set();
                }
                else if (e.Data is not null)
                {
                    Interlocked.Increment(ref swapper.swaps);
                }
            };
            swapper.process.BeginOutputReadLine();
            if (!swapper.ready.Wait(TimeSpan.FromSeconds(20)))
            {
                swapper.Dispose();
                Assert.Fail("the attacker's loop did not start");
            }

            return swapper;
        }

        public void Dispose()
        {
            // setpriv execs python, so this is the one process this test started.
            if (!process.HasExited)
            {
                process.Kill();
            }

            process.WaitForExit();
            process.Dispose();
            ready.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a thread of its own while strace follows that thread alone; gives the calls
    /// it made (file-related ones, with the paths of their descriptors).
    /// </summary>
    private static List<string> TraceThread(string output, Action action)
    {
        Assert.True(File.Exists("/usr/bin/strace"), "strace is needed to watch the calls (.ci/run installs it)");
        var tid = 0;
        using var started = new ManualResetEventSlim();
        using var go = new ManualResetEventSlim();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            tid = int.Parse(new DirectoryInfo("/proc/thread-self").LinkTarget!.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture);
            started.Set();
            go.Wait();
            try
            {
                action();
            }
            catch (Exception e) when (e is HermesException or IOException)
            {
                failure = e;
            }
        });
        thread.Start();
        started.Wait();

        var start = new ProcessStartInfo("/usr/bin/strace") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-y", "-qq", "-e", "trace=fsync,fdatasync,rename,renameat,renameat2", "-o", output, "-p", tid.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        using var strace = Process.Start(start)!;
        // strace says nothing on attaching with -qq; give it time to attach, then check the thread is traced.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && !File.ReadAllText($"/proc/{tid}/status").Contains($"TracerPid:\t{strace.Id}", StringComparison.Ordinal))
        {
            Thread.Sleep(10);
        }

        go.Set();
        thread.Join();
        Run("/bin/kill", "-INT", strace.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)); // detaches
        strace.WaitForExit();
        Assert.Null(failure);
        return [.. File.ReadAllLines(output)];
    }

    /// <summary>The descriptor number an fsync line names: "fsync(23&lt;/path&gt;) = 0" gives 23.</summary>
    private static string DirectoryFd(string line) =>
        line.StartsWith("fsync(", StringComparison.Ordinal) && line.IndexOf('<', StringComparison.Ordinal) is > 6 and var lt ? line[6..lt] : "-";
}
