# Get-/Set-TieCertificateReputation, Get-TieFileFirstReference and Get-TieCertificateFirstReference end to end, on
# the embedded fabric and on a real mosquitto over mutual TLS with the TIE simulator in this pwsh.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $module = Import-Module $ModulePath -PassThru -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:Seed = Get-TieSeed
    $script:Cert2Sha1 = '6eae26db8c13182a7947982991b4321732cc3de2'
    $script:Cert2PublicKeySha1 = '3b87a2d6f39770160364b79a152fcc73bae27adf'
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null

    # Real X509 certificates that TIE has never seen.
    $script:Pki = [TieDxl.Fabric.Pki.DxlTestPki]::Create()
    $script:X509 = $Pki.IssueClient('Pester Signer').Certificate
    $script:X509b = $Pki.IssueClient('Pester Signer B').Certificate
    function script:PublicKeySha1([System.Security.Cryptography.X509Certificates.X509Certificate2] $c) {
        [Convert]::ToHexString([System.Security.Cryptography.SHA1]::HashData($c.GetPublicKey())).ToLowerInvariant()
    }
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    if ($Pki) { $Pki.Dispose() }
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Certificates and first references on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "cert-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    Context 'Get-TieCertificateReputation' {
        It 'reports cert1 (GTI KnownTrusted, Enterprise NotSet) by SHA-1 and public-key SHA-1' {
            $requests = $B.TieRequests
            $r = @(Get-TieCertificateReputation -Sha1 $Seed.Cert1Sha1 -PublicKeySha1 $Seed.Cert1PublicKeySha1 -ErrorAction Stop)
            $B.TieRequests - $requests | Should -Be 1
            $r.Count | Should -Be 1
            $r[0] | Should -BeOfType [TieDxl.TieCertificateReputation]
            $r[0].Sha1 | Should -BeExactly $Seed.Cert1Sha1
            $r[0].PublicKeySha1 | Should -BeExactly $Seed.Cert1PublicKeySha1
            $r[0].Gti | Should -Be 'KnownTrusted'
            $r[0].Enterprise | Should -Be 'NotSet'
            $r[0].MostSevere | Should -Be 'KnownTrusted'
            $r[0].MostTrusted | Should -Be 'KnownTrusted'
            @($r[0].Reputations.ProviderId) | Should -Be @(2, 4)
            $r[0].Subject | Should -BeNullOrEmpty
        }

        It 'takes the SHA-1 by position, in upper case, without the public key' {
            $r = Get-TieCertificateReputation $Cert2Sha1.ToUpperInvariant() -ErrorAction Stop
            $r.Sha1 | Should -BeExactly $Cert2Sha1
            $r.Gti | Should -Be 'KnownTrusted'
        }

        It 'takes X509Certificate2 objects from the pipeline (SHA-1 and public-key SHA-1 computed, subject kept)' {
            $r = @($X509, $X509b | Get-TieCertificateReputation -ErrorAction Stop)
            $r.Count | Should -Be 2
            $r[0].Sha1 | Should -BeExactly $X509.Thumbprint.ToLowerInvariant()
            $r[0].PublicKeySha1 | Should -BeExactly (PublicKeySha1 $X509)
            $r[0].Subject | Should -Be $X509.Subject
            $r[1].Subject | Should -Be $X509b.Subject
            # Never seen: only the Enterprise NOT_SET entry.
            $r[0].Enterprise | Should -Be 'NotSet'
            $r[0].Gti | Should -BeNullOrEmpty
        }

        It 'takes -Certificate (SHA-1 and public-key SHA-1 computed, subject kept)' {
            $requests = $B.TieRequests
            $r = @(Get-TieCertificateReputation -Certificate $X509 -NoCache -ErrorAction Stop)
            $B.TieRequests - $requests | Should -Be 1
            $r.Count | Should -Be 1
            $r[0].Sha1 | Should -BeExactly $X509.Thumbprint.ToLowerInvariant()
            $r[0].PublicKeySha1 | Should -BeExactly (PublicKeySha1 $X509)
            $r[0].Subject | Should -Be $X509.Subject
        }

        It 'binds Sha1/Thumbprint and PublicKeySha1 by property name' {
            $objects = @(
                [pscustomobject]@{ Thumbprint = $Seed.Cert1Sha1 }
                [pscustomobject]@{ Sha1 = $Cert2Sha1; PublicKeySha1 = $Cert2PublicKeySha1 }
            )
            $r = @($objects | Get-TieCertificateReputation -ErrorAction Stop)
            @($r.Sha1) | Should -Be @($Seed.Cert1Sha1, $Cert2Sha1)
            $r[1].PublicKeySha1 | Should -BeExactly $Cert2PublicKeySha1
            @($r.Gti) | Should -Be @('KnownTrusted', 'KnownTrusted')
        }

        It 'reports a bad SHA-1 as InvalidHash (InvalidArgument) and goes on' {
            $objects = @(
                [pscustomobject]@{ Sha1 = 'xyz' }
                [pscustomobject]@{ Sha1 = $Seed.NotepadSha256 }
                [pscustomobject]@{ Sha1 = $Seed.Cert1Sha1 }
            )
            $r = @($objects | Get-TieCertificateReputation -ErrorAction SilentlyContinue -ErrorVariable err)
            $r.Count | Should -Be 1
            $r[0].Sha1 | Should -BeExactly $Seed.Cert1Sha1
            $err.Count | Should -Be 2
            @($err.FullyQualifiedErrorId) | Should -Be (@('InvalidHash,TieDxl.Commands.Tie.GetTieCertificateReputationCommand') * 2)
            @($err | ForEach-Object { "$($_.CategoryInfo.Category)" }) | Should -Be @('InvalidArgument', 'InvalidArgument')
            $err[0].TargetObject | Should -Be 'xyz'
        }

        It 'renders its table view (Sha1, MostSevere, Gti, Enterprise, Subject)' {
            $text = @($Seed.Cert1Sha1 | ForEach-Object { Get-TieCertificateReputation -Sha1 $_ }) + @(Get-TieCertificateReputation -Certificate $X509) |
                Out-String -Width 120
            $lines = @($text -split "`r?`n" | Where-Object { $_.Trim() })
            $lines[0] | Should -Match '^Sha1\s+MostSevere\s+Gti\s+Enterprise\s+Subject\s*$'
            $lines[2] | Should -Match "^$($Seed.Cert1Sha1)\s+KnownTrusted\s+KnownTrusted\s+NotSet\s*$"
            $lines[3] | Should -Match 'CN=Pester'
        }
    }

    Context 'Set-TieCertificateReputation' {
        It 'is ConfirmImpact High' {
            (Get-Command Set-TieCertificateReputation).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact |
                Should -Be 'High'
        }

        It 'sets nothing under -WhatIf' {
            $sha1 = New-TieTestHash -Bytes 20
            $requests = $B.TieRequests
            $out = Set-TieCertificateReputation -Sha1 $sha1 -TrustLevel KnownMalicious -WhatIf -PassThru
            $out | Should -BeNullOrEmpty
            $B.TieRequests | Should -Be $requests
            (Get-TieCertificateReputation -Sha1 $sha1 -ErrorAction Stop).Enterprise | Should -Be 'NotSet'
        }

        It 'sets the Enterprise certificate reputation with -Confirm:$false' {
            $sha1 = New-TieTestHash -Bytes 20
            $pk = New-TieTestHash -Bytes 20
            $requests = $B.TieRequests
            $r = Set-TieCertificateReputation -Sha1 $sha1 -PublicKeySha1 $pk -TrustLevel KnownMalicious -Comment pester -PassThru -Confirm:$false -ErrorAction Stop
            $B.TieRequests - $requests | Should -Be 2 -Because 'the certificate is looked up first (Unchanged when Enterprise already says it), then set'
            $r | Should -BeOfType [TieDxl.TieSetReputationResult]
            $r.Status | Should -Be 'Sent'
            $r.Provider | Should -Be 'Enterprise'
            $r.TrustLevel | Should -Be 'KnownMalicious'
            $r.Sha1 | Should -BeExactly $sha1
            $now = Get-TieCertificateReputation -Sha1 $sha1 -PublicKeySha1 $pk -ErrorAction Stop
            $now.Enterprise | Should -Be 'KnownMalicious'
            $now.MostSevere | Should -Be 'KnownMalicious'
            ($now.Reputations | Where-Object ProviderId -EQ 4).TrustLevel | Should -Be 'KnownMalicious'
        }

        It 'sets a piped X509 certificate, which the next lookup shows' {
            $r = $X509b | Set-TieCertificateReputation -TrustLevel MostLikelyTrusted -PassThru -Confirm:$false -ErrorAction Stop
            $r.Status | Should -Be 'Sent'
            $r.Name | Should -Be $X509b.Subject
            $r.Sha1 | Should -BeExactly $X509b.Thumbprint.ToLowerInvariant()
            $now = $X509b | Get-TieCertificateReputation -ErrorAction Stop
            $now.Enterprise | Should -Be 'MostLikelyTrusted'
            $now.MostTrusted | Should -Be 'MostLikelyTrusted'
        }

        It 'overrides cert1: Enterprise MightBeMalicious next to GTI KnownTrusted' {
            Set-TieCertificateReputation -Sha1 $Seed.Cert1Sha1 -PublicKeySha1 $Seed.Cert1PublicKeySha1 -TrustLevel MightBeMalicious -Confirm:$false -ErrorAction Stop
            $now = Get-TieCertificateReputation -Sha1 $Seed.Cert1Sha1 -ErrorAction Stop
            $now.Enterprise | Should -Be 'MightBeMalicious'
            $now.Gti | Should -Be 'KnownTrusted'
            $now.MostSevere | Should -Be 'MightBeMalicious'
        }

        It 'writes Failed and TieRequestTimeout when TIE does not answer' {
            $B.Simulator.Mode = 'NoReply'
            try {
                $r = Set-TieCertificateReputation -Sha1 (New-TieTestHash -Bytes 20) -TrustLevel KnownMalicious -TimeoutSec 1 -PassThru -Confirm:$false `
                    -ErrorAction SilentlyContinue -ErrorVariable err
            }
            finally { $B.Simulator.Mode = 'Normal' }
            $r.Status | Should -Be 'Failed'
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TieRequestTimeout,*'
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        }
    }

    Context 'Get-TieFileFirstReference' {
        It 'lists the three systems that first saw notepad.exe' {
            $r = @(Get-TieFileFirstReference -Hash $Seed.NotepadSha256 -ErrorAction Stop -WarningVariable w)
            $r.Count | Should -Be 3
            $r[0] | Should -BeOfType [TieDxl.TieFirstReferenceRecord]
            @($r.AgentGuid | Sort-Object) | Should -Be @($Seed.Agent1, $Seed.Agent2, $Seed.Agent3 | Sort-Object)
            ($r | Where-Object AgentGuid -EQ $Seed.Agent1).Date | Should -Be ([datetime]::new(2016, 10, 7, 20, 54, 52, [DateTimeKind]::Utc))
            ($r | Where-Object AgentGuid -EQ $Seed.Agent3).Date | Should -Be ([datetime]::new(2016, 11, 8, 17, 29, 32, [DateTimeKind]::Utc))
            @($r.TotalCount | Select-Object -Unique) | Should -Be 3
            @($r.Subject | Select-Object -Unique) | Should -Be "SHA256:$($Seed.NotepadSha256)"
            $w.Count | Should -Be 0
        }

        It 'caps the list at -QueryLimit with a warning giving the full count' {
            $r = @(Get-TieFileFirstReference -Md5 $Seed.NotepadMd5 -QueryLimit 2 -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue)
            $r.Count | Should -Be 2
            $r[0].TotalCount | Should -Be 3
            $w.Count | Should -Be 1
            "$($w[0])" | Should -Match '3 systems in all, 2 shown'
        }

        It 'writes nothing for a file no system saw, and keeps input order across files' {
            $r = @($Seed.EicarMd5 | Get-TieFileFirstReference -ErrorAction Stop)
            $r.Count | Should -Be 0
            $r = @(@{ md5 = $Seed.NotepadMd5; name = 'notepad.exe' }, $Seed.EicarSha1, @{ sha1 = $Seed.NotepadSha1; name = 'again.exe' } |
                    Get-TieFileFirstReference -ErrorAction Stop)
            $r.Count | Should -Be 6
            @($r.Name) | Should -Be (@('notepad.exe') * 3 + @('again.exe') * 3)
        }

        It 'answers the same for a never-seen file each time, and hashes Get-ChildItem files' {
            $h = New-TieTestHash -Bytes 32
            $a = @(Get-TieFileFirstReference -Hash $h -ErrorAction Stop)
            $b2 = @(Get-TieFileFirstReference -Hash $h -ErrorAction Stop)
            $a.Count | Should -BeLessOrEqual 4
            @($b2 | ForEach-Object AgentGuid) | Should -Be @($a | ForEach-Object AgentGuid)
            $dir = Join-Path $TestDrive "fr-$Kind"
            $null = New-Item -ItemType Directory -Path $dir
            [IO.File]::WriteAllText((Join-Path $dir 'eicar.com'), $Seed.EicarText, [Text.Encoding]::ASCII)
            [IO.File]::WriteAllText((Join-Path $dir 'other.txt'), 'x')
            $requests = $B.TieRequests
            $r = @(Get-ChildItem -LiteralPath $dir -File | Get-TieFileFirstReference -ErrorAction Stop)
            $B.TieRequests - $requests | Should -Be 2
            @($r | Where-Object Name -EQ 'eicar.com').Count | Should -Be 0
        }

        It 'reports bad input as errors and goes on' {
            $r = @('nope', $Seed.NotepadSha1 | Get-TieFileFirstReference -ErrorAction SilentlyContinue -ErrorVariable err)
            $r.Count | Should -Be 3
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'InvalidHash,TieDxl.Commands.Tie.GetTieFileFirstReferenceCommand'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
    }

    Context 'Get-TieCertificateFirstReference' {
        It 'lists the systems that first saw files signed by cert1 and by the advanced-sample certificate' {
            $r = @(Get-TieCertificateFirstReference -Sha1 $Seed.Cert1Sha1 -PublicKeySha1 $Seed.Cert1PublicKeySha1 -ErrorAction Stop)
            $r.Count | Should -Be 3
            @($r.AgentGuid | Sort-Object) | Should -Be @($Seed.Agent1, $Seed.Agent2, $Seed.Agent3 | Sort-Object)
            $r[0].Subject | Should -Be "SHA1:$($Seed.Cert1Sha1)"
            $r = @(Get-TieCertificateFirstReference $Cert2Sha1 -ErrorAction Stop)
            @($r.AgentGuid | Sort-Object) | Should -Be @($Seed.Agent1, $Seed.Agent3 | Sort-Object)
            $r[0].TotalCount | Should -Be 2
        }

        It 'caps the list at -QueryLimit with a warning' {
            $r = @(Get-TieCertificateFirstReference -Sha1 $Seed.Cert1Sha1 -QueryLimit 1 -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue)
            $r.Count | Should -Be 1
            $w.Count | Should -Be 1
            "$($w[0])" | Should -Match '3 systems in all, 1 shown'
        }

        It 'takes X509 certificates from the pipeline (records named by the subject)' {
            # The simulator gives a never-seen certificate 0-4 systems, fixed by its hash: find one with at least one.
            $cert = $null
            foreach ($i in 1..20) {
                $c = $Pki.IssueClient("Pester Referenced $i").Certificate
                if (@(Get-TieCertificateFirstReference -Certificate $c -ErrorAction Stop).Count -gt 0) { $cert = $c; break }
            }
            $cert | Should -Not -BeNullOrEmpty
            $expected = @(Get-TieCertificateFirstReference -Certificate $cert -ErrorAction Stop)
            $expected[0].Name | Should -Be $cert.Subject
            $requests = $B.TieRequests
            $r = @($cert | Get-TieCertificateFirstReference -ErrorAction Stop)
            $B.TieRequests - $requests | Should -Be 1
            @($r.AgentGuid) | Should -Be @($expected.AgentGuid)
            foreach ($x in $r) { $x.Name | Should -Be $cert.Subject }
        }

        It 'refuses -QueryLimit outside 1-5000' {
            { Get-TieCertificateFirstReference -Sha1 $Seed.Cert1Sha1 -QueryLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
            { Get-TieFileFirstReference -Hash $Seed.NotepadMd5 -QueryLimit 5001 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        }
    }
}
