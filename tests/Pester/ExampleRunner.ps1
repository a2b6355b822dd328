# Runs documented examples inside an sde2e sandbox (a private systemd 252) as root, where 'hermes' is the stub gateway:
# /usr/local/bin/hermes, /home/hermes/.local/bin/hermes, /opt/hermes/bin/hermes and upstream's venv python all start
# tests/stub-gateway/stub_gateway.py with Hermes 0.16's contract. Writes one JSON line per example to -ResultPath as it
# goes: its source, its output (Out-String) and its errors. Started by Examples.Tests.ps1; not a test file itself.
param(
    [Parameter(Mandatory)][string] $Manifest,
    [Parameter(Mandatory)][string] $Root,
    [Parameter(Mandatory)][string] $ExamplePath,
    [Parameter(Mandatory)][string] $ResultPath,
    [Parameter(Mandatory)][string] $Scratch,
    [Parameter(Mandatory)][ValidateSet('Readme', 'Help')][string] $Mode
)

$ErrorActionPreference = 'Stop'
$ConfirmPreference = 'None'      # as in a runbook: Uninstall's High impact does not stop the run for a prompt
$ProgressPreference = 'SilentlyContinue'
Import-Module $Manifest

$stub = Join-Path $Root 'tests/stub-gateway/stub_gateway.py'
$launcher = "#!/bin/sh`n[ `"`$1`" = -m ] && shift 2`nexport HERMES_STUB_CONTRACT=hermes-0.16 HERMES_STUB_DRAIN_SECONDS=1.2`nexec python3 $stub `"`$@`"`n"
foreach ($path in '/usr/local/bin/hermes', '/home/hermes/.local/bin/hermes', '/opt/hermes/bin/hermes', '/home/hermes/.hermes/venv/bin/python') {
    New-Item -ItemType Directory -Force -Path (Split-Path $path) | Out-Null
    Set-Content -LiteralPath $path -Value $launcher -NoNewline
    chmod 755 $path
}

if (-not (Get-Content /etc/passwd | Select-String '^hermes:')) { useradd --system --home-dir /home/hermes --shell /usr/sbin/nologin hermes }
foreach ($dir in '~/.hermes/profiles/work', '/home/hermes/.hermes', '/srv/hermes/.hermes', '/etc/hermes', '~/Library/LaunchAgents') {
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
}

$upstreamUnit = Join-Path $Root 'tests/examples/hermes-gateway.service'
$upstreamPlist = Join-Path $Root 'tests/examples/ai.hermes.gateway.plist'
Copy-Item $upstreamPlist ~/Library/LaunchAgents/ai.hermes.gateway.plist
$userUnits = Join-Path $HOME '.config/systemd/user'

# No gateway service at all: every unit the examples could have made is stopped and removed.
function Reset-Gateways {
    $units = @(Get-ChildItem -Path $userUnits, /etc/systemd/system -Filter 'hermes-gateway*' -ErrorAction SilentlyContinue)
    foreach ($u in $units) {
        $scope = if ($u.FullName.StartsWith($userUnits)) { @('--user') } else { @() }
        systemctl @scope disable --now -- $u.Name 2>$null | Out-Null
        Remove-Item -LiteralPath $u.FullName -Recurse -Force
    }

    systemctl --user daemon-reload; systemctl daemon-reload
    systemctl --user reset-failed 2>$null; systemctl reset-failed 2>$null
    Remove-Item ~/.hermes/gateway_state.json, ~/.hermes/profiles/work/gateway_state.json -ErrorAction SilentlyContinue
}

function Invoke-Example([object] $Example) {
    $Error.Clear()
    $output = try {
        . ([scriptblock]::Create($Example.Code)) *>&1 | Out-String -Width 160
    }
    catch {
        $_ | Out-String
    }

    $result = [pscustomobject]@{
        Source = $Example.Source
        Output = $output
        Errors = @($Error | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })
    }
    Add-Content -LiteralPath $ResultPath -Value ($result | ConvertTo-Json -Compress -Depth 3)
}

$examples = Get-Content -Raw -LiteralPath $ExamplePath | ConvertFrom-Json
if ($Mode -eq 'Readme') {
    # One session, in the README's order, from upstream's unit installed by hand (its 'python' is the stub).
    Reset-Gateways
    New-Item -ItemType Directory -Force -Path $userUnits | Out-Null
    Copy-Item $upstreamUnit (Join-Path $userUnits 'hermes-gateway.service')
    systemctl --user daemon-reload
    Set-Location $Root
    foreach ($example in $examples) { Invoke-Example $example }
}
else {
    # Each example alone, on a machine where the module installed hermes-gateway (and, when the example names it,
    # hermes-gateway-work) and both run; upstream's unit and plist lie in the current folder.
    Copy-Item $upstreamUnit, $upstreamPlist $Scratch
    Set-Location $Scratch
    foreach ($example in $examples) {
        Reset-Gateways
        New-HermesServiceDefinition -Executable /usr/local/bin/hermes | Install-HermesService -Start -WarningAction SilentlyContinue
        if ($example.Code -match 'hermes-gateway-work') {
            New-HermesServiceDefinition -Profile work -Executable /usr/local/bin/hermes | Install-HermesService -Start -WarningAction SilentlyContinue
        }

        Invoke-Example $example
    }
}
