@{
    RootModule           = 'TieDxl.dll'
    ModuleVersion        = '0.2.0'
    GUID                 = 'f7dee785-7316-4635-9069-f469661ba9d9'
    Author               = 'TieDxl contributors'
    CompanyName          = 'TieDxl'
    Copyright            = '(c) TieDxl contributors'
    Description          = 'Trellix/McAfee TIE file and certificate reputations over DXL (OpenDXL: MQTT over mutual TLS), from PowerShell.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    # Imported before the root module: it gives TieDxl's libraries and their dependencies a load context of their own.
    NestedModules        = @('TieDxl.ModuleLoading.dll')
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
        'Import-TieJournal'
        'Undo-TieReputation'
        'Get-TieReputationChange'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('DXL', 'OpenDXL', 'TIE', 'Trellix', 'McAfee', 'Reputation', 'MQTT', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://www.apache.org/licenses/LICENSE-2.0'
            ReleaseNotes = @'
0.2.0
- Installs with Install-PSResource from a repository (build.ps1 -Task Package makes the .nupkg); Apache-2.0 licence.
- Loads beside other modules: MQTTnet, MQTTnet.Server and MessagePack load in TieDxl's own assembly load context,
  so another module's copy of them, of any version, loaded before or after TieDxl, no longer conflicts.
- TIE file and certificate reputations, External reports, first references and TIE events; DXL requests, events
  and services; the embedded test fabric (Start-DxlTestFabric); Test-DxlFabric.
The full list of changes is in CHANGELOG.md.
'@
        }
    }
}
