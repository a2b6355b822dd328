# A fleet of test hosts for the module's fleet features (PowerShell remoting over SSH), as root on Linux. Dot-source
# this file; nothing runs until a function is called.
#
# Each host is an sde2e sandbox (../shared/tools/sde2e, backend ns: a private systemd 252 as PID 1 of its own pid,
# mount, uts, ipc and cgroup namespaces) with its own hostname (gw1, gw2, ...) and its own sshd (Debian's
# /usr/sbin/sshd, started by this harness inside the sandbox, never the machine's ssh service) listening on
# 127.0.0.1 on a port of its own, with a 'powershell' subsystem that runs the pwsh this harness runs in. The sandboxes
# share the machine's network, so a host is its port; sessions are opened to the host's name (-HostName gw1, so
# PSComputerName is gw1) and ssh is told where the host really is with '-o HostName=127.0.0.1 -o Port=N'.
#
# Inside each host, /usr/local/bin/hermes is the stub gateway (tests/stub-gateway/stub_gateway.py, contract
# hermes-0.16, a drain of 1 s), as tests/Pester/ExampleRunner.ps1 sets it up, and a system account 'hermes' with its
# HERMES_HOME /home/hermes/.hermes is ready, so in a session
#   New-HermesServiceDefinition -Scope System -User hermes -HermesHome /home/hermes/.hermes | Install-HermesService -Start
# installs a gateway the host's systemd runs (the sandbox searches /etc/systemd/system for units), and
# Get-HermesTestFleetEvent reads what the stub did. A session's environment is root's as sshd gives it (no PAM), plus
# what the machine's /root/.bashrc sets (bash reads it for ssh commands; the host sees the machine's file).
#
# What a host writes, and where it lands (sde2e's ns backend; checked by hand and by FleetHarness.Tests.ps1):
#   copy-on-write, thrown away with the sandbox, never seen by the machine nor by the other hosts:
#     /etc /var /root /home /srv /usr /opt (overlays whose lower layer is the machine's directory), so also
#     /usr/local/bin, /usr/local/share/powershell/Modules (AllUsers modules), /root/.local/share/powershell
#     (CurrentUser modules, PSReadLine history), /root/.hermes, /etc/systemd/system, /var/tmp, and /bin /sbin /lib
#     /lib64 (symlinks into /usr on Debian 12).
#   private to the sandbox (tmpfs, empty at start): /run (so /run/sshd, /run/hermesgateway, the manager's sockets),
#     /dev, /dev/shm. /proc/sys and /sys are read-only.
#   SHARED with the machine: /tmp, the repository and everything else under / that is not listed above (/work, /mnt,
#     /media, /boot, /old_root, /Users, ...), and the network (loopback ports). The harness keeps its own files (keys,
#     sshd configs, logs, sde2e's state directories) in one 0700 directory /tmp/hermes-sde2e-fleet-XXXXXXXX per fleet,
#     removed by Stop-HermesTestFleet (.ci/run takes down and counts any sandbox left under /tmp/hermes-sde2e-*/state*).
#     The PowerShell subsystem runs with TMPDIR=/var/tmp, so the temporary files and IPC sockets pwsh makes
#     (CoreFxPipe_*) stay in the host's copy-on-write /var/tmp even when a test kills it, and tests must not write
#     into /tmp from a host unless they mean the machine to see it.
#   The host's lower layers are the machine's live directories: a file the machine changes there (one the host has
#     not written itself) can be seen changed inside. The machine's openssh-server package enables ssh.service in
#     /etc/systemd/system/multi-user.target.wants; the sandboxes never start multi-user.target (their default target
#     is e2e.target), so that sshd never runs.
#
# sshd is started through 'sde2e exec', daemonizes and is reparented to the sandbox's systemd; it stays in the cgroup
# of whoever started it (not a unit of the sandbox's manager), but it is a process of the sandbox's pid namespace, so
# 'sde2e down' kills it with everything else. Its PID file holds its PID as the sandbox numbers it.

function Get-HermesTestFleetTool {
    # Paths the harness needs, from where this file lies.
    $root = [IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $dll = Join-Path $PSHOME 'pwsh.dll'
    $pwsh = if ((Test-Path -LiteralPath $dll) -and [IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') {
        @([Environment]::ProcessPath, $dll)
    }
    else {
        @((Join-Path $PSHOME 'pwsh'))
    }
    [pscustomobject]@{
        Root  = $root
        Sde2e = [IO.Path]::GetFullPath((Join-Path $root '../shared/tools/sde2e'))
        Sshd  = '/usr/sbin/sshd'
        Stub  = Join-Path $root 'tests/stub-gateway/stub_gateway.py'
        Pwsh  = $pwsh
    }
}

# Why a fleet cannot be started here, or $null when it can: root on Linux, sde2e, sshd, ssh and ssh-keygen.
function Get-HermesTestFleetBlocker {
    if (-not $IsLinux) { return 'not Linux' }
    if ((id -u) -ne '0') { return 'not root' }
    $tool = Get-HermesTestFleetTool
    if (-not (Test-Path -LiteralPath $tool.Sde2e)) { return "sde2e is missing ($($tool.Sde2e))" }
    if (-not (Test-Path -LiteralPath $tool.Sshd)) { return "sshd is missing ($($tool.Sshd); apt-get install openssh-server, as .ci/run does)" }
    foreach ($command in 'ssh', 'ssh-keygen') {
        if (-not (Get-Command $command -CommandType Application -ErrorAction SilentlyContinue)) { return "$command is missing (openssh-client)" }
    }
    $null
}

# A loopback port nothing listens on now (the kernel's pick). Another process may take it before sshd binds it: the
# caller retries with another port when sshd cannot bind.
function Get-HermesTestFleetFreePort {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    try { $listener.Start(); $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Invoke-HermesTestFleetSde2e {
    # sde2e with its output; throws when it fails.
    param([Parameter(Mandatory)][string[]] $Arguments, [hashtable] $Environment = @{})
    $tool = Get-HermesTestFleetTool
    $envArgs = @($Environment.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" })
    $out = if ($envArgs.Count) { & /usr/bin/env @envArgs $tool.Sde2e @Arguments 2>&1 } else { & $tool.Sde2e @Arguments 2>&1 }
    if ($LASTEXITCODE -ne 0) { throw "sde2e $($Arguments -join ' ') failed ($LASTEXITCODE): $(($out | Out-String).Trim())" }
    $out | ForEach-Object { "$_" }
}

<#
Starts the host's sshd inside its sandbox and waits until it listens. Used by Start-HermesTestFleet, and by a test to
bring a host back after Stop-HermesTestFleetSshd. Tries the host's port first; when sshd cannot bind it (taken by
someone else meanwhile), picks another and records it in the host's Port.
#>
function Start-HermesTestFleetSshd {
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)][Alias('Host')] [object] $FleetHost)
    process {
        $h = $FleetHost
        $tool = Get-HermesTestFleetTool
        $port = if ($h.Port) { $h.Port } else { Get-HermesTestFleetFreePort }
        foreach ($attempt in 1..5) {
            $config = @(
                "Port $port"
                "ListenAddress $($h.Address)"
                "HostKey $($h.Directory)/ssh_host_ed25519_key"
                "AuthorizedKeysFile $($h.Directory)/authorized_keys"
                'PubkeyAuthentication yes'
                'PasswordAuthentication no'
                'KbdInteractiveAuthentication no'
                'PermitRootLogin prohibit-password'
                'StrictModes no'
                'UsePAM no'
                'UseDNS no'
                'PrintMotd no'
                "PidFile $($h.SshdPidFile)"
                "Subsystem powershell $($h.Directory)/pwsh-subsystem"
            ) + @($h.SshdSetEnv | ForEach-Object { "SetEnv $_" })
            Set-Content -LiteralPath "$($h.Directory)/sshd_config" -Value $config
            Remove-Item -LiteralPath $h.SshdPidFile -Force -ErrorAction SilentlyContinue
            $logStart = if (Test-Path -LiteralPath $h.SshdLog) { (Get-Item -LiteralPath $h.SshdLog).Length } else { 0 }
            Invoke-HermesTestFleetSde2e -Arguments @('exec', $h.State, $tool.Sshd, '-f', "$($h.Directory)/sshd_config", '-E', $h.SshdLog) | Out-Null

            # sshd daemonizes first and binds afterwards: it writes its PID file once it listens, or logs a fatal error.
            # The file exists a moment before its number is in it: only a number counts.
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            $failed = $null
            $sshdPid = $null
            while ([DateTime]::UtcNow -lt $deadline) {
                $text = if (Test-Path -LiteralPath $h.SshdPidFile) { Get-Content -Raw -LiteralPath $h.SshdPidFile -ErrorAction SilentlyContinue }
                if ("$text" -match '^\s*(\d+)\s*$') { $sshdPid = [int]$Matches[1]; break }
                $log = if (Test-Path -LiteralPath $h.SshdLog) {
                    $s = [IO.File]::ReadAllText($h.SshdLog); if ($s.Length -gt $logStart) { $s.Substring([int]$logStart) } else { '' }
                }
                if ($log -match 'fatal|Cannot bind|error: Bind') { $failed = $log.Trim(); break }
                Start-Sleep -Milliseconds 20
            }
            if (-not $failed -and -not $sshdPid) { throw "sshd of $($h.Name) did not start within 10 s (log: $($h.SshdLog))" }
            if (-not $failed) {
                $h.Port = $port
                $h.SshdPid = $sshdPid
                return
            }
            if ($failed -notmatch 'Address already in use|Cannot bind') { throw "sshd of $($h.Name) failed: $failed" }
            $port = Get-HermesTestFleetFreePort
        }
        throw "sshd of $($h.Name) found no free port in 5 attempts"
    }
}

<#
.SYNOPSIS
Whether a fleet suite runs here: as root on Linux next to sde2e, with sshd and ssh; where the suites must run
(HERMES_REQUIRE_SANDBOX=1, CI as root) a missing sshd or ssh does not skip them, so they fail and say why.
#>
function Test-HermesTestFleetRunnable {
    $sde2e = Join-Path $PSScriptRoot '../../../shared/tools/sde2e'
    $canRun = $IsLinux -and ((id -u) -eq '0') -and (Test-Path -LiteralPath $sde2e)
    if ($canRun -and $env:HERMES_REQUIRE_SANDBOX -ne '1' -and (Get-HermesTestFleetBlocker)) { $canRun = $false }
    $canRun
}

<#
.SYNOPSIS
Starts -Count hosts named <Name>1..<Name>N, each a sandbox with its own systemd, hostname and sshd.
.OUTPUTS
One object per host: Name, Address (127.0.0.1), Port, UserName (root), KeyFile (the fleet's client key), State (the
sandbox's sde2e state directory), ManagerPid (its systemd, as the machine numbers it), SshdPid (its sshd, as the
sandbox numbers it), Directory (the host's sshd files: config, host key, authorized_keys, subsystem script),
SshdLog, SshdPidFile, FleetDirectory, GatewayUser (hermes) and HermesHome (/home/hermes/.hermes: the account and home
for New-HermesServiceDefinition -Scope System -User hermes -HermesHome ...), Sessions (the sessions
New-HermesTestFleetSession opened to it).
On any failure, takes down whatever it had started and throws.
#>
function Start-HermesTestFleet {
    [CmdletBinding()]
    param(
        [ValidateRange(1, 32)][int] $Count = 3,
        [ValidatePattern('^[a-z][a-z0-9-]*$')][string] $Name = 'gw',
        # How long the stub gateway drains on a stop or restart (HERMES_STUB_DRAIN_SECONDS).
        [double] $DrainSeconds = 1,
        # Also start root's user manager in each host, with XDG_RUNTIME_DIR and the user bus set in SSH sessions.
        [switch] $UserManager
    )
    $blocker = Get-HermesTestFleetBlocker
    if ($blocker) { throw "A test fleet cannot run here: $blocker" }
    $tool = Get-HermesTestFleetTool
    $clock = [Diagnostics.Stopwatch]::StartNew()

    $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
    $fleetDir = Join-Path '/tmp' "hermes-sde2e-fleet-$id"
    New-Item -ItemType Directory -Path $fleetDir | Out-Null
    chmod 700 $fleetDir
    $keyFile = Join-Path $fleetDir 'client/id_ed25519'
    New-Item -ItemType Directory -Path (Split-Path $keyFile) | Out-Null
    chmod 700 (Split-Path $keyFile)

    $fleet = foreach ($i in 1..$Count) {
        $hostName = "$Name$i"
        [pscustomobject]@{
            PSTypeName     = 'HermesTestFleetHost'
            Name           = $hostName
            Address        = '127.0.0.1'
            Port           = 0
            UserName       = 'root'
            KeyFile        = $keyFile
            # sde2e names the sandbox's cgroup after this directory's name: unique per fleet, so fleets can run at once.
            State          = Join-Path $fleetDir "state-$id-$hostName"
            ManagerPid     = 0
            SshdPid        = 0
            Directory      = Join-Path $fleetDir $hostName
            SshdLog        = Join-Path $fleetDir "$hostName/sshd.log"
            SshdPidFile    = Join-Path $fleetDir "$hostName/sshd.pid"
            SshdSetEnv     = if ($UserManager) { @('XDG_RUNTIME_DIR=/run/user/0', 'DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/0/bus') } else { @() }
            FleetDirectory = $fleetDir
            GatewayUser    = 'hermes'
            HermesHome     = '/home/hermes/.hermes'
            Sessions       = [Collections.Generic.List[object]]::new()
        }
    }

    try {
        ssh-keygen -q -t ed25519 -N '' -C "hermes-test-fleet" -f $keyFile
        if ($LASTEXITCODE -ne 0) { throw 'ssh-keygen failed (client key)' }
        $clientKey = Get-Content -Raw -LiteralPath "$keyFile.pub"

        # The subsystem: the pwsh this harness runs in, as a server (-sshs). TMPDIR: see the header.
        $subsystem = "#!/bin/sh`nexport TMPDIR=/var/tmp`nexec " + (($tool.Pwsh | ForEach-Object { "'$_'" }) -join ' ') + " -sshs -NoLogo -NoProfile`n"
        $python = if (Test-Path /usr/bin/python3) { '/usr/bin/python3' } else { 'python3' }
        $drain = $DrainSeconds.ToString([Globalization.CultureInfo]::InvariantCulture)
        $launcher = "#!/bin/sh`n[ `"`$1`" = -m ] && shift 2`nexport HERMES_STUB_CONTRACT=hermes-0.16 HERMES_STUB_DRAIN_SECONDS=$drain`nexec $python '$($tool.Stub)' `"`$@`"`n"

        # The sandboxes boot side by side (each 'up' mostly waits for its manager).
        $sandboxEnv = @{ SDE2E_EXTRA_UNIT_PATH = '/etc/systemd/system'; SDE2E_EXTRA_USER_UNIT_PATH = '/root/.config/systemd/user' }
        $ups = foreach ($h in $fleet) {
            New-Item -ItemType Directory -Path $h.State, $h.Directory | Out-Null
            $info = [Diagnostics.ProcessStartInfo]::new($tool.Sde2e)
            foreach ($a in 'up', $h.State) { $info.ArgumentList.Add($a) }
            foreach ($k in $sandboxEnv.Keys) { $info.Environment[$k] = $sandboxEnv[$k] }
            $info.RedirectStandardOutput = $true; $info.RedirectStandardError = $true; $info.UseShellExecute = $false
            [pscustomobject]@{ Host = $h; Process = [Diagnostics.Process]::Start($info) }
        }
        foreach ($h in $fleet) {
            ssh-keygen -q -t ed25519 -N '' -C "host $($h.Name)" -f "$($h.Directory)/ssh_host_ed25519_key"
            if ($LASTEXITCODE -ne 0) { throw "ssh-keygen failed (host key of $($h.Name))" }
            Set-Content -LiteralPath "$($h.Directory)/authorized_keys" -Value $clientKey -NoNewline
            Set-Content -LiteralPath "$($h.Directory)/pwsh-subsystem" -Value $subsystem -NoNewline
            Set-Content -LiteralPath "$($h.Directory)/hermes" -Value $launcher -NoNewline
            chmod 755 "$($h.Directory)/pwsh-subsystem"
        }
        foreach ($u in $ups) {
            $stdout = $u.Process.StandardOutput.ReadToEndAsync(); $stderr = $u.Process.StandardError.ReadToEndAsync()
            if (-not $u.Process.WaitForExit(60000)) { $u.Process.Kill(); throw "sde2e up $($u.Host.State) did not finish within 60 s" }
            $u.Process.WaitForExit()
            if ($u.Process.ExitCode -ne 0) { throw "sde2e up $($u.Host.State) failed ($($u.Process.ExitCode)): $($stderr.Result)" }
            $u.Host.ManagerPid = [int](($stdout.Result -split "`n" | Where-Object { $_ -match '^\d+$' } | Select-Object -Last 1))
        }
        Write-Verbose "test fleet: $Count sandboxes up after $($clock.ElapsedMilliseconds) ms"

        foreach ($h in $fleet) {
            # Inside the host (its /etc, /usr, /root, /home, /opt are copy-on-write): its hostname (its own uts
            # namespace), sshd's privilege-separation directory and user, root able to log in with a key (a locked
            # password, '!', would refuse it without PAM), and, as tests/Pester/ExampleRunner.ps1 does, the stub as
            # 'hermes' where Hermes' installers put it, a system account 'hermes' to run a System gateway, and its
            # HERMES_HOME /home/hermes/.hermes (owned by it, 0700) made, as the module asks before installing.
            $setup = @"
set -e
hostname '$($h.Name)'
mkdir -p /run/sshd && chmod 755 /run/sshd
getent passwd sshd >/dev/null || useradd --system --home-dir /run/sshd --shell /usr/sbin/nologin sshd
case "`$(getent shadow root | cut -d: -f2)" in '!'*) usermod -p '*' root;; esac
getent passwd hermes >/dev/null || useradd --system --home-dir /home/hermes --shell /usr/sbin/nologin hermes
for p in /usr/local/bin/hermes /opt/hermes/bin/hermes /home/hermes/.local/bin/hermes /home/hermes/.hermes/venv/bin/python; do
  install -D -m 755 '$($h.Directory)/hermes' "`$p"
done
chown -R hermes: /home/hermes && chmod 700 /home/hermes/.hermes
"@
            Invoke-HermesTestFleetSde2e -Arguments @('exec', $h.State, 'sh', '-c', $setup) | Out-Null
            if ($UserManager) {
                Invoke-HermesTestFleetSde2e -Arguments @('ctl', $h.State, 'start', 'e2e-user@0.service') | Out-Null
            }
            Start-HermesTestFleetSshd -Host $h
            Write-Verbose "test fleet: $($h.Name) listens on $($h.Address):$($h.Port) after $($clock.ElapsedMilliseconds) ms"
        }
    }
    catch {
        $failure = $_
        Stop-HermesTestFleet -Fleet $fleet -ErrorAction SilentlyContinue
        throw "Starting the test fleet failed: $failure"
    }
    $fleet
}

# The hashtable New-PSSession -SSHConnection takes for a host: its name as the computer name, ssh sent to its address.
function Get-HermesTestFleetConnection {
    param([Parameter(Mandatory)][Alias('Host')] [object] $FleetHost)
    @{
        HostName          = $FleetHost.Name
        UserName          = $FleetHost.UserName
        KeyFilePath       = $FleetHost.KeyFile
        Port              = $FleetHost.Port
        ConnectingTimeout = 30000
        Options           = @{
            HostName              = $FleetHost.Address
            Port                  = "$($FleetHost.Port)"
            StrictHostKeyChecking = 'no'
            UserKnownHostsFile    = '/dev/null'
            GlobalKnownHostsFile  = '/dev/null'
            BatchMode             = 'yes'
            LogLevel              = 'ERROR'
            ConnectTimeout        = '10'
        }
    }
}

<#
.SYNOPSIS
Opens one PSSession to each host, all at once (New-PSSession -SSHConnection). ComputerName is the host's name.
.OUTPUTS
The sessions, in the fleet's order; each is also added to its host's Sessions (Stop-HermesTestFleet removes them).
Throws when any host does not answer (closing the sessions that did open).
#>
function New-HermesTestFleetSession {
    [CmdletBinding()]
    param([Parameter(Mandatory)][object[]] $Fleet)
    $connections = @($Fleet | ForEach-Object { Get-HermesTestFleetConnection -Host $_ })
    $errors = $null
    $sessions = @(New-PSSession -SSHConnection $connections -ErrorAction SilentlyContinue -ErrorVariable errors)
    if ($errors -or $sessions.Count -ne $Fleet.Count) {
        $sessions | Remove-PSSession -ErrorAction SilentlyContinue
        # What each failing host's sshd logged, to tell a refused key from a subsystem that died.
        $logs = foreach ($h in $Fleet | Where-Object { $_.Name -notin $sessions.ComputerName }) {
            $tail = if (Test-Path -LiteralPath $h.SshdLog) { (Get-Content -LiteralPath $h.SshdLog -Tail 5) -join ' | ' } else { 'no log' }
            "$($h.Name) (port $($h.Port)) sshd: $tail"
        }
        throw "Could not open a session to every host: $(($errors | ForEach-Object { "$_" }) -join '; '). $($logs -join '. ')"
    }
    foreach ($h in $Fleet) {
        $s = $sessions | Where-Object ComputerName -eq $h.Name | Select-Object -First 1
        $h.Sessions.Add($s)
        $s
    }
}

<#
.SYNOPSIS
Takes the hosts down: closes the sessions New-HermesTestFleetSession opened, 'sde2e down' for each sandbox (which
kills its sshd and every other process in it), and removes the hosts' files, and the fleet's directory once no host
of it is left. Safe to call again, and on a fleet whose start failed.
#>
function Stop-HermesTestFleet {
    [CmdletBinding()]
    param([Parameter(Mandatory)][AllowEmptyCollection()][object[]] $Fleet)
    $tool = Get-HermesTestFleetTool
    foreach ($h in $Fleet) {
        if ($h.Sessions) {
            $h.Sessions | Remove-PSSession -ErrorAction SilentlyContinue
            $h.Sessions.Clear()
        }
    }
    foreach ($h in $Fleet) {
        if (Test-Path -LiteralPath (Join-Path $h.State 'pid')) {
            & $tool.Sde2e down $h.State 2>&1 | ForEach-Object { Write-Warning "sde2e down $($h.State): $_" }
        }
        Remove-Item -LiteralPath $h.State, $h.Directory -Recurse -Force -ErrorAction SilentlyContinue
    }
    foreach ($dir in @($Fleet.FleetDirectory | Sort-Object -Unique)) {
        if ((Test-Path -LiteralPath $dir) -and -not (Get-ChildItem -LiteralPath $dir -Directory -Filter 'state-*')) {
            Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

<#
.SYNOPSIS
Runs a command inside a host's sandbox (sde2e exec), as root: its systemd, its files, its PIDs. -Command is one shell
command line (run by sh -c), e.g. 'systemctl is-active hermes-gateway', or a program and its arguments, e.g.
systemctl, is-active, hermes-gateway. Returns the output lines (stderr included); $LASTEXITCODE is the command's.
#>
function Invoke-HermesTestFleetHost {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][Alias('Host')] [object] $FleetHost,
        [Parameter(Mandatory, Position = 0)][string[]] $Command
    )
    $tool = Get-HermesTestFleetTool
    $argv = if ($Command.Count -eq 1) { @('sh', '-c', $Command[0]) } else { $Command }
    & $tool.Sde2e exec $FleetHost.State @argv 2>&1 | ForEach-Object { "$_" }
}

<#
.SYNOPSIS
The stub gateway's events on a host ($HermesHome/stub-events.jsonl; by default the host's HermesHome,
/home/hermes/.hermes), parsed, each with a Host
property (the host's name). Nothing when the file does not exist.
#>
function Get-HermesTestFleetEvent {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)][Alias('Host')] [object] $FleetHost,
        [string] $HermesHome
    )
    process {
        $tool = Get-HermesTestFleetTool
        $home_ = if ($HermesHome) { $HermesHome } else { $FleetHost.HermesHome }
        $path = "$($home_.TrimEnd('/'))/stub-events.jsonl"
        $lines = & $tool.Sde2e exec $FleetHost.State sh -c 'test ! -e "$1" || cat "$1"' sh $path 2>&1
        if ($LASTEXITCODE -ne 0) { throw "Could not read $path on $($FleetHost.Name): $($lines -join ' ')" }
        foreach ($line in $lines) {
            if ("$line".Trim()) {
                $e = "$line" | ConvertFrom-Json
                $e | Add-Member -NotePropertyName Host -NotePropertyValue $FleetHost.Name -Force
                $e
            }
        }
    }
}

# The sandbox's processes: Pid, ParentPid, Name (comm) and CommandLine, as the sandbox numbers them.
function Get-HermesTestFleetProcess {
    param([Parameter(Mandatory)][Alias('Host')] [object] $FleetHost)
    $tool = Get-HermesTestFleetTool
    $lines = & $tool.Sde2e exec $FleetHost.State ps -e -o 'pid=,ppid=,comm=,args=' 2>&1
    if ($LASTEXITCODE -ne 0) { throw "Could not list the processes of $($FleetHost.Name): $($lines -join ' ')" }
    foreach ($line in $lines) {
        if ("$line" -match '^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$') {
            [pscustomobject]@{ Pid = [int]$Matches[1]; ParentPid = [int]$Matches[2]; Name = $Matches[3]; CommandLine = $Matches[4] }
        }
    }
}

<#
.SYNOPSIS
Makes a host unreachable: ends (SIGTERM) the listening sshd this harness started in it and waits until it is gone.
Connections already open are served on (sshd's per-connection processes are not the listener); to drop them too, call
Stop-HermesTestFleetConnection. Start-HermesTestFleetSshd brings the host back. Returns nothing.
#>
function Stop-HermesTestFleetSshd {
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)][Alias('Host')] [object] $FleetHost)
    process {
        $h = $FleetHost
        $listener = Get-HermesTestFleetProcess -Host $h | Where-Object { $_.Pid -eq $h.SshdPid -and $_.Name -eq 'sshd' -and $_.CommandLine -like "*$($h.Directory)/sshd_config*" }
        if (-not $listener) { return }
        Invoke-HermesTestFleetHost -Host $h -Command kill, -TERM, $listener.Pid | Out-Null
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (Get-HermesTestFleetProcess -Host $h | Where-Object { $_.Pid -eq $listener.Pid -and $_.Name -eq 'sshd' }) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "sshd of $($h.Name) did not end within 10 s" }
            Start-Sleep -Milliseconds 20
        }
        $h.SshdPid = 0
    }
}

<#
.SYNOPSIS
Drops every SSH connection to a host, as a network failure would: SIGKILL, inside that sandbox only, to the processes
serving them: sshd's per-connection processes (every sshd in the sandbox but the listener; they outlive a listener
stopped by Stop-HermesTestFleetSshd) and the PowerShell subsystems (pwsh -sshs). A PSSession to the host breaks,
mid-command too; the listening sshd stays up, so a new session connects. Processes the subsystems started stay (as
they would on a real host). Returns the processes it killed (Pid, ParentPid, Name, CommandLine; the sandbox's PIDs).
#>
function Stop-HermesTestFleetConnection {
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)][Alias('Host')] [object] $FleetHost)
    process {
        $h = $FleetHost
        $victims = @(Get-HermesTestFleetProcess -Host $h | Where-Object {
                ($_.Name -eq 'sshd' -and $_.Pid -ne $h.SshdPid -and $_.CommandLine -notmatch '\[listener\]') -or
                $_.CommandLine -match '(^|\s)-sshs(\s|$)'
            })
        if ($victims.Count) {
            Invoke-HermesTestFleetHost -Host $h -Command (@('kill', '-KILL') + @($victims.Pid | ForEach-Object { "$_" })) | Out-Null
        }
        $victims
    }
}
