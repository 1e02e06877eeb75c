# Sessions and Connect-DxlFabric failures that need no broker.
BeforeAll {
    $modulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    Import-Module $modulePath -ErrorAction Stop
    $script:SavedConfig = $env:TIEDXL_CONFIG
}

AfterAll {
    $env:TIEDXL_CONFIG = $SavedConfig
}

Describe 'Get-DxlSession with no session' {
    It 'writes nothing' {
        @(Get-DxlSession).Count | Should -Be 0
        @(Get-DxlSession -Default).Count | Should -Be 0
        @(Get-DxlSession -Name 'any*' -ErrorAction Stop).Count | Should -Be 0
    }

    It 'reports a missing name as ObjectNotFound without stopping' {
        $out = Get-DxlSession -Name nope -ErrorAction SilentlyContinue -ErrorVariable err
        $out | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DxlSessionNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 'nope'
    }

    It 'completes no session names' {
        $r = TabExpansion2 -inputScript 'Get-DxlSession -Name ' -cursorColumn 'Get-DxlSession -Name '.Length
        $r.CompletionMatches.Count | Should -Be 0
    }
}

Describe 'Cmdlets that need a session' {
    It '<Command> fails with DxlNotConnected' -ForEach @(
        @{ Command = 'Invoke-DxlRequest'; Script = { Invoke-DxlRequest -Topic /x -Payload 'p' } }
        @{ Command = 'Send-DxlEvent'; Script = { Send-DxlEvent -Topic /x -Payload 'p' -Confirm:$false } }
        @{ Command = 'Receive-DxlEvent'; Script = { Receive-DxlEvent -Topic /x -Count 1 -TimeoutSec 1 } }
    ) {
        $e = $Script | Should -Throw -ErrorId 'DxlNotConnected,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ConnectionError'
        $e.Exception.Message | Should -Match 'Connect-DxlFabric'
        $e.TargetObject | Should -Not -BeNullOrEmpty
    }

    It 'rejects an unknown session name for -Session' {
        { Invoke-DxlRequest -Topic /x -Session nope } | Should -Throw "*No open DXL session is named 'nope'*"
    }

    It 'Disconnect-DxlFabric with no session does nothing' {
        { Disconnect-DxlFabric -ErrorAction Stop } | Should -Not -Throw
    }
}

Describe 'Connect-DxlFabric errors' {
    It 'names a missing config file (ObjectNotFound)' {
        $missing = Join-Path $TestDrive 'missing/dxlclient.config'
        $e = { Connect-DxlFabric -ConfigPath $missing } | Should -Throw -ErrorId 'DxlConfigFileNotFound,*' -PassThru
        $e.Exception.Message | Should -BeLike "*$missing*"
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.TargetObject | Should -Be $missing
        $e.Exception | Should -BeOfType [System.IO.FileNotFoundException]
    }

    It 'resolves a relative config path against the PowerShell location' {
        Push-Location $TestDrive
        try {
            $e = { Connect-DxlFabric -ConfigPath 'rel.config' } | Should -Throw -ErrorId 'DxlConfigFileNotFound,*' -PassThru
            $e.Exception.Message | Should -BeLike "*$(Join-Path $TestDrive 'rel.config')*"
        }
        finally { Pop-Location }
    }

    It 'fails clearly with no -ConfigPath, no -Broker and no TIEDXL_CONFIG' {
        $env:TIEDXL_CONFIG = $null
        $e = { Connect-DxlFabric } | Should -Throw -ErrorId 'DxlConfigNotSpecified,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -Match 'TIEDXL_CONFIG'
        $e.Exception.Message | Should -Match '-ConfigPath'
    }

    It 'takes the config path from TIEDXL_CONFIG and names the file when it is missing' {
        $missing = Join-Path $TestDrive 'from-env.config'
        $env:TIEDXL_CONFIG = $missing
        try {
            $e = { Connect-DxlFabric } | Should -Throw -ErrorId 'DxlConfigFileNotFound,*' -PassThru
            $e.Exception.Message | Should -BeLike "*$missing*TIEDXL_CONFIG*"
        }
        finally { $env:TIEDXL_CONFIG = $null }
    }

    It 'names a missing certificate file' {
        $crt = Join-Path $TestDrive 'nope.crt'
        $e = { Connect-DxlFabric -Broker 'ssl://127.0.0.1:8883' -CertificatePath $crt -PrivateKeyPath $crt -CaBundlePath $crt } |
            Should -Throw -ErrorId 'DxlCertificateFileNotFound,*' -PassThru
        $e.Exception.Message | Should -BeLike "*$crt*"
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'rejects a certificate without its private key' {
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $req = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=nokey', $rsa,
            [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $withKey = $req.CreateSelfSigned([datetimeoffset]::Now.AddDays(-1), [datetimeoffset]::Now.AddDays(1))
        $noKey = [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadCertificate($withKey.RawData)
        $e = { Connect-DxlFabric -Broker 'ssl://127.0.0.1:8883' -Certificate $noKey -CaBundlePath $PSCommandPath } |
            Should -Throw -ErrorId 'DxlCertificateWithoutKey,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'never prompts: a missing mandatory parameter is an error in a non-interactive host' {
        { Connect-DxlFabric -Broker 'ssl://127.0.0.1:8883' -CaBundlePath $PSCommandPath } | Should -Throw
    }

    It 'leaves no session behind after a failure' {
        @(Get-DxlSession).Count | Should -Be 0
    }
}
