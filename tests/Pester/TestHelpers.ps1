# Shared by the Pester suites: where the built module is, and small fixtures.

function Get-HermesTestModulePath {
    if ($env:HERMES_MODULE_MANIFEST) { return $env:HERMES_MODULE_MANIFEST }
    $root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $manifest = Get-ChildItem -Path (Join-Path $root 'out/HermesGateway') -Filter HermesGateway.psd1 -Recurse -ErrorAction SilentlyContinue |
        Sort-Object { [version]$_.Directory.Name } -Descending |
        Select-Object -First 1
    if (-not $manifest) { throw "The module is not built: run 'dotnet build' in $root first." }
    $manifest.FullName
}

function Get-HermesRepoRoot { (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path }

# Points HOME and the user-manager variables into $Root, so nothing outside it is read or written: a user bus that
# looks configured but answers nobody makes every systemctl --user call fail the same way everywhere. Returns the old
# values (of those and of -Also) for Restore-HermesTestEnvironment; the new home is $Root/home.
function Enter-HermesTestHome {
    param([Parameter(Mandatory)][string] $Root, [string[]] $Also = @())
    $saved = @{}
    foreach ($name in @('HOME', 'XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR', 'DBUS_SESSION_BUS_ADDRESS') + $Also) {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
    }

    $testHome = Join-Path $Root 'home'
    New-Item -ItemType Directory -Path $testHome | Out-Null
    $env:HOME = $testHome
    $env:XDG_CONFIG_HOME = Join-Path $testHome '.config'
    # Made, as a login's runtime folder is: as root the module takes XDG_RUNTIME_DIR only when root owns what it names.
    $env:XDG_RUNTIME_DIR = (New-Item -ItemType Directory -Path (Join-Path $Root 'run') -Force).FullName
    $env:DBUS_SESSION_BUS_ADDRESS = 'unix:path=' + (Join-Path $Root 'run/no-bus')
    $saved
}

function Restore-HermesTestEnvironment {
    param([Parameter(Mandatory)][hashtable] $Saved)
    foreach ($name in $Saved.Keys) {
        [Environment]::SetEnvironmentVariable($name, $Saved[$name])
    }
}

# A unit that meets every systemd scenario's intent under Hermes' contract (shared with the in-process suite).
$script:GoodUnitText = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '../fixtures/good-unit.service')

# Runs a script in a fresh pwsh of the same installation as this one (the .NET tool's pwsh is pwsh.dll run by dotnet),
# with environment variables set or, given $null, removed; returns its output lines and sets $LASTEXITCODE.
function Invoke-HermesFreshPwsh {
    param([Parameter(Mandatory)][string] $Script, [hashtable] $Environment = @{})
    $dll = Join-Path $PSHOME 'pwsh.dll'
    $info = if ((Test-Path $dll) -and [IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') {
        $i = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath); $i.ArgumentList.Add($dll); $i
    }
    else {
        [Diagnostics.ProcessStartInfo]::new((Join-Path $PSHOME 'pwsh'))
    }

    foreach ($a in '-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Script))) {
        $info.ArgumentList.Add($a)
    }

    foreach ($name in $Environment.Keys) {
        if ($null -eq $Environment[$name]) { [void]$info.Environment.Remove($name) } else { $info.Environment[$name] = $Environment[$name] }
    }

    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($info)
    $stderr = $process.StandardError.ReadToEndAsync()
    $stdout = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    $global:LASTEXITCODE = $process.ExitCode
    ($stdout + $stderr.GetAwaiter().GetResult()) -split "`r?`n" | Where-Object { $_ -ne '' }
}
