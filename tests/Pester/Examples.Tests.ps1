# Every example in README.md and in the help (cmdlet help and about_HermesGateway) is code that must run: each one
# parses and names only commands that exist; and, as root next to sde2e (CI), each one runs without an error on a
# real systemd 252 where 'hermes' is the stub gateway — the README's as one session in its order, the help's each on
# a machine with the module's hermes-gateway installed and running.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'DocExamples.ps1')
    # Pester names a case's variables after a hashtable's keys.
    $examples = @(Get-HermesDocExample -Root (Get-HermesRepoRoot) | ForEach-Object { @{ Source = $_.Source; Kind = $_.Kind; Code = $_.Code } })
    $sde2e = Join-Path (Get-HermesRepoRoot) '../shared/tools/sde2e'
    $canRun = $IsLinux -and ((id -u) -eq '0') -and (Test-Path -LiteralPath $sde2e)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'DocExamples.ps1')
    $manifest = Get-HermesTestModulePath
    Import-Module $manifest -Force
}

Describe 'The documented examples' {
    It 'finds the examples of the README, the cmdlet help and about_HermesGateway' {
        $examples = @(Get-HermesDocExample -Root (Get-HermesRepoRoot))
        $examples.Count | Should -BeGreaterThan 40
        @($examples | Where-Object Kind -eq Readme).Count | Should -BeGreaterThan 10
        @($examples | Where-Object Kind -eq About).Count | Should -BeGreaterThan 2
    }

    It '<Source> parses and names only commands that exist' -ForEach $examples {
        $tokens = $null; $errors = $null
        $ast = [Management.Automation.Language.Parser]::ParseInput($Code, [ref] $tokens, [ref] $errors)
        $errors | Should -BeNullOrEmpty
        $names = $ast.FindAll({ $args[0] -is [Management.Automation.Language.CommandAst] }, $true) | ForEach-Object { $_.GetCommandName() }
        foreach ($name in $names) {
            Get-Command -Name $name -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty -Because "$name is used in the example"
        }
    }
}

Describe 'The documented examples, run on a real systemd 252 with the stub as hermes' -Skip:(-not $canRun) {
    BeforeAll {
        $root = Get-HermesRepoRoot
        $sde2e = Join-Path $root '../shared/tools/sde2e'
        $pwsh = Join-Path $PSHOME 'pwsh.dll'
        $all = @(Get-HermesDocExample -Root $root)
        $results = @{}
        . (Join-Path $PSScriptRoot 'FleetHarness.ps1')
        foreach ($mode in 'Readme', 'Help') {
            $state = (New-Item -ItemType Directory -Path "/tmp/hermes-sde2e-ex-$mode-$([guid]::NewGuid().ToString('N').Substring(0, 8))").FullName
            $fleet = @()
            try {
                $chosen = @($all | Where-Object { ($_.Kind -eq 'Readme') -eq ($mode -eq 'Readme') } | Select-Object Source, Code)
                $chosen | ConvertTo-Json -Depth 3 -AsArray | Set-Content -LiteralPath "$state/examples.json"
                # Examples of the fleet commands reach three hosts gw1, gw2 and gw3 over SSH, as written: a test fleet
                # (FleetHarness.ps1) that the runner's machine knows by name through root's ~/.ssh/config there.
                $fleetArguments = @()
                if ($chosen.Code -match 'New-PSSession') {
                    $fleet = @(Start-HermesTestFleet -Count 3)
                    $fleet | Select-Object Name, Address, Port, UserName, KeyFile | ConvertTo-Json -AsArray | Set-Content -LiteralPath "$state/fleet.json"
                    $fleetArguments = @('-FleetPath', "$state/fleet.json")
                }
                $env:SDE2E_EXTRA_UNIT_PATH = '/etc/systemd/system'
                $env:SDE2E_EXTRA_USER_UNIT_PATH = '/root/.config/systemd/user'
                & $sde2e up $state | Out-Null
                & $sde2e ctl $state start "$(& $sde2e usermgr $state)0.service"
                New-Item -ItemType Directory -Path "$state/scratch" | Out-Null
                & $sde2e exec $state env HOME=/root XDG_RUNTIME_DIR=/run/user/0 DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/0/bus TERM=dumb `
                    ([Environment]::ProcessPath) $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'ExampleRunner.ps1') `
                    -Manifest $manifest -Root $root -ExamplePath "$state/examples.json" -ResultPath "$state/results.jsonl" -Scratch "$state/scratch" -Mode $mode @fleetArguments *>&1 |
                    Out-String | Write-Host
                if ($env:HERMES_EXAMPLES_RECORD) {
                    # What each example printed, for re-recording the README's sessions from the module as it is; and the
                    # log of the restart the README's last example handed off, once that restart has finished.
                    Copy-Item -LiteralPath "$state/results.jsonl" -Destination "$env:HERMES_EXAMPLES_RECORD.$mode.jsonl" -ErrorAction SilentlyContinue
                    if ($mode -eq 'Readme') {
                        foreach ($i in 1..60) {
                            $log = (& $sde2e exec $state cat /run/hermesgateway/user.hermes-gateway.restart-helper.log 2>$null) -join "`n"
                            if ($log -match 'FinalState') { break }
                            Start-Sleep -Milliseconds 500
                        }
                        Set-Content -LiteralPath "$env:HERMES_EXAMPLES_RECORD.helper.log" -Value $log
                    }
                }

                foreach ($line in Get-Content -LiteralPath "$state/results.jsonl" -ErrorAction SilentlyContinue) {
                    $r = $line | ConvertFrom-Json
                    $results[$r.Source] = $r
                }
            }
            finally {
                if ($fleet) { Stop-HermesTestFleet -Fleet $fleet }
                & $sde2e down $state 2>$null | Out-Null
                Remove-Item -LiteralPath $state -Recurse -Force -ErrorAction SilentlyContinue
                Remove-Item Env:SDE2E_EXTRA_UNIT_PATH, Env:SDE2E_EXTRA_USER_UNIT_PATH -ErrorAction SilentlyContinue
            }
        }
    }

    It 'hands the README''s in-cgroup restart off to a helper (not a plain restart that would pass as well)' {
        $handOff = $results.Values | Where-Object { $_.Source -like 'README.md:*' -and $_.Output -match 'Strategy\s+: handed off' }
        @($handOff).Count | Should -Be 1 -Because 'the example moves pwsh into the gateway''s cgroup first'
        $handOff.Output | Should -Match 'FinalState : handed off'
    }

    It '<Source> runs without an error' -ForEach $examples {
        $results.ContainsKey($Source) | Should -BeTrue -Because 'the runner reports every example it ran'
        $r = $results[$Source]
        $r.Errors | Should -BeNullOrEmpty -Because "its output was:`n$($r.Output)"
    }
}
