# Get-FileHash gives one hash; a set or report of a file that is still there sends all three (one read), so TIE keeps a
# complete record. On the embedded fabric and on a real mosquitto with the TIE simulator: the report reached TIE
# through the broker with every hash when each hash alone finds the new reputation.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    Import-Module $ModulePath -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null
    $script:Dir = Join-Path ([System.IO.Path]::GetTempPath()) "tiedxl-complete-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Dir

    # A file of random content that TIE has never seen.
    function script:New-RandomFile([string] $Name) {
        $path = Join-Path $Dir $Name
        [System.IO.File]::WriteAllBytes($path, [System.Security.Cryptography.RandomNumberGenerator]::GetBytes(4096))
        Get-Item -LiteralPath $path
    }

    function script:Get-AllHashes([string] $Path) {
        @{
            Md5    = (Get-FileHash -LiteralPath $Path -Algorithm MD5).Hash
            Sha1   = (Get-FileHash -LiteralPath $Path -Algorithm SHA1).Hash
            Sha256 = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash
        }
    }
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    $env:TIEDXL_CONFIG = $SavedConfig
    Remove-Item -LiteralPath $Dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Complete hashes from Get-FileHash on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "complete-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'reports all three hashes of a Get-FileHash <Algorithm> result, with no warning about hash types' -ForEach @(
        @{ Algorithm = 'SHA256' }, @{ Algorithm = 'MD5' }, @{ Algorithm = 'SHA1' }) {
        $file = New-RandomFile "tool-$Algorithm.exe"
        $all = Get-AllHashes $file.FullName
        $reports = $B.ExternalReports
        $r = Get-FileHash -LiteralPath $file.FullName -Algorithm $Algorithm |
            Set-TieExternalReputation -TrustLevel MightBeTrusted -FileType PeExe -Confirm:$false -PassThru -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue
        $r.Status | Should -Be 'Sent'
        @($w) | Should -BeNullOrEmpty -Because 'the report had a name, a type and all three hashes'
        Wait-TieCondition { $B.ExternalReports -ge $reports + 1 } -TimeoutSec 15 | Should -BeTrue
        # Each hash alone finds the reported file: TIE received all three.
        (Get-TieFileReputation -Md5 $all.Md5 -ErrorAction Stop).External | Should -Be 'MightBeTrusted'
        (Get-TieFileReputation -Sha1 $all.Sha1 -ErrorAction Stop).External | Should -Be 'MightBeTrusted'
        (Get-TieFileReputation -Sha256 $all.Sha256 -ErrorAction Stop).External | Should -Be 'MightBeTrusted'
        $r.Md5 | Should -Be $all.Md5.ToLowerInvariant()
        $r.Sha1 | Should -Be $all.Sha1.ToLowerInvariant()
    }

    It 'completes a Get-FileHash result that went through Get-TieFileReputation first, and uses its lookup' {
        $file = New-RandomFile 'looked-up.exe'
        $all = Get-AllHashes $file.FullName
        $looked = Get-FileHash -LiteralPath $file.FullName | Get-TieFileReputation -ErrorAction Stop
        $requests = $B.TieRequests
        $r = $looked | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileType PeExe -Confirm:$false -PassThru -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue
        $r.Status | Should -Be 'Sent'
        $B.TieRequests | Should -Be $requests -Because 'the piped lookup decided; the report is an event'
        @($w) | Should -BeNullOrEmpty
        Wait-TieCondition { (Get-TieFileReputation -Md5 $all.Md5 -ErrorAction SilentlyContinue).External -eq 'MightBeTrusted' } -TimeoutSec 15 | Should -BeTrue
    }

    It 'sets an Enterprise reputation with all three hashes of a Get-FileHash result' {
        $file = New-RandomFile 'enterprise.dll'
        $all = Get-AllHashes $file.FullName
        Get-FileHash -LiteralPath $file.FullName | Set-TieFileReputation -TrustLevel KnownTrusted -Confirm:$false -ErrorAction Stop
        (Get-TieFileReputation -Md5 $all.Md5 -ErrorAction Stop).Enterprise | Should -Be 'KnownTrusted'
    }

    It 'refuses a file changed since it was hashed, names it, sends nothing, and goes on with the next item' {
        $changed = New-RandomFile 'changed.exe'
        $hashed = Get-FileHash -LiteralPath $changed.FullName
        [System.IO.File]::WriteAllBytes($changed.FullName, [byte[]](1, 2, 3))
        $good = New-RandomFile 'good.exe'
        $requests = $B.TieRequests
        $reports = $B.ExternalReports
        $r = @($hashed, (Get-FileHash -LiteralPath $good.FullName)) |
            Set-TieExternalReputation -TrustLevel MightBeTrusted -FileType PeExe -Confirm:$false -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'FileChangedSinceHashed,*'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        "$($errs[0])" | Should -Match ([regex]::Escape($changed.FullName))
        "$($errs[0])" | Should -Match $hashed.Hash.ToLowerInvariant()
        @($r | Where-Object Status -EQ 'Sent').Count | Should -Be 1
        Wait-TieCondition { $B.ExternalReports -ge $reports + 1 } -TimeoutSec 15 | Should -BeTrue
        $B.ExternalReports | Should -Be ($reports + 1) -Because 'only the unchanged file was reported'
    }

    It 'sends the given hash, with the advice, when the file is gone' {
        $gone = New-RandomFile 'gone.exe'
        $hashed = Get-FileHash -LiteralPath $gone.FullName
        Remove-Item -LiteralPath $gone.FullName
        $r = $hashed | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileType PeExe -Confirm:$false -PassThru -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue
        $r.Status | Should -Be 'Sent'
        $r.Md5 | Should -BeNullOrEmpty
        @($w | Where-Object { "$_" -match 'fewer than three hash types' }).Count | Should -Be 1
    }

    It 'looks a Get-FileHash result up by its hash alone, without reading the file' {
        $file = New-RandomFile 'lookup.exe'
        $hashed = Get-FileHash -LiteralPath $file.FullName
        [System.IO.File]::WriteAllBytes($file.FullName, [byte[]](9, 9, 9))
        $requests = $B.TieRequests
        $out = $hashed | Get-TieFileReputation -ErrorAction Stop
        $out.Sha256 | Should -Be $hashed.Hash.ToLowerInvariant() -Because 'TIE was asked about the hash as given'
        $out.Md5 | Should -BeNullOrEmpty
        $B.TieRequests | Should -Be ($requests + 1)
    }
}
