# Receive-TieEvent end to end, on the embedded fabric and on a real mosquitto over mutual TLS with the TIE simulator
# in this pwsh. Receive-TieEvent blocks the runspace, so the changes that cause events come from a thread job that
# shares this process (and the session object), repeating until the receiver has what it waits for.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $module = Import-Module $ModulePath -PassThru -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:Seed = Get-TieSeed
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null

    # Runs $Action ($Session, $Simulator, $Value, $Iteration) every 200 ms in a thread job, at most 150 times (30 s).
    function script:Start-EventSource([scriptblock] $Action, $Value) {
        Start-ThreadJob -ArgumentList $ModulePath, $B.Session, $B.Simulator, $Value, $Action.ToString() -ScriptBlock {
            param($ModulePath, $Session, $Simulator, $Value, $ActionText)
            $ErrorActionPreference = 'Stop'
            Import-Module $ModulePath
            $action = [scriptblock]::Create($ActionText)
            for ($i = 0; $i -lt 150; $i++) {
                & $action $Session $Simulator $Value $i
                Start-Sleep -Milliseconds 200
            }
        }
    }

    function script:Stop-EventSource($Job) {
        if ($Job) { $Job | Stop-Job -PassThru | Remove-Job -Force }
    }
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Receive-TieEvent on <Kind>' -ForEach @(@{ Kind = 'Fabric' }, @{ Kind = 'Mosquitto' }) {
    BeforeAll {
        $script:B = Start-TieTestBroker -Kind $Kind -Name "events-$Kind"
    }

    AfterAll {
        Stop-TieTestBroker $B
    }

    It 'receives the FileReputationChange that Set-TieFileReputation causes' {
        $hash = New-TieTestHash -Bytes 32
        $job = Start-EventSource -Value $hash -Action {
            param($Session, $Simulator, $Value, $i)
            $level = if ($i % 2) { 'MostLikelyMalicious' } else { 'KnownMalicious' }
            Set-TieFileReputation -Session $Session -Sha256 $Value -FileName 'changed.exe' -TrustLevel $level -Confirm:$false
        }
        try {
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $events = @(Receive-TieEvent -Type FileReputationChange -Count 1 -TimeoutSec 30 -ErrorAction Stop)
            $sw.Stop()
        }
        finally { Stop-EventSource $job }
        $events.Count | Should -Be 1
        $e = $events[0]
        $e | Should -BeOfType [TieDxl.Tie.FileReputationChangeEvent]
        $e.Topic | Should -Be '/mcafee/event/tie/file/repchange/broadcast'
        $e.Hashes.Sha256 | Should -BeExactly $hash
        $e.GetNew(3).TrustLevel | Should -BeIn 'KnownMalicious', 'MostLikelyMalicious'
        $e.RawJson | Should -Match 'newReputations'
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 25
        $script:FirstEvent = $e
    }

    It 'shows the event type in full, the hash and the new reputations in the default table view' {
        $e = $FirstEvent
        $e | Should -Not -BeNullOrEmpty -Because 'the previous test received it'
        $hash = $e.Hashes.Sha256
        $lines = @(($e | Out-String -Width 200) -split "`r?`n" | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^Event\s+Hash\s+Detail\s*$'
        $lines[2] | Should -Match "SHA256:$($hash.Substring(0, 40)).*Enterprise=KnownMalicious|SHA256:$($hash.Substring(0, 40)).*Enterprise=MostLikelyMalicious"
        $lines[2] | Should -Match '^FileReputationChange\s' -Because 'the Event column must show the whole event type name'
    }

    It 'stops at -Count although events keep coming' {
        $hash = New-TieTestHash -Bytes 32
        $job = Start-EventSource -Value $hash -Action {
            param($Session, $Simulator, $Value, $i)
            $level = if ($i % 2) { 'MightBeTrusted' } else { 'MightBeMalicious' }
            Set-TieFileReputation -Session $Session -Hash $Value -TrustLevel $level -Confirm:$false
        }
        try {
            $events = @(Receive-TieEvent FileReputationChange -Count 3 -TimeoutSec 30 -ErrorAction Stop)
        }
        finally { Stop-EventSource $job }
        $events.Count | Should -Be 3
        foreach ($e in $events) { $e.Hashes.Sha256 | Should -BeExactly $hash }
    }

    It 'receives the External report''s FileReputationChange (provider 15)' {
        $hash = New-TieTestHash -Bytes 32
        $job = Start-EventSource -Value $hash -Action {
            param($Session, $Simulator, $Value, $i)
            Set-TieExternalReputation -Session $Session -Sha256 $Value -FileName 'ext.exe' -FileType PeExe -TrustLevel MostLikelyMalicious -Force -Confirm:$false -WarningAction SilentlyContinue
        }
        try {
            $events = @(Receive-TieEvent -Type FileReputationChange -Count 1 -TimeoutSec 30 -ErrorAction Stop)
        }
        finally { Stop-EventSource $job }
        $events.Count | Should -Be 1
        $events[0].Hashes.Sha256 | Should -BeExactly $hash
        $events[0].GetNew(15).TrustLevel | Should -Be 'MostLikelyMalicious'
    }

    It 'receives the CertificateReputationChange that Set-TieCertificateReputation causes' {
        $sha1 = New-TieTestHash -Bytes 20
        $job = Start-EventSource -Value $sha1 -Action {
            param($Session, $Simulator, $Value, $i)
            $level = if ($i % 2) { 'MostLikelyMalicious' } else { 'KnownMalicious' }
            Set-TieCertificateReputation -Session $Session -Sha1 $Value -TrustLevel $level -Confirm:$false
        }
        try {
            $events = @(Receive-TieEvent -Type CertificateReputationChange -Count 1 -TimeoutSec 30 -ErrorAction Stop)
        }
        finally { Stop-EventSource $job }
        $events.Count | Should -Be 1
        $events[0] | Should -BeOfType [TieDxl.Tie.CertificateReputationChangeEvent]
        $events[0].Topic | Should -Be '/mcafee/event/tie/cert/repchange/broadcast'
        $events[0].Sha1 | Should -BeExactly $sha1
        $events[0].GetNew(4).TrustLevel | Should -BeIn 'KnownMalicious', 'MostLikelyMalicious'
    }

    It 'receives detection, first-instance and prevalence events of the server' {
        $hash = New-TieTestHash -Bytes 32
        $job = Start-EventSource -Value $hash -Action {
            param($Session, $Simulator, $Value, $i)
            $h = [TieDxl.Tie.TieHashes]::FromHex($Value)
            $agent = '{3a6f574a-3e6f-436d-acd4-bcde336b054d}'
            $none = [System.Threading.CancellationToken]::None
            $null = $Simulator.PublishDetectionAsync($h, $agent, 'detected.exe', 1, 5, $null, $none).GetAwaiter().GetResult()
            $null = $Simulator.PublishFirstInstanceAsync($h, $agent, 'first.exe', $none).GetAwaiter().GetResult()
            $null = $Simulator.PublishPrevalenceAsync($h, $agent, 'prevalent.exe', 7, $true, $null, $none).GetAwaiter().GetResult()
        }
        try {
            $events = @(Receive-TieEvent -Type Detection, FirstInstance, Prevalence -Count 6 -TimeoutSec 30 -ErrorAction Stop)
        }
        finally { Stop-EventSource $job }
        $events.Count | Should -Be 6
        foreach ($e in $events) { $e.Hashes.Sha256 | Should -BeExactly $hash }
        $detection = @($events | Where-Object { $_ -is [TieDxl.Tie.FileDetectionEvent] })[0]
        $detection | Should -Not -BeNullOrEmpty
        $detection.Name | Should -Be 'detected.exe'
        $detection.AgentGuid | Should -Be $Seed.Agent1
        $detection.LocalReputation | Should -Be 'KnownMalicious'
        $prevalence = @($events | Where-Object { $_ -is [TieDxl.Tie.FilePrevalenceEvent] })[0]
        $prevalence | Should -Not -BeNullOrEmpty
        $prevalence.EnterpriseCount | Should -Be 7
        $prevalence.Prevalent | Should -BeTrue
        @($events | Where-Object { $_.GetType().Name -eq 'FileFirstInstanceEvent' }).Count | Should -BeGreaterThan 0
    }

    It 'ends at -TimeoutSec with what arrived, receiving only the -Type asked for' {
        $hash = New-TieTestHash -Bytes 32
        # File changes keep coming, but only certificate changes are asked for.
        $job = Start-EventSource -Value $hash -Action {
            param($Session, $Simulator, $Value, $i)
            $level = if ($i % 2) { 'MightBeTrusted' } else { 'MightBeMalicious' }
            Set-TieFileReputation -Session $Session -Hash $Value -TrustLevel $level -Confirm:$false
        }
        try {
            Start-Sleep -Milliseconds 500
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $events = @(Receive-TieEvent -Type CertificateReputationChange -TimeoutSec 2 -ErrorAction Stop)
            $sw.Stop()
            $job.State | Should -Be 'Running' -Because 'file changes were being made all along'
        }
        finally { Stop-EventSource $job }
        $events.Count | Should -Be 0
        $sw.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.9
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
    }

    It 'stops a receive without limits at once when the pipeline is stopped (Ctrl+C)' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $Session)
                    Import-Module $ModulePath
                    Receive-TieEvent -Session $Session
                }).AddArgument($ModulePath).AddArgument($B.Session)
            $async = $ps.BeginInvoke()
            Wait-TieCondition { $ps.InvocationStateInfo.State -eq 'Running' } -TimeoutSec 10 | Should -BeTrue
            Start-Sleep -Seconds 1
            $async.IsCompleted | Should -BeFalse -Because 'without -Count or -TimeoutSec it waits for ever'
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
        }
        finally { $ps.Dispose() }
    }

    It 'refuses -Count 0 and -TimeoutSec 0' {
        { Receive-TieEvent -Count 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Receive-TieEvent -TimeoutSec 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}

Describe 'Receive-TieEvent without a session' {
    It 'fails with DxlNotConnected' {
        @(Get-DxlSession).Count | Should -Be 0
        { Receive-TieEvent -TimeoutSec 1 } | Should -Throw -ErrorId 'DxlNotConnected,TieDxl.Commands.Tie.ReceiveTieEventCommand'
    }
}
