#Requires -Version 7.4
# Tab completion of -Name (installed gateways) and -Profile (Hermes profiles), through TabExpansion2 as a shell
# calls it. HOME points into TestDrive, so only the units, plists and profiles made here exist; a systemctl and a
# launchctl that only leave a trace come first on PATH, to prove completion never asks the supervisor.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module (Get-HermesTestModulePath) -Force
    $script:saved = Enter-HermesTestHome -Root $TestDrive -Also PATH
    $script:testHome = $env:HOME

    # This machine's supervisor decides where gateways live and what they are called (as for Get-HermesService).
    if ($IsMacOS) {
        $script:serviceDir = Join-Path $testHome 'Library/LaunchAgents'
        $script:base = 'ai.hermes.gateway'
        $script:extension = '.plist'
        $script:scope = 'Launchd Agent'
    }
    else {
        $script:serviceDir = Join-Path $testHome '.config/systemd/user'
        $script:base = 'hermes-gateway'
        $script:extension = '.service'
        $script:scope = 'Systemd User'
    }

    # Real gateway files (upstream's), so that anything asking the supervisor about them would be noticed.
    $example = Get-Content -Raw -LiteralPath (Join-Path (Get-HermesRepoRoot) "tests/examples/$base$extension")
    New-Item -ItemType Directory -Path $serviceDir | Out-Null
    foreach ($file in "$base-work$extension", "$base-web$extension", "$base$extension", "$base-w x$extension", "$base-w[1]$extension",
        "$base-work$extension.20240101T000000Z.bak", 'other.service', 'com.example.other.plist') {
        Set-Content -LiteralPath (Join-Path $serviceDir $file) -Value $example -NoNewline
    }

    New-Item -ItemType Directory -Path (Join-Path $serviceDir "$base-wd$extension.d") | Out-Null
    $script:profiles = Join-Path $testHome '.hermes/profiles'
    foreach ($name in 'work', 'web', 'alpha', 'Wrong', '.hidden', 'with space') {
        New-Item -ItemType Directory -Path (Join-Path $profiles $name) | Out-Null
    }

    Set-Content -LiteralPath (Join-Path $profiles 'wfile') -Value 'a file is no profile'

    $script:trace = Join-Path $TestDrive 'supervisor-called'
    $bin = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'bin')
    foreach ($tool in 'systemctl', 'launchctl') {
        $path = Join-Path $bin $tool
        Set-Content -LiteralPath $path -Value "#!/bin/sh`necho $tool >> '$trace'`nexit 1"
        [IO.File]::SetUnixFileMode($path, [IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
    }

    $env:PATH = "$bin$([IO.Path]::PathSeparator)$env:PATH"

    # Nothing in the working directory either: a parameter without a completer would complete file names.
    Push-Location (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'cwd'))

    function script:Complete([string] $line) {
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
    }
}

AfterAll {
    Pop-Location
    Restore-HermesTestEnvironment $script:saved

    Remove-Module HermesGateway -Force -ErrorAction SilentlyContinue
}

Describe '-Name completion' {
    It '<Command> -Name offers the installed gateways that start with what was typed' -TestCases @(
        @{ Command = 'Get-HermesService' }
        @{ Command = 'Start-HermesGateway' }
        @{ Command = 'Stop-HermesGateway' }
        @{ Command = 'Restart-HermesGateway' }
        @{ Command = 'Uninstall-HermesService' }
        @{ Command = 'Get-HermesGatewayLog' }
    ) {
        (Complete "$Command -Name $base-w").CompletionText | Should -Be @("'$base-w x'", "'$base-w``[1``]'", "$base-web", "$base-work")
    }

    It 'also completes the name by position' {
        (Complete "Restart-HermesGateway $base-wo").CompletionText | Should -Be @("$base-work")
    }

    It 'lists the names sorted, with the plain name and the platform, scope and file as tooltip' {
        $offered = Complete "Restart-HermesGateway -Name "
        $offered.ListItemText | Should -Be @($base, "$base-w x", "$base-w[1]", "$base-web", "$base-work")
        $work = $offered | Where-Object ListItemText -EQ "$base-work"
        $work.ToolTip | Should -Be "${scope}: $(Join-Path $serviceDir "$base-work$extension")"
        $work.ResultType | Should -Be 'ParameterValue'
    }

    It 'offers no backups, drop-in directories or other services' {
        (Complete "Get-HermesService -Name ").ListItemText | Should -Not -Contain "$base-work$extension.20240101T000000Z"
        (Complete "Get-HermesService -Name ").ListItemText | Should -Not -Contain "$base-wd$extension"
        (Complete "Get-HermesService -Name o") | Should -BeNullOrEmpty
        (Complete "Get-HermesService -Name c") | Should -BeNullOrEmpty
    }

    It 'matches case-sensitively, as the names are' {
        Complete "Get-HermesService -Name $($base.ToUpperInvariant())" | Should -BeNullOrEmpty
    }

    It 'matches a typed wildcard pattern' {
        (Complete "Stop-HermesGateway -Name *w?r").CompletionText | Should -Be @("$base-work")
        (Complete "Stop-HermesGateway -Name *-we*").CompletionText | Should -Be @("$base-web")
    }

    It 'keeps the quote the user typed' {
        (Complete "Restart-HermesGateway -Name '$base-wo").CompletionText | Should -Be @("'$base-work'")
        (Complete "Restart-HermesGateway -Name `"$base-w[").CompletionText | Should -Be @("`"$base-w````[1````]`"")
    }

    It 'completes each element of a list' {
        (Complete "Start-HermesGateway -Name $base-web, $base-wo").CompletionText | Should -Be @("$base-work")
    }

    It 'produces text that names exactly that service when the cmdlet reads it as a wildcard pattern' {
        foreach ($match in Complete "Restart-HermesGateway -Name $base-w") {
            $value = $ExecutionContext.InvokeCommand.InvokeScript("Write-Output $($match.CompletionText)")[0]
            $value | Should -BeOfType [string]
            [WildcardPattern]::new($value).IsMatch($match.ListItemText) | Should -BeTrue
            [WildcardPattern]::new($value).IsMatch("$base-w1") | Should -BeFalse
        }
    }

    It 'never asks systemctl or launchctl' {
        Complete "Get-HermesService -Name " | Should -Not -BeNullOrEmpty
        Complete "Restart-HermesGateway -Name $base" | Should -Not -BeNullOrEmpty
        $trace | Should -Not -Exist
    }

    It '<Command> -Name names a new service and offers no installed ones' -TestCases @(
        @{ Command = 'New-HermesServiceDefinition' }
        @{ Command = 'Install-HermesService' }
    ) {
        Complete "$Command -Name $base-w" | Should -BeNullOrEmpty
        (Get-Command $Command).Parameters['Name'].Attributes.Where({ $_ -is [ArgumentCompleter] }) | Should -BeNullOrEmpty
    }
}

Describe '-Profile completion' {
    It '<Command> -Profile offers the profiles that start with what was typed' -TestCases @(
        @{ Command = 'Install-HermesService' }
        @{ Command = 'New-HermesServiceDefinition' }
    ) {
        (Complete "$Command -Profile w").CompletionText | Should -Be @('web', 'work')
    }

    It 'offers only directories with names Hermes accepts, sorted, with their HERMES_HOME as tooltip' {
        $offered = Complete 'Install-HermesService -Profile '
        $offered.CompletionText | Should -Be @('alpha', 'web', 'work')
        ($offered | Where-Object CompletionText -EQ 'work').ToolTip | Should -Be "HERMES_HOME=$(Join-Path $profiles 'work')"
    }

    It 'matches case-sensitively and understands wildcards' {
        Complete 'Install-HermesService -Profile W' | Should -BeNullOrEmpty
        (Complete 'Install-HermesService -Profile *or').CompletionText | Should -Be @('work')
    }

    It 'keeps the quote the user typed' {
        (Complete "New-HermesServiceDefinition -Profile 'al").CompletionText | Should -Be @("'alpha'")
    }

    It 'offers nothing when there are no profiles' {
        $env:HOME = Join-Path $TestDrive 'empty-home'
        try {
            Complete 'Install-HermesService -Profile ' | Should -BeNullOrEmpty
        }
        finally {
            $env:HOME = $testHome
        }
    }
}
