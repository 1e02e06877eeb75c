# The mapping of DXL exceptions to error records (ids, categories, targets, messages), tested through the
# module's internal ErrorCatalog class: every cmdlet reports DXL failures through it.
BeforeAll {
    $modulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    Import-Module $modulePath -ErrorAction Stop
    $script:Errors = [TieDxl.DxlSession].Assembly.GetType('TieDxl.Errors.ErrorCatalog', $true)
    function script:Map($Exception, $Target) { $Errors.GetMethod('FromException', [type[]]@([Exception], [object])).Invoke($null, @($Exception, $Target)) }
    function script:IsTerminating($Exception) { $Errors.GetMethod('IsTerminating').Invoke($null, @($Exception)) }
    function script:NewErrorResponse([long] $Code, [string] $Message) {
        $r = [TieDxl.Dxl.Messages.DxlErrorResponse]::new()
        $r.ErrorCode = $Code
        $r.ErrorMessage = $Message
        $r
    }
}

Describe 'DXL exceptions become error records' {
    It 'TLS failure: DxlTlsRejected, SecurityError, the exception kept' {
        $ex = [TieDxl.Dxl.DxlTlsException]::new('The broker certificate is not signed by the configured CA.', $null)
        $r = Map $ex 'ssl://b:8883'
        $r.FullyQualifiedErrorId | Should -Be 'DxlTlsRejected'
        $r.CategoryInfo.Category | Should -Be 'SecurityError'
        $r.TargetObject | Should -Be 'ssl://b:8883'
        $r.Exception | Should -Be $ex
        $r.ErrorDetails.Message | Should -Be $ex.Message
        $r.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        IsTerminating $ex | Should -BeTrue
    }

    It 'missing file named by a config error: DxlConfigFileNotFound, ObjectNotFound, the file as target' {
        $file = Join-Path $TestDrive 'nope.crt'
        $ex = [TieDxl.Dxl.DxlConfigException]::new('cannot read the certificate', $file, $null, 'CertFile', $null)
        $r = Map $ex 'config'
        $r.FullyQualifiedErrorId | Should -Be 'DxlConfigFileNotFound'
        $r.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $r.TargetObject | Should -Be $file
        $r.ErrorDetails.Message | Should -BeLike "*$file*CertFile*"
        IsTerminating $ex | Should -BeTrue
    }

    It 'bad config line: DxlConfigInvalid, InvalidArgument, file and line in the message' {
        $file = Join-Path $TestDrive 'dxlclient.config'
        Set-Content -LiteralPath $file -Value '[Brokers]'
        $ex = [TieDxl.Dxl.DxlConfigException]::new('port must be 1-65535', $file, 3, $null, $null)
        $r = Map $ex $null
        $r.FullyQualifiedErrorId | Should -Be 'DxlConfigInvalid'
        $r.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $r.ErrorDetails.Message | Should -BeLike "*${file}:3*port must be*"
    }

    It 'no response: DxlRequestTimeout, OperationTimeout, the topic as target by default' {
        $ex = [TieDxl.Dxl.DxlTimeoutException]::new('/mcafee/service/tie/file/reputation', '{id}', [timespan]::FromSeconds(5))
        $r = Map $ex $null
        $r.FullyQualifiedErrorId | Should -Be 'DxlRequestTimeout'
        $r.CategoryInfo.Category | Should -Be 'OperationTimeout'
        $r.TargetObject | Should -Be '/mcafee/service/tie/file/reputation'
        $r.ErrorDetails.Message | Should -Match 'authori'
        IsTerminating $ex | Should -BeFalse
    }

    It 'service not found: DxlServiceNotFound, ResourceUnavailable' {
        $ex = [TieDxl.Dxl.DxlErrorResponseException]::new('/t', (NewErrorResponse 0x80000001 'unable to locate service for request'))
        $r = Map $ex 'hash'
        $r.FullyQualifiedErrorId | Should -Be 'DxlServiceNotFound'
        $r.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $r.TargetObject | Should -Be 'hash'
        IsTerminating $ex | Should -BeFalse
    }

    It 'service overloaded: DxlServiceBusy, ResourceBusy' {
        $ex = [TieDxl.Dxl.DxlErrorResponseException]::new('/t', (NewErrorResponse 0x80000002 'service is overloaded'))
        (Map $ex '/t').CategoryInfo.Category | Should -Be 'ResourceBusy'
    }

    It 'other error response: DxlErrorResponse, InvalidResult, code and message kept' {
        $ex = [TieDxl.Dxl.DxlErrorResponseException]::new('/t', (NewErrorResponse 12 'bad hash'))
        $r = Map $ex '/t'
        $r.FullyQualifiedErrorId | Should -Be 'DxlErrorResponse'
        $r.CategoryInfo.Category | Should -Be 'InvalidResult'
        $r.ErrorDetails.Message | Should -Match 'bad hash'
        $r.Exception.Code | Should -Be 12
    }

    It 'lost connection: DxlConnectionFailed, ConnectionError, terminating' {
        $ex = [TieDxl.Dxl.DxlConnectionException]::new('connection lost', $null)
        $r = Map $ex 'b'
        $r.FullyQualifiedErrorId | Should -Be 'DxlConnectionFailed'
        $r.CategoryInfo.Category | Should -Be 'ConnectionError'
        IsTerminating $ex | Should -BeTrue
    }

    It 'too large: DxlPayloadTooLarge, LimitsExceeded' {
        $r = Map ([TieDxl.Dxl.DxlPayloadTooLargeException]::new('/t', 2000000, 1048576)) '/t'
        $r.FullyQualifiedErrorId | Should -Be 'DxlPayloadTooLarge'
        $r.CategoryInfo.Category | Should -Be 'LimitsExceeded'
    }

    It 'unwraps a single AggregateException' {
        $inner = [TieDxl.Dxl.DxlConnectionException]::new('gone', $null)
        $r = Map ([AggregateException]::new([Exception[]]@($inner))) 'b'
        $r.FullyQualifiedErrorId | Should -Be 'DxlConnectionFailed'
        $r.Exception | Should -Be $inner
    }

    It 'anything else: DxlUnexpectedError with the type in the message, target never null' {
        $r = Map ([System.IO.IOException]::new('disk')) $null
        $r.FullyQualifiedErrorId | Should -Be 'DxlUnexpectedError'
        $r.ErrorDetails.Message | Should -Match 'IOException: disk'
        $null -ne $r.TargetObject | Should -BeTrue -Because 'the target is "" rather than null'
    }
}
