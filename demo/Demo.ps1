#Requires -Version 7.4
<#
.SYNOPSIS
    The TieDxl tour: the OpenDXL "set external reputation" workflow, offline, on the embedded test fabric.

.DESCRIPTION
    Starts an in-process DXL broker with a TIE simulator (throwaway certificates, loopback only) and its
    ePO-compatible provisioning endpoint, provisions a client from an empty folder as against ePO, connects with
    the new config, then does what a SOC script does against a real TIE server: check the connection, look files
    up, preview and set an External reputation where no other provider has decided, show it skipped where one
    has, and look again.
    Run it with: dotnet pwsh -NoProfile ./build.ps1 -Task Demo
#>
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module TieDxl

function Write-Step([string] $Text) { Write-Host "`n=== $Text" -ForegroundColor Cyan }
function Show { $input | Out-String -Width 120 | Write-Host }

Write-Step '1. Start the embedded DXL fabric with its TIE simulator and provisioning endpoint'
$fabric = Start-DxlTestFabric
Write-Host "Broker:        $($fabric.Broker)"
Write-Host "Provisioning:  $($fabric.ProvisioningUrl)  user $($fabric.ProvisioningUser), throwaway password $($fabric.ProvisioningPassword)"

$work = Join-Path ([System.IO.Path]::GetTempPath()) "tiedxl-demo-$PID"
$null = New-Item -ItemType Directory -Force -Path $work
try {
    $dxl = Join-Path $work 'dxl'
    Write-Step "2. From an empty folder ($dxl): a key and a certificate request (New-DxlCertificateRequest)"
    $csr = New-DxlCertificateRequest -CommonName 'tiedxl-demo' -Organization 'TieDxl Demo' -Path $dxl
    $csr | Show

    Write-Step '3. Have "ePO" sign it and write the client folder, then connect with it (New-DxlClientConfig -Connect)'
    # Against a real ePO: -EpoServer epo.example.com -Credential (Get-Credential) -EpoCaPath <CA of its certificate>.
    $provisioned = New-DxlClientConfig -EpoServer $fabric.ProvisioningServer -Credential $fabric.ProvisioningCredential `
        -EpoCaPath $fabric.ProvisioningCaPath -CertificateRequestPath $csr.CertificateRequestPath -Path $dxl -Connect -Name Provisioned -Verbose
    $provisioned | Select-Object ConfigPath, Subject, Issuer, NotAfter, Brokers | Show
    Get-ChildItem -Path $dxl | Select-Object Name, Length | Show
    Write-Host (Get-Content -Raw -Path $provisioned.ConfigPath)

    Write-Step '4. Check the new config step by step (Test-DxlFabric)'
    Test-DxlFabric -ConfigPath $provisioned.ConfigPath | Show

    Write-Step '5. Is the config still current? (Update-DxlClientConfig -WhatIf)'
    Update-DxlClientConfig -ConfigPath $provisioned.ConfigPath -EpoServer $fabric.ProvisioningServer `
        -Credential $fabric.ProvisioningCredential -EpoCaPath $fabric.ProvisioningCaPath -WhatIf | Select-Object Applied, Unchanged | Show

    # Three files TIE has never seen (random content, so new hashes every run).
    foreach ($name in 'inventory-agent.exe', 'backup-helper.dll', 'cleanup.ps1') {
        $bytes = [byte[]]::new(4096)
        [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
        [System.IO.File]::WriteAllBytes((Join-Path $work $name), $bytes)
    }
    # And notepad.exe, which TIE knows: GTI says KnownTrusted (hashes from the OpenDXL samples).
    $notepad = @{
        md5    = 'f2c7bb8acc97f92e987a2d4087d021b1'
        sha1   = '7eb0139d2175739b3ccb0d1110067820be6abd29'
        sha256 = '142e1d688ef0568370c37187fd9f2351d7ddeda574f8bfa9b0fa4ef42db85aa2'
        name   = 'notepad.exe'
    }

    Write-Step '6. Look the files up (Get-ChildItem | Get-TieFileReputation: MD5, SHA-1 and SHA-256 in one read)'
    $files = Get-ChildItem -File -Path $work
    $before = @($files | Get-TieFileReputation) + @($notepad | Get-TieFileReputation)
    $before | Show

    Write-Step '7. Preview the change (-WhatIf sends nothing)'
    $before | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileType PeExe -Comment 'TieDxl demo' -WhatIf

    Write-Step '8. Set the External reputation where no other provider has decided (notepad.exe is skipped)'
    $results = $before | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileType PeExe -Comment 'TieDxl demo' `
        -Confirm:$false -PassThru -Verify -WarningAction Continue
    $results | Show
    Write-Host ('Sent: {0}   Skipped: {1}   Failed: {2}' -f
        @($results | Where-Object Status -eq Sent).Count,
        @($results | Where-Object Status -eq Skipped).Count,
        @($results | Where-Object Status -eq Failed).Count)

    Write-Step '9. Look again: TIE now reports the External provider (15) for the new files'
    (@($files | Get-TieFileReputation) + @($notepad | Get-TieFileReputation)) |
        Format-Table Name, MostSevere, MostSevereProvider, External, HasDefinitiveReputation | Show

    Write-Step '10. One file in detail: every provider, with attribute names'
    ($notepad | Get-TieFileReputation).Reputations | Show
}
finally {
    Write-Step '11. Stop the fabric'
    Stop-DxlTestFabric
    Remove-Item -Recurse -Force -Path $work -ErrorAction SilentlyContinue
    Write-Host 'Done. Against a real fabric: Connect-DxlFabric -ConfigPath ./dxlclient.config, then the same commands.'
}
