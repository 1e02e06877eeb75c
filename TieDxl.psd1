@{
    RootModule           = 'TieDxl.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = 'f7dee785-7316-4635-9069-f469661ba9d9'
    Author               = 'TieDxl contributors'
    CompanyName          = 'TieDxl'
    Copyright            = '(c) TieDxl contributors'
    Description          = 'Trellix/McAfee TIE file and certificate reputations over DXL (OpenDXL: MQTT over mutual TLS), from PowerShell.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    # Loaded at import so that scripts can name their types at once, e.g. catch [TieDxl.Dxl.DxlTimeoutException].
    RequiredAssemblies   = @('TieDxl.Dxl.dll', 'TieDxl.Tie.dll')
    FormatsToProcess     = @('TieDxl.format.ps1xml')
    CmdletsToExport      = @(
        'Connect-DxlFabric'
        'Disconnect-DxlFabric'
        'Get-DxlSession'
        'Invoke-DxlRequest'
        'Receive-DxlEvent'
        'Send-DxlEvent'
        'Test-DxlFabric'
        'Start-DxlTestFabric'
        'Stop-DxlTestFabric'
        'New-DxlCertificateRequest'
        'New-DxlClientConfig'
        'Update-DxlClientConfig'
        'Get-TieFileReputation'
        'Set-TieExternalReputation'
        'Set-TieFileReputation'
        'Get-TieFileFirstReference'
        'Get-TieCertificateReputation'
        'Set-TieCertificateReputation'
        'Get-TieCertificateFirstReference'
        'Receive-TieEvent'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('DXL', 'OpenDXL', 'TIE', 'Trellix', 'McAfee', 'Reputation', 'MQTT')
        }
    }
}
