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

# A unit that meets every systemd scenario's intent under Hermes' contract.
$script:GoodUnitText = @'
[Unit]
Description=Hermes gateway (test)
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart=/usr/bin/hermes gateway run
ExecStop=/usr/local/bin/hermes-mark-planned-stop $MAINPID
ExecReload=/bin/kill -USR1 $MAINPID
Restart=on-failure
RestartSec=2
RestartForceExitStatus=75
SuccessExitStatus=75
RestartPreventExitStatus=78
KillMode=mixed
TimeoutStopSec=90

[Install]
WantedBy=default.target
'@

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
