#Requires -Version 7.4
# End to end against the REAL launchctl (macOS only): the stub gateway (tests/stub-gateway/stub_gateway.py, run by
# python3) installed as a launchd agent in gui/<uid> under a label unique to this run, with HERMES_HOME in a temp
# directory. Install-HermesService -Start → Get-HermesService → Restart-HermesGateway → Stop-HermesGateway →
# Start-HermesGateway → Uninstall-HermesService, each checked against what launchctl and the stub's own files say.
# Elsewhere, or on a Mac with no GUI session (no gui/<uid> domain), the suite is skipped and its name says why; with
# HERMES_REQUIRE_LAUNCHD_E2E=1 (the macOS CI job) it fails instead, so a runner that cannot run it is never a pass.

BeforeDiscovery {
    $required = "$env:HERMES_REQUIRE_LAUNCHD_E2E" -match '^(1|true|yes|on)$'
    $unavailable = $null
    $uid = $null
    if (-not $IsMacOS) {
        $unavailable = "this is not macOS ($([System.Runtime.InteropServices.RuntimeInformation]::OSDescription.Trim()))"
    }
    else {
        $uid = (& id -u | Out-String).Trim()
        $null = & launchctl print "gui/$uid" 2>&1
        if ($LASTEXITCODE -ne 0) {
            $unavailable = "uid $uid has no GUI session ('launchctl print gui/$uid' exited $LASTEXITCODE)"
        }
    }

    $status = if (-not $unavailable) { "gui/$uid" }
    elseif ($required) { "REQUIRED by HERMES_REQUIRE_LAUNCHD_E2E, but $unavailable" }
    else { "SKIPPED: $unavailable" }
    $skip = [bool]$unavailable -and -not $required
    # The reason goes into the name itself (not a <template>, which Pester expands only once the block has run).
    $title = "launchd end to end with the real launchctl, the stub gateway as an agent: $status"
}

Describe $title -Skip:$skip -ForEach @(@{ Unavailable = $unavailable }) {
    BeforeAll {
        if ($Unavailable) {
            throw "HERMES_REQUIRE_LAUNCHD_E2E=$env:HERMES_REQUIRE_LAUNCHD_E2E requires the launchd end-to-end suite, but $Unavailable."
        }

        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        Import-Module (Get-HermesTestModulePath) -Force

        $script:stub = Join-Path (Get-HermesRepoRoot) 'tests/stub-gateway/stub_gateway.py'
        # The interpreter itself, not a shim on PATH: launchd runs it with the plist's own PATH, and a shim that spawned
        # the interpreter as a child would leave launchd supervising the wrong process.
        $script:python = (& python3 -c 'import sys; assert sys.version_info >= (3, 8), sys.version; print(sys.executable)' | Out-String).Trim()
        if ($LASTEXITCODE -ne 0 -or -not $python -or -not (Test-Path -LiteralPath $python)) {
            throw "python3 (3.8 or later) is needed to run the stub gateway; 'python3 -c ...' answered '$python' (exit $LASTEXITCODE)."
        }

        $script:uid = (& id -u | Out-String).Trim()
        $suffix = [guid]::NewGuid().ToString('N').Substring(0, 12)
        # ai.hermes.gateway* is what Get-HermesService discovers in ~/Library/LaunchAgents; the suffix keeps runs apart.
        $script:label = "ai.hermes.gateway-e2e-$suffix"
        $script:target = "gui/$uid/$label"
        $script:plist = Join-Path ([Environment]::GetFolderPath('UserProfile')) "Library/LaunchAgents/$label.plist"
        $script:workDir = Join-Path ([IO.Path]::GetTempPath()) "hermes-launchd-e2e-$suffix"
        $script:hermesHome = Join-Path $workDir 'home'
        # The plist sends stdout and stderr to HERMES_HOME/logs, which the gateway (not launchd) is expected to have made.
        New-Item -ItemType Directory -Force -Path (Join-Path $hermesHome 'logs') | Out-Null
        '{"start_seconds": 0.1, "drain_seconds": 0.2}' | Set-Content -LiteralPath (Join-Path $hermesHome 'stub-control.json')

        # What launchctl itself says about the job (its print format is not API: only the stable fields are read).
        function Get-LaunchdJob {
            $text = & launchctl print $script:target 2>$null | Out-String
            $exit = $LASTEXITCODE
            [pscustomobject]@{
                Loaded = $exit -eq 0
                Exit   = $exit
                State  = if ($exit -eq 0 -and $text -match '(?m)^\s*state = (.+?)\s*$') { $Matches[1] } else { $null }
                Pid    = if ($exit -eq 0 -and $text -match '(?m)^\s*pid = (\d+)\s*$') { [int]$Matches[1] } else { $null }
                Text   = $text
            }
        }

        function Read-StubState {
            $path = Join-Path $script:hermesHome 'gateway_state.json'
            try { Get-Content -Raw -LiteralPath $path -ErrorAction Stop | ConvertFrom-Json } catch { $null }
        }

        function Get-StubEvent {
            $path = Join-Path $script:hermesHome 'stub-events.jsonl'
            if (-not (Test-Path -LiteralPath $path)) { return }
            foreach ($line in Get-Content -LiteralPath $path) {
                if ($line) { try { $line | ConvertFrom-Json } catch { } }
            }
        }

        function Get-StubExitCode([int] $ProcessId) {
            Get-StubEvent | Where-Object { $_.event -eq 'exit' -and $_.pid -eq $ProcessId } | Select-Object -Last 1 -ExpandProperty code
        }

        function Test-ProcessAlive([int] $ProcessId) { $null -ne (Get-Process -Id $ProcessId -ErrorAction SilentlyContinue) }

        # What to look at when a step fails: launchctl's view of the job, the stub's state, its last events and stderr.
        function Get-E2EDiagnostic {
            $job = Get-LaunchdJob
            $lines = @("launchctl print $script:target exited $($job.Exit):")
            $lines += ($job.Text -split "`n" | Where-Object { $_ -match '^\s*(state|pid|runs|last exit code|last terminating signal|path|program|immediate reason) = ' })
            $lines += "gateway_state.json: $(Read-StubState | ConvertTo-Json -Compress)"
            $events = Join-Path $script:hermesHome 'stub-events.jsonl'
            if (Test-Path -LiteralPath $events) { $lines += 'stub-events.jsonl (last 10):'; $lines += Get-Content -LiteralPath $events -Tail 10 }
            $stderr = Join-Path $script:hermesHome 'logs/gateway.error.log'
            # Without the stub's echo of its events (listed above): what is left is Python's own complaints.
            if (Test-Path -LiteralPath $stderr) {
                $lines += 'logs/gateway.error.log (last 10 lines that are not events):'
                $lines += Get-Content -LiteralPath $stderr | Where-Object { $_ -notmatch '^stub-gateway\[\d+\]: \{' } | Select-Object -Last 10
            }
            $lines -join "`n"
        }

        # Waits until launchd runs a process (other than -NotPid) that the stub's state file names as running.
        function Wait-StubRunning([int] $NotPid = 0, [int] $Seconds = 60, [string] $After) {
            $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
            do {
                $job = Get-LaunchdJob
                if ($job.Pid -and $job.Pid -ne $NotPid) {
                    $state = Read-StubState
                    if ($state -and $state.gateway_state -eq 'running' -and $state.pid -eq $job.Pid) { return $job.Pid }
                }

                Start-Sleep -Milliseconds 200
            } while ([DateTime]::UtcNow -lt $deadline)
            throw "After $After no stub (other than PID $NotPid) reported itself running under $script:target within $Seconds s.`n$(Get-E2EDiagnostic)"
        }
    }

    AfterAll {
        # Whatever happened above: no job, no plist (nor its backups), no stub and no temp files outlive the suite.
        if ($script:label) {
            $null = & launchctl print $script:target 2>&1
            if ($LASTEXITCODE -eq 0) {
                Write-Host "Cleaning up $script:target, still loaded after the suite:`n$(Get-E2EDiagnostic)"
                $null = & launchctl bootout $script:target 2>&1
            }

            $pidFile = Join-Path $script:hermesHome 'gateway.pid'
            if (Test-Path -LiteralPath $pidFile) {
                $left = try { [int](Get-Content -Raw -LiteralPath $pidFile | ConvertFrom-Json).pid } catch { 0 }
                # The PID this run's stub wrote, if it still runs the stub (not a reused PID): a stub that outlived its job.
                if ($left -gt 1 -and (& ps -o command= -p $left 2>$null | Out-String) -like "*$script:stub*") {
                    Stop-Process -Id $left -Force -ErrorAction SilentlyContinue
                }
            }

            Get-ChildItem -LiteralPath (Split-Path $script:plist) -Filter "$script:label.plist*" -File -ErrorAction SilentlyContinue | Remove-Item -Force
            $locks = Join-Path ($env:XDG_RUNTIME_DIR ? $env:XDG_RUNTIME_DIR : [IO.Path]::GetTempPath()) "hermesgateway-$script:uid"
            Get-ChildItem -LiteralPath $locks -Filter "$script:label.*" -File -ErrorAction SilentlyContinue | Remove-Item -Force
            Remove-Item -LiteralPath $script:workDir -Recurse -Force -ErrorAction SilentlyContinue
        }

        Remove-Module HermesGateway -Force -ErrorAction SilentlyContinue
    }

    It 'Install-HermesService -Start writes the plist, bootstraps the agent and launchd runs the stub' {
        $installed = Install-HermesService -Platform Launchd -Scope Agent -Name $label -HermesHome $hermesHome -Executable $python `
            -ArgumentList $stub, 'gateway', 'run' -Start -PassThru -ErrorAction Stop
        $installed.Name | Should -Be $label
        $installed.Path | Should -Be $plist
        $plist | Should -Exist
        (Get-LaunchdJob).Loaded | Should -BeTrue -Because "launchctl print $target must find the job"
        $script:firstPid = Wait-StubRunning -After 'Install-HermesService -Start'
        # launchd (PID 1) is its parent: the stub runs as the agent, not as a child of this session.
        (& ps -o ppid= -p $firstPid | Out-String).Trim() | Should -Be '1'
        $script:throttle = $installed.GetDefinition().Launchd.ThrottleInterval
    }

    It 'Get-HermesService shows it running with the PID launchd reports' {
        $firstPid | Should -BeGreaterThan 0 -Because 'the install left a running gateway'
        $s = @(Get-HermesService -Name $label -ErrorAction Stop)
        $s.Count | Should -Be 1
        $s[0].Platform | Should -Be 'Launchd'
        $s[0].Scope | Should -Be 'Agent'
        $s[0].Path | Should -Be $plist
        $s[0].State | Should -Be 'running'
        $s[0].Pid | Should -Be $firstPid
        $s[0].HermesHome | Should -Be $hermesHome
        $s[0].InstalledByModule | Should -BeTrue
        $s[0].Drift | Should -Be 'none'
    }

    It 'Restart-HermesGateway -PassThru ends with a new PID that the stub reports running' {
        $firstPid | Should -BeGreaterThan 0 -Because 'the install left a running gateway'
        $r = Restart-HermesGateway -Name $label -PassThru -Timeout ([timespan]::FromSeconds(60)) -ErrorAction Stop
        $r.Name | Should -Be $label
        $r.HandedOff | Should -BeFalse
        $r.FinalState | Should -Be 'running'
        $r.OldPid | Should -Be $firstPid
        $r.NewPid | Should -BeGreaterThan 0
        $r.NewPid | Should -Not -Be $firstPid
        (Get-LaunchdJob).Pid | Should -Be $r.NewPid
        $state = Read-StubState
        $state.gateway_state | Should -Be 'running'
        $state.pid | Should -Be $r.NewPid
        # The old stub ended as the contract's planned restart (SIGUSR1, drained, exit 75), not by a kill.
        Get-StubExitCode $firstPid | Should -Be 75
        Test-ProcessAlive $firstPid | Should -BeFalse
        $script:restartedPid = $r.NewPid
    }

    It 'Stop-HermesGateway stops it as a planned stop and launchd does not respawn it' {
        $restartedPid | Should -BeGreaterThan 0 -Because 'the restart left a running gateway'
        $startsBefore = @(Get-StubEvent | Where-Object event -EQ 'started').Count
        Stop-HermesGateway -Name $label -ErrorAction Stop
        Test-ProcessAlive $restartedPid | Should -BeFalse
        Get-StubExitCode $restartedPid | Should -Be 0 -Because 'a stop through the module is planned (exit 0)'
        # Longer than ThrottleInterval: a KeepAlive respawn would have happened by now.
        Start-Sleep -Seconds ([Math]::Max(5, [int]$throttle) + 3)
        $job = Get-LaunchdJob
        $job.Pid | Should -BeNullOrEmpty
        $job.State | Should -Not -Be 'running'
        @(Get-StubEvent | Where-Object event -EQ 'started').Count | Should -Be $startsBefore -Because 'no stub may start after the stop'
        (Read-StubState).gateway_state | Should -Be 'stopped'
        $s = Get-HermesService -Name $label -ErrorAction Stop
        $s.State | Should -Not -Be 'running'
        $s.Pid | Should -BeNullOrEmpty
        $plist | Should -Exist -Because 'a stop keeps the installation'
    }

    It 'Start-HermesGateway runs it again' {
        $restartedPid | Should -BeGreaterThan 0 -Because 'the restart left a gateway to stop'
        (Get-LaunchdJob).Pid | Should -BeNullOrEmpty -Because 'it was stopped'
        Start-HermesGateway -Name $label -ErrorAction Stop
        $script:startedPid = Wait-StubRunning -NotPid $restartedPid -After 'Start-HermesGateway'
        $s = Get-HermesService -Name $label -ErrorAction Stop
        $s.State | Should -Be 'running'
        $s.Pid | Should -Be $startedPid
    }

    It 'Uninstall-HermesService stops it, removes the plist, and launchctl no longer knows the job' {
        $startedPid | Should -BeGreaterThan 0 -Because 'the start left a running gateway'
        $r = Uninstall-HermesService -Name $label -Confirm:$false -PassThru -ErrorAction Stop
        $r.Path | Should -Be $plist
        $plist | Should -Not -Exist
        $r.BackupPath | Should -Exist
        Test-ProcessAlive $startedPid | Should -BeFalse
        Get-StubExitCode $startedPid | Should -Be 0 -Because 'an uninstall stops the gateway as planned'
        $null = & launchctl print $target 2>&1
        $LASTEXITCODE | Should -Not -Be 0 -Because "launchctl print $target must not find the job any more"
        Get-HermesService -Name $label -ErrorAction SilentlyContinue -ErrorVariable notFound | Should -BeNullOrEmpty
        $notFound[0].FullyQualifiedErrorId | Should -BeLike 'HermesServiceNotFound*'
    }
}
