# The Set cmdlets ask TIE less (issue 16 for the workflows): the lookup before a change uses the session's cache, a
# file or certificate that the input lists twice is looked up and changed once (the later copy gets the first copy's
# outcome), and -MaxRequestsPerSecond paces the changes too. On the embedded fabric and on mosquitto with the TIE
# simulator; the simulator's counters (TieRequests: lookups and Enterprise sets; ExternalReports) show what was sent.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    Import-Module $ModulePath -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Set cmdlets share lookups and outcomes on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "setshare-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'reports a file listed twice once; the second copy gets the first copy''s outcome' {
        $f = New-TieTestFile 'twice.exe'
        $other = New-TieTestFile 'other.exe'
        $requests = $B.TieRequests
        $reports = $B.ExternalReports
        $r = @($f, $other, $f) | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileType PeExe -Confirm:$false -PassThru -ErrorAction Stop
        $r.Count | Should -Be 3
        @($r.Status) | Should -Be @('Sent', 'Sent', 'Sent')
        @($r.Name) | Should -Be @('twice.exe', 'other.exe', 'twice.exe')
        $B.TieRequests | Should -Be ($requests + 2) -Because 'one lookup per distinct file'
        Send-TieProbeReport
        $B.ExternalReports | Should -Be ($reports + 3) -Because 'two files and the probe were reported, the copy was not'
    }

    It 'sets an Enterprise reputation of a file listed twice once, with one journal line' {
        $f = New-TieTestFile 'twice.dll'
        $journal = Join-Path ([System.IO.Path]::GetTempPath()) "tiedxl-share-$PID-$Kind.jsonl"
        Remove-Item -LiteralPath $journal -ErrorAction SilentlyContinue
        try {
            $requests = $B.TieRequests
            $r = @($f, $f) | Set-TieFileReputation -TrustLevel KnownTrusted -Confirm:$false -PassThru -JournalPath $journal -ErrorAction Stop
            @($r.Status) | Should -Be @('Sent', 'Sent')
            $B.TieRequests | Should -Be ($requests + 2) -Because 'one lookup and one set'
            @(Import-TieJournal -Path $journal | Where-Object Status -EQ 'Sent').Count | Should -Be 1
        }
        finally { Remove-Item -LiteralPath $journal -ErrorAction SilentlyContinue }
    }

    It 'decides from the session''s cache: a file just looked up costs no second lookup, unless -NoCache' {
        $f = New-TieTestFile 'cached.exe'
        $null = Get-TieFileReputation -Sha256 $f.sha256 -ErrorAction SilentlyContinue
        $requests = $B.TieRequests
        $r = Set-TieExternalReputation -Sha256 $f.sha256 -FileName cached.exe -TrustLevel MightBeTrusted -FileType PeExe -Confirm:$false -PassThru -ErrorAction Stop -WarningAction SilentlyContinue
        $r.Status | Should -Be 'Sent'
        $B.TieRequests | Should -Be $requests -Because 'the lookup before the report came from the cache'

        $g = New-TieTestFile 'fresh.exe'
        $null = Get-TieFileReputation -Sha256 $g.sha256 -ErrorAction SilentlyContinue
        $requests = $B.TieRequests
        $null = Set-TieExternalReputation -Sha256 $g.sha256 -FileName fresh.exe -TrustLevel MightBeTrusted -FileType PeExe -NoCache -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue
        $B.TieRequests | Should -Be ($requests + 1) -Because '-NoCache asks TIE'
    }

    It 'sees a change of its own: a second set after the first is Unchanged from a fresh lookup' {
        $f = New-TieTestFile 'own.dll'
        $first = Set-TieFileReputation -Sha256 $f.sha256 -TrustLevel MostLikelyTrusted -Confirm:$false -PassThru -ErrorAction Stop
        $first.Status | Should -Be 'Sent'
        $requests = $B.TieRequests
        $second = Set-TieFileReputation -Sha256 $f.sha256 -TrustLevel MostLikelyTrusted -Confirm:$false -PassThru -ErrorAction Stop
        $second.Status | Should -Be 'Unchanged'
        $second.TrustLevelBefore | Should -Be 'MostLikelyTrusted'
        $B.TieRequests | Should -Be ($requests + 1) -Because 'the set evicted the cached answer, so one lookup went to TIE and no set'
    }

    It 'sets a certificate listed twice once' {
        $sha1 = New-TieTestHash -Bytes 20
        $requests = $B.TieRequests
        $r = @($sha1, $sha1) | Set-TieCertificateReputation -TrustLevel KnownTrusted -Confirm:$false -PassThru -ErrorAction Stop
        @($r.Status) | Should -Be @('Sent', 'Sent')
        $B.TieRequests | Should -Be ($requests + 2) -Because 'one lookup and one set'
    }

    It 'paces the changes with -MaxRequestsPerSecond' {
        $files = 1..30 | ForEach-Object { New-TieTestFile "paced$_.dll" }
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $r = $files | Set-TieFileReputation -TrustLevel MightBeTrusted -Force -MaxRequestsPerSecond 20 -Confirm:$false -PassThru -ErrorAction Stop
        $clock.Stop()
        @($r | Where-Object Status -EQ 'Sent').Count | Should -Be 30
        # 30 sets at 20 per second, the bucket starting empty: at least 1.5 s, whatever the machine's load.
        $clock.Elapsed.TotalSeconds | Should -BeGreaterThan 1.4
    }
}
