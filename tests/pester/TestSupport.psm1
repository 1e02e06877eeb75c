# Shared helpers of the TIE Pester tests (Tie*.Tests.ps1, TestFabric.Tests.ps1).
#
# Start-TieTestBroker gives a connected session with a TIE simulator behind it, on one of two brokers:
#   Fabric     Start-DxlTestFabric (embedded broker and simulator in this process);
#   Mosquitto  a real mosquitto over mutual TLS on a free loopback port, with a throwaway PKI, and the TIE simulator
#              hosted in this pwsh on its own DxlClient.
# Both expose the same shape: Session, ConfigPath, Port, Simulator, and the live counters TieRequests and
# ExternalReports. Stop-TieTestBroker undoes everything (kills mosquitto).
# The test file imports TieDxl itself (Pester 6: every file imports the module in its own BeforeAll) before this.

Set-StrictMode -Version Latest

# Seed data of the simulator (src/TieDxl.Fabric/Simulator/TieSimulatorSeed.cs).
$script:Seed = [pscustomobject]@{
    NotepadMd5         = 'f2c7bb8acc97f92e987a2d4087d021b1'
    NotepadSha1        = '7eb0139d2175739b3ccb0d1110067820be6abd29'
    NotepadSha256      = '142e1d688ef0568370c37187fd9f2351d7ddeda574f8bfa9b0fa4ef42db85aa2'
    EicarMd5           = '44d88612fea8a8f36de82e1278abb02f'
    EicarSha1          = '3395856ce81f2b7382dee72602f798b642f14140'
    EicarSha256        = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f'
    UnknownMd5         = '586297d3bf63b478a2df61ef2579fd9e'
    UnknownSha1        = 'a7c515a836f20e8589d1c68e06237904c3cec2ad'
    UnknownSha256      = 'f0649a543e8fb682ec25a7dcc3b8fa7b86744e018ae4bc784be6c86cb46861ae'
    Cert1Sha1          = 'b5bb3823c60f4f3fda94decb5246edcfb126f0ad'
    Cert1PublicKeySha1 = 'af55bf11d98375cbee961bd71c08f47bc1aa1937'
    Agent1             = '{3a6f574a-3e6f-436d-acd4-bcde336b054d}'
    Agent2             = '{d48d3d1a-915e-11e6-323a-000c2992f5d9}'
    Agent3             = '{68125cd6-a5d8-11e6-348e-000c29663178}'
    # The EICAR test string; its MD5/SHA-1/SHA-256 are the seeded EICAR hashes.
    EicarText          = 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
}

function Get-TieSeed { $script:Seed }

function Get-TieDxlTestModulePath {
    if ($env:TIEDXL_TEST_MODULE) { return $env:TIEDXL_TEST_MODULE }
    Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1'
}

# A random lower-case hex string of the given byte length (16 MD5, 20 SHA-1, 32 SHA-256): a file TIE never saw.
function New-TieTestHash {
    param([ValidateSet(16, 20, 32, 64)] [int] $Bytes = 32)
    [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes($Bytes)).ToLowerInvariant()
}

# Polls a condition until it is true or the time is up (bounded); returns whether it became true.
function Wait-TieCondition {
    param([Parameter(Mandatory)] [scriptblock] $Condition, [double] $TimeoutSec = 15, [int] $IntervalMs = 50)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        if (& $Condition) { return $true }
        if ([DateTime]::UtcNow -ge $deadline) { return $false }
        Start-Sleep -Milliseconds $IntervalMs
    }
}

# A file with all three hashes that TIE has never seen, as a hashtable the TIE cmdlets take from the pipeline.
function New-TieTestFile {
    param([string] $Name = 'new.exe')
    @{ md5 = New-TieTestHash -Bytes 16; sha1 = New-TieTestHash -Bytes 20; sha256 = New-TieTestHash -Bytes 32; name = $Name }
}

# Sends one External report for a new file (default session) and waits until TIE shows it: every report sent before
# it (same client, same topic, in order) has then been applied too, so the simulator's counter is final.
function Send-TieProbeReport {
    $r = Set-TieExternalReputation -Sha256 (New-TieTestHash -Bytes 32) -TrustLevel MightBeTrusted -FileName probe.exe -Force -Verify -PassThru `
        -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop
    if (-not $r.Verified) { throw 'The probe report did not reach TIE.' }
}

function Get-FreeLoopbackPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Resolve-MosquittoPath {
    $candidates = @($env:TIEDXL_MOSQUITTO, '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/bin/mosquitto')
    foreach ($c in $candidates) { if ($c -and (Test-Path -LiteralPath $c -PathType Leaf)) { return $c } }
    $cmd = Get-Command mosquitto -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($cmd) { return $cmd.Source }
    # Fail, never skip: build.ps1 -Task Test installs mosquitto.
    throw 'mosquitto is not installed (looked in $env:TIEDXL_MOSQUITTO, /usr/sbin, /usr/local/sbin, /usr/bin, PATH). Install it (apt-get install mosquitto) or run build.ps1 -Task Test, which does.'
}

# Starts mosquitto with mutual TLS on a free loopback port. Returns the process, the folder, the PKI and the files.
function Start-TestMosquitto {
    param([string] $Folder)
    $exe = Resolve-MosquittoPath
    $pki = [TieDxl.Fabric.Pki.DxlTestPki]::Create()
    if (-not $Folder) {
        $Folder = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) ('tiedxl-pester-' + [guid]::NewGuid().ToString('n')))).FullName
    }
    $port = Get-FreeLoopbackPort
    $files = $pki.WriteClientFiles($Folder, [TieDxl.Fabric.Pki.DxlTestConfigOptions]@{ Port = $port })
    $conf = Join-Path $Folder 'mosquitto.conf'
    $log = Join-Path $Folder 'mosquitto.log'
    # Same settings as tests/TieDxl.Tests/Infrastructure/MosquittoBroker.cs ('user root': mosquitto must read the 0600 key).
    @(
        'per_listener_settings false'
        'persistence false'
        'allow_anonymous true'
        'user root'
        "listener $port 127.0.0.1"
        "cafile $($files.CaPath)"
        "certfile $($files.BrokerCertPath)"
        "keyfile $($files.BrokerKeyPath)"
        'require_certificate true'
        'max_packet_size 2000000'
        "log_dest file $log"
        'log_type error'
        'log_type warning'
    ) | Set-Content -LiteralPath $conf -Encoding ascii
    # Through sh with exec: the pid is mosquitto's, and its start-up chatter on stderr goes to a file, not the test log.
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    foreach ($a in '-c', 'exec "$0" -c "$1" 2>>"$2"', $exe, $conf, (Join-Path $Folder 'mosquitto.stderr')) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while ($true) {
        if ($process.HasExited) {
            $err = Get-Content -Raw -LiteralPath (Join-Path $Folder 'mosquitto.stderr') -ErrorAction Ignore
            throw "mosquitto exited at start with code $($process.ExitCode): $err"
        }
        try {
            $probe = [System.Net.Sockets.TcpClient]::new()
            try { $probe.Connect([System.Net.IPAddress]::Loopback, $port); break } finally { $probe.Dispose() }
        }
        catch {
            if ([DateTime]::UtcNow -ge $deadline) {
                $process.Kill($true)
                throw "mosquitto did not listen on 127.0.0.1:$port within 15 s"
            }
            Start-Sleep -Milliseconds 50
        }
    }
    [pscustomobject]@{ Process = $process; Folder = $Folder; Pki = $pki; Files = $files; Port = $port; ConfigPath = $files.ConfigPath }
}

function Stop-TestMosquitto {
    param($Mosquitto)
    if (-not $Mosquitto) { return }
    if ($Mosquitto.Process) {
        try { if (-not $Mosquitto.Process.HasExited) { $Mosquitto.Process.Kill($true) } } catch { }
        $null = $Mosquitto.Process.WaitForExit(5000)
        $Mosquitto.Process.Dispose()
    }
    if ($Mosquitto.Pki) { $Mosquitto.Pki.Dispose() }
    if ($Mosquitto.Folder) { Remove-Item -LiteralPath $Mosquitto.Folder -Recurse -Force -ErrorAction Ignore }
}

# A connected session with a TIE simulator behind it. Kind: Fabric or Mosquitto.
function Start-TieTestBroker {
    param(
        [Parameter(Mandatory)] [ValidateSet('Fabric', 'Mosquitto')] [string] $Kind,
        [string] $Name = 'tietest'
    )
    if ($Kind -eq 'Fabric') {
        $info = Start-DxlTestFabric -Name $Name -ErrorAction Stop
        # The simulator itself (for knobs such as Mode) is internal to the info object.
        $fabric = [TieDxl.DxlTestFabricInfo].GetProperty('Fabric', [System.Reflection.BindingFlags]'NonPublic,Instance').GetValue($info)
        $broker = [pscustomobject]@{
            Kind       = $Kind
            Info       = $info
            Session    = $info.Session
            ConfigPath = $info.ConfigPath
            Port       = $info.Port
            Simulator  = $fabric.Simulator
            Mosquitto  = $null
            SimClient  = $null
        }
        # The counters as the info object reports them.
        $broker | Add-Member -MemberType ScriptProperty -Name TieRequests -Value { $this.Info.TieRequests }
        $broker | Add-Member -MemberType ScriptProperty -Name ExternalReports -Value { $this.Info.ExternalReports }
        return $broker
    }

    $mosquitto = Start-TestMosquitto
    $simClient = $null
    $simulator = $null
    try {
        $simClient = [TieDxl.Dxl.Client.DxlClient]::new([TieDxl.Dxl.Config.DxlClientConfig]::Load($mosquitto.ConfigPath), $null)
        $null = $simClient.ConnectAsync().GetAwaiter().GetResult()
        $simulator = [TieDxl.Fabric.Simulator.TieSimulator]::new($simClient, $null)
        $null = $simulator.StartAsync().GetAwaiter().GetResult()
        $session = Connect-DxlFabric -ConfigPath $mosquitto.ConfigPath -Name $Name -PassThru -TimeoutSec 30 -ErrorAction Stop
    }
    catch {
        if ($simulator) { try { $null = $simulator.DisposeAsync().AsTask().Wait(5000) } catch { } }
        if ($simClient) { try { $null = $simClient.DisposeAsync().AsTask().Wait(5000) } catch { } }
        Stop-TestMosquitto $mosquitto
        throw
    }
    $broker = [pscustomobject]@{
        Kind       = $Kind
        Info       = $null
        Session    = $session
        ConfigPath = $mosquitto.ConfigPath
        Port       = $mosquitto.Port
        Simulator  = $simulator
        Mosquitto  = $mosquitto
        SimClient  = $simClient
    }
    $broker | Add-Member -MemberType ScriptProperty -Name TieRequests -Value { $this.Simulator.RequestCount }
    $broker | Add-Member -MemberType ScriptProperty -Name ExternalReports -Value { $this.Simulator.ExternalReportsAccepted }
    $broker
}

function Stop-TieTestBroker {
    param($Broker)
    if (-not $Broker) { return }
    if ($Broker.Kind -eq 'Fabric') {
        Stop-DxlTestFabric -Confirm:$false -ErrorAction Continue
        Get-DxlSession | Disconnect-DxlFabric -ErrorAction Continue
        return
    }
    try {
        if ($Broker.Session) { Disconnect-DxlFabric -Session $Broker.Session -ErrorAction Continue }
        Get-DxlSession | Disconnect-DxlFabric -ErrorAction Continue
        if ($Broker.Simulator) { try { $null = $Broker.Simulator.DisposeAsync().AsTask().Wait(5000) } catch { } }
        if ($Broker.SimClient) { try { $null = $Broker.SimClient.DisposeAsync().AsTask().Wait(5000) } catch { } }
    }
    finally {
        Stop-TestMosquitto $Broker.Mosquitto
    }
}

Export-ModuleMember -Function Get-TieSeed, Get-TieDxlTestModulePath, New-TieTestHash, New-TieTestFile, Send-TieProbeReport, Wait-TieCondition, Get-FreeLoopbackPort,
    Resolve-MosquittoPath, Start-TestMosquitto, Stop-TestMosquitto, Start-TieTestBroker, Stop-TieTestBroker
