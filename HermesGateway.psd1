@{
    # The module version lives here and nowhere else: the build reads it for the assemblies.
    ModuleVersion        = '0.1.0'
    RootModule           = 'HermesGateway.dll'
    GUID                 = '5f6c3d1e-8a2b-4c7e-9d41-2b7f0e6a9c13'
    Author               = 'HermesGateway contributors'
    CompanyName          = 'HermesGateway'
    Copyright            = '(c) HermesGateway contributors. MIT License.'
    Description          = 'Supervise the Hermes Agent gateway under systemd and launchd: exit-policy verdicts, service files, and restarts that never leave the gateway dead.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('HermesGateway.format.ps1xml')
    CmdletsToExport      = @(
        'Compare-HermesServiceDefinition'
        'Get-HermesExitPolicy'
        'Get-HermesService'
        'Install-HermesService'
        'New-HermesServiceDefinition'
        'Restart-HermesGateway'
        'Start-HermesGateway'
        'Stop-HermesGateway'
        'Test-HermesExitPolicy'
        'Uninstall-HermesService'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('PSEdition_Core', 'Linux', 'MacOS', 'systemd', 'launchd', 'Hermes')
            ProjectUri = 'https://github.com/hermesgateway/HermesGateway'
            LicenseUri = 'https://github.com/hermesgateway/HermesGateway/blob/main/LICENSE'
        }
    }
}
