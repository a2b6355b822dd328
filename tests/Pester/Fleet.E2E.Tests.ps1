# The module's fleet commands end to end, as root next to sde2e (CI): three hosts, each a sandbox with its own systemd
# 252, hostname and sshd with the PowerShell subsystem (FleetHarness.ps1), the stub gateway (Hermes 0.16's contract)
# as each host's service, reached by PowerShell remoting over SSH. What a rollout did is measured from each host's own
# gateway events (the stub's stub-events.jsonl), not from what the module reports. Where the suite must run
# (HERMES_REQUIRE_SANDBOX=1, CI as root) a missing sshd or ssh fails instead of skipping.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'FleetHarness.ps1')
    $canRun = Test-HermesTestFleetRunnable
}

Describe 'A fleet of three gateway hosts over PowerShell remoting (SSH)' -Skip:(-not $canRun) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        . (Join-Path $PSScriptRoot 'FleetHarness.ps1')
        $manifest = Get-HermesTestModulePath
        Import-Module $manifest -Force
        $lockBefore = Test-Path -LiteralPath /run/hermesgateway/fleet-rollout.restart.lock
        $machineModule = '/root/.local/share/powershell/Modules/HermesGateway'
        $machineHadModule = Test-Path -LiteralPath $machineModule
        $fleet = @(Start-HermesTestFleet -Count 3 -DrainSeconds 1)
        $sessions = @(New-HermesTestFleetSession -Fleet $fleet)
        $byName = @{}; foreach ($h in $fleet) { $byName[$h.Name] = $h }

        # A rollout run in a runspace of its own, as a second window or a runbook would: what it wrote to each stream.
        function Start-Rollout([scriptblock] $Script, [object[]] $Arguments = @()) {
            $ps = [powershell]::Create()
            $null = $ps.AddScript("Import-Module '$($manifest -replace "'", "''")'; `$ConfirmPreference = 'None'").AddStatement()
            $null = $ps.AddScript($Script.ToString())
            foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
            [pscustomobject]@{ Shell = $ps; Handle = $ps.BeginInvoke() }
        }
        function Complete-Rollout($Rollout, [int] $Seconds = 240) {
            if (-not $Rollout.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($Seconds))) { $Rollout.Shell.Stop(); throw "the rollout did not end within $Seconds s" }
            $out = @($Rollout.Shell.EndInvoke($Rollout.Handle))
            [pscustomobject]@{
                Output   = $out
                Errors   = @($Rollout.Shell.Streams.Error)
                Warnings = @($Rollout.Shell.Streams.Warning | ForEach-Object Message)
                Progress = @($Rollout.Shell.Streams.Progress)
            }
        }
        function Invoke-Rollout([scriptblock] $Script, [object[]] $Arguments = @()) { Complete-Rollout (Start-Rollout $Script $Arguments) }

        # When each host's gateway was down, from its own events: from the old process's restart or stop signal (its
        # drain begins) to the new process reporting itself running. Times are the machine's clock, shared by the hosts.
        function Get-Downtime([datetime] $Since) {
            $epoch = ([DateTimeOffset]$Since).ToUnixTimeMilliseconds() / 1000.0
            foreach ($h in $fleet) {
                $events = @(Get-HermesTestFleetEvent -Host $h | Where-Object { $_.time -ge $epoch })
                foreach ($signal in $events | Where-Object { $_.event -eq 'signal' }) {
                    $up = $events | Where-Object { $_.event -eq 'state' -and $_.state -eq 'running' -and $_.pid -ne $signal.pid -and $_.time -gt $signal.time } | Select-Object -First 1
                    [pscustomobject]@{ Host = $h.Name; From = [double]$signal.time; To = if ($up) { [double]$up.time } else { [double]::PositiveInfinity }; OldPid = $signal.pid; NewPid = $up.pid }
                }
            }
        }
        # The most gateways down at the same moment.
        function Get-MostDown([object[]] $Intervals) {
            $most = 0
            foreach ($i in $Intervals) {
                $at = $i.From
                $most = [Math]::Max($most, @($Intervals | Where-Object { $_.From -le $at -and $at -lt $_.To }).Count)
            }
            $most
        }
        function Wait-Active([object] $FleetHost, [int] $Seconds = 60) {
            $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
            while ((Invoke-HermesTestFleetHost -Host $FleetHost 'systemctl is-active hermes-gateway') -ne 'active') {
                if ([DateTime]::UtcNow -gt $deadline) { throw "$($FleetHost.Name): hermes-gateway not active within $Seconds s" }
                Start-Sleep -Milliseconds 200
            }
        }
        function Get-MainPid([object] $FleetHost) { [int](Invoke-HermesTestFleetHost -Host $FleetHost 'systemctl show -p MainPID --value hermes-gateway') }
        function Set-Session([string] $Name) {
            # A new session to one host, in place of one that broke.
            $h = $byName[$Name]
            $new = New-HermesTestFleetSession -Fleet @($h)
            for ($i = 0; $i -lt $sessions.Count; $i++) { if ($sessions[$i].ComputerName -eq $Name) { $sessions[$i] = $new } }
        }
    }

    AfterAll {
        if ($fleet) { Stop-HermesTestFleet -Fleet $fleet }
        if (-not $lockBefore) { Remove-Item -LiteralPath /run/hermesgateway/fleet-rollout.restart.lock -ErrorAction SilentlyContinue }
    }

    It 'reports every host without the module as an error of its own' {
        $objects = @(Get-HermesService -Session $sessions -ErrorVariable failed -ErrorAction SilentlyContinue)
        $objects | Should -BeNullOrEmpty
        @($failed).Count | Should -Be 3
        $failed | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'HermesModuleMissing,*' }
        @($failed.TargetObject | Sort-Object) | Should -Be @('gw1', 'gw2', 'gw3')
        "$($failed[0])" | Should -Match 'Copy-HermesModule'
    }

    It 'copies this build to every host, then finds it there' {
        $copied = @(Copy-HermesModule -Session $sessions)
        $copied.Outcome | Should -Be @('Copied', 'Copied', 'Copied')
        $copied.ComputerName | Should -Be @('gw1', 'gw2', 'gw3')
        $copied[0].ModuleBase | Should -Be '/root/.local/share/powershell/Modules/HermesGateway/0.1.0'
        (Copy-HermesModule -Session $sessions).Outcome | Should -Be @('Present', 'Present', 'Present')
        # Only in the hosts (their /root is their own): the machine's module folder is as it was.
        Test-Path -LiteralPath $machineModule | Should -Be $machineHadModule
    }

    It 'refuses another build of the same version on one host, reads the others, and replaces it only with -Force' {
        Invoke-HermesTestFleetHost -Host $byName.gw3 'printf x >> /root/.local/share/powershell/Modules/HermesGateway/0.1.0/HermesGateway.Core.dll' | Out-Null
        $objects = @(Get-HermesService -Session $sessions -ErrorVariable failed -ErrorAction SilentlyContinue)
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'HermesModuleVersionMismatch,*'
        $failed[0].TargetObject | Should -Be 'gw3'
        "$($failed[0])" | Should -Match 'HermesGateway.Core.dll differs'
        $objects | Should -BeNullOrEmpty -Because 'no gateway is installed yet; gw1 and gw2 answered with nothing and no error'

        Copy-HermesModule -Session $sessions[2] -ErrorVariable refused -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'HermesModuleVersionMismatch,*'

        $replaced = Copy-HermesModule -Session $sessions[2] -Force
        $replaced.Outcome | Should -Be 'Replaced'
        $replaced.BackupPath | Should -Match '/HermesGateway/0\.1\.0\.backup-\d{8}T\d{6}Z$'
        Invoke-HermesTestFleetHost -Host $byName.gw3 "test -d '$($replaced.BackupPath)' && echo kept" | Should -Be 'kept'
    }

    It 'rolls an install out host by host, and every gateway runs afterwards' {
        $r = Invoke-Rollout { param($s) Install-HermesService -Session $s -Scope System -User hermes -HermesHome /home/hermes/.hermes -Executable /usr/local/bin/hermes -Start } @(, $sessions)
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.ComputerName | Should -Be @('gw1', 'gw2', 'gw3')
        $r.Output.Outcome | Should -Be @('Done', 'Done', 'Done')
        $r.Output[0].Results[0].Name | Should -Be 'hermes-gateway'
        $r.Output[0].Results[0].PSComputerName | Should -Be 'gw1'
        foreach ($h in $fleet) { Invoke-HermesTestFleetHost -Host $h 'systemctl is-active hermes-gateway' | Should -Be 'active' }
        # One after the other, as the hosts' own gateways saw it: each host's gateway was running before the next one started.
        $first = foreach ($h in $fleet) {
            $events = @(Get-HermesTestFleetEvent -Host $h)
            [pscustomobject]@{
                Started = ($events | Where-Object event -EQ 'started' | Select-Object -First 1).time
                Running = ($events | Where-Object { $_.event -eq 'state' -and $_.state -eq 'running' } | Select-Object -First 1).time
            }
        }
        $first[1].Started | Should -BeGreaterThan $first[0].Running
        $first[2].Started | Should -BeGreaterThan $first[1].Running
    }

    It 'shows every host''s services, and their drift, in one table with PSComputerName' {
        $services = @(Get-HermesService -Session $sessions)
        $services.PSComputerName | Should -Be @('gw1', 'gw2', 'gw3')
        $services.State | Should -Be @('active', 'active', 'active')
        $services.Drift | Should -Be @('none', 'none', 'none')
        $table = $services | Format-Table | Out-String -Width 120
        $table | Should -Match 'PSComputerName'
        $table | Should -Match 'hermes-gateway\s+System\s+active'
    }

    It 'restarts host by host: never more than one gateway down, as the hosts'' own events show' {
        $since = Get-Date
        $before = @{}; foreach ($h in $fleet) { $before[$h.Name] = Get-MainPid $h }
        $r = Invoke-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway } @(, $sessions)
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.Outcome | Should -Be @('Done', 'Done', 'Done')
        foreach ($o in $r.Output) {
            $o.Results[0].OldPid | Should -Be $before[$o.ComputerName]
            $o.Results[0].NewPid | Should -Be (Get-MainPid $byName[$o.ComputerName])
            $o.State | Should -Be "hermes-gateway: active (pid $($o.Results[0].NewPid))"
        }

        $down = @(Get-Downtime $since)
        $down.Host | Should -Be @('gw1', 'gw2', 'gw3') -Because 'each host was restarted once, in the order given'
        $down | ForEach-Object { $_.To | Should -BeLessThan ([double]::PositiveInfinity) }
        Get-MostDown $down | Should -Be 1
        # The fleet progress bar: one activity for the rollout, every host named in it, completed at the end.
        $bar = @($r.Progress | Where-Object Activity -EQ 'Restart over 3 hosts')
        $bar.Count | Should -BeGreaterThan 3
        foreach ($name in 'gw1', 'gw2', 'gw3') { ($bar.StatusDescription -match $name).Count | Should -BeGreaterThan 0 }
        $bar[-1].RecordType | Should -Be 'Completed'
    }

    It '-MaxUnavailable 2 takes two gateways down at once, never three' {
        $since = Get-Date
        $r = Invoke-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway -MaxUnavailable 2 } @(, $sessions)
        $r.Errors | Should -BeNullOrEmpty
        @($r.Output | Where-Object Outcome -EQ 'Done').Count | Should -Be 3
        $down = @(Get-Downtime $since)
        $down.Count | Should -Be 3
        Get-MostDown $down | Should -Be 2
    }

    It 'changes nothing under -WhatIf' {
        $since = Get-Date
        $r = Invoke-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway -WhatIf } @(, $sessions)
        $r.Output | Should -BeNullOrEmpty
        $r.Errors | Should -BeNullOrEmpty
        @(Get-Downtime $since) | Should -BeNullOrEmpty
    }

    It 'halts at a host whose gateway never comes healthy; the host after it is untouched and reported' {
        Invoke-HermesTestFleetHost -Host $byName.gw2 'echo ''{"fail_next_starts": 1000}'' > /home/hermes/.hermes/stub-control.json && chown hermes: /home/hermes/.hermes/stub-control.json' | Out-Null
        try {
            $gw3Pid = Get-MainPid $byName.gw3
            $since = Get-Date
            $r = Invoke-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway -Timeout 0:0:20 } @(, $sessions)
            $r.Output.ComputerName | Should -Be @('gw1', 'gw2', 'gw3')
            $r.Output.Outcome | Should -Be @('Done', 'Failed', 'NotRun')
            $r.Output[1].ErrorId | Should -Not -BeNullOrEmpty
            $r.Output[2].Message | Should -Match 'halted'
            $r.Output[2].State | Should -Be "hermes-gateway: active (pid $gw3Pid)"
            @($r.Errors | Where-Object TargetObject -EQ 'gw2').Count | Should -BeGreaterThan 0
            # The host's own warnings come back named after it.
            @($r.Warnings -match '^gw2: ').Count | Should -BeGreaterThan 0
            Get-MainPid $byName.gw3 | Should -Be $gw3Pid
            @(Get-Downtime $since | Where-Object Host -EQ 'gw3') | Should -BeNullOrEmpty -Because 'gw3 was never signalled'
        }
        finally {
            Invoke-HermesTestFleetHost -Host $byName.gw2 'rm -f /home/hermes/.hermes/stub-control.json; systemctl reset-failed hermes-gateway; systemctl start hermes-gateway' | Out-Null
            Wait-Active $byName.gw2
        }
    }

    It 'counts an unreachable host as down: no room with -MaxUnavailable 1, the others go with 2' {
        Stop-HermesTestFleetSshd -Host $byName.gw3
        Stop-HermesTestFleetConnection -Host $byName.gw3 | Out-Null
        try {
            $since = Get-Date
            $r = Invoke-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway } @(, $sessions)
            ($r.Output | Where-Object ComputerName -EQ 'gw3').Outcome | Should -Be 'Unreachable'
            ($r.Output | Where-Object ComputerName -NE 'gw3').Outcome | Should -Be @('NotRun', 'NotRun')
            @($r.Errors.FullyQualifiedErrorId | Where-Object { $_ -like 'HermesHostUnreachable,*' }).Count | Should -Be 1
            @($r.Errors.FullyQualifiedErrorId | Where-Object { $_ -like 'HermesFleetUnavailable,*' }).Count | Should -Be 1
            @(Get-Downtime $since) | Should -BeNullOrEmpty

            $r = Invoke-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway -MaxUnavailable 2 } @(, $sessions)
            ($r.Output | Where-Object ComputerName -NE 'gw3').Outcome | Should -Be @('Done', 'Done')
            ($r.Output | Where-Object ComputerName -EQ 'gw3').Outcome | Should -Be 'Unreachable'
            $down = @(Get-Downtime $since)
            $down.Host | Should -Be @('gw1', 'gw2')
            Get-MostDown $down | Should -Be 1 -Because 'the unreachable host takes one of the two places'
        }
        finally {
            Start-HermesTestFleetSshd -Host $byName.gw3
            Set-Session gw3
        }
    }

    It 'reports a connection killed mid-restart, and that host''s gateway still ends running' {
        $oldPid = Get-MainPid $byName.gw1
        $since = Get-Date
        $rollout = Start-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway } @(, $sessions)
        # Wait for gw1's drain to begin (its restart signal), then drop every SSH connection to gw1.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Get-Downtime $since | Where-Object Host -EQ 'gw1')) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'gw1 was never signalled' }
            Start-Sleep -Milliseconds 50
        }
        $killed = @(Stop-HermesTestFleetConnection -Host $byName.gw1)
        $killed.Count | Should -BeGreaterThan 0
        $r = Complete-Rollout $rollout
        try {
            $r.Output.ComputerName | Should -Be @('gw1', 'gw2', 'gw3')
            $r.Output.Outcome | Should -Be @('ConnectionLost', 'NotRun', 'NotRun')
            $newPid = Get-MainPid $byName.gw1
            $newPid | Should -Not -Be $oldPid
            Invoke-HermesTestFleetHost -Host $byName.gw1 'systemctl is-active hermes-gateway' | Should -Be 'active'
            $r.Output[0].State | Should -Be "hermes-gateway: active (pid $newPid)" -Because 'it was read again over a new connection'
            @($r.Errors.FullyQualifiedErrorId | Where-Object { $_ -like 'HermesHostConnectionLost,*' }).Count | Should -Be 1
            @(Get-Downtime $since).Host | Should -Be @('gw1') -Because 'gw2 and gw3 were never signalled'
        }
        finally {
            Set-Session gw1
        }
    }

    It 'stops at a canary that falls over during the canary wait' {
        $since = Get-Date
        $rollout = Start-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway -Canary 1 -CanaryWait 0:0:15 } @(, $sessions)
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Get-Downtime $since | Where-Object { $_.Host -eq 'gw1' -and $_.To -lt [double]::PositiveInfinity })) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'gw1 never came back' }
            Start-Sleep -Milliseconds 100
        }
        Start-Sleep -Seconds 2   # the restart has returned; the rollout is watching its canary
        Invoke-HermesTestFleetHost -Host $byName.gw1 'systemctl kill -s SIGKILL hermes-gateway' | Out-Null
        $r = Complete-Rollout $rollout
        $r.Output.Outcome | Should -Be @('Done', 'NotRun', 'NotRun')
        $r.Output[0].Canary | Should -BeTrue
        @($r.Errors.FullyQualifiedErrorId | Where-Object { $_ -like 'HermesCanaryFailed,*' }).Count | Should -Be 1
        @(Get-Downtime $since).Host | Should -Be @('gw1')
        Wait-Active $byName.gw1
    }

    It 'lets healthy canaries open the gate to the rest' {
        $since = Get-Date
        $r = Invoke-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway -Canary 1 -CanaryWait 0:0:2 } @(, $sessions)
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.Outcome | Should -Be @('Done', 'Done', 'Done')
        $r.Output.Canary | Should -Be @($true, $false, $false)
        $r.Output[1].StartedAt | Should -BeGreaterThan $r.Output[0].EndedAt.AddSeconds(2)
    }

    It 'runs two rollouts at once one after the other: never more than one gateway down between them' {
        $since = Get-Date
        $harness = Join-Path $PSScriptRoot 'FleetHarness.ps1'
        # The second admin opens sessions of their own, as a second window would.
        $first = Start-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway } @(, $sessions)
        $second = Start-Rollout {
            param($harness, $fleet)
            . $harness
            $own = @(New-HermesTestFleetSession -Fleet $fleet)
            try { Restart-HermesGateway -Session $own -Name hermes-gateway } finally { $own | Remove-PSSession }
        } @($harness, $fleet)
        $a = Complete-Rollout $first
        $b = Complete-Rollout $second
        $a.Errors | Should -BeNullOrEmpty
        $b.Errors | Should -BeNullOrEmpty
        $a.Output.Outcome | Should -Be @('Done', 'Done', 'Done')
        $b.Output.Outcome | Should -Be @('Done', 'Done', 'Done')
        ($a.Warnings + $b.Warnings) -match 'Another rollout' | Should -Not -BeNullOrEmpty
        $down = @(Get-Downtime $since)
        $down.Count | Should -Be 6
        Get-MostDown $down | Should -Be 1
    }

    It 'gathers names piped in with -Session into one rollout' {
        $since = Get-Date
        $r = Invoke-Rollout { param($s) Get-HermesService -Session $s | Restart-HermesGateway -Session $s } @(, $sessions)
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.Outcome | Should -Be @('Done', 'Done', 'Done') -Because 'three piped services, one rollout over three hosts'
        @(Get-Downtime $since).Count | Should -Be 3
    }

    It 'shows a copy under -WhatIf without making anything on the host' {
        # gw3 without the module on its path (the session keeps the build it loaded): a copy is due, and -WhatIf shows it.
        Invoke-HermesTestFleetHost -Host $byName.gw3 'mv /root/.local/share/powershell/Modules/HermesGateway /root/hermes-module-aside' | Out-Null
        try {
            $r = Invoke-Rollout { param($s) Copy-HermesModule -Session $s -WhatIf } @(, @($sessions | Where-Object ComputerName -EQ 'gw3'))
            $r.Output | Should -BeNullOrEmpty
            $r.Errors | Should -BeNullOrEmpty
            Invoke-HermesTestFleetHost -Host $byName.gw3 'test -e /root/.local/share/powershell/Modules/HermesGateway && echo made || echo none' | Should -Be 'none'
        }
        finally {
            Invoke-HermesTestFleetHost -Host $byName.gw3 'mv /root/hermes-module-aside /root/.local/share/powershell/Modules/HermesGateway' | Out-Null
        }
    }

    It 'refuses a rollout option without what it shapes' {
        { Restart-HermesGateway -Name hermes-gateway -MaxUnavailable 2 -ErrorAction Stop } | Should -Throw -ErrorId 'HermesOptionInvalid,*'
        { Restart-HermesGateway -Session $sessions -Name hermes-gateway -CanaryWait 0:0:5 -ErrorAction Stop } | Should -Throw -ErrorId 'HermesOptionInvalid,*'
        $r = Invoke-Rollout { param($s) Restart-HermesGateway -Session $s -Name hermes-gateway -Canary 4 } @(, $sessions)
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HermesOptionInvalid,*'
        $r.Output | Should -BeNullOrEmpty
    }

    It 'installs without -Start: a gateway left stopped on purpose does not count as down' {
        $r = Invoke-Rollout { param($s) Install-HermesService -Session $s -Name relay-gateway -Scope System -User hermes -HermesHome /home/hermes/.hermes } @(, $sessions)
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.Outcome | Should -Be @('Done', 'Done', 'Done')
        $r.Output.State | Should -Be @('relay-gateway: inactive', 'relay-gateway: inactive', 'relay-gateway: inactive')
        foreach ($h in $fleet) { Invoke-HermesTestFleetHost -Host $h 'systemctl is-enabled relay-gateway' | Should -Be 'enabled' }
    }
}
