#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages the HermesGateway module.
.DESCRIPTION
    'dotnet build' alone lays out the module in out/HermesGateway/<version>/; this script is a convenience
    around it for pwsh users.
      Build    dotnet build (the module folder)
      Test     dotnet test (xunit, including the real-systemd differential suite when run as root)
      Pester   the Pester suites in a fresh 'pwsh -NoProfile' that imports the built manifest by path
      Package  a zip of the module folder in out/
      Demo     build, import, and show the verdicts for the example unit and plist
      All      Build, Test, Pester, Package
.EXAMPLE
    ./build.ps1 Demo
.EXAMPLE
    ./build.ps1 All -Configuration Release
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Pester', 'Package', 'Demo', 'All')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$version = (Import-PowerShellDataFile (Join-Path $root 'HermesGateway.psd1')).ModuleVersion
$moduleDir = Join-Path $root "out/HermesGateway/$version"
$manifest = Join-Path $moduleDir 'HermesGateway.psd1'

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

if ($Task -contains 'All') { $Task = @('Build', 'Test', 'Pester', 'Package') }

foreach ($t in $Task) {
    switch ($t) {
        'Build' {
            Invoke-Native dotnet @('build', (Join-Path $root 'HermesGateway.sln'), '-c', $Configuration, '--nologo')
        }
        'Test' {
            Invoke-Native dotnet @('test', (Join-Path $root 'HermesGateway.sln'), '-c', $Configuration, '--nologo')
        }
        'Pester' {
            # The module under test is the one the sources make now, never a stale build (incremental: fast when current).
            if ($Task -notcontains 'Build') { Invoke-Native dotnet @('build', (Join-Path $root 'src/HermesGateway/HermesGateway.csproj'), '-c', $Configuration, '--nologo', '-v', 'quiet') }
            $pesterScript = {
                param($Manifest, $TestsPath, $ResultPath)
                $env:HERMES_MODULE_MANIFEST = $Manifest
                Import-Module Pester -MinimumVersion 5.3 -ErrorAction Stop
                $config = New-PesterConfiguration
                $config.Run.Path = $TestsPath
                $config.Run.Exit = $true
                $config.Output.Verbosity = 'Detailed'
                $config.TestResult.Enabled = $true
                $config.TestResult.OutputPath = $ResultPath
                $config.TestResult.OutputFormat = 'NUnitXml'
                Invoke-Pester -Configuration $config
            }
            $results = Join-Path $root 'out/pester-results.xml'
            Invoke-Native (Join-Path $PSHOME 'pwsh') @('-NoProfile', '-NonInteractive', '-Command', "& { $pesterScript } -Manifest '$manifest' -TestsPath '$(Join-Path $root 'tests/Pester')' -ResultPath '$results'")
        }
        'Package' {
            $zip = Join-Path $root "out/HermesGateway-$version.zip"
            Compress-Archive -Path (Join-Path $root 'out/HermesGateway') -DestinationPath $zip -Force
            Write-Information "Packaged $zip" -InformationAction Continue
        }
        'Demo' {
            Invoke-Native dotnet @('build', (Join-Path $root 'src/HermesGateway/HermesGateway.csproj'), '-c', $Configuration, '--nologo', '-v', 'quiet')
            # A fresh process, so a module loaded earlier in this session cannot be the one that answers.
            $demo = {
                param($Manifest, $Examples)
                Import-Module $Manifest -Force
                foreach ($file in Get-ChildItem $Examples -File) {
                    $ok = Test-HermesExitPolicy -Path $file.FullName
                    "{0}: every scenario meets its intent: {1}" -f $file.Name, $ok
                    Test-HermesExitPolicy -Path $file.FullName -Detailed | Format-Table -Wrap | Out-String -Width 160
                }
            }
            Invoke-Native (Join-Path $PSHOME 'pwsh') @('-NoProfile', '-NonInteractive', '-Command', "& { $demo } -Manifest '$manifest' -Examples '$(Join-Path $root 'tests/examples')'")
        }
    }
}
