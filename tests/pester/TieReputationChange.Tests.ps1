# Get-TieReputationChange end to end, on the embedded fabric and on a real mosquitto over mutual TLS with the TIE
# simulator in this pwsh: paging, each change once, the state file across runs, piping into the lookups, and the
# errors of a state file that is not ours.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    Import-Module $ModulePath -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null

    # Runs the cmdlet with -Verbose; returns the objects and the summary line's page count.
    function script:Read-Changes {
        param([hashtable] $Parameters)
        $all = @(Get-TieReputationChange @Parameters -Verbose 4>&1)
        $summary = $all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '^\d+ page' } |
            Select-Object -Last 1
        [pscustomobject]@{
            Changes = @($all | Where-Object { $_ -is [TieDxl.TieReputationChange] })
            Pages   = if ($summary -and $summary.Message -match '^(\d+) page') { [int]$Matches[1] } else { -1 }
            Summary = $summary.Message
        }
    }
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Get-TieReputationChange on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "feed-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    BeforeEach {
        # Each test reads the changes it makes, and only those.
        $B.Simulator.Store.Clear()
    }

    It '250 sets, -Since before them, limit 100: each change once; with the state file a second run gives 0, one more set gives 1' {
        $since = [DateTimeOffset]::UtcNow.AddSeconds(-2)
        $hashes = 1..250 | ForEach-Object { New-TieTestHash -Bytes 20 }
        $hashes | Set-TieFileReputation -TrustLevel MostLikelyMalicious -FileName feed.exe -Confirm:$false -ErrorAction Stop
        $state = Join-Path $TestDrive "state-$Kind.json"

        $first = Read-Changes @{ Since = $since; QueryLimit = 100; StatePath = $state }
        $first.Changes.Count | Should -Be 250
        @($first.Changes.Sha1 | Sort-Object -Unique).Count | Should -Be 250
        @(Compare-Object ($first.Changes.Sha1) $hashes).Count | Should -Be 0
        # Sets made within one second come in more pages than three (a page all in one second doubles the next).
        $first.Pages | Should -BeGreaterOrEqual 3
        (Get-Content -Raw -LiteralPath $state | ConvertFrom-Json).format | Should -Be 'TieDxl.ReputationChangeState'

        $second = Read-Changes @{ Since = $since; QueryLimit = 100; StatePath = $state }
        $second.Changes.Count | Should -Be 0 -Because 'the state file says where the first run stopped'

        $one = New-TieTestHash -Bytes 20
        Set-TieFileReputation -Sha1 $one -TrustLevel KnownTrusted -Confirm:$false -ErrorAction Stop
        $third = Read-Changes @{ QueryLimit = 100; StatePath = $state }
        $third.Changes.Sha1 | Should -Be @($one)
    }

    It 'changes spread over time come in exactly three pages of 100, each once' {
        $t0 = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() - 1000
        $hashes = 0..249 | ForEach-Object {
            $h = New-TieTestHash -Bytes 20
            # Three changes a second, at the simulator's store: the pages end inside a second.
            $null = $B.Simulator.Store.SetFileReputation([TieDxl.Tie.TieHashes]::FromHex($h), 3, 1, $t0 + [Math]::Floor($_ / 3), 'f.exe', $null, $null)
            $h
        }
        $run = Read-Changes @{ Since = $t0 - 1; QueryLimit = 100 }
        $run.Pages | Should -Be 3
        $run.Changes.Count | Should -Be 250
        @(Compare-Object ($run.Changes.Sha1) $hashes).Count | Should -Be 0
        ($run.Changes.Page | Sort-Object -Unique) | Should -Be @(1, 2, 3)
        $run.Summary | Should -Match 'repeated subject\(s\) dropped'
        $run.Changes[0] | Should -BeOfType ([TieDxl.TieReputationChange])
        $run.Changes[0].Subject | Should -Be 'File'
        $run.Changes[0].LatestUpdateTime | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds($t0 + 33).UtcDateTime)
        ($run.Changes[0] | Format-Table | Out-String) | Should -Match 'Subject\s+HashType\s+Hash'
    }

    It 'files pipe into Get-TieFileReputation, certificates into Get-TieCertificateReputation' {
        $since = [DateTimeOffset]::UtcNow.AddSeconds(-2)
        $sha256 = New-TieTestHash -Bytes 32
        $cert = New-TieTestHash -Bytes 20
        Set-TieFileReputation -Sha256 $sha256 -TrustLevel KnownMalicious -Confirm:$false -ErrorAction Stop
        Set-TieCertificateReputation -Sha1 $cert -TrustLevel KnownTrusted -Confirm:$false -ErrorAction Stop

        $file = Get-TieReputationChange -Since $since -File -FileHashType Sha256 | Get-TieFileReputation -ErrorAction Stop
        $file.Sha256 | Should -Be $sha256
        $file.MostSevere | Should -Be 'KnownMalicious'

        $certificate = Get-TieReputationChange -Since $since -Certificate | Get-TieCertificateReputation -ErrorAction Stop
        $certificate.Sha1 | Should -Be $cert
        $certificate.Enterprise | Should -Be 'KnownTrusted'

        # Both kinds into the file lookup: the file is looked up, the certificate refused with a clear error.
        $looked = @(Get-TieReputationChange -Since $since | Get-TieFileReputation -ErrorVariable refused -ErrorAction SilentlyContinue)
        $looked.Sha256 | Should -Be @($sha256)
        $refused.Count | Should -Be 1
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'InvalidInput*'
    }

    It 'a state file that is not ours, or is broken, stops the command with an error naming it, and is left as it is' -ForEach @(
        @{ Content = '{"lastRun":"yesterday"}'; Problem = 'format' }
        @{ Content = 'not json {'; Problem = 'not JSON' }
        @{ Content = '{"format":"TieDxl.ReputationChangeState","version":1,"sinceTime":"soon"}'; Problem = 'sinceTime' }
    ) {
        $path = Join-Path $TestDrive 'foreign.json'
        Set-Content -LiteralPath $path -Value $Content -NoNewline
        $before = Get-Item -LiteralPath $path
        $err = $null
        try { Get-TieReputationChange -StatePath $path -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'ChangeStateFileInvalid*'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $err.TargetObject | Should -Be $path
        $err.ToString() | Should -BeLike "*$path*$Problem*"
        Get-Content -Raw -LiteralPath $path | Should -Be $Content
        (Get-Item -LiteralPath $path).LastWriteTimeUtc | Should -Be $before.LastWriteTimeUtc
    }

    It 'the state moves only after the objects went down the pipeline' {
        $since = [DateTimeOffset]::UtcNow.AddSeconds(-2)
        $hash = New-TieTestHash -Bytes 20
        Set-TieFileReputation -Sha1 $hash -TrustLevel KnownMalicious -Confirm:$false -ErrorAction Stop
        $state = Join-Path $TestDrive "stopped-$Kind.json"
        { Get-TieReputationChange -Since $since -StatePath $state | ForEach-Object { throw 'the consumer failed' } } | Should -Throw '*consumer failed*'
        Test-Path -LiteralPath $state | Should -BeFalse
        (Get-TieReputationChange -Since $since -StatePath $state).Sha1 | Should -Be $hash
        Test-Path -LiteralPath $state | Should -BeTrue
    }

    It 'Ctrl+C stops a feed waiting for a slow server at once, and the state file is not touched' {
        $state = Join-Path $TestDrive "stopped-by-user-$Kind.json"
        $B.Simulator.ResponseDelay = [TimeSpan]::FromSeconds(120)
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($m, $s, $p)
                    Import-Module $m
                    Get-TieReputationChange -Session $s -StatePath $p -TimeoutSec 300
                }).AddArgument($ModulePath).AddArgument($B.Session).AddArgument($state)
            $asked = $B.TieRequests
            $null = $ps.BeginInvoke()
            Wait-TieCondition { $B.TieRequests -gt $asked } -TimeoutSec 30 | Should -BeTrue -Because 'the feed asks the simulator'
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
            Test-Path -LiteralPath $state | Should -BeFalse
        }
        finally {
            $ps.Dispose()
            $B.Simulator.ResponseDelay = [TimeSpan]::Zero
        }
    }

    It 'bad arguments are clear errors: <Case>' -ForEach @(
        @{ Case = '-Since not a time'; Parameters = @{ Since = 'the day before yesterday-ish' } }
        @{ Case = '-Since negative'; Parameters = @{ Since = -5 } }
        @{ Case = '-CertificateHashType Md5'; Parameters = @{ CertificateHashType = 'Md5' } }
    ) {
        $err = $null
        try { Get-TieReputationChange @Parameters -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'TieInvalidArgument*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It '-Since takes a date, a DateTimeOffset or epoch seconds alike' {
        $t = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() - 100
        $hash = New-TieTestHash -Bytes 20
        $null = $B.Simulator.Store.SetFileReputation([TieDxl.Tie.TieHashes]::FromHex($hash), 3, 1, $t, 'f.exe', $null, $null)
        (Get-TieReputationChange -Since $t).Sha1 | Should -Be $hash
        (Get-TieReputationChange -Since "$t").Sha1 | Should -Be $hash
        (Get-TieReputationChange -Since ([DateTimeOffset]::FromUnixTimeSeconds($t))).Sha1 | Should -Be $hash
        (Get-TieReputationChange -Since ([DateTimeOffset]::FromUnixTimeSeconds($t).LocalDateTime)).Sha1 | Should -Be $hash
        @(Get-TieReputationChange -Since ($t + 1)).Count | Should -Be 0
    }
}
