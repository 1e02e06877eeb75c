# New-DxlCertificateRequest, New-DxlClientConfig and Update-DxlClientConfig end to end against the embedded fabric's
# ePO-compatible provisioning endpoint: from an empty folder to a TIE lookup, the refusals, and secrets in no stream.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    Import-Module $ModulePath -ErrorAction Stop
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force -ErrorAction Stop
    $script:Seed = Get-TieSeed
    $script:Fabric = Start-DxlTestFabric -Name ProvisioningFabric -ErrorAction Stop
    $script:Password = $Fabric.ProvisioningPassword
    $script:Basic = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("$($Fabric.ProvisioningUser):$Password"))

    # Every stream of a script block, as text, for the secret checks.
    function script:Invoke-AllStreams([scriptblock] $Script) {
        $VerbosePreference = 'Continue'
        $DebugPreference = 'Continue'
        & $Script *>&1 | ForEach-Object { $_ | Out-String; if ($_ -is [System.Management.Automation.ErrorRecord]) { $_.Exception.ToString() } }
    }

    function script:Assert-NoSecret([string[]] $Text) {
        $all = $Text -join "`n"
        $all | Should -Not -BeLike "*$Password*"
        $all | Should -Not -BeLike "*$Basic*"
        $all | Should -Not -Match 'PRIVATE KEY-----'
        $all | Should -Not -Match 'Authorization'
    }

    function script:New-Folder([string] $Name) { (New-Item -ItemType Directory -Path (Join-Path $TestDrive $Name)).FullName }
}

AfterAll {
    Stop-DxlTestFabric -Confirm:$false -ErrorAction SilentlyContinue
    Get-DxlSession | Disconnect-DxlFabric
}

Describe 'Start-DxlTestFabric serves a provisioning endpoint' {
    It 'shows its server, URL and throwaway credentials' {
        $Fabric.ProvisioningServer | Should -Match '^127\.0\.0\.1:\d+$'
        $Fabric.ProvisioningUrl | Should -Be "https://$($Fabric.ProvisioningServer)/remote/"
        $Fabric.ProvisioningUser | Should -Not -BeNullOrEmpty
        $Password.Length | Should -BeGreaterOrEqual 16
        $Fabric.ProvisioningCredential.GetNetworkCredential().Password | Should -Be $Password
        Test-Path -LiteralPath $Fabric.ProvisioningCaPath | Should -BeTrue
    }
}

Describe 'From an empty folder to a lookup' {
    It 'New-DxlCertificateRequest, New-DxlClientConfig, Connect-DxlFabric, Get-TieFileReputation, no secret in any stream' {
        $dir = New-Folder 'journey'
        $text = Invoke-AllStreams {
            $script:Csr = New-DxlCertificateRequest -CommonName pester-client -Path $dir -ErrorAction Stop
            $script:Written = New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
                -EpoCaPath $Fabric.ProvisioningCaPath -CertificateRequestPath $Csr.CertificateRequestPath -Path $dir -ErrorAction Stop
            Connect-DxlFabric -ConfigPath $Written.ConfigPath -Name Provisioned -ErrorAction Stop
            $script:Reputation = Get-TieFileReputation -Hash $Seed.NotepadSha256 -ErrorAction Stop
        }

        $Reputation.Gti | Should -Be 'KnownTrusted'
        (Get-DxlSession -Name Provisioned).IsConnected | Should -BeTrue
        $Written.Subject | Should -Be 'CN=pester-client'
        $Written.PrivateKeyWritten | Should -BeFalse
        $Written.PrivateKeyPath | Should -Be $Csr.PrivateKeyPath
        @(Get-ChildItem -LiteralPath $dir -Name | Sort-Object) | Should -Be @('ca-bundle.crt', 'client.crt', 'client.csr', 'client.key', 'dxlclient.config')
        if (-not $IsWindows) { (Get-Item -LiteralPath $Csr.PrivateKeyPath).UnixMode | Should -Be '-rw-------' }
        ($text -join "`n") | Should -Match 'GET /remote/DxlBrokerMgmt\.generateOpenDXLClientProvisioningPackageCmd'
        ($text -join "`n") | Should -Match 'HTTP 200 OK'
        Assert-NoSecret $text
        Disconnect-DxlFabric -Session Provisioned
    }

    It '-CommonName makes the key too, and -Connect opens the default session' {
        $dir = New-Folder 'connect'
        $r = New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -EpoCaPath $Fabric.ProvisioningCaPath -CommonName pester-connect -Path $dir -Connect -Name ConnectedAtOnce -ErrorAction Stop

        $r.PrivateKeyWritten | Should -BeTrue
        $r.Session.Name | Should -Be 'ConnectedAtOnce'
        (Get-DxlSession -Default).Name | Should -Be 'ConnectedAtOnce'
        (Get-TieFileReputation -Hash $Seed.NotepadSha1 -ErrorAction Stop).Gti | Should -Be 'KnownTrusted'
        $r.Brokers | Should -Be @("ssl://127.0.0.1:$($Fabric.Port)")
        Disconnect-DxlFabric -Session ConnectedAtOnce
    }
}

Describe 'An encrypted key' {
    It '-KeyPassword encrypts it; -Connect and later Connect-DxlFabric -PrivateKeyPassword open it' {
        $dir = New-Folder 'encrypted'
        $pw = ConvertTo-SecureString 'Key-Pa55-For-Pester' -AsPlainText -Force
        $text = Invoke-AllStreams {
            $script:Encrypted = New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
                -EpoCaPath $Fabric.ProvisioningCaPath -CommonName encrypted -KeyPassword $pw -Path $dir -Connect -Name EncryptedAtOnce -ErrorAction Stop
        }
        ($text -join "`n") | Should -Not -Match 'Key-Pa55-For-Pester'
        Get-Content -LiteralPath $Encrypted.PrivateKeyPath -Raw | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----'
        Get-Content -LiteralPath $Encrypted.ConfigPath -Raw | Should -Not -Match 'Key-Pa55-For-Pester'
        $Encrypted.Session.IsConnected | Should -BeTrue
        Disconnect-DxlFabric -Session EncryptedAtOnce

        { Connect-DxlFabric -ConfigPath $Encrypted.ConfigPath -Name NoPassword -ErrorAction Stop } | Should -Throw -ExpectedMessage '*encrypted*'
        Connect-DxlFabric -ConfigPath $Encrypted.ConfigPath -PrivateKeyPassword $pw -Name EncryptedLater -ErrorAction Stop
        (Get-TieFileReputation -Hash $Seed.NotepadSha256 -ErrorAction Stop).Gti | Should -Be 'KnownTrusted'
        Disconnect-DxlFabric -Session EncryptedLater
    }
}

Describe 'New-DxlClientConfig refusals' {
    It '-WhatIf writes nothing and asks ePO nothing' {
        $dir = Join-Path $TestDrive 'whatif'
        New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -EpoCaPath $Fabric.ProvisioningCaPath -CommonName nothing -Path $dir -WhatIf
        Test-Path -LiteralPath $dir | Should -BeFalse
    }

    It 'keeps an existing config unless -Force, before ePO is asked' {
        $dir = New-Folder 'existing'
        Set-Content -LiteralPath (Join-Path $dir 'dxlclient.config') -Value 'mine'
        $e = { New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
                -EpoCaPath $Fabric.ProvisioningCaPath -CommonName again -Path $dir -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'DxlProvisioningRefused,*'
        Get-Content -LiteralPath (Join-Path $dir 'dxlclient.config') | Should -Be 'mine'
        @(Get-ChildItem -LiteralPath $dir).Count | Should -Be 1

        New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -EpoCaPath $Fabric.ProvisioningCaPath -CommonName again -Path $dir -Force -ErrorAction Stop | Out-Null
        Get-Content -LiteralPath (Join-Path $dir 'dxlclient.config') -Raw | Should -Match '\[Brokers\]'
    }

    It 'a wrong password is EpoAuthenticationFailed, writes nothing and shows no password' {
        $dir = Join-Path $TestDrive 'wrong'
        $wrong = [pscredential]::new($Fabric.ProvisioningUser, (ConvertTo-SecureString 'Wr0ng-Secret-Value' -AsPlainText -Force))
        $text = Invoke-AllStreams {
            try {
                New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $wrong -EpoCaPath $Fabric.ProvisioningCaPath `
                    -CommonName wrong -Path $dir -ErrorAction Stop
            }
            catch { $script:Failure = $_; $_ }
        }
        $Failure.FullyQualifiedErrorId | Should -BeLike 'EpoAuthenticationFailed,*'
        $Failure.Exception.Message | Should -Match 'HTTP 401'
        ($text -join "`n") | Should -Not -Match 'Wr0ng-Secret-Value'
        Assert-NoSecret $text
        Test-Path -LiteralPath $dir | Should -BeFalse
    }

    It 'an untrusted ePO certificate is EpoTlsRejected; -SkipCertificateCheck warns and goes on' {
        $dir = Join-Path $TestDrive 'tls'
        $e = { New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
                -CommonName tls -Path $dir -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'EpoTlsRejected,*'
        $e.Exception.Message | Should -Match 'not trusted by this system'
        Test-Path -LiteralPath $dir | Should -BeFalse

        $r = New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -CommonName tls -Path $dir -SkipCertificateCheck -WarningVariable warned -WarningAction SilentlyContinue -ErrorAction Stop
        $warned | Should -Match 'SkipCertificateCheck'
        Test-Path -LiteralPath $r.ConfigPath | Should -BeTrue
    }

    It 'a closed port is EpoUnreachable' {
        $port = Get-FreeLoopbackPort
        $e = { New-DxlClientConfig -EpoServer "127.0.0.1:$port" -Credential $Fabric.ProvisioningCredential `
                -CommonName closed -Path (Join-Path $TestDrive 'closed') -TimeoutSec 5 -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'EpoUnreachable,*'
    }
}

Describe 'Update-DxlClientConfig' {
    BeforeAll {
        $script:UpdateDir = New-Folder 'update'
        $r = New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -EpoCaPath $Fabric.ProvisioningCaPath -CommonName updated -Path $UpdateDir -ErrorAction Stop
        $script:UpdateConfig = $r.ConfigPath
        # A broker ePO no longer lists, with its comment, and a setting of the user's.
        $text = (Get-Content -LiteralPath $UpdateConfig -Raw) -replace '\[Brokers\]\n', "[Brokers]`n# retired last year`n{retired} = {retired};8883;old.example.test`n"
        $text = $text -replace '#UseWebSockets = False', "#UseWebSockets = False`nClientId = {pester-client-id}"
        Set-Content -LiteralPath $UpdateConfig -Value $text -NoNewline
        $script:Before = Get-Content -LiteralPath $UpdateConfig -Raw
    }

    It '-WhatIf lists the broker changes and writes nothing' {
        $text = Invoke-AllStreams {
            Update-DxlClientConfig -ConfigPath $UpdateConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
                -EpoCaPath $Fabric.ProvisioningCaPath -WhatIf
        }
        ($text -join "`n") | Should -Match 'Update .*dxlclient\.config: Removed \{retired\}: \{retired\};8883;old\.example\.test'
        Get-Content -LiteralPath $UpdateConfig -Raw | Should -Be $Before
        Assert-NoSecret $text
    }

    It 'removes the retired broker with its comment and keeps the rest' {
        $r = Update-DxlClientConfig -ConfigPath $UpdateConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -EpoCaPath $Fabric.ProvisioningCaPath -Confirm:$false -ErrorAction Stop

        $r.Applied | Should -BeTrue
        $r.Removed | Should -Be @('ssl://old.example.test:8883')
        $r.Unchanged | Should -Be @("ssl://127.0.0.1:$($Fabric.Port)")
        $after = Get-Content -LiteralPath $UpdateConfig -Raw
        $after | Should -Not -Match 'retired'
        $after | Should -Match 'ClientId = \{pester-client-id\}'
        $after | Should -Be ($Before -replace "# retired last year`n\{retired\} = \{retired\};8883;old\.example\.test`n", '')

        $again = Update-DxlClientConfig -ConfigPath $UpdateConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -EpoCaPath $Fabric.ProvisioningCaPath -Confirm:$false -ErrorAction Stop
        $again.Applied | Should -BeFalse
    }
}

Describe 'Arguments that cannot work' {
    It 'a server that is not host[:port] or a missing -EpoCaPath stop before ePO is asked' {
        $e = { New-DxlClientConfig -EpoServer 'http://epo.example.test' -Credential $Fabric.ProvisioningCredential `
                -CommonName bad -Path (Join-Path $TestDrive 'bad') -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'DxlProvisioningRefused,*'
        $e.Exception.Message | Should -Match 'https only'

        $e = { Update-DxlClientConfig -ConfigPath (Join-Path $TestDrive 'none.config') -EpoServer $Fabric.ProvisioningServer `
                -Credential $Fabric.ProvisioningCredential -EpoCaPath (Join-Path $TestDrive 'missing-ca.crt') -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'DxlConfigFileNotFound,*'
        Test-Path -LiteralPath (Join-Path $TestDrive 'bad') | Should -BeFalse
    }
}

Describe 'New-DxlClientConfig from files exported in the ePO console' {
    It 'checks and copies them into the layout, and the result connects' {
        $source = New-Folder 'exported-source'
        $made = New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -EpoCaPath $Fabric.ProvisioningCaPath -CommonName exported -Path $source -ErrorAction Stop
        $line = (Get-Content -LiteralPath $made.ConfigPath | Where-Object { $_ -match '^\{.*\} = ' }) -replace ' = ', '='
        $brokerList = Join-Path $source 'brokerlist.properties'
        Set-Content -LiteralPath $brokerList -Value "#Tue Dec 01 10:00:00 UTC 2026`n$line"
        $target = Join-Path $TestDrive 'exported-target'

        $r = New-DxlClientConfig -BrokerListPath $brokerList -CaBundlePath $made.CaBundlePath -CertificatePath $made.CertificatePath `
            -PrivateKeyPath $made.PrivateKeyPath -Path $target -Connect -Name FromExport -ErrorAction Stop

        $r.Brokers | Should -Be @("ssl://127.0.0.1:$($Fabric.Port)")
        (Get-FileHash $r.PrivateKeyPath).Hash | Should -Be (Get-FileHash $made.PrivateKeyPath).Hash
        (Get-TieFileReputation -Hash $Seed.NotepadMd5 -ErrorAction Stop).Gti | Should -Be 'KnownTrusted'
        Disconnect-DxlFabric -Session FromExport
    }

    It 'a key that does not belong to the certificate writes nothing' {
        $one = New-Folder 'export-one'
        $two = New-Folder 'export-two'
        $a = New-DxlClientConfig -EpoServer $Fabric.ProvisioningServer -Credential $Fabric.ProvisioningCredential `
            -EpoCaPath $Fabric.ProvisioningCaPath -CommonName one -Path $one -ErrorAction Stop
        $b = New-DxlCertificateRequest -CommonName two -Path $two
        $brokerList = Join-Path $one 'brokerlist.properties'
        Set-Content -LiteralPath $brokerList -Value '{b}={b};8883;broker.example.test'
        $target = Join-Path $TestDrive 'export-mismatch'

        $e = { New-DxlClientConfig -BrokerListPath $brokerList -CaBundlePath $a.CaBundlePath -CertificatePath $a.CertificatePath `
                -PrivateKeyPath $b.PrivateKeyPath -Path $target -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'DxlConfigInvalid,*'
        $e.Exception.Message | Should -Match 'does not match'
        Test-Path -LiteralPath $target | Should -BeFalse
    }
}
