# Set-TieExternalReputation and Set-TieFileReputation end to end, on the embedded fabric and on a real mosquitto
# over mutual TLS with the TIE simulator in this pwsh: ShouldProcess, the skip workflow, -Force, -PassThru, -Verify,
# piped Get-TieFileReputation output, and what TIE reports afterwards. The simulator's counters (TieRequests,
# ExternalReports) show what was and was not sent.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $module = Import-Module $ModulePath -PassThru -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:Seed = Get-TieSeed
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Set-TieExternalReputation on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "setext-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'sends nothing and looks nothing up under -WhatIf' {
        $f = New-TieTestFile
        $reports = $B.ExternalReports
        $requests = $B.TieRequests
        $out = $f | Set-TieExternalReputation -TrustLevel KnownMalicious -FileType PeExe -WhatIf -PassThru
        $out | Should -BeNullOrEmpty
        $B.TieRequests | Should -Be $requests
        Send-TieProbeReport
        $B.ExternalReports | Should -Be ($reports + 1) -Because 'only the probe was sent'
        $after = Get-TieFileReputation -Sha256 $f.sha256 -ErrorAction Stop
        $after.External | Should -BeNullOrEmpty
        @($after.Reputations.ProviderId) | Should -Not -Contain 15
    }

    It 'sends with -Confirm:$false and TIE then reports External (provider 15)' {
        $f = New-TieTestFile 'dropper.exe'
        $reports = $B.ExternalReports
        $out = $f | Set-TieExternalReputation -TrustLevel MostLikelyMalicious -FileType PeExe -Comment 'pester' -Confirm:$false -ErrorAction Stop
        $out | Should -BeNullOrEmpty -Because 'no -PassThru'
        Wait-TieCondition { $B.ExternalReports -ge $reports + 1 } -TimeoutSec 15 | Should -BeTrue
        $B.ExternalReports | Should -Be ($reports + 1)
        $after = Get-TieFileReputation -Sha256 $f.sha256 -ErrorAction Stop
        $after.External | Should -Be 'MostLikelyMalicious'
        ($after.Reputations | Where-Object ProviderId -EQ 15).TrustLevel | Should -Be 'MostLikelyMalicious'
        $after.MostSevere | Should -Be 'MostLikelyMalicious'
        $after.MostSevereProvider | Should -Be 'External'
        $after.HasDefinitiveReputation | Should -BeFalse -Because 'External alone is not a definitive verdict'
        # The report carried all three hashes: the MD5 alone finds the same file.
        (Get-TieFileReputation -Md5 $f.md5 -ErrorAction Stop).External | Should -Be 'MostLikelyMalicious'
    }

    It 'skips notepad.exe (GTI says KnownTrusted) with a warning and sends nothing' {
        $reports = $B.ExternalReports
        $r = @(Set-TieExternalReputation -Md5 $Seed.NotepadMd5 -Sha1 $Seed.NotepadSha1 -Sha256 $Seed.NotepadSha256 -FileName notepad.exe `
                -FileType PeExe -TrustLevel KnownMalicious -PassThru -Confirm:$false -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue)
        $r.Count | Should -Be 1
        $r[0] | Should -BeOfType [TieDxl.TieSetReputationResult]
        $r[0].Status | Should -Be 'Skipped'
        $r[0].Provider | Should -Be 'External'
        $r[0].TrustLevel | Should -Be 'KnownMalicious'
        $r[0].Name | Should -Be 'notepad.exe'
        $r[0].Sha256 | Should -BeExactly $Seed.NotepadSha256
        $r[0].Reason | Should -Match 'GTI says KnownTrusted'
        $r[0].Reason | Should -Match '-Force'
        $r[0].Before.Gti | Should -Be 'KnownTrusted'
        $r[0].Before.HasDefinitiveReputation | Should -BeTrue
        $r[0].Verified | Should -BeNullOrEmpty
        @($w | Where-Object { "$_" -like "Skipped SHA256:$($Seed.NotepadSha256)*" }).Count | Should -Be 1
        Send-TieProbeReport
        $B.ExternalReports | Should -Be ($reports + 1) -Because 'only the probe was sent'
        (Get-TieFileReputation -Sha256 $Seed.NotepadSha256 -ErrorAction Stop).External | Should -BeNullOrEmpty
    }

    It 'sends over another provider''s verdict with -Force' {
        $reports = $B.ExternalReports
        $requests = $B.TieRequests
        $r = Set-TieExternalReputation -Md5 $Seed.NotepadMd5 -Sha1 $Seed.NotepadSha1 -Sha256 $Seed.NotepadSha256 -FileName notepad.exe `
            -FileType PeExe -TrustLevel KnownTrusted -Force -PassThru -Confirm:$false -ErrorAction Stop
        $r.Status | Should -Be 'Sent'
        $r.Before | Should -BeNullOrEmpty -Because '-Force makes no lookup'
        $B.TieRequests | Should -Be $requests
        Wait-TieCondition { $B.ExternalReports -ge $reports + 1 } -TimeoutSec 15 | Should -BeTrue
        $after = Get-TieFileReputation -Sha256 $Seed.NotepadSha256 -ErrorAction Stop
        $after.External | Should -Be 'KnownTrusted'
        $after.Gti | Should -Be 'KnownTrusted'
    }

    It 'writes one -PassThru result per input, in order: Sent, Skipped, Sent' {
        $a = New-TieTestFile 'a.exe'
        $c = New-TieTestFile 'c.exe'
        $eicar = @{ md5 = $Seed.EicarMd5; sha1 = $Seed.EicarSha1; sha256 = $Seed.EicarSha256; name = 'eicar.com' }
        $reports = $B.ExternalReports
        $r = @($a, $eicar, $c | Set-TieExternalReputation -TrustLevel MightBeMalicious -FileType PeExe -PassThru -Confirm:$false `
                -ErrorAction Stop -WarningAction SilentlyContinue)
        $r.Count | Should -Be 3
        @($r.Status) | Should -Be @('Sent', 'Skipped', 'Sent')
        @($r.Name) | Should -Be @('a.exe', 'eicar.com', 'c.exe')
        @($r.Sha256) | Should -Be @($a.sha256, $Seed.EicarSha256, $c.sha256)
        $r[0].Reason | Should -BeNullOrEmpty
        $r[0].Before.HasDefinitiveReputation | Should -BeFalse
        $r[1].Reason | Should -Match 'GTI says KnownMalicious'
        Wait-TieCondition { $B.ExternalReports -ge $reports + 2 } -TimeoutSec 15 | Should -BeTrue
        Send-TieProbeReport
        $B.ExternalReports | Should -Be ($reports + 3)
        ($r | Out-String -Width 120) | Should -Match 'Skipped\s+External\s+MightBeMalicious\s+eicar\.com\s+GTI says'
    }

    It 'confirms with -Verify that TIE reports provider 15' {
        $f = New-TieTestFile 'verified.exe'
        $r = $f | Set-TieExternalReputation -TrustLevel KnownMalicious -FileType PeExe -Verify -PassThru -Confirm:$false -ErrorAction Stop
        $r.Status | Should -Be 'Sent'
        $r.Verified | Should -BeTrue
        # -Verify returned only once the lookup showed it: no waiting needed here.
        $now = Get-TieFileReputation -Sha256 $f.sha256 -ErrorAction Stop
        ($now.Reputations | Where-Object ProviderId -EQ 15).TrustLevel | Should -Be 'KnownMalicious'
        $now.External | Should -Be 'KnownMalicious'
    }

    It 'reports Failed (Verified false, TieVerifyFailed) when TIE never confirms' {
        $f = New-TieTestFile 'unconfirmed.exe'
        $reports = $B.ExternalReports
        $B.Simulator.Mode = 'NoReply'
        try {
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $r = $f | Set-TieExternalReputation -TrustLevel KnownMalicious -FileType PeExe -Force -Verify -VerifyTimeoutSec 2 -TimeoutSec 1 `
                -PassThru -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
            $sw.Stop()
        }
        finally { $B.Simulator.Mode = 'Normal' }
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 15
        # The report itself went out (events are not affected by NoReply); only the confirmation is missing.
        Wait-TieCondition { $B.ExternalReports -ge $reports + 1 } -TimeoutSec 15 | Should -BeTrue
        $err.Count | Should -Be 1
        $err[0].Exception.Message | Should -Match 'did not report External' -Because 'the error must say the report was sent but not confirmed'
        $r | Should -Not -BeNullOrEmpty -Because '-PassThru writes a result per file'
        $r.Status | Should -Be 'Failed'
        $r.Verified | Should -BeFalse
        $r.Reason | Should -Match 'did not report External'
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TieVerifyFailed,*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
    }

    It 'writes a Failed -PassThru result (and an error) when the lookup before sending fails' {
        $f = New-TieTestFile 'lookup-fails.exe'
        $reports = $B.ExternalReports
        $B.Simulator.Mode = 'NoReply'
        try {
            $r = @($f | Set-TieExternalReputation -TrustLevel KnownMalicious -FileType PeExe -TimeoutSec 1 -PassThru -Confirm:$false `
                    -ErrorAction SilentlyContinue -ErrorVariable err)
        }
        finally { $B.Simulator.Mode = 'Normal' }
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TieRequestTimeout,*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        Send-TieProbeReport
        $B.ExternalReports | Should -Be ($reports + 1) -Because 'nothing may be sent without the lookup'
        # -PassThru promises a result per file (Sent, Skipped or Failed, with the reason).
        $r.Count | Should -Be 1 -Because '-PassThru writes a result per file, Failed when nothing was sent'
        $r[0].Status | Should -Be 'Failed'
        $r[0].Sha256 | Should -BeExactly $f.sha256
    }

    It 'takes Get-TieFileReputation output without a second lookup' {
        $f = New-TieTestFile 'piped.exe'
        $rep = @($f, @{ sha256 = $Seed.EicarSha256; name = 'eicar.com' } | Get-TieFileReputation -ErrorAction Stop)
        $rep.Count | Should -Be 2
        $requests = $B.TieRequests
        $reports = $B.ExternalReports
        $r = @($rep | Set-TieExternalReputation -TrustLevel MightBeMalicious -FileType PeExe -PassThru -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue)
        $B.TieRequests | Should -Be $requests -Because 'the piped lookups are reused'
        @($r.Status) | Should -Be @('Sent', 'Skipped')
        $r[0].Name | Should -Be 'piped.exe'
        $r[0].Md5 | Should -BeExactly $f.md5
        $r[0].Sha256 | Should -BeExactly $f.sha256
        $r[0].Before.Sha256 | Should -BeExactly $f.sha256
        Wait-TieCondition { $B.ExternalReports -ge $reports + 1 } -TimeoutSec 15 | Should -BeTrue
        (Get-TieFileReputation -Sha1 $f.sha1 -ErrorAction Stop).External | Should -Be 'MightBeMalicious'
    }

    It 'takes files from Get-ChildItem (hashed here) and names them' {
        $dir = Join-Path $TestDrive "ext-$Kind"
        $null = New-Item -ItemType Directory -Path $dir
        $file = Join-Path $dir 'tool.exe'
        [IO.File]::WriteAllText($file, "tool $([guid]::NewGuid())")
        $r = Get-ChildItem -LiteralPath $dir -File | Set-TieExternalReputation -TrustLevel MostLikelyTrusted -FileType PeExe -Verify -PassThru -Confirm:$false -ErrorAction Stop
        $r.Status | Should -Be 'Sent'
        $r.Verified | Should -BeTrue
        $r.Name | Should -Be 'tool.exe'
        $r.Path | Should -Be $file
        $r.Sha256 | Should -BeExactly (Get-FileHash -LiteralPath $file).Hash.ToLowerInvariant()
        $r.Md5 | Should -BeExactly (Get-FileHash -LiteralPath $file -Algorithm MD5).Hash.ToLowerInvariant()
        (Get-FileHash -LiteralPath $file -Algorithm SHA1 | Get-TieFileReputation -ErrorAction Stop).External | Should -Be 'MostLikelyTrusted'
    }

    It 'gives each piece of advice once per command (no name, fewer than three hashes, no -FileType)' {
        $hashes = (New-TieTestHash -Bytes 32), (New-TieTestHash -Bytes 32)
        $r = @($hashes | Set-TieExternalReputation -TrustLevel MightBeTrusted -PassThru -Confirm:$false -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue)
        @($r.Status) | Should -Be @('Sent', 'Sent')
        $w.Count | Should -Be 3
        @($w | Where-Object { "$_" -match 'no name' }).Count | Should -Be 1
        @($w | Where-Object { "$_" -match 'fewer than three' }).Count | Should -Be 1
        @($w | Where-Object { "$_" -match 'FileType' }).Count | Should -Be 1
        $f = New-TieTestFile 'complete.exe'
        $null = $f | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileType PeExe -Confirm:$false -ErrorAction Stop -WarningVariable w2 -WarningAction SilentlyContinue
        $w2.Count | Should -Be 0
    }

    It 'reports bad input as errors and still sends the good items' {
        $good = New-TieTestFile 'good.exe'
        $reports = $B.ExternalReports
        $r = @($good, 'zz-not-a-hash' | Set-TieExternalReputation -TrustLevel MightBeMalicious -FileType PeExe -PassThru -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err)
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be 'Sent'
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidHash,TieDxl.Commands.Tie.SetTieExternalReputationCommand'
        Wait-TieCondition { $B.ExternalReports -ge $reports + 1 } -TimeoutSec 15 | Should -BeTrue
    }
}

Describe 'Set-TieFileReputation on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "setent-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'is ConfirmImpact High: without -Confirm:$false a host that cannot prompt refuses, and nothing is set' {
        (Get-Command Set-TieFileReputation).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact |
            Should -Be 'High'
        $f = New-TieTestFile 'refused.exe'
        $requests = $B.TieRequests
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $Session, $Hash)
                    Import-Module $ModulePath
                    Set-TieFileReputation -Sha256 $Hash -TrustLevel KnownMalicious -Session $Session
                }).AddArgument($ModulePath).AddArgument($B.Session).AddArgument($f.sha256)
            $failure = $null
            try { $null = $ps.Invoke() } catch { $failure = $_ }
            ($failure -or $ps.HadErrors) | Should -BeTrue -Because 'a host without a UI cannot confirm'
        }
        finally { $ps.Dispose() }
        $B.TieRequests | Should -Be $requests -Because 'no set request was made'
        $now = Get-TieFileReputation -Sha256 $f.sha256 -ErrorAction Stop
        $now.Enterprise | Should -Be 'NotSet'
        $now.HasDefinitiveReputation | Should -BeFalse
    }

    It 'in a non-interactive pwsh fails without -Confirm:$false and sets nothing, and sets with it' {
        $f = New-TieTestFile 'child.exe'
        $script = Join-Path $TestDrive "child-$Kind.ps1"
        @'
param($ModulePath, $ConfigPath, $Hash)
Import-Module $ModulePath
Connect-DxlFabric -ConfigPath $ConfigPath -TimeoutSec 30
try {
    Set-TieFileReputation -Sha256 $Hash -TrustLevel KnownMalicious -ErrorAction Stop
    'FIRST: set'
}
catch { "FIRST: failed: $($_.Exception.Message)" }
"AFTER FIRST: $((Get-TieFileReputation -Sha256 $Hash).Enterprise)"
Set-TieFileReputation -Sha256 $Hash -TrustLevel KnownMalicious -Confirm:$false -ErrorAction Stop
"AFTER SECOND: $((Get-TieFileReputation -Sha256 $Hash).Enterprise)"
'@ | Set-Content -LiteralPath $script
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $out = & $pwsh -NoProfile -NonInteractive -File $script $ModulePath $B.ConfigPath $f.sha256 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "the child printed: $out"
        $text = $out -join "`n"
        $text | Should -Match 'FIRST: failed: .*NonInteractive'
        $text | Should -Match 'AFTER FIRST: NotSet'
        $text | Should -Match 'AFTER SECOND: KnownMalicious'
        (Get-TieFileReputation -Sha256 $f.sha256 -ErrorAction Stop).Enterprise | Should -Be 'KnownMalicious'
    }

    It 'sets nothing under -WhatIf' {
        $f = New-TieTestFile
        $requests = $B.TieRequests
        $out = $f | Set-TieFileReputation -TrustLevel KnownMalicious -WhatIf -PassThru
        $out | Should -BeNullOrEmpty
        $B.TieRequests | Should -Be $requests
        (Get-TieFileReputation -Sha256 $f.sha256 -ErrorAction Stop).Enterprise | Should -Be 'NotSet'
    }

    It 'sets the Enterprise reputation with -Confirm:$false (PassThru Sent; a lookup, then one set request)' {
        $f = New-TieTestFile 'bad.exe'
        $requests = $B.TieRequests
        $r = $f | Set-TieFileReputation -TrustLevel KnownMalicious -Comment pester -PassThru -Confirm:$false -ErrorAction Stop
        $B.TieRequests - $requests | Should -Be 2 -Because 'the file is looked up first (Unchanged when Enterprise already says it), then set'
        $r | Should -BeOfType [TieDxl.TieSetReputationResult]
        $r.Status | Should -Be 'Sent'
        $r.Provider | Should -Be 'Enterprise'
        $r.TrustLevel | Should -Be 'KnownMalicious'
        $r.Name | Should -Be 'bad.exe'
        $r.Sha256 | Should -BeExactly $f.sha256
        $now = Get-TieFileReputation -Sha1 $f.sha1 -ErrorAction Stop
        $now.Enterprise | Should -Be 'KnownMalicious'
        $now.MostSevere | Should -Be 'KnownMalicious'
        $now.MostSevereProvider | Should -Be 'Enterprise'
        $now.HasDefinitiveReputation | Should -BeTrue
        ($now.Reputations | Where-Object ProviderId -EQ 3).TrustLevel | Should -Be 'KnownMalicious'
    }

    It 'overrides a known file: EICAR becomes Enterprise KnownTrusted next to GTI KnownMalicious' {
        Set-TieFileReputation -Hash $Seed.EicarSha256 -TrustLevel KnownTrusted -Confirm:$false -ErrorAction Stop
        $now = Get-TieFileReputation -Md5 $Seed.EicarMd5 -ErrorAction Stop
        $now.Enterprise | Should -Be 'KnownTrusted'
        $now.Gti | Should -Be 'KnownMalicious'
        $now.MostTrusted | Should -Be 'KnownTrusted'
        $now.MostTrustedProvider | Should -Be 'Enterprise'
        $now.MostSevere | Should -Be 'KnownMalicious'
    }

    It 'sets files piped from Get-ChildItem; then Set-TieExternalReputation skips them' {
        $dir = Join-Path $TestDrive "ent-$Kind"
        $null = New-Item -ItemType Directory -Path $dir
        foreach ($n in 'one.dll', 'two.dll') { [IO.File]::WriteAllText((Join-Path $dir $n), "$n $([guid]::NewGuid())") }
        $r = @(Get-ChildItem -LiteralPath $dir -File | Set-TieFileReputation -TrustLevel MostLikelyMalicious -PassThru -Confirm:$false -ErrorAction Stop)
        @($r.Status) | Should -Be @('Sent', 'Sent')
        @($r.Name) | Should -Be @('one.dll', 'two.dll')
        $now = @(Get-ChildItem -LiteralPath $dir -File | Get-FileHash -Algorithm SHA256 | Get-TieFileReputation -ErrorAction Stop)
        @($now.Enterprise) | Should -Be @('MostLikelyMalicious', 'MostLikelyMalicious')
        $ext = @(Get-ChildItem -LiteralPath $dir -File | Set-TieExternalReputation -TrustLevel KnownTrusted -FileType Dll -PassThru -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop)
        @($ext.Status) | Should -Be @('Skipped', 'Skipped')
        $ext[0].Reason | Should -Match 'Enterprise says MostLikelyMalicious'
    }

    It 'writes Failed and a TieRequestTimeout error when TIE does not answer' {
        $f = New-TieTestFile 'timeout.exe'
        $B.Simulator.Mode = 'NoReply'
        try {
            $r = $f | Set-TieFileReputation -TrustLevel KnownMalicious -TimeoutSec 1 -PassThru -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
        }
        finally { $B.Simulator.Mode = 'Normal' }
        $r.Status | Should -Be 'Failed'
        $r.Reason | Should -Not -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TieRequestTimeout,*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
    }
}
