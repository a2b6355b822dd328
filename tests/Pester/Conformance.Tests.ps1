#Requires -Version 7.4
# Test-HermesGatewayConformance against the stub gateway (tests/stub-gateway, the documented contract): the report,
# its rows' view, its learned Contract passed on, and error ids.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module (Get-HermesTestModulePath) -Force
    $script:stubScript = Join-Path (Get-HermesRepoRoot) 'tests/stub-gateway/stub_gateway.py'
    # The real interpreter, not a shim: the launcher execs it, so the child's PID is the stub's.
    $script:python = (& python3 -c 'import sys; print(sys.executable)').Trim()

    # The stub as a whole gateway for a conformance run (it models neither the single-instance check nor profiles):
    # a second start while gateway.pid names a live process exits 1; '--profile' runs its config_error mode (exit 78).
    $script:launcher = Join-Path $TestDrive 'stub-gateway'
    $text = @"
#!/bin/sh
if [ "`$1" = "--profile" ]; then
  export HERMES_STUB_MODE=config_error
fi
if [ -f "`$HERMES_HOME/gateway.pid" ]; then
  pid=`$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "`$HERMES_HOME/gateway.pid")
  if [ -n "`$pid" ] && kill -0 "`$pid" 2>/dev/null; then
    echo "Another gateway instance is already running (PID `$pid)."
    exit 1
  fi
fi
exec '$python' '$stubScript' "`$@"
"@
    [IO.File]::WriteAllText($launcher, $text.Replace("`r`n", "`n") + "`n")
    [IO.File]::SetUnixFileMode($launcher, [IO.UnixFileMode]'UserRead, UserWrite, UserExecute')

    $script:report = Test-HermesGatewayConformance -Executable $launcher -Contract documented -TimeoutSec 20 `
        -Scenario RestartSignal, SupervisedRestartSignal, StopSignal, PlannedStopSignal, ConfigError
}

AfterAll {
    Remove-Module HermesGateway -Force -ErrorAction SilentlyContinue
}

Describe 'Test-HermesGatewayConformance against the stub gateway' {
    It 'returns one report with a row per scenario run' {
        @($report).Count | Should -Be 1
        $report | Should -BeOfType ([HermesGateway.Core.Conformance.GatewayConformanceReport])
        $report.Executable | Should -Be $launcher
        $report.Rows.Scenario | Should -Be @('RestartSignal', 'SupervisedRestartSignal', 'StopSignal', 'PlannedStopSignal', 'ConfigError')
    }

    It 'finds the stub keeping the documented contract' {
        $report.Conforms | Should -BeTrue
        ($report.Rows | Where-Object Scenario -EQ 'RestartSignal').ExitCode | Should -Be 75
        ($report.Rows | Where-Object Scenario -EQ 'ConfigError').ExitCode | Should -Be 78
    }

    It 'shows the rows as a table' {
        $table = $report.Rows | Format-Table | Out-String -Width 200
        $table | Should -Match 'Scenario\s+Verdict\s+Expected\s+Observed'
        $table | Should -Match 'RestartSignal\s+Match\s+exit 75\s+exit 75'
        ($report | Format-List | Out-String -Width 200) | Should -Match 'Conforms\s+:\s+True'
    }

    It 'exposes the learned contract as a GatewayExitContract that can be passed on' {
        $report.Contract | Should -BeOfType ([HermesGateway.Core.Policy.GatewayExitContract])
        $report.Contract.Name | Should -Be 'measured'
        $report.Contract.Source | Should -BeLike "measured by Test-HermesGatewayConformance on $launcher at *"
        $report.Contract.ConfigErrorExitCode | Should -Be 78
        ($report.Contract.Rows() | Where-Object Trigger -EQ 'RestartSignal').ExitCode | Should -Be 75

        # By parameter, and piped: the report binds its Executable, ArgumentList and Contract by property name.
        $byParameter = Test-HermesGatewayConformance -Executable $launcher -Contract $report.Contract -Scenario Interrupt
        $byParameter.Assumed | Should -Be $report.Contract
        $piped = $report | Test-HermesGatewayConformance -Scenario Interrupt
        $piped.Assumed | Should -Be $report.Contract
        $piped.Conforms | Should -BeTrue
    }

    It 'reports rows that differ when the assumed contract is not the gateway''s' {
        $r = Test-HermesGatewayConformance -Executable $launcher -Contract hermes-0.16 -Scenario SupervisedRestartSignal
        $r.Conforms | Should -BeFalse
        $r.Rows[0].Verdict | Should -Be 'Differs'
        $r.Rows[0].ExpectedEnding.ExitCode | Should -Be 0
        $r.Rows[0].ExitCode | Should -Be 75
    }
}

Describe 'Test-HermesGatewayConformance errors' {
    It 'reports a missing executable with HermesExecutableNotFound' {
        { Test-HermesGatewayConformance -Executable (Join-Path $TestDrive 'no-such-gateway') -ErrorAction Stop } |
            Should -Throw -ErrorId 'HermesExecutableNotFound,*'
    }

    It 'reports a directory with HermesExecutableNotFound' {
        { Test-HermesGatewayConformance -Executable $TestDrive -ErrorAction Stop } | Should -Throw -ErrorId 'HermesExecutableNotFound,*'
    }

    It 'reports a file that is not executable with HermesPermissionDenied' {
        $plain = Join-Path $TestDrive 'plain'
        Set-Content -Path $plain -Value '#!/bin/sh'
        [IO.File]::SetUnixFileMode($plain, [IO.UnixFileMode]'UserRead, UserWrite')
        { Test-HermesGatewayConformance -Executable $plain -ErrorAction Stop } | Should -Throw -ErrorId 'HermesPermissionDenied,*'
    }

    It 'refuses an unknown contract name at binding' {
        { Test-HermesGatewayConformance -Executable $launcher -Contract bogus } | Should -Throw -ErrorId 'ParameterArgumentTransformationError*'
    }

    It 'refuses a timeout out of range at binding' {
        { Test-HermesGatewayConformance -Executable $launcher -TimeoutSec 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}
