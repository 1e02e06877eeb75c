# Faults on loopback with a real mosquitto over mutual TLS: a broker restart in the middle of a 10,000-hash
# pipeline, a service that stops answering, a service that answers garbage or errors, an External report that
# cannot be published, and secrets kept out of every stream.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $module = Import-Module $ModulePath -PassThru -ErrorAction Stop

    $script:Mosquitto = @('/usr/sbin/mosquitto', '/usr/bin/mosquitto') | Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $Mosquitto) { throw 'mosquitto is not installed (Debian: apt-get install mosquitto); build.ps1 -Task Test installs it as root.' }

    function Get-FreePort {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop(); $port
    }

    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "tiedxl-reliability-$PID"
    $script:Port = Get-FreePort
    $script:Pki = [TieDxl.Fabric.Pki.DxlTestPki]::Create()
    $script:Files = $Pki.WriteClientFiles($Folder, [TieDxl.Fabric.Pki.DxlTestConfigOptions]@{ Port = $Port })
    $script:PidFile = Join-Path $Folder 'mosquitto.pid'
    $script:Conf = Join-Path $Folder 'mosquitto.conf'
    @(
        'persistence false', 'allow_anonymous true', 'user root', "pid_file $PidFile"
        "listener $Port 127.0.0.1", "cafile $($Files.CaPath)", "certfile $($Files.BrokerCertPath)", "keyfile $($Files.BrokerKeyPath)"
        'require_certificate true', 'log_dest none'
    ) | Set-Content -Path $Conf

    function Start-Broker {
        Remove-Item $PidFile -ErrorAction SilentlyContinue
        & $Mosquitto -c $Conf -d 2>$null
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ([DateTime]::UtcNow -lt $deadline) {
            try { $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port); $c.Dispose(); return } catch { Start-Sleep -Milliseconds 50 }
        }
        throw "mosquitto did not listen on 127.0.0.1:$Port"
    }
    function Stop-Broker {
        if (Test-Path $PidFile) { Stop-Process -Id ([int](Get-Content $PidFile)) -Force -ErrorAction SilentlyContinue }
        Start-Sleep -Milliseconds 200
    }
    Start-Broker

    # The TIE simulator on its own DXL client in this process, reconnecting by itself like any client.
    $simConfig = [TieDxl.Dxl.Config.DxlClientConfig]::Load($Files.ConfigPath)
    $simConfig.ReconnectDelay = [TimeSpan]::FromMilliseconds(200)
    $script:SimClient = [TieDxl.Dxl.Client.DxlClient]::new($simConfig, $null)
    $SimClient.ConnectAsync([System.Threading.CancellationToken]::None).GetAwaiter().GetResult()
    $script:Simulator = [TieDxl.Fabric.Simulator.TieSimulator]::new($SimClient, $null)
    $Simulator.StartAsync([System.Threading.CancellationToken]::None).GetAwaiter().GetResult()

    $script:Session = Connect-DxlFabric -ConfigPath $Files.ConfigPath -Name reliability -PassThru -TimeoutSec 30
    $script:NotepadMd5 = 'f2c7bb8acc97f92e987a2d4087d021b1'
}

AfterAll {
    Get-DxlSession | Disconnect-DxlFabric -ErrorAction SilentlyContinue
    if ($Simulator) { $Simulator.DisposeAsync().AsTask().Wait(5000) | Out-Null }
    if ($SimClient) { $SimClient.DisposeAsync().AsTask().Wait(5000) | Out-Null }
    Stop-Broker
    if ($Pki) { $Pki.Dispose() }
    Remove-Item -Recurse -Force $Folder -ErrorAction SilentlyContinue
}

Describe 'A broker restart in the middle of a 10,000-hash pipeline' {
    It 'rides through: every input gives its result, in input order, with no error, and the session reconnects by itself' {
        $hashes = 1..10000 | ForEach-Object { '{0:x32}' -f $_ }
        $before = $Simulator.RequestCount
        # Kill the broker once the run is well under way, restart it a second later (from another thread).
        $killer = Start-ThreadJob -ArgumentList $Simulator, $before, $PidFile, $Mosquitto, $Conf, $Session -ScriptBlock {
            param($simulator, $before, $pidFile, $exe, $conf, $session)
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ($simulator.RequestCount - $before -lt 2500 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
            Stop-Process -Id ([int](Get-Content $pidFile)) -Force
            $down = [DateTime]::UtcNow.AddSeconds(5)
            while ($session.State -ne 'Reconnecting' -and [DateTime]::UtcNow -lt $down) { Start-Sleep -Milliseconds 10 }
            # What Get-DxlSession shows while down.
            [pscustomobject]@{ State = "$($session.State)"; UnreachableSince = $session.UnreachableSince; LastError = $session.LastError }
            Start-Sleep -Seconds 1
            & $exe -c $conf -d 2>$null
            "killed after $($simulator.RequestCount - $before) requests"
        }

        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $all = @($hashes | Get-TieFileReputation -ThrottleLimit 64 -TimeoutSec 10 -ErrorVariable failed -ErrorAction SilentlyContinue -Verbose 4>&1)
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $out = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $watch.Stop()
        $note = $killer | Wait-Job -Timeout 60 | Receive-Job
        $killer | Remove-Job -Force

        $whileDown = $note | Where-Object { $_ -isnot [string] } | Select-Object -First 1
        $whileDown.State | Should -Be 'Reconnecting'
        $whileDown.UnreachableSince | Should -Not -BeNullOrEmpty
        $whileDown.LastError | Should -Not -BeNullOrEmpty
        $note | Where-Object { $_ -is [string] } | Should -Match 'killed after'
        $failed.Count | Should -Be 0 -Because "requests wait out the reconnect and are sent again ($($failed | Select-Object -First 1))"
        $out.Count | Should -Be 10000
        # In input order, one each.
        ($out.Md5 -join ',') | Should -Be ($hashes -join ',')
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 120
        (Get-DxlSession -Name reliability).ReconnectCount | Should -BeGreaterOrEqual 1
        @($verbose | Where-Object Message -Match 'waited for the DXL fabric 1 time').Count | Should -Be 1

        # Back by itself: the session and the simulator reconnected.
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do {
            $r = Get-TieFileReputation $NotepadMd5 -TimeoutSec 2 -ErrorAction SilentlyContinue
            if (-not $r) { Start-Sleep -Milliseconds 200 }
        } until ($r -or [DateTime]::UtcNow -gt $deadline)
        $r.Gti | Should -Be 'KnownTrusted'
        (Get-DxlSession -Name reliability).State | Should -Be 'Connected'
    }
}

Describe 'A service that misbehaves' {
    AfterEach {
        $Simulator.Mode = 'Normal'
        $Simulator.ResponseDelay = [TimeSpan]::Zero
    }

    It 'that stops answering gives one timeout per item, and the pipeline goes on' {
        $Simulator.Mode = 'NoReply'
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $out = @(1..40 | ForEach-Object { '{0:x32}' -f $_ } | Get-TieFileReputation -TimeoutSec 1 -ThrottleLimit 16 -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 0
        $failed.Count | Should -Be 40
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'TieRequestTimeout,*'
        $failed[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $failed[0].ToString() | Should -Match 'authori'
        # 40 items, 16 at a time, 1 s each: about 3 s, not 40.
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 20
    }

    It 'that answers garbage gives a malformed-response error per item' {
        $Simulator.Mode = 'Garbage'
        $null = @($NotepadMd5, $NotepadMd5) | Get-TieFileReputation -NoCache -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 2
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'TieMalformedResponse,*'
        $failed[0].CategoryInfo.Category | Should -Be 'InvalidResult'
    }

    It 'that answers with an error response gives that error per item, and good items after it still pass' {
        $Simulator.Mode = 'Error'
        $Simulator.ErrorCode = 0x80000001
        $null = $NotepadMd5 | Get-TieFileReputation -NoCache -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'TieServiceUnavailable,*'
        $Simulator.Mode = 'Normal'
        ($NotepadMd5 | Get-TieFileReputation).Gti | Should -Be 'KnownTrusted'
    }

    It 'that is slow keeps results in input order and bounded in flight' {
        $Simulator.ResponseDelay = [TimeSpan]::FromMilliseconds(20)
        $inputs = 1..200 | ForEach-Object { '{0:x32}' -f $_ }
        $out = $inputs | Get-TieFileReputation -ThrottleLimit 8
        $out.Md5 -join ',' | Should -Be ($inputs -join ',')
    }
}

Describe 'A script that ends without Disconnect-DxlFabric' {
    It 'still delivers every External report it reported as Sent (sessions close in order at process exit)' {
        $before = $Simulator.ExternalReportsAccepted
        $base = Get-Random -Minimum 1000000 -Maximum 2000000000
        $script = Join-Path $PSScriptRoot 'Scripts/Send-ReportsWithoutDisconnect.ps1'
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $sent = & $pwsh -NoProfile -NonInteractive -File $script -ModulePath $ModulePath -ConfigPath $Files.ConfigPath -Base $base -Count 300 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$sent"
        "$sent" | Should -Be '300'
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ($Simulator.ExternalReportsAccepted - $before -lt 300 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $Simulator.ExternalReportsAccepted - $before | Should -Be 300 -Because 'every report the script saw as Sent reached TIE'
    }
}

Describe 'External reports of a pipeline that ended just before a broker crash' {
    It 'reach TIE again by themselves after the reconnect, and later commands cost no probe lookup' {
        $reconnects = $Session.ReconnectCount
        $base = Get-Random -Minimum 1000000 -Maximum 2000000000
        $hashes = 1..200 | ForEach-Object { '{0:x64}' -f ($base + $_) }
        $accepted = $Simulator.ExternalReportsAccepted
        $hashes | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileName replay.exe -FileType PeExe -Force -Confirm:$false `
            -WarningAction SilentlyContinue -ErrorAction Stop
        # The pipeline has ended; the session stays open and no command runs until the reports came again.
        Start-Sleep -Milliseconds 300
        Stop-Process -Id ([int](Get-Content $PidFile)) -Force
        Start-Sleep -Seconds 2
        Start-Broker
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (($Session.ReconnectCount -eq $reconnects -or $Simulator.ExternalReportsAccepted - $accepted -le 200) -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 50
        }
        $Session.ReconnectCount | Should -BeGreaterThan $reconnects
        $Simulator.ExternalReportsAccepted - $accepted | Should -BeGreaterThan 200 -Because 'the session replays the reports of the last second before the outage with no command running'

        # One probe per reconnect per session, made already: N later commands make no lookup of their own.
        Start-Sleep -Milliseconds 500
        $requests = $Simulator.RequestCount
        foreach ($n in 1..5) {
            ('{0:x64}' -f ($base + 1000 + $n)) | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileName later.exe -FileType PeExe -Force `
                -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop
        }
        $Simulator.RequestCount - $requests | Should -Be 0

        # Every report reached TIE (duplicates allowed).
        $seen = @($hashes | Get-TieFileReputation -ErrorAction Stop | Where-Object External -EQ 'MightBeTrusted')
        $seen.Count | Should -Be 200
    }
}

Describe 'An External report that cannot be published' {
    It 'is reported as Failed with an error, never as Sent' {
        $session = Connect-DxlFabric -ConfigPath $Files.ConfigPath -Name doomed -PassThru
        try {
            Stop-Broker
            # It waits for the connection within its timeout, then fails: never Sent.
            $r = ('{0:x64}' -f 77) | Set-TieExternalReputation -TrustLevel MightBeTrusted -FileName x.exe -Force -Confirm:$false -PassThru -TimeoutSec 3 `
                -Session $session -ErrorVariable failed -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
            $r.Status | Should -Be 'Failed'
            $r.Reason | Should -Match 'not sent'
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'TieConnectionLost,*'
        }
        finally {
            Start-Broker
            $session | Disconnect-DxlFabric -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Secrets' {
    It 'never appear in output, verbose, debug, warning or error streams' {
        $password = 'Sup3r-Secret-Passw0rd!'
        $secretFolder = Join-Path $Folder 'secret'
        $files = $Pki.WriteClientFiles($secretFolder, [TieDxl.Fabric.Pki.DxlTestConfigOptions]@{
                Port = $Port; ClientKeyFormat = 'EncryptedPkcs8'; KeyPassword = $password; WritePasswordToConfig = $true })
        $keyText = (Get-Content $files.ClientKeyPath -Raw) -replace '-----[A-Z ]+-----', '' -replace '\s', ''
        $keyFragment = $keyText.Substring(10, 40)

        $all = & {
            $DebugPreference = 'Continue'
            $s = Connect-DxlFabric -ConfigPath $files.ConfigPath -Name secret -PassThru -Verbose
            $s | Format-List * | Out-String
            $s | Disconnect-DxlFabric -Verbose -Confirm:$false
            # A wrong password: the error names the file, not the secret.
            (Get-Content $files.ConfigPath) -replace [regex]::Escape($password), 'wrong-password' | Set-Content $files.ConfigPath
            try { Connect-DxlFabric -ConfigPath $files.ConfigPath -Name secret2 -Verbose } catch { $_ | Format-List * -Force | Out-String; $_.Exception.ToString() }
            Test-DxlFabric -ConfigPath $files.ConfigPath -Verbose | Out-String
        } *>&1 | Out-String

        $all | Should -Not -BeNullOrEmpty
        $all | Should -Match 'client.key'
        $all | Should -Not -Match ([regex]::Escape($password))
        $all | Should -Not -Match ([regex]::Escape($keyFragment))
        $all | Should -Not -Match 'BEGIN (ENCRYPTED )?PRIVATE KEY'
    }
}

# Last: it connects and disconnects a session of its own, which leaves no default session behind.
Describe 'A listener across a broker restart' {
    It 'streams on after the reconnect and warns once with the window in which events were missed' {
        $topic = "/tiedxl/test/listener-restart/$(Get-Random)"
        $listener = Connect-DxlFabric -ConfigPath $Files.ConfigPath -Name listener -PassThru -TimeoutSec 30
        try {
            # From another thread: restart the broker once the listener is subscribed, then publish until it is received.
            $restarter = Start-ThreadJob -ArgumentList $SimClient, $listener, $PidFile, $Mosquitto, $Conf, $topic -ScriptBlock {
                param($simClient, $listener, $pidFile, $exe, $conf, $topic)
                Start-Sleep -Milliseconds 500
                Stop-Process -Id ([int](Get-Content $pidFile)) -Force
                Start-Sleep -Seconds 1
                & $exe -c $conf -d 2>$null
                $deadline = [DateTime]::UtcNow.AddSeconds(30)
                while ($listener.ReconnectCount -lt 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
                while ([DateTime]::UtcNow -lt $deadline) {
                    try {
                        $evt = [TieDxl.Dxl.Messages.DxlEvent]::new($topic, [System.Text.Encoding]::UTF8.GetBytes('after'))
                        $simClient.SendEventAsync($evt, [System.Threading.CancellationToken]::None).GetAwaiter().GetResult()
                    }
                    catch { }
                    Start-Sleep -Milliseconds 200
                }
            }
            $got = @(Receive-DxlEvent -Topic $topic -Count 1 -TimeoutSec 40 -Session $listener -WarningVariable w -WarningAction SilentlyContinue)
            $restarter | Stop-Job -PassThru | Remove-Job -Force

            $got.Count | Should -Be 1 -Because 'events published after the reconnect arrive'
            $windows = @($w | Where-Object { "$_" -match 'events published in that window were not received' })
            $windows.Count | Should -Be 1
            "$($windows[0])" | Should -Match 'down from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d UTC'
            $listener.ReconnectCount | Should -Be 1
            $listener.LastOutage.Duration.TotalSeconds | Should -BeGreaterThan 0.5
        }
        finally { $listener | Disconnect-DxlFabric -ErrorAction SilentlyContinue }
    }
}
