# Re-runs that send only what changed (Unchanged), the journal of the Set cmdlets (-JournalPath), Import-TieJournal
# and Undo-TieReputation, end to end on the embedded fabric and on a real mosquitto over mutual TLS with the TIE
# simulator in this pwsh. The simulator's counters (TieRequests, ExternalReports) and its store show what TIE got.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $null = Import-Module $ModulePath -PassThru -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Unchanged and the journal on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "journal-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'sends the same External report once: Sent, then Unchanged, and TIE counted one report' {
        $f = New-TieTestFile 'twice.exe'
        $reports = $B.ExternalReports
        $first = $f | Set-TieExternalReputation -TrustLevel MostLikelyMalicious -FileType PeExe -Verify -PassThru -Confirm:$false -ErrorAction Stop
        $second = $f | Set-TieExternalReputation -TrustLevel MostLikelyMalicious -FileType PeExe -PassThru -Confirm:$false -ErrorAction Stop -Verbose 4>&1
        Send-TieProbeReport
        $first.Status | Should -Be 'Sent'
        $first.TrustLevelBefore | Should -Be 'NotSet'
        $result = @($second | Where-Object { $_ -is [TieDxl.TieSetReputationResult] })
        $result.Count | Should -Be 1
        $result[0].Status | Should -Be 'Unchanged'
        $result[0].TrustLevelBefore | Should -Be 'MostLikelyMalicious'
        $result[0].Reason | Should -Match 'already says MostLikelyMalicious.*-Force'
        ($result | Out-String -Width 160) | Should -Match 'Unchanged\s+External\s+MostLikelyMalicious\s+twice\.exe'
        @($second | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and "$_" -match "^Unchanged SHA256:$($f.sha256)" }).Count | Should -Be 1
        $B.ExternalReports | Should -Be ($reports + 2) -Because 'the first report and the probe were sent, not the second'
    }

    It 'sets the same Enterprise file reputation once: Sent, then Unchanged with a lookup alone; -Force sends' {
        $f = New-TieTestFile 'twice-ent.exe'
        $requests = $B.TieRequests
        $first = $f | Set-TieFileReputation -TrustLevel KnownMalicious -PassThru -Confirm:$false -ErrorAction Stop
        $B.TieRequests - $requests | Should -Be 2 -Because 'a lookup, then the set'
        $requests = $B.TieRequests
        $second = $f | Set-TieFileReputation -TrustLevel KnownMalicious -PassThru -Confirm:$false -ErrorAction Stop
        $B.TieRequests - $requests | Should -Be 1 -Because 'the lookup alone: nothing was sent'
        $first.Status | Should -Be 'Sent'
        $second.Status | Should -Be 'Unchanged'
        $second.TrustLevelAfter | Should -Be 'KnownMalicious'
        $requests = $B.TieRequests
        ($f | Set-TieFileReputation -TrustLevel KnownMalicious -Force -PassThru -Confirm:$false -ErrorAction Stop).Status | Should -Be 'Sent'
        $B.TieRequests - $requests | Should -Be 1 -Because '-Force without a journal sends without a lookup'
    }

    It 'sets the same Enterprise certificate reputation once: Sent, then Unchanged' {
        $sha1 = New-TieTestHash -Bytes 20
        $requests = $B.TieRequests
        $r = @(1, 2 | ForEach-Object { Set-TieCertificateReputation -Sha1 $sha1 -TrustLevel MightBeMalicious -PassThru -Confirm:$false -ErrorAction Stop })
        @($r.Status) | Should -Be @('Sent', 'Unchanged')
        $B.TieRequests - $requests | Should -Be 3 -Because 'two lookups and one set'
        (Get-TieCertificateReputation -Sha1 $sha1 -ErrorAction Stop).Enterprise | Should -Be 'MightBeMalicious'
    }

    It 'writes no journal under -WhatIf' {
        $journal = Join-Path $TestDrive "whatif-$Kind.jsonl"
        New-TieTestFile | Set-TieFileReputation -TrustLevel KnownMalicious -JournalPath $journal -WhatIf
        Set-TieCertificateReputation -Sha1 (New-TieTestHash -Bytes 20) -TrustLevel KnownMalicious -JournalPath $journal -WhatIf
        Test-Path -LiteralPath $journal | Should -BeFalse
    }

    It 'refuses a -JournalPath that is not a journal, sends nothing and leaves the file as it is' {
        $notes = Join-Path $TestDrive "notes-$Kind.txt"
        Set-Content -LiteralPath $notes -Value 'not a journal'
        $requests = $B.TieRequests
        { New-TieTestFile | Set-TieFileReputation -TrustLevel KnownMalicious -JournalPath $notes -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ExpectedMessage "*$notes*is not a TieDxl journal*"
        try { New-TieTestFile | Set-TieFileReputation -TrustLevel KnownMalicious -JournalPath $notes -Confirm:$false -ErrorAction Stop }
        catch { $_.FullyQualifiedErrorId | Should -BeLike 'InvalidJournal,*' }
        $B.TieRequests | Should -Be $requests
        Get-Content -LiteralPath $notes -Raw | Should -Be "not a journal$([Environment]::NewLine)"
        Undo-TieReputation -Path $notes -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidJournal,*'
        "$err" | Should -BeLike "*$notes*is not a TieDxl journal*"
    }

    It 'journals External reports and certificate sets, and Undo-TieReputation restores them (piped from Import-TieJournal)' {
        $journal = Join-Path $TestDrive "mixed-$Kind.jsonl"
        $f = New-TieTestFile 'ext.exe'
        $sha1 = New-TieTestHash -Bytes 20
        $null = $f | Set-TieExternalReputation -TrustLevel MightBeMalicious -FileType PeExe -Verify -JournalPath $journal -Confirm:$false -ErrorAction Stop
        Set-TieCertificateReputation -Sha1 $sha1 -TrustLevel KnownMalicious -Comment pester -JournalPath $journal -Confirm:$false -ErrorAction Stop
        $entries = @(Import-TieJournal -LiteralPath $journal -ErrorAction Stop)
        @($entries.Status) | Should -Be @('Pending', 'Sent', 'Pending', 'Sent')
        $entries[1] | Should -BeOfType [TieDxl.Tie.TieJournalEntry]
        $entries[1].Provider | Should -Be 'External'
        $entries[1].Sha256 | Should -BeExactly $f.sha256
        $entries[1].Md5 | Should -BeExactly $f.md5
        $entries[1].Name | Should -Be 'ext.exe'
        $entries[1].ClientId | Should -Be $B.Session.ClientId
        $entries[1].ClientSubject | Should -Not -BeNullOrEmpty
        $entries[3].Subject | Should -Be 'Certificate'
        $entries[3].Comment | Should -Be 'pester'
        $entries[3].TrustLevelBefore | Should -Be 'NotSet'
        $entries[3].TrustLevelAfter | Should -Be 'KnownMalicious'

        $whatIf = Join-Path $TestDrive "mixed-whatif-$Kind.jsonl"
        $requests = $B.TieRequests
        Undo-TieReputation -LiteralPath $journal -JournalPath $whatIf -WhatIf -ErrorAction Stop
        Test-Path -LiteralPath $whatIf | Should -BeFalse
        $B.TieRequests | Should -Be $requests -Because '-WhatIf looks nothing up and sends nothing'

        $undo = Join-Path $TestDrive "mixed-undo-$Kind.jsonl"
        $r = @($entries | Undo-TieReputation -JournalPath $undo -PassThru -Confirm:$false -ErrorAction Stop)
        @($r.Status) | Should -Be @('Sent', 'Sent')
        $r[0] | Should -BeOfType [TieDxl.TieSetReputationResult]
        $r[0].Provider | Should -Be 'Enterprise' -Because 'the newest change (the certificate) is undone first'
        $r[0].TrustLevel | Should -Be 'NotSet'
        ($r | Out-String -Width 160) | Should -Match 'Sent\s+Enterprise\s+NotSet'
        (Get-TieCertificateReputation -Sha1 $sha1 -ErrorAction Stop).Enterprise | Should -Be 'NotSet'
        $null = Set-TieExternalReputation -Sha256 $f.sha256 -TrustLevel NotSet -Verify -Force -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue
        (Get-TieFileReputation -Sha256 $f.sha256 -ErrorAction Stop).External | Should -BeIn @($null, '', 'NotSet')
        @(Import-TieJournal $undo | Where-Object Status -EQ Sent).Count | Should -Be 2
    }
}

Describe 'Journal error records and views' {
    It 'maps a journal that cannot be written to JournalWriteFailed (WriteError), one that is no journal to InvalidJournal (InvalidData)' {
        $catalog = [TieDxl.DxlSession].Assembly.GetType('TieDxl.Errors.ErrorCatalog', $true)
        $map = { param($e) $catalog.GetMethod('FromException', [type[]]@([Exception], [object], [string])).Invoke($null, @($e, 'x', 'item')) }
        $write = & $map ([TieDxl.Tie.TieJournalException]::new('/j.jsonl', 'cannot be written: disk full', $true, $null))
        $write.FullyQualifiedErrorId | Should -Be 'JournalWriteFailed'
        $write.CategoryInfo.Category | Should -Be 'WriteError'
        $write.ErrorDetails.Message | Should -BeLike "item: Journal '/j.jsonl': cannot be written*"
        $read = & $map ([TieDxl.Tie.TieJournalException]::new('/j.jsonl', 'is not a TieDxl journal', $false, $null))
        $read.FullyQualifiedErrorId | Should -Be 'InvalidJournal'
        $read.CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'shows journal entries and Unchanged results in full in their table views' {
        $entry = [TieDxl.Tie.TieJournalEntry]@{ Sha256 = 'ab' * 32; Name = 'x.exe'; ProviderId = 3; Status = 'Unchanged'; TrustLevelBefore = 'KnownMalicious'
            TrustLevelRequested = 'KnownMalicious'; TrustLevelAfter = 'KnownMalicious'; Time = [DateTimeOffset]::new(2026, 12, 4, 20, 0, 0, [TimeSpan]::Zero) }
        $text = $entry | Out-String -Width 200
        $text | Should -Match '2026-12-04 20:00:00\s+Set\s+Unchanged\s+Enterprise\s+KnownMalicious\s+KnownMalicious\s+SHA256:(ab){32} \(x\.exe\)'
    }
}

Describe 'A journal of a killed run, and its undo' {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind Mosquitto -Name 'journal-kill'
    }

    AfterAll {
        $B.Simulator.ResponseDelay = [TimeSpan]::Zero
        Stop-TieTestBroker $B
    }

    It 'has one complete line per set TIE received; the undo restores all but the one another client changed' {
        $count = 1000
        $hashes = @(1..$count | ForEach-Object { New-TieTestHash -Bytes 32 })
        $ours = [System.Collections.Generic.HashSet[string]]::new([string[]] $hashes)
        $hashFile = Join-Path $TestDrive 'hashes.txt'
        $journal = Join-Path $TestDrive 'killed.jsonl'
        $hashes | Set-Content -LiteralPath $hashFile
        $script = Join-Path $TestDrive 'child.ps1'
        @'
param($ModulePath, $ConfigPath, $HashFile, $Journal)
Import-Module $ModulePath
Connect-DxlFabric -ConfigPath $ConfigPath -TimeoutSec 30 | Out-Null
Get-Content -LiteralPath $HashFile | Set-TieFileReputation -TrustLevel KnownMalicious -FileName killed.exe -JournalPath $Journal -ThrottleLimit 8 -Confirm:$false
'@ | Set-Content -LiteralPath $script
        # Slow enough that the run lasts seconds: each item is a lookup and a set, 8 at a time.
        $B.Simulator.ResponseDelay = [TimeSpan]::FromMilliseconds(20)
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $child = Start-Process -FilePath $pwsh -PassThru -ArgumentList @('-NoProfile', '-NonInteractive', '-File', $script,
            $ModulePath, $B.ConfigPath, $hashFile, $journal)
        try {
            $started = Wait-TieCondition {
                (Test-Path -LiteralPath $journal) -and @([IO.File]::ReadAllLines($journal)).Count -ge 200
            } -TimeoutSec 120 -IntervalMs 20
            $started | Should -BeTrue -Because 'the child run must write its journal'
        }
        finally {
            Stop-Process -Id $child.Id -Force -ErrorAction SilentlyContinue
            $child.WaitForExit(30000) | Out-Null
        }

        # Requests already on their way are answered after the kill: wait until TIE's store stops changing.
        function Get-OursSet {
            @($B.Simulator.Store.Files | Where-Object { $_.Hashes.Sha256 -and $ours.Contains($_.Hashes.Sha256) -and
                    $_.GetReputation(3) -and $_.GetReputation(3).TrustLevelValue -eq 1 } | ForEach-Object { $_.Hashes.Sha256 })
        }
        $last = -1
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ([DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 500
            $now = @(Get-OursSet).Count
            if ($now -eq $last) { break }
            $last = $now
        }
        $B.Simulator.ResponseDelay = [TimeSpan]::Zero
        $received = @(Get-OursSet)
        $received.Count | Should -BeGreaterThan 0
        $received.Count | Should -BeLessThan $count -Because 'the run was killed in the middle'

        $entries = @(Import-TieJournal -LiteralPath $journal -WarningVariable torn -WarningAction SilentlyContinue -ErrorAction Stop)
        @($torn).Count | Should -BeLessOrEqual 1 -Because 'only a torn last line may be ignored'
        foreach ($w in $torn) { "$w" | Should -Match 'incomplete' }
        $journalled = [System.Collections.Generic.HashSet[string]]::new()
        foreach ($e in $entries) { if ($e.Status -in 'Pending', 'Sent') { $null = $journalled.Add($e.Sha256) } }
        $missing = @($received | Where-Object { -not $journalled.Contains($_) })
        $missing.Count | Should -Be 0 -Because "every set TIE received has its line (missing: $($missing -join ', '))"
        $sent = @($entries | Where-Object Status -EQ Sent)
        @($sent | Group-Object Sha256 | Where-Object Count -GT 1).Count | Should -Be 0 -Because 'one outcome line per set'
        foreach ($e in $sent) { $received | Should -Contain $e.Sha256 }
        $sent[0].Name | Should -Be 'killed.exe'
        $sent[0].TrustLevelBefore | Should -Be 'NotSet'

        # Another client changes one of them after the run.
        $changed = $received[0]
        Set-TieFileReputation -Sha256 $changed -TrustLevel KnownTrusted -Confirm:$false -ErrorAction Stop

        $r = @(Undo-TieReputation -LiteralPath $journal -PassThru -Confirm:$false -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue)
        $skipped = @($r | Where-Object Status -EQ Skipped)
        $skipped.Count | Should -Be 1
        $skipped[0].Sha256 | Should -BeExactly $changed
        @($w | Where-Object { "$_" -like "Skipped SHA256:$changed*changed since*" }).Count | Should -Be 1
        @($r | Where-Object Status -EQ Sent).Count | Should -Be ($received.Count - 1)
        @($r | Where-Object Status -EQ Failed).Count | Should -Be 0

        $after = @($received | Get-TieFileReputation -ErrorAction Stop)
        $after.Count | Should -Be $received.Count
        foreach ($rep in $after) {
            $expected = if ($rep.Sha256 -eq $changed) { 'KnownTrusted' } else { 'NotSet' }
            $rep.Enterprise | Should -Be $expected -Because "$($rep.Sha256) must be restored unless changed since"
        }
    }
}
