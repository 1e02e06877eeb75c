# End to end against the embedded DXL test fabric (in-process broker on loopback, throwaway PKI, TIE simulator):
# connect, sessions, requests, events, Ctrl+C, disconnect, and the connection errors.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $module = Import-Module $ModulePath -PassThru -ErrorAction Stop
    $script:Fabric = [TieDxl.Fabric.DxlTestFabric]::StartAsync([TieDxl.Fabric.DxlTestFabricOptions]::new(),
        [System.Threading.CancellationToken]::None).GetAwaiter().GetResult()
    $script:Files = $Fabric.Files
    $script:SavedConfig = $env:TIEDXL_CONFIG
    $env:TIEDXL_CONFIG = $null
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric
    if ($Fabric) { $Fabric.DisposeAsync().AsTask().GetAwaiter().GetResult() }
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'A session on the test fabric' {
    BeforeAll {
        $script:S = Connect-DxlFabric -ConfigPath $Fabric.ConfigPath -Name main -PassThru -TimeoutSec 60
    }

    It 'is connected and is the default session' {
        $S | Should -BeOfType [TieDxl.DxlSession]
        $S.State | Should -Be 'Connected'
        $S.IsConnected | Should -BeTrue
        $S.Broker | Should -Be "ssl://127.0.0.1:$($Fabric.Port)"
        $S.ConfigPath | Should -Be $Fabric.ConfigPath
        $S.ConnectedSince | Should -Not -BeNullOrEmpty
        $S.ClientId | Should -Match '^\{[0-9a-f-]{36}\}$'
        Get-DxlSession -Default | Should -Be $S
        (Get-DxlSession -Name main).Id | Should -Be $S.Id
    }

    It 'formats as a table' {
        ($S | Out-String) | Should -Match 'main\s+Connected'
    }

    It 'completes its name' {
        $line = 'Get-DxlSession -Name ma'
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $r.CompletionMatches.CompletionText | Should -Contain 'main'
    }

    It 'refuses a second session with the same name' {
        { Connect-DxlFabric -ConfigPath $Fabric.ConfigPath -Name main } | Should -Throw -ErrorId 'DxlSessionNameInUse,*'
    }

    It 'asks the TIE simulator for the notepad.exe reputation (JSON in, objects out)' {
        $payload = @{ hashes = @(@{ type = 'md5'; value = '8se7isyX+S6Yei1Ah9AhsQ==' }) }
        $r = Invoke-DxlRequest -Topic /mcafee/service/tie/file/reputation -AsJson -Payload $payload -TimeoutSec 30
        $r | Should -Not -BeNullOrEmpty
        $r.PSObject.Properties.Name | Should -Contain 'reputations'
    }

    It 'writes the raw text and the raw bytes' {
        $body = '{"hashes":[{"type":"md5","value":"8se7isyX+S6Yei1Ah9AhsQ=="}]}'
        $text = Invoke-DxlRequest /mcafee/service/tie/file/reputation $body
        $text | Should -BeOfType [string]
        $text | Should -Match 'reputations'
        $bytes = Invoke-DxlRequest /mcafee/service/tie/file/reputation $body -AsBytes
        , $bytes | Should -BeOfType [byte[]]
        [System.Text.Encoding]::UTF8.GetString($bytes) | Should -Match 'reputations'
    }

    It 'reports a topic without a service as DxlServiceNotFound and goes on with the next input' {
        $out = 'a', 'b' | Invoke-DxlRequest -Topic /tiedxl/test/no/such/service -TimeoutSec 10 -ErrorAction SilentlyContinue -ErrorVariable err
        $out | Should -BeNullOrEmpty
        $err.Count | Should -Be 2
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DxlServiceNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err[0].TargetObject | Should -Be '/tiedxl/test/no/such/service'
    }

    It 'refuses an object payload without -AsJson' {
        Invoke-DxlRequest -Topic /x -Payload @{ a = 1 } -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DxlInvalidPayload,*'
    }

    It 'receives events sent from another runspace, then stops at -Count' {
        $job = Start-ThreadJob -ArgumentList $S -ScriptBlock {
            param($session)
            Import-Module $using:ModulePath
            foreach ($i in 1..300) {
                Send-DxlEvent -Session $session -Topic "/tiedxl/test/events/$i" -Payload "event $i" -Confirm:$false
                Start-Sleep -Milliseconds 100
            }
        }
        try {
            $events = @(Receive-DxlEvent -Topic '/tiedxl/test/events/#' -Count 3 -TimeoutSec 30)
        }
        finally {
            $job | Stop-Job -PassThru | Remove-Job -Force
        }
        $events.Count | Should -Be 3
        $events[0] | Should -BeOfType [TieDxl.DxlEventMessage]
        $events[0].Topic | Should -BeLike '/tiedxl/test/events/*'
        $events[0].Subscription | Should -Be '/tiedxl/test/events/#'
        $events[0].Payload | Should -BeLike 'event *'
    }

    It 'ends at -TimeoutSec without an error when nothing arrives' {
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        $events = @(Receive-DxlEvent -Topic /tiedxl/test/quiet -TimeoutSec 1 -ErrorAction Stop)
        $sw.Stop()
        $events.Count | Should -Be 0
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
    }

    It 'stops a receive without limits at once when the pipeline is stopped' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($m, $s)
                    Import-Module $m
                    Receive-DxlEvent -Topic /tiedxl/test/forever -Session $s
                }).AddArgument($ModulePath).AddArgument($S)
            $async = $ps.BeginInvoke()
            Start-Sleep -Seconds 2
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        }
        finally { $ps.Dispose() }
    }

    It 'sends nothing under -WhatIf' {
        $out = Send-DxlEvent -Topic /tiedxl/test/whatif -Payload x -WhatIf 6>&1
        $out | Should -BeNullOrEmpty
    }

    It 'closes with Disconnect-DxlFabric' {
        Disconnect-DxlFabric -Session main
        $S.State | Should -Be 'Closed'
        @(Get-DxlSession).Count | Should -Be 0
        Get-DxlSession -Default | Should -BeNullOrEmpty
        { Invoke-DxlRequest -Topic /x -Session $S } | Should -Throw -ErrorId 'DxlNotConnected,*'
        { Invoke-DxlRequest -Topic /x } | Should -Throw -ErrorId 'DxlNotConnected,*'
        { Disconnect-DxlFabric -Session $S -ErrorAction Stop } | Should -Not -Throw
    }
}

Describe 'Connecting with -Broker and certificate files' {
    It 'connects with the PEM files and the TIEDXL_CONFIG-free parameter set' {
        $s = Connect-DxlFabric -Broker "ssl://127.0.0.1:$($Fabric.Port)" -CertificatePath $Files.ClientCertPath `
            -PrivateKeyPath $Files.ClientKeyPath -CaBundlePath $Files.CaPath -TimeoutSec 60 -PassThru
        try {
            $s.State | Should -Be 'Connected'
            $s.ConfigPath | Should -BeNullOrEmpty
        }
        finally { $s | Disconnect-DxlFabric }
    }

    It 'connects through TIEDXL_CONFIG' {
        $env:TIEDXL_CONFIG = $Fabric.ConfigPath
        try {
            $s = Connect-DxlFabric -PassThru -TimeoutSec 60
            $s.ConfigPath | Should -Be $Fabric.ConfigPath
            $s | Disconnect-DxlFabric
        }
        finally { $env:TIEDXL_CONFIG = $null }
    }

    It 'rejects a broker signed by another CA as DxlTlsRejected (SecurityError)' {
        $other = [TieDxl.Fabric.Pki.DxlTestPki]::Create()
        try {
            $wrongCa = Join-Path $TestDrive 'other-ca.crt'
            $other.Ca.WriteCertificate($wrongCa)
            $e = { Connect-DxlFabric -Broker "ssl://127.0.0.1:$($Fabric.Port)" -CertificatePath $Files.ClientCertPath `
                    -PrivateKeyPath $Files.ClientKeyPath -CaBundlePath $wrongCa -TimeoutSec 30 -WarningAction SilentlyContinue } |
                Should -Throw -ErrorId 'DxlTlsRejected,*' -PassThru
            $e.CategoryInfo.Category | Should -Be 'SecurityError'
            $e.Exception | Should -BeOfType [TieDxl.Dxl.DxlTlsException]
        }
        finally { $other.Dispose() }
        @(Get-DxlSession).Count | Should -Be 0
    }

    It 'reports a closed port as a connection error' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
        $e = { Connect-DxlFabric -Broker "ssl://127.0.0.1:$port" -CertificatePath $Files.ClientCertPath `
                -PrivateKeyPath $Files.ClientKeyPath -CaBundlePath $Files.CaPath -TimeoutSec 20 -WarningAction SilentlyContinue } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'DxlConnect*'
        $e.CategoryInfo.Category | Should -BeIn 'ConnectionError', 'OperationTimeout'
        @(Get-DxlSession).Count | Should -Be 0
    }
}
