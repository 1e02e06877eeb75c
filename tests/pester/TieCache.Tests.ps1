# The session's reputation cache, the run's sharing and the request rate, through the cmdlets, on the embedded fabric
# and on mosquitto with the simulator: 10,000 inputs naming 100 files reach TIE 100 times, in input order; the same
# files again reach it not at all (or 100 times with -NoCache); Get-DxlSession shows the cache; a rate holds.
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

Describe 'The reputation cache on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "cache-$Kind"
        $script:Files = @(1..100 | ForEach-Object { New-TieTestHash -Bytes 32 })
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'asks TIE once per file for 10,000 inputs naming 100 files, every input answered in its place' {
        $inputs = @(for ($i = 0; $i -lt 10000; $i++) { $Files[($i * 7) % 100] })
        $before = $B.TieRequests
        $r = @($inputs | Get-TieFileReputation -ErrorAction Stop -Verbose 4>&1)
        $verbose = @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $out = @($r | Where-Object { $_ -is [TieDxl.TieFileReputation] })
        $B.TieRequests - $before | Should -Be 100
        $out.Count | Should -Be 10000
        $misplaced = @(for ($i = 0; $i -lt 10000; $i++) { if ($out[$i].Sha256 -ne $inputs[$i]) { $i } })
        $misplaced | Should -BeNullOrEmpty
        @($out | Where-Object Source -EQ 'Tie').Count | Should -Be 100
        # The other copies got the first one's request, in flight (Shared) or answered and kept (Cache).
        @($out | Where-Object Source -In 'Shared', 'Cache').Count | Should -Be 9900
        "$($verbose[-1])" | Should -Match '^Get-TieFileReputation: 10000 item\(s\), 0 failed.*; 100 request\(s\) reached TIE for 10000 lookup\(s\)'
    }

    It 'answers the same files again from the cache, and asks TIE again with -NoCache' {
        $before = $B.TieRequests
        $again = @($Files | Get-TieFileReputation -ErrorAction Stop)
        $B.TieRequests - $before | Should -Be 0
        @($again | Where-Object FromCache).Count | Should -Be 100
        $again[0].Age | Should -BeGreaterOrEqual ([TimeSpan]::Zero)
        $again[0].RetrievedAt | Should -BeLessOrEqual ([DateTime]::UtcNow)

        $before = $B.TieRequests
        $fresh = @($Files | Get-TieFileReputation -NoCache -ErrorAction Stop)
        $B.TieRequests - $before | Should -Be 100
        @($fresh | Where-Object FromCache).Count | Should -Be 0
    }

    It 'takes no answer older than -MaxAge' {
        Start-Sleep -Milliseconds 200
        $before = $B.TieRequests
        $null = $Files[0..9] | Get-TieFileReputation -MaxAge ([TimeSpan]::FromMilliseconds(100)) -ErrorAction Stop
        $B.TieRequests - $before | Should -Be 10
    }

    It 'shows the cache in Get-DxlSession' {
        $cache = (Get-DxlSession -Name "cache-$Kind").Cache
        $cache | Should -BeOfType [TieDxl.DxlSessionCache]
        $cache.State | Should -Be 'On'
        $cache.Hits | Should -BeGreaterOrEqual 100
        $cache.Entries | Should -BeGreaterThan 0
        $cache.MaxAge | Should -Be ([TimeSpan]::FromMinutes(10))
        $cache.MaxEntries | Should -Be 100000
        $cache.Reason | Should -BeNullOrEmpty
        $text = $cache | Out-String
        $text | Should -Match 'EvictionsByEvent'
        $text | Should -Match 'MaxRequestsPerSecond\s*:\s*unlimited'
    }

    It 'shows in its Answer table view where an answer came from' {
        $text = $Files[0] | Get-TieFileReputation | Format-Table -View Answer | Out-String -Width 200
        $text | Should -Match 'cache, \d+ s old'
        $text = Get-TieCertificateReputation -Sha1 (Get-TieSeed).Cert1Sha1 -NoCache | Format-Table -View Answer | Out-String -Width 200
        $text | Should -Match '\bTIE\b'
    }

    It 'holds -MaxRequestsPerSecond: 1,000 new files at 500 per second take 2 s' {
        $new = @(1..1000 | ForEach-Object { New-TieTestHash -Bytes 32 })
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $null = $new | Get-TieFileReputation -MaxRequestsPerSecond 500 -ErrorAction Stop
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.9
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 3
    }

    It 'stops a run waiting for its rate within a second (Ctrl+C)' {
        $new = @(1..200 | ForEach-Object { New-TieTestHash -Bytes 32 })
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $Session, $Hashes)
                    Import-Module $ModulePath
                    $Hashes | Get-TieFileReputation -Session $Session -MaxRequestsPerSecond 5
                }).AddArgument($ModulePath).AddArgument($B.Session).AddArgument($new)
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $null = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output)
            Wait-TieCondition { $output.Count -ge 2 } -TimeoutSec 60 | Should -BeTrue -Because 'the lookups should be running'
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 1
        }
        finally {
            $ps.Dispose()
        }
    }

    It 'shares one certificate''s request among its copies and caches it' {
        $seed = Get-TieSeed
        $before = $B.TieRequests
        $r = @(@($seed.Cert1Sha1) * 20 | Get-TieCertificateReputation -ErrorAction Stop)
        $r.Count | Should -Be 20
        $B.TieRequests - $before | Should -BeLessOrEqual 1
        $before = $B.TieRequests
        (Get-TieCertificateReputation -Sha1 $seed.Cert1Sha1).FromCache | Should -BeTrue
        $B.TieRequests - $before | Should -Be 0
    }
}

Describe 'Connect-DxlFabric sets the session''s cache and rate' {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind Fabric -Name 'cache-settings'
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'turns the cache off with -NoCache; inputs of one run still share a request' {
        $s = Connect-DxlFabric -ConfigPath $B.ConfigPath -Name 'nocache' -NoCache -MaxRequestsPerSecond 1000 -PassThru
        try {
            $s.Cache.State | Should -Be 'Off'
            $s.Cache.MaxRequestsPerSecond | Should -Be 1000
            $hash = New-TieTestHash -Bytes 32
            $before = $B.TieRequests
            $r = @(@($hash) * 10 | Get-TieFileReputation -Session $s -ErrorAction Stop)
            $r.Count | Should -Be 10
            $B.TieRequests - $before | Should -Be 1
            $before = $B.TieRequests
            $null = Get-TieFileReputation -Hash $hash -Session $s -ErrorAction Stop
            $B.TieRequests - $before | Should -Be 1
        }
        finally {
            $s | Disconnect-DxlFabric
        }
    }

    It 'takes -CacheMaxAge and -CacheMaxEntries' {
        $s = Connect-DxlFabric -ConfigPath $B.ConfigPath -Name 'small' -CacheMaxAge ([TimeSpan]::FromMinutes(1)) -CacheMaxEntries 1000 -PassThru
        try {
            $s.Cache.MaxAge | Should -Be ([TimeSpan]::FromMinutes(1))
            $s.Cache.MaxEntries | Should -Be 1000
            $s.Cache.MaxRequestsPerSecond | Should -BeNullOrEmpty
        }
        finally {
            $s | Disconnect-DxlFabric
        }
    }

    It 'rejects a negative -CacheMaxAge by name' {
        { Connect-DxlFabric -ConfigPath $B.ConfigPath -Name 'bad' -CacheMaxAge ([TimeSpan]::FromMinutes(-1)) } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,TieDxl.Commands.ConnectDxlFabricCommand'
    }
}
