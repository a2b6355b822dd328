# The fleet harness (FleetHarness.ps1) itself: three hosts, each a sandbox with its own systemd, hostname and sshd,
# answer PowerShell remoting over SSH as themselves; what one writes stays in it; a dropped connection and a stopped
# sshd behave as on a real network; and nothing of the fleet outlives Stop-HermesTestFleet. As root next to sde2e (CI).
# Where the suite must run (HERMES_REQUIRE_SANDBOX=1, CI as root) a missing sshd or ssh fails instead of skipping.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'FleetHarness.ps1')
    $canRun = Test-HermesTestFleetRunnable
}

Describe 'A test fleet of three hosts reached over SSH' -Skip:(-not $canRun) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        . (Join-Path $PSScriptRoot 'FleetHarness.ps1')
        $pinned = (Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '../../.config/dotnet-tools.json') | ConvertFrom-Json).tools.powershell.version
        $machineName = hostname
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $fleet = @(Start-HermesTestFleet -Count 3)
        $upSeconds = $clock.Elapsed.TotalSeconds
        $clock.Restart()
        $sessions = @(New-HermesTestFleetSession -Fleet $fleet)
        Write-Host "fleet of 3 up in $([math]::Round($upSeconds, 2)) s, 3 sessions open in $([math]::Round($clock.Elapsed.TotalSeconds, 2)) s"
        $answers = @(Invoke-Command -Session $sessions {
                [pscustomobject]@{
                    HostName  = (hostname)
                    PSVersion = $PSVersionTable.PSVersion.ToString()
                    Pid1      = (Get-Content /proc/1/comm)
                    # field 22 of /proc/1/stat: when PID 1 started, to match with the manager the machine sees
                    Pid1Start = ((Get-Content /proc/1/stat) -replace '^.*\) ', '' -split ' ')[19]
                }
            })
    }

    AfterAll {
        if ($fleet) { Stop-HermesTestFleet -Fleet $fleet }
    }

    It 'has what a fleet needs (root, sde2e, sshd, ssh)' {
        Get-HermesTestFleetBlocker | Should -BeNullOrEmpty
    }

    It 'names the sessions and the results gw1, gw2, gw3' {
        $sessions.ComputerName | Should -Be @('gw1', 'gw2', 'gw3')
        $answers.PSComputerName | Sort-Object | Should -Be @('gw1', 'gw2', 'gw3')
    }

    It 'each host answers with its own hostname' {
        foreach ($a in $answers) { $a.HostName | Should -Be $a.PSComputerName }
        hostname | Should -Be $machineName -Because 'a host sets the name in its own uts namespace'
    }

    It 'each host runs its own systemd as PID 1' {
        foreach ($a in $answers) {
            $a.Pid1 | Should -Be 'systemd'
            $h = $fleet | Where-Object Name -eq $a.PSComputerName
            $machineView = ((Get-Content "/proc/$($h.ManagerPid)/stat") -replace '^.*\) ', '' -split ' ')[19]
            $a.Pid1Start | Should -Be $machineView -Because "$($h.Name)'s PID 1 is its sandbox's manager, the machine's PID $($h.ManagerPid)"
        }
        @($fleet.ManagerPid | Sort-Object -Unique).Count | Should -Be 3
    }

    It 'each host runs the pinned PowerShell' {
        $pinned | Should -Not -BeNullOrEmpty
        foreach ($a in $answers) { $a.PSVersion | Should -Be $pinned }
    }

    It 'keeps what a host writes under <_> in that host' -ForEach '/usr/local', '/usr/local/share/powershell/Modules', '/etc', '/root', '/var/tmp' {
        $dir = $_
        $name = "fleet-cow-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $path = "$dir/$name"
        Invoke-Command -Session $sessions[0] { New-Item -ItemType Directory -Force -Path $using:dir | Out-Null; Set-Content -LiteralPath $using:path -Value gw1 }
        Invoke-Command -Session $sessions[0] { Get-Content -LiteralPath $using:path } | Should -Be 'gw1'
        Test-Path -LiteralPath $path | Should -BeFalse -Because 'the machine does not see it'
        Invoke-Command -Session $sessions[1] { Test-Path -LiteralPath $using:path } | Should -BeFalse -Because 'gw2 does not see it'
    }

    It 'runs the stub gateway as hermes in each host, and reads its events' {
        $h = $fleet[1]
        Invoke-HermesTestFleetHost -Host $h -Command systemd-run, --quiet, --unit=fleet-stub, -E, HERMES_HOME=/root/.hermes-fleet, hermes, gateway, run | Should -BeNullOrEmpty
        $LASTEXITCODE | Should -Be 0
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while (-not (Get-HermesTestFleetEvent -Host $h -HermesHome /root/.hermes-fleet | Where-Object { $_.event -eq 'state' -and $_.state -eq 'running' })) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "the stub did not reach running: $(Invoke-HermesTestFleetHost -Host $h -Command 'systemctl status fleet-stub')" }
            Start-Sleep -Milliseconds 100
        }
        Invoke-HermesTestFleetHost -Host $h -Command 'systemctl stop fleet-stub' | Out-Null
        $events = @(Get-HermesTestFleetEvent -Host $h -HermesHome /root/.hermes-fleet)
        $started = $events | Where-Object event -eq started
        $started.knobs.contract | Should -Be 'hermes-0.16'
        $started.knobs.drain_seconds | Should -Be 1
        $events.Host | Sort-Object -Unique | Should -Be 'gw2'
        $events[-1].event | Should -Be 'exit'
        Get-HermesTestFleetEvent -Host $fleet[0] -HermesHome /root/.hermes-fleet | Should -BeNullOrEmpty -Because 'gw1 ran no stub'
        Test-Path /root/.hermes-fleet | Should -BeFalse
    }

    It 'Install-HermesService -Scope System in every host at once runs the stub under each host''s systemd' {
        $manifest = Get-HermesTestModulePath
        $unitOnMachine = Test-Path /etc/systemd/system/hermes-gateway.service
        $installed = @(Invoke-Command -Session $sessions {
                $ConfirmPreference = 'None'
                Import-Module $using:manifest
                New-HermesServiceDefinition -Scope System -User hermes -HermesHome /home/hermes/.hermes -Executable /usr/local/bin/hermes |
                    Install-HermesService -Start -WarningAction SilentlyContinue | Out-Null
                Get-HermesService -Name hermes-gateway | Select-Object Name, Scope, State
            })
        $installed.PSComputerName | Sort-Object | Should -Be @('gw1', 'gw2', 'gw3')
        foreach ($i in $installed) { $i.State | Should -Be 'active' -Because "on $($i.PSComputerName)" }
        foreach ($h in $fleet) {
            $mainPid = Invoke-HermesTestFleetHost -Host $h -Command 'systemctl show -p MainPID --value hermes-gateway'
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while (-not (Get-HermesTestFleetEvent -Host $h | Where-Object { $_.event -eq 'state' -and $_.state -eq 'running' })) {
                if ([DateTime]::UtcNow -gt $deadline) { throw "the gateway of $($h.Name) did not reach running" }
                Start-Sleep -Milliseconds 100
            }
            $started = @(Get-HermesTestFleetEvent -Host $h | Where-Object event -eq started)
            $started.Count | Should -Be 1
            $started[0].Host | Should -Be $h.Name
            "$($started[0].pid)" | Should -Be "$mainPid" -Because "$($h.Name)'s systemd runs the stub"
            $started[0].supervised | Should -BeTrue
        }
        Test-Path /etc/systemd/system/hermes-gateway.service | Should -Be $unitOnMachine -Because 'the unit lands in the hosts only'
    }

    It 'Stop-HermesTestFleetConnection breaks a command running in a session, and a new session connects' {
        $h = $fleet[2]
        $session = $sessions[2]
        $mark = "/run/fleet-running-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $job = Invoke-Command -Session $session { New-Item -ItemType File -Path $using:mark | Out-Null; Start-Sleep 30; 'finished' } -AsJob
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while (-not (Invoke-HermesTestFleetHost -Host $h -Command "test -e $mark && echo yes")) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the command did not start' }
            Start-Sleep -Milliseconds 50
        }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $killed = @(Stop-HermesTestFleetConnection -Host $h)
        $killed.Name | Should -Contain 'sshd'
        @($killed | Where-Object CommandLine -match '-sshs').Count | Should -BeGreaterOrEqual 1
        $null = Wait-Job $job -Timeout 20
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 15 -Because 'the command fails when its connection drops, not when it ends'
        $job.State | Should -Be 'Failed'
        $failure = $null
        try { Receive-Job $job -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        "$($failure.FullyQualifiedErrorId) $($failure.Exception.GetType().FullName) $failure" | Should -Match 'PSRemoting|Remot|transport|connection'
        $session.State | Should -Not -Be 'Opened'
        Remove-Job $job -Force

        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while (@(Get-HermesTestFleetProcess -Host $h | Where-Object Name -eq sshd).Count -ne 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        @(Get-HermesTestFleetProcess -Host $h | Where-Object Name -eq sshd).Pid | Should -Be $h.SshdPid -Because 'the listener stays, alone'
        $again = @(New-HermesTestFleetSession -Fleet $h)[0]
        Invoke-Command -Session $again { hostname } | Should -Be 'gw3'
    }

    It 'Stop-HermesTestFleetSshd makes the host unreachable, Start-HermesTestFleetSshd brings it back' {
        $h = $fleet[1]
        Stop-HermesTestFleetSshd -Host $h
        Test-Path -LiteralPath $h.SshdPidFile | Should -BeFalse
        $clock = [Diagnostics.Stopwatch]::StartNew()
        { New-PSSession -SSHConnection (Get-HermesTestFleetConnection -Host $h) -ErrorAction Stop } | Should -Throw
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'a refused connection fails at once'
        Invoke-Command -Session $sessions[1] { hostname } | Should -Be 'gw2' -Because 'an open connection is served on'

        Start-HermesTestFleetSshd -Host $h
        $back = @(New-HermesTestFleetSession -Fleet $h)[0]
        Invoke-Command -Session $back { hostname } | Should -Be 'gw2'
    }

    It 'leaves nothing behind after Stop-HermesTestFleet, and can be called again' {
        $namespaces = @($fleet | ForEach-Object { (Get-Item "/proc/$($_.ManagerPid)/ns/pid").LinkTarget })
        $namespaces.Count | Should -Be 3
        $fleetDir = $fleet[0].FleetDirectory
        Stop-HermesTestFleet -Fleet $fleet
        foreach ($h in $fleet) {
            Test-Path "/proc/$($h.ManagerPid)" | Should -BeFalse
            $h.Sessions.Count | Should -Be 0
        }
        $left = foreach ($p in Get-ChildItem /proc -Directory | Where-Object Name -match '^\d+$') {
            $ns = (Get-Item -LiteralPath "$($p.FullName)/ns/pid" -ErrorAction SilentlyContinue).LinkTarget
            if ($ns -and $namespaces -contains $ns) { $p.Name }
        }
        $left | Should -BeNullOrEmpty -Because 'no process of any host is left'
        @(pgrep -f -- $fleetDir) | Should -BeNullOrEmpty -Because 'no sshd of the fleet is left'
        Test-Path -LiteralPath $fleetDir | Should -BeFalse
        $sessions | ForEach-Object { $_.State } | Should -Not -Contain 'Opened'
        { Stop-HermesTestFleet -Fleet $fleet } | Should -Not -Throw
        hostname | Should -Be $machineName
    }

    It 'Stop-HermesTestFleet takes a fleet that never started' {
        $never = [pscustomobject]@{
            Name = 'gw9'; State = '/tmp/hermes-sde2e-fleet-none/state-none-gw9'; Directory = '/tmp/hermes-sde2e-fleet-none/gw9'
            FleetDirectory = '/tmp/hermes-sde2e-fleet-none'; Sessions = [Collections.Generic.List[object]]::new()
        }
        { Stop-HermesTestFleet -Fleet $never } | Should -Not -Throw
    }
}
