# Start-DxlTestFabric, Stop-DxlTestFabric and Test-DxlFabric: the embedded fabric's life cycle, options and counters,
# and the step-by-step connection check against the embedded fabric, a real mosquitto over mutual TLS (TIE simulator
# hosted in this pwsh), and configurations that must fail (wrong CA, closed port, no config).
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $module = Import-Module $ModulePath -PassThru -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:Seed = Get-TieSeed
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null
    $script:AllSteps = @('Configuration', 'TCP', 'TLS', 'MQTT connect', 'Reply topic', 'Service registered', 'Sample request')

    # A copy of a config folder whose CA file is another CA's: the broker certificate no longer verifies.
    function script:New-WrongCaConfig([string] $ConfigPath, [string] $Name) {
        $dir = Join-Path $TestDrive $Name
        $null = New-Item -ItemType Directory -Path $dir
        Copy-Item -Path (Join-Path (Split-Path $ConfigPath) '*') -Destination $dir
        $other = [TieDxl.Fabric.Pki.DxlTestPki]::Create()
        try { $other.Ca.WriteCertificate((Join-Path $dir ([TieDxl.Fabric.Pki.DxlTestPki]::CaFileName))) } finally { $other.Dispose() }
        Join-Path $dir (Split-Path -Leaf $ConfigPath)
    }
}

AfterAll {
    Stop-DxlTestFabric -Confirm:$false -ErrorAction SilentlyContinue
    Get-DxlSession | Disconnect-DxlFabric
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Start-DxlTestFabric and Stop-DxlTestFabric' {
    BeforeAll {
        $script:Info = Start-DxlTestFabric -ErrorAction Stop
    }

    AfterAll {
        Stop-DxlTestFabric -Confirm:$false -ErrorAction SilentlyContinue
    }

    It 'starts a fabric with a TIE simulator and a connected default session named TestFabric' {
        $Info | Should -BeOfType [TieDxl.DxlTestFabricInfo]
        $Info.TieSimulator | Should -BeTrue
        $Info.Port | Should -BeGreaterThan 0
        $Info.Broker | Should -Be "ssl://127.0.0.1:$($Info.Port)"
        $Info.ConfigPath | Should -Exist
        $Info.Session.Name | Should -Be 'TestFabric'
        $Info.Session.State | Should -Be 'Connected'
        $Info.Session.ConfigPath | Should -Be $Info.ConfigPath
        (Get-DxlSession -Default).Id | Should -Be $Info.Session.Id
        (Get-Content -Raw -LiteralPath $Info.ConfigPath) | Should -Match ";$($Info.Port);127\.0\.0\.1"
    }

    It 'counts the TIE requests and External reports its simulator handled' {
        $requests = $Info.TieRequests
        $reports = $Info.ExternalReports
        $null = Get-TieFileReputation -Hash $Seed.NotepadMd5, $Seed.EicarMd5 -ErrorAction Stop
        $Info.TieRequests - $requests | Should -Be 2
        $Info.ExternalReports | Should -Be $reports
        $r = Set-TieExternalReputation -Sha256 (New-TieTestHash) -FileName x.exe -FileType PeExe -TrustLevel MightBeMalicious -Verify -PassThru -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop
        $r.Verified | Should -BeTrue
        $Info.ExternalReports - $reports | Should -Be 1
    }

    It 'lets Connect-DxlFabric use its dxlclient.config' {
        $s = Connect-DxlFabric -ConfigPath $Info.ConfigPath -Name second -PassThru -TimeoutSec 30 -ErrorAction Stop
        try {
            $s.State | Should -Be 'Connected'
            (Get-TieFileReputation -Hash $Seed.EicarSha1 -Session $s -ErrorAction Stop).MostSevere | Should -Be 'KnownMalicious'
        }
        finally { $s | Disconnect-DxlFabric }
    }

    It 'counts a script that exits without Disconnect-DxlFabric as a clean goodbye, its reports applied; a killed pwsh as abrupt' {
        $clean = $Info.CleanDisconnects
        $abrupt = $Info.AbruptDisconnects
        $reports = $Info.ExternalReports
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $script = Join-Path $PSScriptRoot 'Scripts/Send-ReportsWithoutDisconnect.ps1'
        $base = Get-Random -Minimum 1000000 -Maximum 2000000000
        $sent = & $pwsh -NoProfile -NonInteractive -File $script -ModulePath $ModulePath -ConfigPath $Info.ConfigPath -Base $base -Count 200 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$sent"
        "$sent" | Should -Be '200'
        Wait-TieCondition { $Info.CleanDisconnects -gt $clean } -TimeoutSec 20 | Should -BeTrue -Because 'the session said goodbye at exit'
        Wait-TieCondition { $Info.ExternalReports - $reports -ge 200 } -TimeoutSec 20 | Should -BeTrue
        $Info.ExternalReports - $reports | Should -Be 200
        $Info.AbruptDisconnects | Should -Be $abrupt

        # The counter that tells them apart: a pwsh killed while connected (once Connect-DxlFabric has returned).
        $marker = Join-Path $TestDrive 'connected.txt'
        $killed = Start-Process -FilePath $pwsh -PassThru -ArgumentList '-NoProfile', '-NonInteractive', '-Command',
            "Import-Module '$ModulePath'; Connect-DxlFabric -ConfigPath '$($Info.ConfigPath)' -ErrorAction Stop; Set-Content '$marker' ok; Start-Sleep -Seconds 60"
        try {
            Wait-TieCondition { Test-Path $marker } -TimeoutSec 30 | Should -BeTrue
        }
        finally { $killed.Kill($true); $null = $killed.WaitForExit(10000) }
        Wait-TieCondition { $Info.AbruptDisconnects -gt $abrupt } -TimeoutSec 20 | Should -BeTrue
        $Info.CleanDisconnects | Should -Be ($clean + 1)
    }

    It 'refuses a second fabric in the same runspace' {
        $e = { Start-DxlTestFabric -Name other } | Should -Throw -ErrorId 'DxlTestFabricRunning,TieDxl.Commands.StartDxlTestFabricCommand' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ResourceExists'
        $e.TargetObject | Should -Be $Info.ConfigPath
        $Info.Session.State | Should -Be 'Connected'
    }

    It 'keeps running under Stop-DxlTestFabric -WhatIf' {
        Stop-DxlTestFabric -WhatIf
        $Info.Session.State | Should -Be 'Connected'
        (Get-TieFileReputation -Hash $Seed.NotepadSha1 -Session $Info.Session -ErrorAction Stop).MostSevere | Should -Be 'KnownTrusted'
    }

    It 'stops: the session is closed and removed, the broker gone, the temporary folder deleted; a second stop is a no-op' {
        $folder = Split-Path $Info.ConfigPath
        $port = $Info.Port
        Stop-DxlTestFabric -Confirm:$false -ErrorAction Stop
        $Info.Session.State | Should -Be 'Closed'
        @(Get-DxlSession).Count | Should -Be 0
        $folder | Should -Not -Exist
        $probe = [System.Net.Sockets.TcpClient]::new()
        try { { $probe.Connect([System.Net.IPAddress]::Loopback, $port) } | Should -Throw } finally { $probe.Dispose() }
        { Get-TieFileReputation -Hash $Seed.NotepadMd5 -Session $Info.Session } | Should -Throw -ErrorId 'DxlNotConnected,*'
        { Stop-DxlTestFabric -Confirm:$false -ErrorAction Stop } | Should -Not -Throw
    }
}

Describe 'The test fabric goes down with its runspace and with the module' {
    BeforeAll {
        # Is anything listening on the port? Bounded: a refused connect returns at once on loopback.
        function script:Test-Listening([int] $Port) {
            $probe = [System.Net.Sockets.TcpClient]::new()
            try { $probe.Connect([System.Net.IPAddress]::Loopback, $Port); $true } catch { $false } finally { $probe.Dispose() }
        }
        function script:Wait-Gone([string] $Folder, [int] $Port) {
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while (((Test-Path -LiteralPath $Folder) -or (Test-Listening $Port)) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        }
    }

    It 'closing the runspace that started it stops the broker and deletes its folder with the private keys' {
        $rs = [runspacefactory]::CreateRunspace()
        $rs.Open()
        $ps = [powershell]::Create()
        $ps.Runspace = $rs
        $info = $ps.AddScript("Import-Module '$ModulePath'; Start-DxlTestFabric -ErrorAction Stop").Invoke() | Select-Object -First 1
        $ps.Dispose()
        $folder = Split-Path $info.ConfigPath
        $port = $info.Port
        $folder | Should -Exist
        Test-Listening $port | Should -BeTrue
        $rs.Dispose()
        Wait-Gone $folder $port
        $folder | Should -Not -Exist -Because 'the throwaway keys must not outlive the runspace'
        Test-Listening $port | Should -BeFalse -Because 'the broker must stop with its runspace'
    }

    It 'Remove-Module stops the fabric of the runspace that removes it' {
        $rs = [runspacefactory]::CreateRunspace()
        $rs.Open()
        try {
            $ps = [powershell]::Create()
            $ps.Runspace = $rs
            $info = $ps.AddScript("Import-Module '$ModulePath'; Start-DxlTestFabric -ErrorAction Stop").Invoke() | Select-Object -First 1
            $ps.Commands.Clear()
            $null = $ps.AddScript('Remove-Module TieDxl').Invoke()
            $ps.Dispose()
            $folder = Split-Path $info.ConfigPath
            Wait-Gone $folder $info.Port
            $folder | Should -Not -Exist
            Test-Listening $info.Port | Should -BeFalse
            $info.Session.State | Should -Be 'Closed'
        }
        finally { $rs.Dispose() }
    }
}

Describe 'Start-DxlTestFabric options' {
    AfterEach {
        Stop-DxlTestFabric -Confirm:$false -ErrorAction SilentlyContinue
        Get-DxlSession | Disconnect-DxlFabric
    }

    It 'loads -SeedPath, uses -Port, -Name and -OutputFolder (kept after stop)' {
        $seedFile = Join-Path $TestDrive 'seed.json'
        $sha256 = New-TieTestHash -Bytes 32
        @"
{
  // a file known only to this fabric
  "files": [
    { "name": "seeded.exe", "hashes": { "sha256": "$sha256" },
      "reputations": [ { "providerId": 1, "trustLevel": 15, "createDate": 1451502875 } ], },
  ],
}
"@ | Set-Content -LiteralPath $seedFile
        $port = Get-FreeLoopbackPort
        $out = Join-Path $TestDrive 'fabric-out'
        $info = Start-DxlTestFabric -SeedPath $seedFile -Port $port -Name seeded -OutputFolder $out -ErrorAction Stop
        $info.Port | Should -Be $port
        $info.Session.Name | Should -Be 'seeded'
        $info.ConfigPath | Should -Be (Join-Path $out 'dxlclient.config')
        $r = Get-TieFileReputation -Hash $sha256 -ErrorAction Stop
        $r.Gti | Should -Be 'MostLikelyMalicious'
        $r.MostSevere | Should -Be 'MostLikelyMalicious'
        # The built-in seed is still there.
        (Get-TieFileReputation -Hash $Seed.EicarSha256 -ErrorAction Stop).MostSevere | Should -Be 'KnownMalicious'
        Stop-DxlTestFabric -Confirm:$false
        Join-Path $out 'dxlclient.config' | Should -Exist
    }

    It 'adds -ResponseDelayMs to every TIE answer' {
        $null = Start-DxlTestFabric -ResponseDelayMs 800 -ErrorAction Stop
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        $null = Get-TieFileReputation -Hash $Seed.NotepadMd5 -ErrorAction Stop
        $sw.Stop()
        $sw.Elapsed.TotalMilliseconds | Should -BeGreaterOrEqual 790
        # Concurrent lookups overlap their delays: one after another they would take 6.4 s.
        $sw.Restart()
        $r = @(1..8 | ForEach-Object { New-TieTestHash } | Get-TieFileReputation -ThrottleLimit 8 -ErrorAction Stop)
        $sw.Stop()
        $r.Count | Should -Be 8
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 4
    }

    It 'refuses a missing -SeedPath (DxlSeedFileNotFound) and a -Name already in use, starting nothing' {
        $missing = Join-Path $TestDrive 'no-seed.json'
        $e = { Start-DxlTestFabric -SeedPath $missing } | Should -Throw -ErrorId 'DxlSeedFileNotFound,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.TargetObject | Should -Be $missing
        { Start-DxlTestFabric -NoTieSimulator -SeedPath $missing } | Should -Throw -ErrorId 'DxlSeedWithoutSimulator,*'
        @(Get-DxlSession).Count | Should -Be 0
        $info = Start-DxlTestFabric -Name busy -ErrorAction Stop
        $info | Should -Not -BeNullOrEmpty
        Stop-DxlTestFabric -Confirm:$false
        $other = Start-DxlTestFabric -Name first -ErrorAction Stop
        try {
            $s2 = Connect-DxlFabric -ConfigPath $other.ConfigPath -Name taken -PassThru -ErrorAction Stop
            Stop-DxlTestFabric -Confirm:$false
            { Start-DxlTestFabric -Name taken } | Should -Throw -ErrorId 'DxlSessionNameInUse,*'
        }
        finally { Get-DxlSession | Disconnect-DxlFabric }
    }
}

Describe 'Test-DxlFabric against the embedded fabric' {
    BeforeAll {
        $script:Info = Start-DxlTestFabric -Name check -ErrorAction Stop
    }

    AfterAll {
        Stop-DxlTestFabric -Confirm:$false -ErrorAction SilentlyContinue
    }

    It 'checks the current session''s config when given no arguments' {
        # Right after Start-DxlTestFabric: its session is the default, and no TIEDXL_CONFIG is set.
        $env:TIEDXL_CONFIG | Should -BeNullOrEmpty
        $requests = $Info.TieRequests
        $steps = @(Test-DxlFabric -ErrorAction Stop)
        @($steps | Where-Object Status -EQ 'Passed').Count | Should -Be 7
        $Info.TieRequests - $requests | Should -Be 1
    }

    It 'passes every step, the sample request reaching the simulator' {
        $requests = $Info.TieRequests
        $steps = @(Test-DxlFabric -ConfigPath $Info.ConfigPath -WarningVariable w -ErrorAction Stop)
        $steps.Count | Should -Be 7
        $steps[0] | Should -BeOfType [TieDxl.Dxl.Client.DxlCheckStep]
        @($steps.Name) | Should -Be $AllSteps
        @($steps.Step) | Should -Be (1..7)
        @($steps | Where-Object Status -NE 'Passed') | Should -BeNullOrEmpty
        ($steps | Where-Object Name -EQ 'Service registered').Detail | Should -Match '1 instance'
        ($steps | Where-Object Name -EQ 'Sample request').Detail | Should -Match 'TIE answered'
        $Info.TieRequests - $requests | Should -Be 1
        $w.Count | Should -Be 0
    }

    It 'answers $true with -Quiet, checks an open session''s config, and skips TIE with -SkipTie' {
        Test-DxlFabric -ConfigPath $Info.ConfigPath -Quiet | Should -BeExactly $true
        $s = Connect-DxlFabric -ConfigPath $Info.ConfigPath -Name fromconfig -PassThru -ErrorAction Stop
        try {
            @(Test-DxlFabric -Session fromconfig -ErrorAction Stop | Where-Object Status -EQ 'Passed').Count | Should -Be 7
        }
        finally { $s | Disconnect-DxlFabric }
        $steps = @(Test-DxlFabric -ConfigPath $Info.ConfigPath -SkipTie -ErrorAction Stop)
        @($steps.Name) | Should -Be $AllSteps[0..4]
        @($steps.Status | Select-Object -Unique) | Should -Be 'Passed'
    }

    It 'uses $env:TIEDXL_CONFIG when no -ConfigPath is given and no session is open, and says so when neither is' {
        # A runspace of its own has no session.
        $rs = [runspacefactory]::CreateRunspace()
        $rs.Open()
        try {
            $ps = [powershell]::Create()
            $ps.Runspace = $rs
            $null = $ps.AddScript({
                    param($module, $config)
                    Import-Module $module -ErrorAction Stop
                    $env:TIEDXL_CONFIG = $config
                    try { Test-DxlFabric -Quiet -SkipTie } finally { $env:TIEDXL_CONFIG = $null }
                    try { Test-DxlFabric -ErrorAction Stop } catch { $_ }
                }).AddArgument($ModulePath).AddArgument($Info.ConfigPath)
            $out = $ps.Invoke()
            $ps.Dispose()
        }
        finally { $rs.Dispose() }
        $out[0] | Should -BeExactly $true
        $e = $out[1]
        $e.FullyQualifiedErrorId | Should -Be 'DxlConfigNotSpecified,TieDxl.Commands.TestDxlFabricCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'fails at TLS for a config whose CA is wrong, skipping the rest' {
        $bad = New-WrongCaConfig $Info.ConfigPath 'wrong-ca-fabric'
        $steps = @(Test-DxlFabric -ConfigPath $bad -TimeoutSec 5 -WarningVariable w -WarningAction SilentlyContinue -ErrorAction Stop)
        @($steps.Name) | Should -Be $AllSteps
        @($steps.Status) | Should -Be @('Passed', 'Passed', 'Failed', 'Skipped', 'Skipped', 'Skipped', 'Skipped')
        $steps[2].Detail | Should -Not -BeNullOrEmpty
        $w.Count | Should -Be 1
        "$($w[0])" | Should -Match 'Step 3 \(TLS\) failed'
        Test-DxlFabric -ConfigPath $bad -TimeoutSec 5 -Quiet -WarningAction SilentlyContinue | Should -BeExactly $false
    }

    It 'fails at TCP for a closed port' {
        $dir = Join-Path $TestDrive 'closed-port'
        $null = New-Item -ItemType Directory -Path $dir
        Copy-Item -Path (Join-Path (Split-Path $Info.ConfigPath) '*') -Destination $dir
        $port = Get-FreeLoopbackPort
        $cfg = Join-Path $dir 'dxlclient.config'
        (Get-Content -Raw -LiteralPath $cfg) -replace ";$($Info.Port);", ";$port;" | Set-Content -LiteralPath $cfg
        $steps = @(Test-DxlFabric -ConfigPath $cfg -TimeoutSec 5 -WarningAction SilentlyContinue -ErrorAction Stop)
        @($steps.Status)[0..2] | Should -Be @('Passed', 'Failed', 'Skipped')
        $steps[1].Name | Should -Be 'TCP'
    }

    It 'renders its steps as a table' {
        $text = Test-DxlFabric -ConfigPath $Info.ConfigPath -SkipTie | Out-String -Width 120
        $lines = @($text -split "`r?`n" | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^Step\s+Name\s+Status\s+Detail'
        $lines[2] | Should -Match '^\s*1\s+Configuration\s+Passed\s'
    }
}

Describe 'Test-DxlFabric against mosquitto' {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind Mosquitto -Name mosq-check
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'passes, with a warning at the service registry (mosquitto has none) and the sample request answered' {
        $requests = $B.TieRequests
        $steps = @(Test-DxlFabric -ConfigPath $B.ConfigPath -TimeoutSec 2 -WarningVariable w -ErrorAction Stop)
        @($steps.Name) | Should -Be $AllSteps
        @($steps.Status) | Should -Be @('Passed', 'Passed', 'Passed', 'Passed', 'Passed', 'Warning', 'Passed')
        $steps[5].Detail | Should -Match 'not an OpenDXL broker'
        $B.TieRequests - $requests | Should -Be 1
        $w.Count | Should -Be 0
        Test-DxlFabric -ConfigPath $B.ConfigPath -TimeoutSec 2 -Quiet | Should -BeExactly $true
    }

    It 'fails at TLS for a config whose CA is wrong' {
        $bad = New-WrongCaConfig $B.ConfigPath 'wrong-ca-mosquitto'
        $steps = @(Test-DxlFabric -ConfigPath $bad -TimeoutSec 5 -WarningVariable w -WarningAction SilentlyContinue -ErrorAction Stop)
        @($steps.Status) | Should -Be @('Passed', 'Passed', 'Failed', 'Skipped', 'Skipped', 'Skipped', 'Skipped')
        $steps[2].Name | Should -Be 'TLS'
        "$($w[0])" | Should -Match 'TLS'
        # And Connect-DxlFabric refuses it the same way.
        $e = { Connect-DxlFabric -ConfigPath $bad -Name bad -TimeoutSec 10 -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'DxlTlsRejected,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'SecurityError'
    }
}
