# The module as built: manifest, exports, formats, public surface.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $script:Module = Import-Module $script:ModulePath -PassThru -ErrorAction Stop
    $script:Expected = @(
        'Connect-DxlFabric', 'Disconnect-DxlFabric', 'Get-DxlSession',
        'Invoke-DxlRequest', 'Receive-DxlEvent', 'Send-DxlEvent')
}

Describe 'TieDxl module' {
    It 'imports from the built folder with the manifest version' {
        $Module.Name | Should -Be 'TieDxl'
        $Module.Version | Should -Be ([version]'0.2.0')
        $Module.ModuleBase | Should -Be (Split-Path -Parent (Resolve-Path $ModulePath).Path)
    }

    It 'exports the foundation cmdlets' {
        $names = @(Get-Command -Module TieDxl -CommandType Cmdlet).Name
        foreach ($n in $Expected) { $names | Should -Contain $n }
    }

    It 'exports exactly the cmdlets the manifest lists' {
        $manifest = Import-PowerShellDataFile $ModulePath
        @(Get-Command -Module TieDxl).Name | Sort-Object | Should -Be (@($manifest.CmdletsToExport) | Sort-Object)
    }

    It 'uses only approved verbs' {
        $approved = (Get-Verb).Verb
        foreach ($c in Get-Command -Module TieDxl) { $approved | Should -Contain $c.Verb }
    }

    It 'loads the DXL and TIE assemblies at import, so scripts can catch DXL exceptions by type' {
        'TieDxl.Dxl.DxlTimeoutException' -as [type] | Should -Not -BeNullOrEmpty
        'TieDxl.Dxl.DxlTlsException' -as [type] | Should -Not -BeNullOrEmpty
    }

    It 'loads the format views' {
        (Get-FormatData -TypeName TieDxl.DxlSession).TypeNames | Should -Contain 'TieDxl.DxlSession'
        (Get-FormatData -TypeName TieDxl.DxlEventMessage).TypeNames | Should -Contain 'TieDxl.DxlEventMessage'
    }

    It 'keeps MQTTnet types out of the public surface' {
        $asm = [TieDxl.DxlSession].Assembly
        $leaks = foreach ($t in $asm.GetExportedTypes()) {
            foreach ($m in $t.GetMembers([System.Reflection.BindingFlags]'Public,Instance,Static,DeclaredOnly')) {
                $types = switch ($m.MemberType) {
                    'Property' { $m.PropertyType }
                    'Method' { @($m.ReturnType) + @($m.GetParameters() | ForEach-Object ParameterType) }
                    'Constructor' { @($m.GetParameters() | ForEach-Object ParameterType) }
                    'Field' { $m.FieldType }
                    default { @() }
                }
                foreach ($ty in $types) { if ($ty -and $ty.Assembly.GetName().Name -like 'MQTTnet*') { "$t.$($m.Name)" } }
            }
        }
        $leaks | Should -BeNullOrEmpty
    }

    It 'declares output types on every cmdlet' {
        foreach ($c in Get-Command -Module TieDxl) {
            $c.ImplementingType.GetCustomAttributes([System.Management.Automation.OutputTypeAttribute], $true) |
                Should -Not -BeNullOrEmpty -Because "$($c.Name) should declare [OutputType]"
        }
    }
}
