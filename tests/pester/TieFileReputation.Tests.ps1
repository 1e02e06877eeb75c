# Get-TieFileReputation end to end, on the embedded fabric (Start-DxlTestFabric) and on a real mosquitto over mutual
# TLS with the TIE simulator hosted in this pwsh: every input shape, order under concurrency, per-item errors,
# Ctrl+C, the table view, JSON and CSV.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $module = Import-Module $ModulePath -PassThru -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:Seed = Get-TieSeed
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null

    # Files for the Get-FileHash / Get-ChildItem pipelines: EICAR (seeded as KnownMalicious) and two never-seen files.
    $script:FilesDir = Join-Path $TestDrive 'files'
    $null = New-Item -ItemType Directory -Path $FilesDir
    $script:EicarFile = Join-Path $FilesDir 'eicar.com'
    [IO.File]::WriteAllText($EicarFile, $Seed.EicarText, [Text.Encoding]::ASCII)
    $script:TextFile = Join-Path $FilesDir 'readme.txt'
    [IO.File]::WriteAllText($TextFile, "TieDxl test file $([guid]::NewGuid())`n")
    $script:BinFile = Join-Path $FilesDir 'random.bin'
    # Larger than the hasher's 1 MiB buffer, so that the one-read hashing crosses chunk boundaries.
    [IO.File]::WriteAllBytes($BinFile, [System.Security.Cryptography.RandomNumberGenerator]::GetBytes(2.5MB))
    $script:SubDir = Join-Path $TestDrive 'a-directory'
    $null = New-Item -ItemType Directory -Path $SubDir
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Get-TieFileReputation on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "get-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'has a connected default session' {
        $B.Session.State | Should -Be 'Connected'
        (Get-DxlSession -Default).Id | Should -Be $B.Session.Id
        $B.Session.Broker | Should -Be "ssl://127.0.0.1:$($B.Port)"
    }

    It 'infers the algorithm of hash strings from their length (32 MD5, 40 SHA1, 64 SHA256)' {
        $before = $B.TieRequests
        $r = @($Seed.NotepadMd5, $Seed.EicarSha1, $Seed.UnknownSha256 | Get-TieFileReputation -ErrorAction Stop)
        $r.Count | Should -Be 3
        $r[0] | Should -BeOfType [TieDxl.TieFileReputation]
        $r[0].Md5 | Should -BeExactly $Seed.NotepadMd5
        $r[0].Sha1 | Should -BeNullOrEmpty
        $r[0].Sha256 | Should -BeNullOrEmpty
        $r[0].MostSevere | Should -Be 'KnownTrusted'
        $r[0].MostSevereProvider | Should -Be 'GTI'
        $r[0].Gti | Should -Be 'KnownTrusted'
        $r[0].Enterprise | Should -Be 'NotSet'
        $r[0].HasDefinitiveReputation | Should -BeTrue
        $r[0].External | Should -BeNullOrEmpty
        @($r[0].Reputations.ProviderId) | Should -Be @(1, 3)

        $r[1].Sha1 | Should -BeExactly $Seed.EicarSha1
        $r[1].Md5 | Should -BeNullOrEmpty
        $r[1].MostSevere | Should -Be 'KnownMalicious'
        $r[1].HasDefinitiveReputation | Should -BeTrue

        $r[2].Sha256 | Should -BeExactly $Seed.UnknownSha256
        $r[2].Gti | Should -Be 'Unknown'
        $r[2].HasDefinitiveReputation | Should -BeFalse
        $B.TieRequests - $before | Should -Be 3
    }

    It 'accepts upper-case hashes and reports them in lower case' {
        $r = Get-TieFileReputation -Hash $Seed.NotepadSha256.ToUpperInvariant() -ErrorAction Stop
        $r.Sha256 | Should -BeExactly $Seed.NotepadSha256
        $r.MostSevere | Should -Be 'KnownTrusted'
    }

    It 'takes -Hash with -Algorithm' {
        $r = @(Get-TieFileReputation -Hash $Seed.EicarSha1, $Seed.NotepadSha1 -Algorithm SHA1 -ErrorAction Stop)
        $r.Count | Should -Be 2
        $r[0].Sha1 | Should -BeExactly $Seed.EicarSha1
        $r[0].MostSevere | Should -Be 'KnownMalicious'
        $r[1].Sha1 | Should -BeExactly $Seed.NotepadSha1
        $r[1].MostSevere | Should -Be 'KnownTrusted'
    }

    It 'rejects a hash whose length does not fit -Algorithm, and an algorithm TIE does not know' {
        $r = Get-TieFileReputation -Hash $Seed.NotepadMd5 -Algorithm SHA256 -ErrorAction SilentlyContinue -ErrorVariable err
        $r | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidHash,TieDxl.Commands.Tie.GetTieFileReputationCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -Be $Seed.NotepadMd5

        $r = Get-TieFileReputation -Hash ('ab' * 64) -Algorithm SHA512 -ErrorAction SilentlyContinue -ErrorVariable err2
        $r | Should -BeNullOrEmpty
        $err2.Count | Should -Be 1
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedAlgorithm,*'
        $err2[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'completes -Algorithm with the hash types TIE knows' {
        $line = 'Get-TieFileReputation -Hash x -Algorithm SH'
        $c = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        @($c.CompletionMatches.CompletionText) | Should -Be @('SHA256', 'SHA1')
    }

    It 'sends -Md5, -Sha1 and -Sha256 together as one file' {
        $before = $B.TieRequests
        $r = @(Get-TieFileReputation -Md5 $Seed.EicarMd5 -Sha1 $Seed.EicarSha1 -Sha256 $Seed.EicarSha256 -ErrorAction Stop)
        $r.Count | Should -Be 1
        $r[0].Md5 | Should -BeExactly $Seed.EicarMd5
        $r[0].Sha1 | Should -BeExactly $Seed.EicarSha1
        $r[0].Sha256 | Should -BeExactly $Seed.EicarSha256
        $r[0].MostSevere | Should -Be 'KnownMalicious'
        $r[0].Gti | Should -Be 'KnownMalicious'
        $B.TieRequests - $before | Should -Be 1
    }

    It 'takes hashtables (md5/sha1/sha256, hash with algorithm, name) and refuses a sha512 key' {
        $tables = @(
            @{ md5 = $Seed.NotepadMd5; sha256 = $Seed.NotepadSha256; name = 'notepad.exe' }
            @{ Hash = $Seed.EicarSha1; Algorithm = 'SHA1'; Path = '/opt/samples/eicar.com' }
            @{ sha512 = 'ab' * 64 }
            @{ SHA1 = $Seed.UnknownSha1 }
        )
        $r = @($tables | Get-TieFileReputation -ErrorAction SilentlyContinue -ErrorVariable err)
        $r.Count | Should -Be 3
        $r[0].Name | Should -Be 'notepad.exe'
        $r[0].Md5 | Should -BeExactly $Seed.NotepadMd5
        $r[0].Sha256 | Should -BeExactly $Seed.NotepadSha256
        $r[0].MostSevere | Should -Be 'KnownTrusted'
        $r[1].Sha1 | Should -BeExactly $Seed.EicarSha1
        $r[1].Path | Should -Be '/opt/samples/eicar.com'
        $r[1].Name | Should -Be 'eicar.com'
        $r[1].MostSevere | Should -Be 'KnownMalicious'
        $r[2].Sha1 | Should -BeExactly $Seed.UnknownSha1
        $r[2].Gti | Should -Be 'Unknown'
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedAlgorithm,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -BeOfType [hashtable]
    }

    It 'takes Get-FileHash output with <_>' -ForEach 'MD5', 'SHA1', 'SHA256' {
        $algorithm = $_
        $h = Get-FileHash -LiteralPath $EicarFile -Algorithm $algorithm
        $r = @($h | Get-TieFileReputation -ErrorAction Stop)
        $r.Count | Should -Be 1
        $expected = @{ MD5 = $Seed.EicarMd5; SHA1 = $Seed.EicarSha1; SHA256 = $Seed.EicarSha256 }[$algorithm]
        $r[0].$algorithm | Should -BeExactly $expected
        foreach ($other in @('MD5', 'SHA1', 'SHA256') -ne $algorithm) { $r[0].$other | Should -BeNullOrEmpty }
        $r[0].MostSevere | Should -Be 'KnownMalicious'
        $r[0].Path | Should -Be $EicarFile
        $r[0].Name | Should -Be 'eicar.com'
    }

    It 'hashes Get-ChildItem files itself (MD5, SHA1 and SHA256 as Get-FileHash computes them)' {
        $files = @(Get-ChildItem -LiteralPath $FilesDir -File)
        $files.Count | Should -Be 3
        $r = @($files | Get-TieFileReputation -ErrorAction Stop)
        $r.Count | Should -Be 3
        for ($i = 0; $i -lt 3; $i++) {
            $f = $files[$i]
            $r[$i].Path | Should -Be $f.FullName
            $r[$i].Name | Should -Be $f.Name
            $r[$i].Md5 | Should -BeExactly (Get-FileHash -LiteralPath $f.FullName -Algorithm MD5).Hash.ToLowerInvariant()
            $r[$i].Sha1 | Should -BeExactly (Get-FileHash -LiteralPath $f.FullName -Algorithm SHA1).Hash.ToLowerInvariant()
            $r[$i].Sha256 | Should -BeExactly (Get-FileHash -LiteralPath $f.FullName -Algorithm SHA256).Hash.ToLowerInvariant()
        }
        ($r | Where-Object Name -EQ 'eicar.com').MostSevere | Should -Be 'KnownMalicious'
        ($r | Where-Object Name -EQ 'eicar.com').Sha256 | Should -BeExactly $Seed.EicarSha256
        # Files TIE never saw: only the Enterprise NotSet entry, no verdict.
        ($r | Where-Object Name -EQ 'random.bin').HasDefinitiveReputation | Should -BeFalse
        ($r | Where-Object Name -EQ 'random.bin').Enterprise | Should -Be 'NotSet'
    }

    It 'takes -Path with wildcards and -LiteralPath' {
        $r = @(Get-TieFileReputation -Path (Join-Path $FilesDir 'eic*') -ErrorAction Stop)
        $r.Count | Should -Be 1
        $r[0].Sha256 | Should -BeExactly $Seed.EicarSha256
        $r[0].MostSevere | Should -Be 'KnownMalicious'
        $r = @(Get-TieFileReputation -LiteralPath $TextFile, $EicarFile -ErrorAction Stop)
        $r.Count | Should -Be 2
        $r[0].Sha256 | Should -BeExactly (Get-FileHash -LiteralPath $TextFile).Hash.ToLowerInvariant()
        $r[1].Name | Should -Be 'eicar.com'
    }

    It 'reports a missing -Path and -LiteralPath as FileNotFound (ObjectNotFound)' {
        $missing = Join-Path $TestDrive 'no-such-file.exe'
        $r = Get-TieFileReputation -Path $missing -ErrorAction SilentlyContinue -ErrorVariable e1
        $r | Should -BeNullOrEmpty
        $e1.Count | Should -Be 1
        $e1[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        $e1[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $r = Get-TieFileReputation -LiteralPath $missing -ErrorAction SilentlyContinue -ErrorVariable e2
        $r | Should -BeNullOrEmpty
        $e2.Count | Should -Be 1
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        $e2[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'keeps going after bad items: each is one error with the right id and category, every good item is output in order' {
        $items = @(
            $Seed.NotepadSha256
            'not-a-hash'
            (Get-FileHash -LiteralPath $EicarFile -Algorithm SHA512)
            [IO.FileInfo](Join-Path $TestDrive 'missing.exe')
            (Get-Item -LiteralPath $SubDir)
            $Seed.EicarMd5
            (Get-Item -LiteralPath $EicarFile)
            ('0' * 63)
            $Seed.UnknownSha1
        )
        $r = @($items | Get-TieFileReputation -ErrorAction SilentlyContinue -ErrorVariable err)
        $r.Count | Should -Be 4
        $r[0].Sha256 | Should -BeExactly $Seed.NotepadSha256
        $r[0].MostSevere | Should -Be 'KnownTrusted'
        $r[1].Md5 | Should -BeExactly $Seed.EicarMd5
        $r[1].MostSevere | Should -Be 'KnownMalicious'
        $r[2].Path | Should -Be $EicarFile
        $r[2].Sha256 | Should -BeExactly $Seed.EicarSha256
        $r[3].Sha1 | Should -BeExactly $Seed.UnknownSha1

        $err.Count | Should -Be 5
        @($err | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }) |
            Should -Be @('InvalidHash', 'UnsupportedAlgorithm', 'FileNotFound', 'PathIsDirectory', 'InvalidHash')
        @($err | ForEach-Object { "$($_.CategoryInfo.Category)" }) |
            Should -Be @('InvalidArgument', 'InvalidArgument', 'ObjectNotFound', 'InvalidArgument', 'InvalidArgument')
        @($err | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[1] }) | Should -Be (@('TieDxl.Commands.Tie.GetTieFileReputationCommand') * 5)
        "$($err[0].TargetObject)" | Should -Be 'not-a-hash'
        $err[1].TargetObject.Algorithm | Should -Be 'SHA512'
        $err[1].Exception.Message | Should -Match 'SHA512'
        $err[2].Exception.Message | Should -Match 'missing\.exe'
        $err[3].Exception.Message | Should -Match 'directory'
    }

    It 'sums up in a verbose line and takes -Session by name' {
        $v = @($Seed.NotepadMd5, 'bad', $Seed.EicarSha1 | Get-TieFileReputation -Session "get-$Kind" -Verbose -ErrorAction SilentlyContinue 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        "$($v[-1])" | Should -Match '^Get-TieFileReputation: 3 item\(s\), 1 failed'
        { Get-TieFileReputation -Hash $Seed.NotepadMd5 -Session 'no-such-session' } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,*'
    }

    It 'reports unusable input ($null, a number, an object without hashes or path) as InvalidInput' {
        $r = @($null, 42, [pscustomobject]@{ Foo = 1 }, $Seed.EicarMd5 | Get-TieFileReputation -ErrorAction SilentlyContinue -ErrorVariable err)
        $r.Count | Should -Be 1
        $r[0].MostSevere | Should -Be 'KnownMalicious'
        $err.Count | Should -Be 3
        @($err.FullyQualifiedErrorId) | Should -Be (@('InvalidInput,TieDxl.Commands.Tie.GetTieFileReputationCommand') * 3)
        @($err | ForEach-Object { "$($_.CategoryInfo.Category)" }) | Should -Be (@('InvalidArgument') * 3)
        $err[1].Exception.Message | Should -Match 'Int32'
    }

    It 'reports what TIE cannot find as TieReputationNotFound (ObjectNotFound) and goes on' {
        $r = @(('0' * 64), $Seed.NotepadSha1, @{ md5 = $Seed.NotepadMd5; sha256 = $Seed.EicarSha256 } |
                Get-TieFileReputation -ErrorAction SilentlyContinue -ErrorVariable err)
        $r.Count | Should -Be 1
        $r[0].Sha1 | Should -BeExactly $Seed.NotepadSha1
        $err.Count | Should -Be 2
        @($err.FullyQualifiedErrorId) | Should -Be (@('TieReputationNotFound,TieDxl.Commands.Tie.GetTieFileReputationCommand') * 2)
        @($err | ForEach-Object { "$($_.CategoryInfo.Category)" }) | Should -Be @('ObjectNotFound', 'ObjectNotFound')
    }

    It 'reports a TIE that does not answer (TieRequestTimeout), answers garbage (TieMalformedResponse) or an error (TieServiceError) per item' {
        $hashes = $Seed.NotepadMd5, $Seed.EicarMd5, $Seed.UnknownMd5
        try {
            $B.Simulator.Mode = 'NoReply'
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $r1 = @($hashes | Get-TieFileReputation -NoCache -TimeoutSec 2 -ErrorAction SilentlyContinue -ErrorVariable e1)
            $sw.Stop()
            $B.Simulator.Mode = 'Garbage'
            $r2 = @($hashes | Get-TieFileReputation -NoCache -TimeoutSec 5 -ErrorAction SilentlyContinue -ErrorVariable e2)
            $B.Simulator.ErrorCode = 12
            $B.Simulator.Mode = 'Error'
            $r3 = @($hashes | Get-TieFileReputation -NoCache -TimeoutSec 5 -ErrorAction SilentlyContinue -ErrorVariable e3)
        }
        finally { $B.Simulator.Mode = 'Normal' }
        $r1.Count + $r2.Count + $r3.Count | Should -Be 0
        @($e1.FullyQualifiedErrorId) | Should -Be (@('TieRequestTimeout,TieDxl.Commands.Tie.GetTieFileReputationCommand') * 3)
        @($e1 | ForEach-Object { "$($_.CategoryInfo.Category)" }) | Should -Be (@('OperationTimeout') * 3)
        "$($e1[1].TargetObject)" | Should -Match $Seed.EicarMd5
        # One after another they would take 6 s.
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'the three lookups wait at the same time'
        @($e2.FullyQualifiedErrorId) | Should -Be (@('TieMalformedResponse,TieDxl.Commands.Tie.GetTieFileReputationCommand') * 3)
        @($e2 | ForEach-Object { "$($_.CategoryInfo.Category)" }) | Should -Be (@('InvalidResult') * 3)
        @($e3.FullyQualifiedErrorId) | Should -Be (@('TieServiceError,TieDxl.Commands.Tie.GetTieFileReputationCommand') * 3)
        $e3[0].Exception.Message | Should -Match 'error 12'
        # And it works again.
        (Get-TieFileReputation -Hash $Seed.EicarMd5 -ErrorAction Stop).MostSevere | Should -Be 'KnownMalicious'
    }

    It 'keeps input order over 200 inputs with -ThrottleLimit 16, one request per distinct file' {
        $inputs = for ($i = 0; $i -lt 200; $i++) {
            switch ($i % 10) {
                0 { $Seed.NotepadSha256 }
                5 { $Seed.EicarMd5 }
                default { New-TieTestHash -Bytes 32 }
            }
        }
        $before = $B.TieRequests
        $r = @($inputs | Get-TieFileReputation -ThrottleLimit 16 -NoCache -ErrorAction Stop)
        # One request per distinct file: the 20 copies of notepad.exe and of EICAR share one each (issue 16).
        $B.TieRequests - $before | Should -Be 162
        $r.Count | Should -Be 200
        $outOfPlace = @(for ($i = 0; $i -lt 200; $i++) {
                $got = if ($i % 10 -eq 5) { $r[$i].Md5 } else { $r[$i].Sha256 }
                if ($got -cne $inputs[$i]) { $i }
            })
        $outOfPlace | Should -BeNullOrEmpty -Because 'result i must answer input i'
        @($r | Where-Object MostSevere -EQ 'KnownMalicious').Count | Should -Be 20
        @($r | Where-Object MostSevere -EQ 'KnownTrusted').Count | Should -Be 20
    }

    It 'stops a 100,000-hash pipeline within seconds (Ctrl+C)' {
        $inputs = @($Seed.NotepadSha256, $Seed.EicarMd5) * 50000
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $Session, $Hashes)
                    Import-Module $ModulePath
                    $Hashes | Get-TieFileReputation -Session $Session -ThrottleLimit 8
                }).AddArgument($ModulePath).AddArgument($B.Session).AddArgument($inputs)
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $null = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output)
            Wait-TieCondition { $output.Count -ge 20 } -TimeoutSec 60 | Should -BeTrue -Because 'the lookups should be running'
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
            $output.Count | Should -BeLessThan 100000
            $output[0].Sha256 | Should -BeExactly $Seed.NotepadSha256
            $output[1].Md5 | Should -BeExactly $Seed.EicarMd5
        }
        finally { $ps.Dispose() }
        # The session is still usable afterwards.
        (Get-TieFileReputation -Hash $Seed.EicarSha256 -Session $B.Session -ErrorAction Stop).MostSevere | Should -Be 'KnownMalicious'
    }

    It 'renders the default table at 120 columns (Name, MostSevere, Decided, Hash)' {
        $r = @(
            @{ md5 = $Seed.NotepadMd5; sha1 = $Seed.NotepadSha1; sha256 = $Seed.NotepadSha256; name = 'notepad.exe' }
            @{ sha256 = $Seed.EicarSha256; name = 'eicar.com' }
        ) | Get-TieFileReputation -ErrorAction Stop
        $text = $r | Out-String -Width 120
        $lines = @($text -split "`r?`n" | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^Name\s+MostSevere\s+By\s+Decided\s+External\s+Hash\s*$'
        $lines[1] | Should -Match '^-+\s+-+'
        $lines[2] | Should -Match '^notepad\.exe\s+KnownTrusted\s+GTI\s+yes\s+-\s+SHA256:142e1d688ef0'
        $lines[3] | Should -Match '^eicar\.com\s+KnownMalicious\s+GTI\s+yes\s+-\s+SHA256:275a021bbfb6'
        foreach ($l in $lines) { $l.Length | Should -BeLessOrEqual 120 }
        foreach ($h in 'Name', 'MostSevere', 'Decided', 'Hash') { $lines[0] | Should -Match "\b$h\b" }
    }

    It 'converts to JSON with Sha256 and MostSevere' {
        $r = Get-TieFileReputation -Sha256 $Seed.EicarSha256 -Md5 $Seed.EicarMd5 -ErrorAction Stop
        $json = $r | ConvertTo-Json -Depth 6 -WarningAction Stop
        $o = $json | ConvertFrom-Json
        $o.Sha256 | Should -BeExactly $Seed.EicarSha256
        $o.Md5 | Should -BeExactly $Seed.EicarMd5
        $o.MostSevere | Should -Be 1
        $o.MostSevereProvider | Should -Be 'GTI'
        @($o.Reputations.ProviderId) | Should -Contain 1
        $o.PSObject.Properties.Name | Should -Not -Contain 'Result'
        $s = ($r | ConvertTo-Json -Depth 6 -EnumsAsStrings -WarningAction Stop) | ConvertFrom-Json
        $s.MostSevere | Should -Be 'KnownMalicious'
        $s.Gti | Should -Be 'KnownMalicious'
    }

    It 'exports to CSV with Sha256 and MostSevere, one row per file' {
        $csv = Join-Path $TestDrive "rep-$Kind.csv"
        $Seed.NotepadSha256, $Seed.EicarSha256, $Seed.UnknownSha256 | Get-TieFileReputation -ErrorAction Stop | Export-Csv -LiteralPath $csv
        $rows = @(Import-Csv -LiteralPath $csv)
        $rows.Count | Should -Be 3
        $rows[0].PSObject.Properties.Name | Should -Contain 'Sha256'
        $rows[0].PSObject.Properties.Name | Should -Contain 'MostSevere'
        $rows.Sha256 | Should -Be @($Seed.NotepadSha256, $Seed.EicarSha256, $Seed.UnknownSha256)
        $rows.MostSevere | Should -Be @('KnownTrusted', 'KnownMalicious', 'Unknown')
        $rows[2].HasDefinitiveReputation | Should -Be 'False'
        # Import-Csv output goes back in: objects with Md5/Sha1/Sha256 properties.
        $again = @($rows | Get-TieFileReputation -ErrorAction Stop)
        $again.MostSevere | Should -Be @('KnownTrusted', 'KnownMalicious', 'Unknown')
    }
}

Describe 'Get-TieFileReputation without a session' {
    It 'stops with DxlNotConnected (ConnectionError)' {
        @(Get-DxlSession).Count | Should -Be 0
        $e = { Get-TieFileReputation -Hash $Seed.NotepadMd5 } | Should -Throw -ErrorId 'DxlNotConnected,TieDxl.Commands.Tie.GetTieFileReputationCommand' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ConnectionError'
    }
}
