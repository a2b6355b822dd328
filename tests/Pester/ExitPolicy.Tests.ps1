#Requires -Version 7.4
# Get-HermesExitPolicy and Test-HermesExitPolicy: parameters, pipeline, output objects and error ids.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module (Get-HermesTestModulePath) -Force
    $script:examples = Join-Path (Get-HermesRepoRoot) 'tests/examples'
    $script:upstreamUnit = Join-Path $examples 'hermes-gateway.service'
    $script:upstreamPlist = Join-Path $examples 'ai.hermes.gateway.plist'
    $script:goodUnit = Join-Path $TestDrive 'good-gateway.service'
    Set-Content -Path $goodUnit -Value $GoodUnitText -NoNewline
}

AfterAll {
    Remove-Module HermesGateway -Force -ErrorAction SilentlyContinue
}

Describe 'Get-HermesExitPolicy' {
    It 'returns the contract of the released gateway (Hermes 0.16, measured) by default' {
        $rows = Get-HermesExitPolicy
        ($rows | Where-Object Trigger -EQ 'RestartSignal').ExitCode | Should -Be 75
        ($rows | Where-Object Trigger -EQ 'RestartCommand').ExitCode | Should -Be 0
        ($rows | Where-Object Trigger -EQ 'ConfigError').ExitCode | Should -Be 0
        (Get-HermesExitPolicy -Contract documented | Where-Object Trigger -EQ 'ConfigError').ExitCode | Should -Be 78
        (Get-HermesExitPolicy -Contract '0.16' | Where-Object Trigger -EQ 'RestartCommand').How | Should -Match 'restart_requested'
    }

    It 'refuses a contract it does not know, naming the known ones' {
        { Get-HermesExitPolicy -Contract 'hermes-9' } | Should -Throw -ExpectedMessage '*hermes-0.16*'
    }

    It 'returns the contract with Hermes'' documented codes' {
        $rows = Get-HermesExitPolicy -Contract documented
        ($rows | Where-Object Trigger -EQ 'RestartSignal').ExitCode | Should -Be 75
        ($rows | Where-Object Trigger -EQ 'ConfigError').ExitCode | Should -Be 78
        ($rows | Where-Object Trigger -EQ 'StopSignalWithoutMarker').ExitCode | Should -Be 1
        ($rows | Where-Object Trigger -EQ 'StopSignalWithPlannedStopMarker').ExitCode | Should -Be 0
        ($rows | Where-Object Trigger -EQ 'ExternalKill').Signal | Should -Be 'SIGKILL'
        ($rows | Where-Object Trigger -EQ 'ExternalKill').ExitCode | Should -BeNullOrEmpty
    }

    It 'returns typed rows' {
        Get-HermesExitPolicy | Should -BeOfType ([HermesGateway.Core.Policy.ExitPolicyRow])
    }

    It 'filters by -Trigger' {
        $rows = @(Get-HermesExitPolicy -Trigger RestartSignal, ConfigError)
        $rows.Count | Should -Be 2
        $rows.Trigger | Should -Be @('RestartSignal', 'ConfigError')
    }

    It 'describes a gateway with another contract' {
        $row = Get-HermesExitPolicy -Trigger RestartSignal -RestartExitCode 76 -RestartSignal HUP
        $row.ExitCode | Should -Be 76
        $row.How | Should -Match 'SIGHUP'
    }

    It 'rejects an unknown signal with HermesSignalUnknown' {
        { Get-HermesExitPolicy -RestartSignal SIGBOGUS } | Should -Throw -ErrorId 'HermesSignalUnknown,*'
    }

    It 'rejects a restart signal no process can handle with HermesExitContractInvalid' {
        { Get-HermesExitPolicy -RestartSignal SIGKILL } | Should -Throw -ErrorId 'HermesExitContractInvalid,*'
    }

    It 'rejects an exit code outside 0-255 at binding' {
        { Get-HermesExitPolicy -RestartExitCode 300 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}

Describe 'Test-HermesExitPolicy verdicts' {
    It 'returns $false for upstream''s unit, which leaves systemctl stop failed' {
        Test-HermesExitPolicy -Path $upstreamUnit | Should -BeFalse
    }

    It 'returns $true for a unit that meets every scenario' {
        Test-HermesExitPolicy -Path $goodUnit | Should -BeTrue
    }

    It 'explains the failing manager stop of upstream''s unit' {
        $stop = Test-HermesExitPolicy -Path $upstreamUnit -Contract documented -Detailed | Where-Object Scenario -EQ 'ManagerStop'
        $stop.Ok | Should -BeFalse
        $stop.FinalState | Should -Be 'failed (failed)'
        $stop.Result | Should -Be 'exit-code'
        $stop.Why | Should -Match 'ExecStop='
        $stop.Fix | Should -Not -BeNullOrEmpty
    }

    It 'returns one typed verdict per applicable scenario with -Detailed' {
        $verdicts = @(Test-HermesExitPolicy -Path $upstreamUnit -Detailed)
        $verdicts | Should -BeOfType ([HermesGateway.Core.Policy.ScenarioVerdict])
        $verdicts.Scenario | Should -Not -Contain 'OnDemandOnlyRestart'
        $verdicts.Count | Should -Be (([enum]::GetNames([HermesGateway.Core.Policy.LifecycleScenario])).Count - 1)
    }

    It 'judges a plist, including the on-demand-only domain' {
        $verdicts = Test-HermesExitPolicy -Path $upstreamPlist -Detailed
        ($verdicts | Where-Object Scenario -EQ 'OnDemandOnlyRestart').Ok | Should -BeFalse
        ($verdicts | Where-Object Scenario -EQ 'ExternalKill').Ok | Should -BeTrue
        ($verdicts | Where-Object Scenario -EQ 'ConfigError').Revived | Should -BeTrue
    }

    It 'reports a selected scenario that does not apply to the platform, and leaves it out' {
        $result = Test-HermesExitPolicy -Path $goodUnit -Scenario OnDemandOnlyRestart, ServiceRestart -Detailed -ErrorVariable errs -ErrorAction SilentlyContinue
        @($result).Scenario | Should -Be @('ServiceRestart')
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'HermesScenarioNotApplicable,*'
    }

    It 'refuses a negative -ReviveWithin' {
        { Test-HermesExitPolicy -Path $goodUnit -ReviveWithin ([timespan]::FromSeconds(-1)) } | Should -Throw -ErrorId 'HermesOptionInvalid,*'
    }

    It 'limits the verdicts to -Scenario' {
        $verdicts = @(Test-HermesExitPolicy -Path $upstreamUnit -Scenario ServiceRestart, CrashLoop -Detailed)
        $verdicts.Scenario | Should -Be @('ServiceRestart', 'CrashLoop')
        Test-HermesExitPolicy -Path $upstreamUnit -Scenario ServiceRestart, CrashLoop | Should -BeTrue
    }

    It 'reproduces the seed: exit 75 listed as success but not forced under Restart=on-failure is never revived' {
        $unit = Join-Path $TestDrive 'seed2.service'
        Set-Content $unit "[Service]`nExecStart=/usr/bin/hermes gateway run`nRestart=on-failure`nSuccessExitStatus=75`n"
        $verdict = Test-HermesExitPolicy -Path $unit -Scenario ServiceRestart -Contract documented -Detailed
        $verdict.Revived | Should -BeFalse
        $verdict.Ok | Should -BeFalse
        $verdict.Fix | Should -Match 'RestartForceExitStatus='
        # Hermes 0.16 sees INVOCATION_ID in this unit and exits 0: the fix is the reviver or hiding the id.
        (Test-HermesExitPolicy -Path $unit -Scenario ServiceRestart -Detailed).Fix | Should -Match 'ExecStopPost='
    }

    It 'reproduces the seed: a restart that exits 0 under KeepAlive SuccessfulExit=false stays dark' {
        $plist = Join-Path $TestDrive 'seed1.plist'
        Set-Content $plist @'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>Label</key><string>ai.hermes.gateway</string>
<key>ProgramArguments</key><array><string>/usr/local/bin/hermes</string><string>gateway</string><string>run</string></array>
<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
</dict></plist>
'@
        $verdict = Test-HermesExitPolicy -Path $plist -Scenario RestartCommand -RestartExitCode 0 -Detailed
        $verdict.Revived | Should -BeFalse
        $verdict.Ok | Should -BeFalse
    }

    It 'models another systemd version' {
        $unit = Join-Path $TestDrive 'steps.service'
        Set-Content $unit "[Service]`nExecStart=/usr/bin/hermes gateway run`nRestart=on-failure`nRestartSec=100ms`nRestartSteps=5`nRestartMaxDelaySec=60`n"
        (Test-HermesExitPolicy -Path $unit -Scenario CrashLoop -SystemdVersion 254 -Detailed).Delay.TotalSeconds | Should -Be 60
        (Test-HermesExitPolicy -Path $unit -Scenario CrashLoop -SystemdVersion 252 -Detailed -WarningAction SilentlyContinue).Ok | Should -BeFalse
    }

    It 'writes what systemd would warn about to the warning stream' {
        $unit = Join-Path $TestDrive 'warn.service'
        Set-Content $unit "[Service]`nExecStart=/usr/bin/hermes gateway run`nRestart=sometimes`n"
        $null = Test-HermesExitPolicy -Path $unit -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings | Should -Not -BeNullOrEmpty
        "$warnings" | Should -Match 'restart specifier'
    }
}

Describe 'Test-HermesExitPolicy pipeline' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'pipe'
        New-Item -ItemType Directory $dir | Out-Null
        Copy-Item $upstreamUnit, $goodUnit, $upstreamPlist -Destination $dir
    }

    It 'takes files from Get-ChildItem by PSPath and answers one result each, naming the file' {
        $answers = @(Get-ChildItem $dir -File | Sort-Object Name | Test-HermesExitPolicy)
        $answers.Count | Should -Be 3
        $answers.Ok | Should -Be @($false, $true, $false)
        $answers.Path | Should -Be @(Get-ChildItem $dir -File | Sort-Object Name).FullName
        $answers[0].Failed | Should -Not -BeNullOrEmpty
    }

    It 'answers one Boolean each with -Quiet' {
        @(Get-ChildItem $dir -File | Sort-Object Name | Test-HermesExitPolicy -Quiet) | Should -Be @($false, $true, $false)
    }

    It 'takes path strings from the pipeline' {
        @($goodUnit, $upstreamUnit | Test-HermesExitPolicy).Ok | Should -Be @($true, $false)
    }

    It 'takes -LiteralPath as written, brackets and all' {
        $odd = Join-Path $dir 'odd[1].service'
        Copy-Item -LiteralPath $goodUnit -Destination $odd
        Test-HermesExitPolicy -LiteralPath $odd | Should -BeTrue
        Get-Item -LiteralPath $odd | Test-HermesExitPolicy | Should -BeTrue
        Remove-Item -LiteralPath $odd
    }

    It 'reports a -LiteralPath that does not exist as HermesPathNotFound' {
        { Test-HermesExitPolicy -LiteralPath (Join-Path $dir 'none[1].service') -ErrorAction Stop } | Should -Throw -ErrorId 'HermesPathNotFound,*'
    }

    It 'expands wildcards in -Path' {
        @(Test-HermesExitPolicy -Path (Join-Path $dir '*.service')).Count | Should -Be 2
    }

    It 'takes engine configurations by -InputObject' {
        $config = [HermesGateway.Core.Definition.ServiceFormats]::Read($goodUnit, $null, 252)
        $config | Test-HermesExitPolicy | Should -BeTrue
    }

    It 'goes on after a bad item and reports it as a non-terminating error' {
        $answers = @(Test-HermesExitPolicy -Path (Join-Path $dir 'missing.service'), $goodUnit -ErrorVariable errs -ErrorAction SilentlyContinue)
        $answers | Should -Be @($true)
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'HermesPathNotFound*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Test-HermesExitPolicy -Event' {
    It 'answers an exit code' {
        $o = Test-HermesExitPolicy -Path $upstreamUnit -Event Exit -ExitCode 3
        $o | Should -BeOfType ([HermesGateway.Core.Policy.SupervisorOutcome])
        $o.Revived | Should -BeTrue
        $o.Delay.TotalSeconds | Should -Be 5
        $o.Result | Should -Be 'exit-code'
        $o.ExecMainStatus | Should -Be 3
    }

    It 'answers exit 78 with no restart' {
        $o = Test-HermesExitPolicy -Path $upstreamUnit -Event Exit -ExitCode 78
        $o.Revived | Should -BeFalse
        $o.FinalState | Should -Be 'failed (failed)'
    }

    It 'answers a manager stop' {
        (Test-HermesExitPolicy -Path $goodUnit -Event ManagerStop).FinalState | Should -Be 'inactive (dead)'
    }

    It 'answers a signal from outside, by name' {
        $o = Test-HermesExitPolicy -Path $upstreamUnit -Event Signal -Signal KILL
        $o.Result | Should -Be 'signal'
        $o.ExecMainCode | Should -Be 2
        $o.ExecMainStatus | Should -Be 9
    }

    It 'answers launchd''s throttle from -RunTime' {
        $o = Test-HermesExitPolicy -Path $upstreamPlist -Event Exit -ExitCode 1 -RunTime ([timespan]::FromSeconds(4))
        $o.Revived | Should -BeTrue
        $o.Delay.TotalSeconds | Should -Be 26
    }
}

Describe 'Test-HermesExitPolicy errors' {
    It 'reports a missing file as HermesPathNotFound' {
        { Test-HermesExitPolicy -Path (Join-Path $TestDrive 'nope.service') -ErrorAction Stop } | Should -Throw -ErrorId 'HermesPathNotFound,*'
    }

    It 'reports <What> as <ErrorId>' -ForEach @(
        @{ What = 'an empty file'; File = 'empty.service'; Content = ''; ErrorId = 'HermesFileEmpty' }
        @{ What = 'binary garbage'; File = 'garbage.service'; Content = [byte[]](0, 159, 146, 150, 0, 255, 1, 2); ErrorId = 'HermesFileNotText' }
        @{ What = 'a malformed plist'; File = 'bad.plist'; Content = '<plist version="1.0"><dict><key>Label</key></dict></plist>'; ErrorId = 'HermesPlistMalformed' }
        @{ What = 'a file of no known kind'; File = 'mystery.txt'; Content = 'hello world'; ErrorId = 'HermesPlatformUnknown' }
    ) {
        $f = Join-Path $TestDrive $File
        if ($Content -is [byte[]]) {
            [System.IO.File]::WriteAllBytes($f, $Content)
        }
        else {
            Set-Content $f $Content
        }

        { Test-HermesExitPolicy -Path $f -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,*"
    }

    It 'reports event parameters without -Event as HermesEventInvalid' {
        { Test-HermesExitPolicy -Path $goodUnit -ExitCode 3 } | Should -Throw -ErrorId 'HermesEventInvalid,*'
    }

    It 'reports an Exit event without a code as HermesEventInvalid' {
        { Test-HermesExitPolicy -Path $goodUnit -Event Exit -ErrorAction Stop } | Should -Throw -ErrorId 'HermesEventInvalid,*'
    }

    It 'reports an unknown signal as HermesSignalUnknown' {
        { Test-HermesExitPolicy -Path $goodUnit -Event Signal -Signal SIGBOGUS -ErrorAction Stop } | Should -Throw -ErrorId 'HermesSignalUnknown,*'
    }

    It 'refuses an unmodelled systemd version at binding' {
        { Test-HermesExitPolicy -Path $goodUnit -SystemdVersion 100 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}

Describe 'Test-HermesExitPolicy -SignalReaction' {
    BeforeAll {
        $script:onFailure = Join-Path $TestDrive 'on-failure.service'
        Set-Content -Path $onFailure -Value "[Service]`nExecStart=/usr/bin/hermes gateway run`nRestart=on-failure`n" -NoNewline
    }

    It 'reads a SIGTERM from outside through the gateway contract by default' {
        $o = Test-HermesExitPolicy -Path $onFailure -Event Signal -Signal SIGTERM
        $o.Ending | Should -Be 'exit 1'
        $o.Result | Should -Be 'exit-code'
        $o.Revived | Should -BeTrue
    }

    It 'lets SIGTERM kill a process with default actions: clean for a daemon, not restarted under on-failure' {
        $o = Test-HermesExitPolicy -Path $onFailure -Event Signal -Signal SIGTERM -SignalReaction Default
        $o.Ending | Should -Be 'killed by SIGTERM'
        $o.Result | Should -Be 'success'
        $o.Revived | Should -BeFalse
        $o.FinalState | Should -Be 'inactive (dead)'
    }

    It 'keeps a process that ignores SIGTERM running' {
        $o = Test-HermesExitPolicy -Path $onFailure -Event Signal -Signal SIGTERM -SignalReaction Ignore
        $o.Ending | Should -Be '(still running)'
        $o.FinalState | Should -Be 'active (running)'
    }

    It 'applies an exiting handler on launchd too' {
        (Test-HermesExitPolicy -Path $upstreamPlist -Event Signal -Signal SIGTERM -SignalReaction Exit -ReactionExitCode 3).Ending | Should -Be 'exit 3'
    }

    It 'reports the new run after a manager restart, and the stop half apart' {
        # Hermes 0.16 drains for up to 195 s, longer than the default TimeoutStopSec=90s: the stop half times out.
        $o = Test-HermesExitPolicy -Path $onFailure -Event ManagerRestart
        $o.FinalState | Should -Be 'active (running)'
        $o.Result | Should -Be 'success'
        $o.ExecMainCode | Should -Be 0
        $o.ExecMainStatus | Should -Be 0
        $o.NRestarts | Should -Be 0
        $o.StopResult | Should -Be 'timeout'
        $o.StopExecMainCode | Should -Be 2
        $o.StopExecMainStatus | Should -Be 9
        $o.Ending | Should -Be 'killed by SIGKILL'

        (Test-HermesExitPolicy -Path $onFailure -Event ManagerStop).StopResult | Should -BeNullOrEmpty
    }

    It 'reports <What> as <ErrorId>' -ForEach @(
        @{ What = 'Exit without a code'; Arguments = @{ Event = 'Signal'; Signal = 'SIGTERM'; SignalReaction = 'Exit' }; ErrorId = 'HermesSignalReactionInvalid' }
        @{ What = 'a code with another reaction'; Arguments = @{ Event = 'Signal'; Signal = 'SIGTERM'; SignalReaction = 'Default'; ReactionExitCode = 1 }; ErrorId = 'HermesSignalReactionInvalid' }
        @{ What = 'a reaction for the scenarios'; Arguments = @{ SignalReaction = 'Ignore' }; ErrorId = 'HermesSignalReactionInvalid' }
        @{ What = 'a code out of range'; Arguments = @{ Event = 'Signal'; Signal = 'SIGTERM'; SignalReaction = 'Exit'; ReactionExitCode = 300 }; ErrorId = 'ParameterArgumentValidationError' }
    ) {
        { Test-HermesExitPolicy -Path $onFailure @Arguments -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,*"
    }
}

Describe 'Test-HermesExitPolicy -Timeline' {
    BeforeAll {
        $script:waits = Join-Path $TestDrive 'waits.service'
        Set-Content -Path $waits -Value "[Unit]`nStartLimitIntervalSec=0`n[Service]`nExecStart=/usr/bin/hermes gateway run`nRestart=on-failure`nRestartSec=10`n" -NoNewline
    }

    It 'returns one step per event, and a stop during the RestartSec= wait keeps the run''s Result' {
        $steps = @(Test-HermesExitPolicy -Path $waits -Timeline '1s exit 1', '+2s stop')
        $steps | Should -BeOfType ([HermesGateway.Core.Policy.SupervisorStep])
        $steps.Count | Should -Be 3
        $steps[1].State | Should -Be 'activating (auto-restart)'
        $steps[-1].State | Should -Be 'inactive (dead)'
        $steps[-1].Result | Should -Be 'exit-code'
        $steps[-1].NRestarts | Should -Be 0
        $steps[-1].IsActive | Should -Be 'inactive'
        $steps[-1].Path | Should -Be $waits
    }

    It 'makes a start during the wait wait for the timer on 252, and restart at once on 257' {
        $old = @(Test-HermesExitPolicy -Path $waits -Timeline '1s exit 1', '3s start')
        $old[-1].At.TotalSeconds | Should -Be 11
        $old[-1].Started | Should -BeTrue
        $old[-1].NRestarts | Should -Be 1

        $new = @(Test-HermesExitPolicy -Path $waits -SystemdVersion 257 -Timeline '1s exit 1', '3s start')
        ($new | Where-Object { $_.Started -and $_.At -gt [timespan]::Zero }).At.TotalSeconds | Should -Be 3
    }

    It 'reads signals through -SignalReaction' {
        $steps = @(Test-HermesExitPolicy -Path $waits -Timeline '5s signal TERM' -SignalReaction Default)
        $steps[-1].Ending | Should -Be 'killed by SIGTERM'
        $steps[-1].State | Should -Be 'inactive (dead)'
    }

    It 'plays a start that fails before exec' {
        $steps = @(Test-HermesExitPolicy -Path $upstreamUnit -Timeline '0 is-active' -ExecFailure 203)
        $steps.Ending | Should -Contain 'exit 203/EXEC'
    }

    It 'stops the timers at -Horizon after the last item' {
        $steps = @(Test-HermesExitPolicy -Path $upstreamUnit -Timeline '0 is-active' -ExecFailure 203 -Horizon 0:0:12)
        ($steps | Measure-Object).Count | Should -BeLessThan 12
        $steps[-1].At | Should -BeLessOrEqual ([timespan]'0:0:12')
        { Test-HermesExitPolicy -Path $upstreamUnit -Horizon 0:0:12 } | Should -Throw -ErrorId 'HermesTimelineInvalid*'
        { Test-HermesExitPolicy -Path $upstreamUnit -Timeline '0 stop' -Horizon -0:0:1 } | Should -Throw -ErrorId 'HermesOptionInvalid*'
        { Test-HermesExitPolicy -Path $upstreamUnit -Timeline $null } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'shows the steps as a table that fits 80 columns' {
        $text = Test-HermesExitPolicy -Path $waits -Timeline '1s exit 1', '3s is-active' | Format-Table | Out-String -Width 80
        $text | Should -Match 'At\s+Event\s+State\s+Result\s+Restarts'
        $text | Should -Match 'is-active: \w+ \(\d\)'
        $text | Should -Match 'activating \(auto-restart\)'
        foreach ($line in $text -split "`n") { $line.TrimEnd().Length | Should -BeLessOrEqual 80 }
    }

    It 'reports <What> as <ErrorId>' -ForEach @(
        @{ What = 'an unknown event'; Arguments = @{ Timeline = '5s explode' }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = 'a bad time'; Arguments = @{ Timeline = 'soon stop' }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = 'times going backwards'; Arguments = @{ Timeline = '10s stop', '5s start' }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = 'a missing argument'; Arguments = @{ Timeline = '5s exit' }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = 'an extra argument'; Arguments = @{ Timeline = '5s stop now' }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = 'an exit code out of range'; Arguments = @{ Timeline = '5s exit 300' }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = 'an unknown signal'; Arguments = @{ Timeline = '5s kill SIGNOPE' }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = 'a newline in an item'; Arguments = @{ Timeline = "5s stop`n6s start" }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = '-Timeline with -Event'; Arguments = @{ Timeline = '5s stop'; Event = 'ManagerStop' }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = '-Timeline with -Detailed'; Arguments = @{ Timeline = '5s stop'; Detailed = $true }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = '-SendsReady without -Timeline'; Arguments = @{ SendsReady = $true }; ErrorId = 'HermesTimelineInvalid' }
        @{ What = 'an exec failure out of range'; Arguments = @{ Timeline = '5s stop'; ExecFailure = 199 }; ErrorId = 'ParameterArgumentValidationError' }
    ) {
        { Test-HermesExitPolicy -Path $waits @Arguments -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,*"
    }

    It 'answers for a launchd job whose program is missing or whose label is disabled' {
        $missing = @(Test-HermesExitPolicy -Path $upstreamPlist -LaunchdProgramMissing -Detailed)
        $missing.Ok | Should -Not -Contain $true
        (Test-HermesExitPolicy -Path $upstreamPlist -LaunchdProgramMissing -Event Exit -ExitCode 0).Result | Should -Match '78'
        $disabled = @(Test-HermesExitPolicy -Path $upstreamPlist -LaunchdDisabled -Detailed)
        $disabled.Ok | Should -Not -Contain $true
        $disabled[0].Fix | Should -Match 'launchctl enable'
        Test-HermesExitPolicy -Path $goodUnit -LaunchdDisabled -LaunchdProgramMissing | Should -BeTrue
    }

    It 'plays a launchd timeline with launchctl''s verbs' {
        $steps = @(Test-HermesExitPolicy -Path $upstreamPlist -Timeline '5s exit 1', '1min stop', '+1s start' -Horizon 0)
        $steps[0].Event | Should -Be 'launchctl bootstrap'
        $steps.Event | Should -Contain 'launchctl bootout'
        $steps[-1].State | Should -Be 'running'
        { Test-HermesExitPolicy -Path $upstreamPlist -Timeline '5s is-active' -ErrorAction Stop } | Should -Throw -ErrorId 'HermesTimelineInvalid,*'
    }
}
