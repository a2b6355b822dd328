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
