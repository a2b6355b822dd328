#Requires -Version 7.4
# New-HermesServiceDefinition and Compare-HermesServiceDefinition: defaults, rendering, reading files back,
# pipelines into Test-HermesExitPolicy, and error ids.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module (Get-HermesTestModulePath) -Force
    $script:examples = Join-Path (Get-HermesRepoRoot) 'tests/examples'
    $script:exe = '/usr/local/bin/hermes'
}

AfterAll {
    Remove-Module HermesGateway -Force -ErrorAction SilentlyContinue
}

Describe 'New-HermesServiceDefinition defaults' {
    It 'makes a typed systemd definition with Hermes'' names' {
        $d = New-HermesServiceDefinition -Platform Systemd -Executable $exe
        $d | Should -BeOfType ([HermesGateway.Core.Definition.ServiceDefinition])
        $d.Name | Should -Be 'hermes-gateway'
        $d.Scope | Should -Be 'User'
        $d.FileName | Should -Be 'hermes-gateway.service'
        $d.Arguments | Should -Be @('gateway', 'run')
        $d.HermesHome | Should -Be (Join-Path ([Environment]::GetFolderPath('UserProfile')) '.hermes')
    }

    It 'names profiles and passes --profile' {
        $d = New-HermesServiceDefinition -Platform Launchd -Profile work -Executable $exe
        $d.Name | Should -Be 'ai.hermes.gateway-work'
        $d.Arguments | Should -Be @('--profile', 'work', 'gateway', 'run')
        $d.HermesHome | Should -BeLike '*/.hermes/profiles/work'
    }

    It 'passes every systemd scenario' {
        New-HermesServiceDefinition -Platform Systemd -Executable $exe | Test-HermesExitPolicy | Should -BeTrue
    }

    It 'passes every systemd scenario when made for systemd 255' {
        New-HermesServiceDefinition -Platform Systemd -Executable $exe -SystemdVersion 255 | Test-HermesExitPolicy -SystemdVersion 255 | Should -BeTrue
    }

    It 'passes every launchd scenario but the ones it lists as impossible' {
        $d = New-HermesServiceDefinition -Platform Launchd -Executable $exe
        $failing = $d | Test-HermesExitPolicy -Contract documented -Detailed | Where-Object { -not $_.Ok } | ForEach-Object Scenario
        $failing | Should -Be @($d.Limitations.Scenario)
        # Hermes 0.16 (the default contract) ends its permanent start-up error with 0, which the plist leaves stopped.
        $d | Test-HermesExitPolicy -Detailed | Where-Object { -not $_.Ok } | ForEach-Object Scenario | Should -Be 'OnDemandOnlyRestart'
        $d.Limitations.Scenario | Should -Be @('ConfigError', 'OnDemandOnlyRestart')
        $d.Limitations[0].Why | Should -Match 'RestartPreventExitStatus'
    }

    It 'renders the unit with the planned-stop marker, the restart codes and the stop timeout' {
        $text = (New-HermesServiceDefinition -Platform Systemd -Executable $exe).Render()
        $text | Should -Match '(?m)^ExecStop=/bin/sh -c .* hermes-mark-planned-stop .* \$MAINPID$'
        $text | Should -Match '(?m)^RestartForceExitStatus=75$'
        $text | Should -Match '(?m)^SuccessExitStatus=75$'
        $text | Should -Match '(?m)^RestartPreventExitStatus=78$'
        $text | Should -Match '(?m)^TimeoutStopSec=225s$'
        $text | Should -Match '(?m)^KillMode=mixed$'
        $text | Should -Match '(?m)^ExecReload=/bin/kill -USR1 \$MAINPID$'
    }

    It 'derives the stop timeout from -DrainTimeout' {
        $d = New-HermesServiceDefinition -Platform Systemd -Executable $exe -DrainTimeout ([timespan]::FromSeconds(120))
        $d.StopTimeout.TotalSeconds | Should -Be 150
        $d.Render() | Should -Match '(?m)^TimeoutStopSec=150s$'
    }

    It 'uses the contract''s codes' {
        $text = (New-HermesServiceDefinition -Platform Systemd -Executable $exe -RestartExitCode 76 -ConfigErrorExitCode 79).Render()
        $text | Should -Match '(?m)^RestartForceExitStatus=76$'
        $text | Should -Match '(?m)^RestartPreventExitStatus=79$'
    }

    It 'keeps an ordered environment in order and sorts a hashtable' {
        $ordered = New-HermesServiceDefinition -Platform Systemd -Executable $exe -Environment ([ordered]@{ ZED = '1'; ALPHA = '2' })
        ($ordered.Environment | Select-Object -Skip 2).Name | Should -Be @('ZED', 'ALPHA')
        $sorted = New-HermesServiceDefinition -Platform Systemd -Executable $exe -Environment @{ ZED = '1'; ALPHA = '2' }
        ($sorted.Environment | Select-Object -Skip 2).Name | Should -Be @('ALPHA', 'ZED')
    }

    It 'makes a system-scope unit for a named account' {
        $d = New-HermesServiceDefinition -Platform Systemd -Scope System -User hermes -HermesHome /srv/hermes/.hermes -Executable $exe
        $d.Render() | Should -Match '(?m)^User=hermes$'
        $d.Render() | Should -Match '(?m)^WantedBy=multi-user.target$'
    }
}

Describe 'New-HermesServiceDefinition reading files' {
    It 'adopts upstream''s unit' {
        $d = New-HermesServiceDefinition -LiteralPath (Join-Path $examples 'hermes-gateway.service')
        $d.Platform | Should -Be 'Systemd'
        $d.Executable | Should -Be '/home/hermes/.hermes/venv/bin/python'
        $d.Arguments | Should -Be @('-m', 'hermes_cli.main', 'gateway', 'run')
        $d.HermesHome | Should -Be '/home/hermes/.hermes'
        $d.Systemd.Restart | Should -Be 'Always'
        $d.StopTimeout.TotalSeconds | Should -Be 70
    }

    It 'adopts upstream''s plist' {
        $d = Get-Item (Join-Path $examples 'ai.hermes.gateway.plist') | New-HermesServiceDefinition
        $d.Platform | Should -Be 'Launchd'
        $d.Name | Should -Be 'ai.hermes.gateway'
        $d.Launchd.ThrottleInterval | Should -Be 30
        $d.StopTimeout.TotalSeconds | Should -Be 25
    }

    It 'reads back what it rendered, equal' {
        $d = New-HermesServiceDefinition -Platform Systemd -Profile ops -Executable $exe -Environment @{ TOKEN_FILE = '/run/secrets/t 1' }
        $file = Join-Path $TestDrive $d.FileName
        Set-Content -LiteralPath $file -Value $d.Render() -NoNewline
        $back = New-HermesServiceDefinition -LiteralPath $file
        $back.Equals($d) | Should -BeTrue
    }

    It 'reports a missing file as HermesPathNotFound' {
        { New-HermesServiceDefinition -LiteralPath (Join-Path $TestDrive 'none.service') -ErrorAction Stop } | Should -Throw -ErrorId 'HermesPathNotFound,*'
    }
}

Describe 'New-HermesServiceDefinition refusals' {
    It 'refuses <What> with <Id>' -ForEach @(
        @{ What = 'a profile outside Hermes'' rule'; Id = 'HermesNameInvalid'; Arguments = @{ Profile = 'Work!' } }
        @{ What = 'a name with a space'; Id = 'HermesNameInvalid'; Arguments = @{ Name = 'hermes gateway' } }
        @{ What = 'an argument with a line break'; Id = 'HermesValueNotRepresentable'; Arguments = @{ ArgumentList = @('gateway', "run`nnow") } }
        @{ What = 'an environment value with a NUL'; Id = 'HermesValueNotRepresentable'; Arguments = @{ Environment = @{ A = "x$([char]0)y" } } }
        @{ What = 'an invalid environment name'; Id = 'HermesNameInvalid'; Arguments = @{ Environment = @{ '1A' = 'x' } } }
        @{ What = '--replace'; Id = 'HermesDefinitionInvalid'; Arguments = @{ ArgumentList = @('gateway', 'run', '--replace') } }
        @{ What = 'system scope without a user'; Id = 'HermesDefinitionInvalid'; Arguments = @{ Scope = 'System'; HermesHome = '/srv/h' } }
        @{ What = 'a launchd scope on systemd'; Id = 'HermesDefinitionInvalid'; Arguments = @{ Scope = 'Agent' } }
        @{ What = 'HERMES_HOME in -Environment'; Id = 'HermesDefinitionInvalid'; Arguments = @{ Environment = @{ HERMES_HOME = '/x' } } }
    ) {
        $params = @{ Platform = 'Systemd'; Executable = $exe }
        foreach ($key in $Arguments.Keys) { $params[$key] = $Arguments[$key] }
        { New-HermesServiceDefinition @params } | Should -Throw -ErrorId "$Id,*"
    }

    It 'resolves a relative -Executable against the current location, as other cmdlets resolve paths' {
        Push-Location $TestDrive
        try {
            (New-HermesServiceDefinition -Platform Systemd -Executable 'bin/hermes').Executable | Should -Be (Join-Path (Get-Location).ProviderPath 'bin/hermes')
        }
        finally {
            Pop-Location
        }
    }

    It 'keeps a backslash in a path parameter: on Unix it is part of a file name, not a separator' {
        $d = New-HermesServiceDefinition -Platform Systemd -Executable $exe -HermesHome '/srv/a\b'
        $d.HermesHome | Should -BeExactly '/srv/a\b'
        $d.WorkingDirectory | Should -BeExactly '/srv/a\b'
        $d.Render() | Should -Match ([regex]::Escape('Environment="HERMES_HOME=/srv/a\\b"'))
    }

    It 'refuses a backslash in -Executable, which systemd refuses in an executable path' {
        { New-HermesServiceDefinition -Platform Systemd -Executable '/opt/a\hermes' } | Should -Throw -ErrorId 'HermesValueNotRepresentable,*'
    }

    It 'refuses a service name with a leading dash, which systemctl would read as an option' {
        { New-HermesServiceDefinition -Platform Systemd -Executable $exe -Name '-h' } | Should -Throw -ErrorId 'HermesNameInvalid,*'
    }

    It 'refuses an environment file for launchd' {
        { New-HermesServiceDefinition -Platform Launchd -Executable $exe -EnvironmentFile /etc/x.env } | Should -Throw -ErrorId 'HermesDefinitionInvalid,*'
    }
}

Describe 'Compare-HermesServiceDefinition' {
    It 'shows one changed setting for one changed timeout' {
        $a = New-HermesServiceDefinition -Platform Systemd -Executable $exe
        $b = New-HermesServiceDefinition -Platform Systemd -Executable $exe -StopTimeout ([timespan]::FromSeconds(120))
        $changes = @(Compare-HermesServiceDefinition -ReferenceDefinition $a -DifferenceDefinition $b)
        $changes.Count | Should -Be 1
        $changes[0] | Should -BeOfType ([HermesGateway.Core.Definition.SettingChange])
        $changes[0].Setting | Should -Be 'TimeoutStopSec'
        $changes[0].Old | Should -Be '225s'
        $changes[0].New | Should -Be '120s'
        $changes[0].Kind | Should -Be 'Changed'
    }

    It 'finds no change between a file and the definition read from it' {
        $file = Join-Path $examples 'hermes-gateway.service'
        New-HermesServiceDefinition -LiteralPath $file | Compare-HermesServiceDefinition -LiteralPath $file | Should -BeNullOrEmpty
    }

    It 'shows what the defaults would add to upstream''s unit' {
        $changes = New-HermesServiceDefinition -Platform Systemd -Executable $exe -HermesHome /home/hermes/.hermes |
            Compare-HermesServiceDefinition -LiteralPath (Join-Path $examples 'hermes-gateway.service')
        ($changes | Where-Object Setting -EQ 'ExecStop').Kind | Should -Be 'Added'
        ($changes | Where-Object Setting -EQ 'Restart').New | Should -Be 'on-failure'
    }
}
