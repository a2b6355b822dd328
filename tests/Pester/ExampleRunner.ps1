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
    [Parameter(Mandatory)][ValidateSet('Readme', 'Help')][string] $Mode,
    # The test fleet the fleet examples reach (gw1, gw2, gw3): name, address, port, user and key of each host.
    [string] $FleetPath
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

# The fleet's hosts by name, as an admin's ssh knows them: root's ~/.ssh/config on this machine (the sandbox's own
# copy of /root), so 'New-PSSession -HostName gw1, gw2, gw3 -UserName root' in an example reaches them as written.
$fleetHosts = @()
if ($FleetPath) {
    $fleetHosts = @(Get-Content -Raw -LiteralPath $FleetPath | ConvertFrom-Json)
    New-Item -ItemType Directory -Force -Path ~/.ssh | Out-Null
    chmod 700 ~/.ssh
    $config = foreach ($h in $fleetHosts) {
        "Host $($h.Name)`n  HostName $($h.Address)`n  Port $($h.Port)`n  IdentityFile $($h.KeyFile)`n  StrictHostKeyChecking no`n  UserKnownHostsFile /dev/null`n  LogLevel ERROR`n  BatchMode yes`n"
    }
    Set-Content -LiteralPath ~/.ssh/config -Value ($config -join "`n")
    chmod 600 ~/.ssh/config
}

# A help example of the fleet commands starts from hosts that have this build of the module and a running gateway,
# both put there by the module itself.
function Initialize-Fleet {
    $s = New-PSSession -HostName $fleetHosts.Name -UserName root -ErrorAction Stop
    try {
        Copy-HermesModule -Session $s -Force | Out-Null
        Install-HermesService -Session $s -Scope System -User hermes -HermesHome /home/hermes/.hermes -Start -ErrorAction Stop | Out-Null
    }
    finally { $s | Remove-PSSession }
}

$upstreamUnit = Join-Path $Root 'tests/examples/hermes-gateway.service'
$upstreamPlist = Join-Path $Root 'tests/examples/ai.hermes.gateway.plist'
Copy-Item $upstreamPlist ~/Library/LaunchAgents/ai.hermes.gateway.plist
$userUnits = Join-Path $HOME '.config/systemd/user'

# No gateway service at all: every gateway the examples could have made is uninstalled (by the module, as an admin would),
# and the files they leave (backups, state) removed.
function Reset-Gateways {
    Get-HermesService | Uninstall-HermesService -Confirm:$false -WarningAction SilentlyContinue
    Remove-Item -Path "$userUnits/hermes-gateway*", '/etc/systemd/system/hermes-gateway*' -Recurse -Force -ErrorAction SilentlyContinue
    systemctl --user daemon-reload; systemctl daemon-reload
    foreach ($folder in '~/.hermes', '~/.hermes/profiles/work') {
        Remove-Item -Path "$folder/gateway_state.json", "$folder/.gateway-planned-stop.json" -Force -ErrorAction SilentlyContinue
    }
}

# Each example runs in its own pipeline on one runspace (so a session's variables and current folder carry over), under
# a time limit. An example that follows a log (-Follow) runs until stopped: it is stopped after a few seconds, as Ctrl+C
# would, and must end cleanly; any other example still running at its limit fails.
$session = [runspacefactory]::CreateRunspace($Host)   # the host shows -WhatIf's lines, in the runner's output
$session.Open()
$prepare = [powershell]::Create(); $prepare.Runspace = $session
$null = $prepare.AddScript("Import-Module '$($Manifest -replace "'", "''")'; `$ConfirmPreference = 'None'; `$ProgressPreference = 'SilentlyContinue'").Invoke()

function Invoke-Example([object] $Example) {
    $followed = $Example.Code -match '-Follow\b'
    $limit = if ($followed) { 5 } else { 240 }
    $session.SessionStateProxy.Path.SetLocation((Get-Location).Path) | Out-Null
    $ps = [powershell]::Create(); $ps.Runspace = $session
    # Every stream into the output, as a console shows them; errors also kept apart to be counted.
    $script = @"
`$global:ExampleErrors = [System.Collections.Generic.List[object]]::new()
. {
$($Example.Code)
} *>&1 | ForEach-Object {
    if (`$_ -is [System.Management.Automation.ErrorRecord]) { `$global:ExampleErrors.Add(`$_); "ERROR: `$_" }
    elseif (`$_ -is [System.Management.Automation.WarningRecord]) { "WARNING: `$(`$_.Message)" }
    elseif (`$_ -is [System.Management.Automation.VerboseRecord]) { "VERBOSE: `$(`$_.Message)" }
    else { `$_ }
} | Out-String -Width 160
"@
    $null = $ps.AddScript($script)
    $handle = $ps.BeginInvoke()
    $finished = $handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($limit))
    if (-not $finished) { $ps.Stop() }
    $errors = [Collections.Generic.List[string]]::new()
    $output = try { ($ps.EndInvoke($handle) | Out-String) } catch { if ($finished -or -not $followed) { $errors.Add("$($_.FullyQualifiedErrorId): $_") }; '' }
    foreach ($e in @($session.SessionStateProxy.GetVariable('ExampleErrors'))) { if ($e) { $errors.Add("$($e.FullyQualifiedErrorId): $e") } }
    foreach ($e in $ps.Streams.Error) { $errors.Add("$($e.FullyQualifiedErrorId): $e") }
    if (-not $finished -and -not $followed) { $errors.Add("did not finish within $limit s") }
    $ps.Dispose()

    $result = [pscustomobject]@{ Source = $Example.Source; Output = $output; Errors = @($errors) }
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
        try {
            Reset-Gateways
            New-HermesServiceDefinition -Executable /usr/local/bin/hermes | Install-HermesService -Start -WarningAction SilentlyContinue
            if ($example.Code -match 'New-PSSession') { Initialize-Fleet }
            if ($example.Code -match 'hermes-gateway-work') {
                New-HermesServiceDefinition -Profile work -Executable /usr/local/bin/hermes | Install-HermesService -Start -WarningAction SilentlyContinue
            }
        }
        catch {
            # The example's machine could not be set up: reported as that example's error, with how the units stand.
            $state = (systemctl --user status --no-pager 'hermes-gateway*' 2>&1) -join "`n"
            $result = [pscustomobject]@{ Source = $example.Source; Output = $state; Errors = @("setting up its machine: $($_.FullyQualifiedErrorId): $_") }
            Add-Content -LiteralPath $ResultPath -Value ($result | ConvertTo-Json -Compress -Depth 3)
            continue
        }

        Invoke-Example $example
    }
}
