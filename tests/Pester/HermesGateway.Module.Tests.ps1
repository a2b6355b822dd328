#Requires -Version 7.4
# Meta-tests: the manifest, the exports, verbs, help, formats and the version.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $manifestPath = Get-HermesTestModulePath
    $expectedCmdlets = (Import-PowerShellDataFile $manifestPath).CmdletsToExport | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:manifestPath = Get-HermesTestModulePath
    $script:manifest = Import-PowerShellDataFile $manifestPath
    $script:module = Import-Module $manifestPath -Force -PassThru
}

AfterAll {
    Remove-Module HermesGateway -Force -ErrorAction SilentlyContinue
}

Describe 'Module manifest' {
    It 'is a valid manifest' {
        { Test-ModuleManifest -Path $manifestPath -ErrorAction Stop } | Should -Not -Throw
    }

    It 'loads HermesGateway.dll as its root module' {
        $manifest.RootModule | Should -Be 'HermesGateway.dll'
    }

    It 'targets PowerShell 7.4 Core only' {
        $manifest.PowerShellVersion | Should -Be '7.4'
        $manifest.CompatiblePSEditions | Should -Be @('Core')
    }

    It 'carries the platform tags' {
        $manifest.PrivateData.PSData.Tags | Should -Contain 'PSEdition_Core'
        $manifest.PrivateData.PSData.Tags | Should -Contain 'Linux'
        $manifest.PrivateData.PSData.Tags | Should -Contain 'MacOS'
    }

    It 'exports no functions, variables or aliases' {
        $manifest.FunctionsToExport | Should -BeNullOrEmpty
        $manifest.VariablesToExport | Should -BeNullOrEmpty
        $manifest.AliasesToExport | Should -BeNullOrEmpty
    }

    It 'has the same version as the module assembly' {
        $dll = Join-Path (Split-Path $manifestPath) 'HermesGateway.dll'
        $assemblyVersion = [System.Reflection.AssemblyName]::GetAssemblyName($dll).Version
        [version]$manifest.ModuleVersion | Should -Be ([version]('{0}.{1}.{2}' -f $assemblyVersion.Major, $assemblyVersion.Minor, $assemblyVersion.Build))
        $module.Version | Should -Be ([version]$manifest.ModuleVersion)
    }

    It 'lives in a folder named after its version' {
        Split-Path (Split-Path $manifestPath) -Leaf | Should -Be $manifest.ModuleVersion
    }

    It 'does not ship System.Management.Automation' {
        Join-Path (Split-Path $manifestPath) 'System.Management.Automation.dll' | Should -Not -Exist
    }
}

Describe 'Exported cmdlet <Name>' -ForEach $expectedCmdlets {
    BeforeAll {
        $script:command = Get-Command -Module HermesGateway -Name $Name -ErrorAction SilentlyContinue
        $script:help = Get-Help $Name -Full
    }

    It 'is exported as a cmdlet' {
        $command | Should -Not -BeNullOrEmpty
        $command.CommandType | Should -Be 'Cmdlet'
    }

    It 'uses an approved verb and the Hermes noun prefix' {
        (Get-Verb).Verb | Should -Contain $command.Verb
        $command.Noun | Should -BeLike 'Hermes*'
    }

    It 'declares its output types' {
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'has a written synopsis and description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        # Without MAML help, PowerShell makes the synopsis from the syntax line.
        $help.Synopsis.Trim() | Should -Not -Match ('^' + [regex]::Escape($Name) + '\s')
        ($help.Description | Out-String).Trim().Length | Should -BeGreaterThan 40
    }

    It 'has at least one example' {
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        @($help.Examples.Example)[0].Code | Should -Match $Name
    }

    It 'documents every parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $documented = @($help.Parameters.Parameter | Where-Object { ($_.Description | Out-String).Trim() } | ForEach-Object Name)
        foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $documented | Should -Contain $parameter -Because "-$parameter needs help text"
        }
    }

    It 'shows one syntax per parameter set, with the positions and wildcard support the cmdlet has' {
        @($help.Syntax.SyntaxItem).Count | Should -Be @($command.ParameterSets).Count
        foreach ($parameter in $command.Parameters.Values) {
            $documented = $help.Parameters.Parameter | Where-Object Name -EQ $parameter.Name
            if (-not $documented) { continue } # common parameters
            $positions = @($parameter.ParameterSets.Values | Where-Object Position -GE 0 | ForEach-Object Position)
            $expected = if ($positions.Count -gt 0) { [string]($positions | Measure-Object -Minimum).Minimum } else { 'named' }
            $documented.Position | Should -Be $expected -Because "-$($parameter.Name)'s position"
            $wildcards = [bool]($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            $documented.Globbing | Should -Be $wildcards.ToString().ToLowerInvariant() -Because "-$($parameter.Name)'s wildcard support"
        }
    }

    It 'has a table or list view for each of its object output types' {
        foreach ($type in $command.OutputType.Type | Where-Object { $_ -and $_.FullName -like 'HermesGateway.*' }) {
            Get-FormatData -TypeName $type.FullName | Should -Not -BeNullOrEmpty -Because "$($type.FullName) needs a view"
        }
    }
}

Describe 'About topic' {
    It 'ships about_HermesGateway' {
        (Get-Help about_HermesGateway | Out-String) | Should -Match 'exit-code contract'
    }
}

Describe 'Exports' {
    It 'exports exactly the cmdlets the manifest lists' {
        $exported = (Get-Command -Module HermesGateway).Name | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }
}
