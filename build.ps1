#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages the HermesGateway module.
.DESCRIPTION
    'dotnet build' alone lays out the module in out/HermesGateway/<version>/; this script is the rest of the
    project's work, run with the PowerShell the project pins (./build.sh installs it and calls this script):
      Build    dotnet build of the solution (the module folder, every test project)
      Test     Build, every xunit project, Package, every Pester suite; ends with one line
               'N passed, N failed, N skipped' summing them all, and fails if any suite failed or did not report
      Pester   the Pester suites only, with the Pester this project pins (tests/Pester/Pester.csproj), in a fresh
               'pwsh -NoProfile' importing the built manifest by path
      Package  a Release build of the module, published with Publish-PSResource to the file repository out/repo
               (HermesGateway.<version>.nupkg)
      Demo     build, import, and show the verdicts for the example unit and plist in tests/examples
      All      Test, then Demo
.EXAMPLE
    ./build.sh Demo
.EXAMPLE
    ./build.sh Test
.EXAMPLE
    ./build.ps1 Package
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
$solution = Join-Path $root 'HermesGateway.sln'
$manifest = Join-Path $root "out/HermesGateway/$version/HermesGateway.psd1"
$results = Join-Path $root 'out/test-results'
$repository = Join-Path $root 'out/repo'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# A fresh pwsh of the same installation as this one. The .NET tool's pwsh is a pwsh.dll run by dotnet (its apphost
# is built for one OS only); an installed pwsh is its own executable.
function Get-FreshPwsh {
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if ((Test-Path $dll) -and [IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') {
        return @([Environment]::ProcessPath, $dll)
    }

    @((Join-Path $PSHOME 'pwsh'))
}

function Invoke-FreshPwsh([scriptblock] $Script, [string[]] $Arguments) {
    $pwsh = @(Get-FreshPwsh)
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("& { $Script } $($Arguments -join ' ')"))
    $exe = $pwsh[0]
    $rest = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded)
    & $exe @rest | Out-Host
    $LASTEXITCODE
}

function ConvertTo-Literal([string] $Text) { "'" + [Management.Automation.Language.CodeGeneration]::EscapeSingleQuotedStringContent($Text) + "'" }

# The Pester this project pins: restored from NuGet by tests/Pester/Pester.csproj, never a gallery's.
function Get-PesterManifest {
    $project = Join-Path $root 'tests/Pester/Pester.csproj'
    Invoke-Native dotnet @('restore', $project, '--nologo', '-v', 'quiet')
    $path = (@(& dotnet msbuild $project -nologo -getProperty:PesterManifest) -join '').Trim()
    if (-not (Test-Path $path)) { throw "Pester was not restored: $path does not exist." }
    $path
}

function Invoke-Build {
    Invoke-Native dotnet @('build', $solution, '-c', $Configuration, '--nologo')
}

# Runs every xunit project of the solution; counts come from the TRX files, one per project.
function Invoke-XunitSuites {
    $dir = Join-Path $results 'xunit'
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
    & dotnet test $solution -c $Configuration --no-build --nologo --logger trx --results-directory $dir
    $exit = $LASTEXITCODE
    $trx = @(Get-ChildItem -LiteralPath $dir -Filter *.trx -ErrorAction SilentlyContinue)
    $suites = foreach ($file in $trx) {
        # Two projects ending in the same second get 'name[1].trx': a literal path, never a wildcard.
        $run = ([xml](Get-Content -Raw -LiteralPath $file.FullName)).TestRun
        $counters = $run.ResultSummary.Counters
        $storage = $run.TestDefinitions.UnitTest | Select-Object -First 1
        [pscustomobject]@{
            Suite   = if ($storage) { [IO.Path]::GetFileNameWithoutExtension($storage.storage) } else { $file.BaseName }
            Passed  = [int]$counters.passed
            Failed  = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
            Skipped = [int]$counters.notExecuted
        }
    }

    $projects = @(& dotnet sln $solution list | Where-Object { $_ -match '\.csproj$' } |
        Where-Object { (Get-Content -Raw (Join-Path $root $_)) -match '<IsTestProject>true</IsTestProject>' })
    if (@($suites).Count -lt $projects.Count) {
        # A test host that crashed writes no TRX: that suite failed, whatever the others counted.
        $suites = @($suites) + [pscustomobject]@{ Suite = "xunit ($($projects.Count - @($suites).Count) project(s) reported nothing)"; Passed = 0; Failed = 1; Skipped = 0 }
    }
    elseif ($exit -ne 0 -and -not ($suites | Where-Object Failed -gt 0)) {
        $suites = @($suites) + [pscustomobject]@{ Suite = "xunit (dotnet test exit $exit)"; Passed = 0; Failed = 1; Skipped = 0 }
    }

    $suites
}

# Runs the Pester suites in a fresh pwsh; they are required: a Pester that cannot run is a failed suite.
function Invoke-PesterSuites {
    New-Item -ItemType Directory -Force $results | Out-Null
    $counts = Join-Path $results 'pester-counts.json'
    Remove-Item $counts -ErrorAction SilentlyContinue
    try {
        $pester = Get-PesterManifest
    }
    catch {
        Write-Warning "Pester: $_"
        return [pscustomobject]@{ Suite = 'Pester (could not be restored)'; Passed = 0; Failed = 1; Skipped = 0 }
    }

    $script = {
        param($Pester, $Manifest, $TestsPath, $ResultPath, $CountsPath)
        $ErrorActionPreference = 'Stop'
        $env:HERMES_MODULE_MANIFEST = $Manifest
        Import-Module $Pester -Force
        $config = New-PesterConfiguration
        $config.Run.Path = $TestsPath
        $config.Run.PassThru = $true
        $config.Output.Verbosity = 'Detailed'
        $config.TestResult.Enabled = $true
        $config.TestResult.OutputPath = $ResultPath
        $config.TestResult.OutputFormat = 'NUnitXml'
        $r = Invoke-Pester -Configuration $config
        @{
            Passed  = $r.PassedCount
            Failed  = $r.FailedCount + $r.FailedBlocksCount + $r.FailedContainersCount
            Skipped = $r.SkippedCount + $r.NotRunCount
            Version = (Get-Module Pester).Version.ToString()
        } | ConvertTo-Json | Set-Content -Path $CountsPath
        if ($r.Result -ne 'Passed') { exit 1 }
    }
    $arguments = @($pester, $manifest, (Join-Path $root 'tests/Pester'), (Join-Path $results 'pester.xml'), $counts) | ForEach-Object { ConvertTo-Literal $_ }
    $exit = Invoke-FreshPwsh $script $arguments
    if (-not (Test-Path $counts)) {
        return [pscustomobject]@{ Suite = 'Pester (reported nothing)'; Passed = 0; Failed = 1; Skipped = 0 }
    }

    $c = Get-Content -Raw -LiteralPath $counts | ConvertFrom-Json
    $failed = [int]$c.Failed
    if ($exit -ne 0 -and $failed -eq 0) { $failed = 1 }
    [pscustomobject]@{ Suite = "Pester $($c.Version)"; Passed = [int]$c.Passed; Failed = $failed; Skipped = [int]$c.Skipped }
}

function Invoke-Package {
    # A Release build laid out on its own, so the package never carries a Debug build left in out/HermesGateway.
    $stage = Join-Path $root 'out/release/HermesGateway'
    Remove-Item $stage -Recurse -Force -ErrorAction SilentlyContinue
    Invoke-Native dotnet @('build', (Join-Path $root 'src/HermesGateway/HermesGateway.csproj'), '-c', 'Release', '--nologo', '-v', 'quiet', "-p:ModuleOutputDir=$stage/")
    New-Item -ItemType Directory -Force $repository | Out-Null
    Remove-Item (Join-Path $repository "HermesGateway.$version.nupkg") -ErrorAction SilentlyContinue
    # PSResourceGet keeps its repository list under XDG_DATA_HOME: a scratch one leaves the user's list alone.
    $script = {
        param($Stage, $Repository)
        $ErrorActionPreference = 'Stop'
        Import-Module Microsoft.PowerShell.PSResourceGet
        Register-PSResourceRepository -Name HermesGatewayBuild -Uri $Repository -Trusted -Force
        Publish-PSResource -Path $Stage -Repository HermesGatewayBuild
    }
    $dataHome = Join-Path $root 'out/package-data'
    $savedDataHome = $env:XDG_DATA_HOME
    try {
        # It must exist: .NET answers an empty path for a data folder that does not, and PSResourceGet would write to ./
        New-Item -ItemType Directory -Force $dataHome | Out-Null
        $env:XDG_DATA_HOME = $dataHome
        $exit = Invoke-FreshPwsh $script (@($stage, $repository) | ForEach-Object { ConvertTo-Literal $_ })
    }
    finally {
        $env:XDG_DATA_HOME = $savedDataHome
        Remove-Item $dataHome -Recurse -Force -ErrorAction SilentlyContinue
    }
    $nupkg = Join-Path $repository "HermesGateway.$version.nupkg"
    if ($exit -ne 0 -or -not (Test-Path $nupkg)) { throw "Publish-PSResource did not produce $nupkg (exit $exit)." }
    Write-Information "Published $nupkg" -InformationAction Continue
}

if ($Task -contains 'All') { $Task = @('Test', 'Demo') }

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Test' {
            Invoke-Build
            $suites = @(Invoke-XunitSuites)
            try {
                Invoke-Package
            }
            catch {
                Write-Warning "Package: $_"
                $suites += [pscustomobject]@{ Suite = 'Package'; Passed = 0; Failed = 1; Skipped = 0 }
            }

            $suites += Invoke-PesterSuites
            $suites | Format-Table Suite, Passed, Failed, Skipped -AutoSize | Out-String | Write-Host
            $sum = { param($p) ($suites | Measure-Object -Property $p -Sum).Sum }
            $failed = & $sum Failed
            # The one closing line, summing every suite.
            Write-Host ("{0} passed, {1} failed, {2} skipped" -f (& $sum Passed), $failed, (& $sum Skipped))
            if ($failed -gt 0) { exit 1 }
        }
        'Pester' {
            # The module under test is the one the sources make now, never a stale build (incremental: fast when current).
            Invoke-Native dotnet @('build', (Join-Path $root 'src/HermesGateway/HermesGateway.csproj'), '-c', $Configuration, '--nologo', '-v', 'quiet')
            $suite = Invoke-PesterSuites
            Write-Host ("{0} passed, {1} failed, {2} skipped" -f $suite.Passed, $suite.Failed, $suite.Skipped)
            if ($suite.Failed -gt 0) { exit 1 }
        }
        'Package' { Invoke-Package }
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
            $exit = Invoke-FreshPwsh $demo (@($manifest, (Join-Path $root 'tests/examples')) | ForEach-Object { ConvertTo-Literal $_ })
            if ($exit -ne 0) { throw "The demo failed (exit $exit)." }
        }
    }
}
