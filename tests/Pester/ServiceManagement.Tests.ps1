#Requires -Version 7.4
# Install-/Uninstall-/Get-HermesService and Start-/Stop-HermesGateway: parameters, pipeline binding, -WhatIf and
# error ids. HOME points into TestDrive, so nothing outside it is read or written; the full lifecycle against a real
# systemd runs in the xunit E2E suite.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module (Get-HermesTestModulePath) -Force
    $script:examples = Join-Path (Get-HermesRepoRoot) 'tests/examples'
    $script:saved = Enter-HermesTestHome -Root $TestDrive
    $script:testHome = $env:HOME
    $script:unitDir = Join-Path $testHome '.config/systemd/user'
    $script:agentDir = Join-Path $testHome 'Library/LaunchAgents'

    # What Get-HermesService must say of upstream's one definition on either platform; returns it for the rest.
    function Get-UpstreamServiceJudged([string] $Name, [string] $Platform, [string] $Scope) {
        $s = @(Get-HermesService)
        $s.Count | Should -Be 1
        $s[0].Name | Should -Be $Name
        $s[0].Platform | Should -Be $Platform
        $s[0].Scope | Should -Be $Scope
        $s[0].Drift | Should -Not -Be 'none'
        $s[0].Policy | Should -Match '^\d+/\d+ ok$'
        $s[0]
    }
}

AfterAll {
    Restore-HermesTestEnvironment $script:saved

    Remove-Module HermesGateway -Force -ErrorAction SilentlyContinue
}

Describe 'Install-HermesService -WhatIf' {
    It 'writes nothing and reports no error' {
        $definition = New-HermesServiceDefinition -Executable /usr/local/bin/hermes
        $definition | Install-HermesService -WhatIf -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        Join-Path $unitDir $definition.FileName | Should -Not -Exist
        Join-Path $agentDir $definition.FileName | Should -Not -Exist
    }

    It 'builds the definition from parameters too' {
        Install-HermesService -Profile pester -Executable /usr/local/bin/hermes -WhatIf -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        Get-ChildItem $testHome -Recurse -File | Should -BeNullOrEmpty
    }

    It 'declares ShouldProcess with the impact the verb deserves' {
        (Get-Command Install-HermesService).Parameters.Keys | Should -Contain 'WhatIf'
        $impact = { param($c) ((Get-Command $c).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false))[0].ConfirmImpact }
        & $impact Install-HermesService | Should -Be 'Medium'
        & $impact Uninstall-HermesService | Should -Be 'High'
        & $impact Stop-HermesGateway | Should -Be 'Medium'
    }
}

Describe 'Restart-HermesGateway parameters' {
    BeforeAll {
        $script:restart = Get-Command Restart-HermesGateway
    }

    It 'takes names (wildcards, by position 0 and by property) or services from the pipeline' {
        $name = $restart.Parameters['Name']
        $name.ParameterType | Should -Be ([string[]])
        $name.ParameterSets['Name'].Position | Should -Be 0
        $name.ParameterSets['Name'].ValueFromPipelineByPropertyName | Should -BeTrue
        $name.Attributes.Where({ $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count | Should -Be 1
        $inputObject = $restart.Parameters['InputObject']
        $inputObject.ParameterType | Should -Be ([HermesGateway.Core.Service.HermesService[]])
        $inputObject.ParameterSets['InputObject'].ValueFromPipeline | Should -BeTrue
        $inputObject.ParameterSets['InputObject'].IsMandatory | Should -BeTrue
        $restart.DefaultParameterSet | Should -Be 'Name'
    }

    It 'has -Timeout and -DrainTimeout as time spans and -Force and -PassThru as switches, in both sets' {
        $restart.Parameters['Timeout'].ParameterType | Should -Be ([timespan])
        [Nullable]::GetUnderlyingType($restart.Parameters['DrainTimeout'].ParameterType) | Should -Be ([timespan])
        $restart.Parameters['Force'].SwitchParameter | Should -BeTrue
        $restart.Parameters['PassThru'].SwitchParameter | Should -BeTrue
        foreach ($p in 'Timeout', 'DrainTimeout', 'Force', 'PassThru') {
            @($restart.Parameters[$p].ParameterSets.Keys) | Should -Contain '__AllParameterSets'
        }
    }

    It 'refuses a non-positive -DrainTimeout as HermesOptionInvalid before touching anything' {
        { Restart-HermesGateway -Name hermes-gateway -DrainTimeout ([timespan]::FromSeconds(-1)) -Force -PassThru } | Should -Throw -ErrorId 'HermesOptionInvalid,*'
    }
}

Describe 'Service cmdlets on systemd' -Skip:(-not $IsLinux) {
    BeforeAll {
        New-Item -ItemType Directory -Path $unitDir -Force | Out-Null
        Copy-Item (Join-Path $examples 'hermes-gateway.service') $unitDir
    }

    It 'Get-HermesService finds upstream''s unit and judges it' {
        $s = Get-UpstreamServiceJudged -Name hermes-gateway -Platform Systemd -Scope User
        $s | Should -BeOfType ([HermesGateway.Core.Service.HermesService])
        $s.InstalledByModule | Should -BeFalse
        ($s.DriftChanges | Where-Object Setting -EQ 'ExecStop').Kind | Should -Be 'Added'
        $s.State | Should -BeLike 'unknown*'
    }

    It 'Get-HermesService filters by name with wildcards and reports a missing exact name as HermesServiceNotFound' {
        @(Get-HermesService -Name 'hermes-*').Count | Should -Be 1
        @(Get-HermesService -Name 'other-*').Count | Should -Be 0
        { Get-HermesService -Name 'hermes-gateway-none' -ErrorAction Stop } | Should -Throw -ErrorId 'HermesServiceNotFound,*'
    }

    It 'binds Get-HermesService output to Stop-HermesGateway and reports an unreachable user bus as HermesNoUserBus' {
        Get-HermesService | Stop-HermesGateway -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'HermesNoUserBus,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
    }

    It 'binds names by property to Start-HermesGateway' {
        [pscustomobject]@{ Name = 'hermes-gateway' } | Start-HermesGateway -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'HermesNoUserBus,*'
    }

    It 'refuses to replace upstream''s unit without -Force, and -WhatIf with -Force still writes nothing' {
        $before = Get-Content -Raw (Join-Path $unitDir 'hermes-gateway.service')
        { Install-HermesService -Name hermes-gateway -ErrorAction Stop } | Should -Throw -ErrorId 'HermesFileChangedByHand,*'
        Install-HermesService -Name hermes-gateway -Force -WhatIf
        Get-Content -Raw (Join-Path $unitDir 'hermes-gateway.service') | Should -Be $before
        @(Get-ChildItem $unitDir).Count | Should -Be 1
    }

    It 'reports a missing user bus as HermesNoUserBus before writing anything' {
        $saved = $env:DBUS_SESSION_BUS_ADDRESS, $env:XDG_RUNTIME_DIR
        try {
            $env:DBUS_SESSION_BUS_ADDRESS = $null
            $env:XDG_RUNTIME_DIR = $null
            { New-HermesServiceDefinition -Profile nobus -Executable /usr/local/bin/hermes | Install-HermesService -ErrorAction Stop } | Should -Throw -ErrorId 'HermesNoUserBus,*'
            Join-Path $unitDir 'hermes-gateway-nobus.service' | Should -Not -Exist
        }
        finally {
            $env:DBUS_SESSION_BUS_ADDRESS, $env:XDG_RUNTIME_DIR = $saved
        }
    }

    It 'refuses system scope without root as HermesNotRoot' -Skip:((id -u) -eq '0') {
        $d = New-HermesServiceDefinition -Scope System -User hermes -HermesHome /srv/hermes -Executable /usr/local/bin/hermes
        { $d | Install-HermesService -ErrorAction Stop } | Should -Throw -ErrorId 'HermesNotRoot,*'
    }

    It 'Restart-HermesGateway -WhatIf asks nothing of the supervisor and writes nothing' {
        $out = Get-HermesService | Restart-HermesGateway -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs.Count | Should -Be 0 # the unreachable bus is never even tried
        Join-Path $env:XDG_RUNTIME_DIR 'hermesgateway*' | Should -Not -Exist # no restart lock either
    }

    It 'binds Get-HermesService output to Restart-HermesGateway and reports an unreachable user bus as HermesNoUserBus' {
        Get-HermesService | Restart-HermesGateway -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'HermesNoUserBus,*'
        # The failed restart's result rides along: what was done, and the state it was left in.
        $errs[0].TargetObject | Should -BeOfType ([HermesGateway.Core.Restart.RestartResult])
        $errs[0].TargetObject.Name | Should -Be 'hermes-gateway'
        $errs[0].TargetObject.FinalState | Should -Be 'unknown (HermesNoUserBus)'
        $errs[0].TargetObject.NewPid | Should -BeNullOrEmpty
    }

    It 'Restart-HermesGateway refuses a non-positive -Timeout as HermesOptionInvalid' {
        { Restart-HermesGateway -Name hermes-gateway -Timeout ([timespan]::Zero) } | Should -Throw -ErrorId 'HermesOptionInvalid,*'
    }

    It 'Restart-HermesGateway declares its result type and a Medium impact' {
        (Get-Command Restart-HermesGateway).OutputType.Type | Should -Contain ([HermesGateway.Core.Restart.RestartResult])
        ((Get-Command Restart-HermesGateway).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false))[0].ConfirmImpact | Should -Be 'Medium'
    }

    It 'Uninstall-HermesService -WhatIf removes nothing' {
        Get-HermesService | Uninstall-HermesService -WhatIf -ErrorAction SilentlyContinue
        Join-Path $unitDir 'hermes-gateway.service' | Should -Exist
    }

    It 'Install-HermesService -Profile keeps the identity of upstream''s unit for that profile' {
        # Upstream's unit for profile "work" runs its own python; with no hermes on PATH, only that identity lets the
        # install get as far as the (expected) refusal to replace a file it did not write.
        $unit = Join-Path $unitDir 'hermes-gateway-work.service'
        (Get-Content -Raw (Join-Path $examples 'hermes-gateway.service')).
            Replace('-m hermes_cli.main gateway run', '-m hermes_cli.main --profile work gateway run').
            Replace('HERMES_HOME=/home/hermes/.hermes', 'HERMES_HOME=/home/hermes/.hermes/profiles/work') |
            Set-Content -Path $unit -NoNewline
        $savedPath = $env:PATH
        try {
            $env:PATH = Join-Path $TestDrive 'empty-path'
            { Install-HermesService -Profile work -ErrorAction Stop } | Should -Throw -ErrorId 'HermesFileChangedByHand,*'
            { Install-HermesService -Profile other -ErrorAction Stop } | Should -Throw -ErrorId 'HermesExecutableNotFound,*'
            (Get-HermesService -Name hermes-gateway-work).HermesHome | Should -Be '/home/hermes/.hermes/profiles/work'
        }
        finally {
            $env:PATH = $savedPath
            Remove-Item $unit
        }
    }
}

Describe 'Every service the module installed is found again' -Skip:$IsMacOS {
    It 'finds a unit installed with a custom -Name, and not a hand-written unit beside it' {
        # The unit as Install-HermesService -Name relay-gateway writes it: rendered, with the module's checksum line.
        $d = New-HermesServiceDefinition -Name relay-gateway -Executable /usr/local/bin/hermes
        $relay = Join-Path $unitDir 'relay-gateway.service'
        $nginx = Join-Path $unitDir 'nginx.service'
        New-Item -ItemType Directory -Path $unitDir -Force | Out-Null
        [HermesGateway.Core.Service.FileStamp]::Apply($d.Render(), 'Systemd') | Set-Content -LiteralPath $relay -NoNewline
        "[Service]`nExecStart=/usr/sbin/nginx`n" | Set-Content -LiteralPath $nginx -NoNewline
        try {
            $s = @(Get-HermesService -Name relay-gateway -ErrorAction Stop)
            $s.Count | Should -Be 1
            $s[0].Path | Should -Be $relay
            $s[0].InstalledByModule | Should -BeTrue
            (Get-HermesService).Name | Should -Contain 'relay-gateway'
            (Get-HermesService -Name relay-gateway.service -ErrorAction Stop).Path | Should -Be $relay # the name as systemctl takes it
            { Get-HermesService -Name nginx -ErrorAction Stop } | Should -Throw -ErrorId 'HermesServiceNotFound,*'
        }
        finally {
            Remove-Item -LiteralPath $relay, $nginx
        }
    }
}

Describe 'Service cmdlets on launchd' -Skip:(-not $IsMacOS) {
    BeforeAll {
        New-Item -ItemType Directory -Path $agentDir -Force | Out-Null
        Copy-Item (Join-Path $examples 'ai.hermes.gateway.plist') $agentDir
    }

    It 'Get-HermesService finds upstream''s agent and judges it' {
        Get-UpstreamServiceJudged -Name ai.hermes.gateway -Platform Launchd -Scope Agent | Out-Null
    }

    It 'Install-HermesService -WhatIf over it writes nothing' {
        $before = Get-Content -Raw (Join-Path $agentDir 'ai.hermes.gateway.plist')
        Install-HermesService -Name ai.hermes.gateway -Force -WhatIf
        Get-Content -Raw (Join-Path $agentDir 'ai.hermes.gateway.plist') | Should -Be $before
    }
}
