# Every exported cmdlet has complete help (generated from docs/en-US/*.md into en-US/TieDxl.dll-Help.xml).
BeforeDiscovery {
    $modulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    Import-Module $modulePath -ErrorAction Stop
    $script:Cmdlets = @(Get-Command -Module TieDxl -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    $modulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    Import-Module $modulePath -ErrorAction Stop
    $script:Common = [System.Management.Automation.PSCmdlet]::CommonParameters
}

Describe 'Help of <Name>' -ForEach $Cmdlets {
    BeforeAll {
        $script:Help = Get-Help -Name $Name -Full -ErrorAction Stop
        $script:Command = Get-Command -Name $Name
    }

    It 'comes from the MAML file' {
        $Help.PSObject.Properties.Name | Should -Contain 'examples'
        $Help.ModuleName | Should -Be 'TieDxl'
    }

    It 'has a synopsis' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        # Without MAML, Get-Help makes the synopsis from the syntax.
        $Help.Synopsis.Trim() | Should -Not -BeLike "$Name *"
    }

    It 'has a description' {
        ($Help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $names = $Command.Parameters.Keys | Where-Object { $_ -notin $Common }
        foreach ($p in $names) {
            $ph = $Help.parameters.parameter | Where-Object name -EQ $p
            $ph | Should -Not -BeNullOrEmpty -Because "-$p must be in the help of $Name"
            ($ph.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$p of $Name needs a description"
        }
    }

    It 'has at least one example with code' {
        @($Help.examples.example).Count | Should -BeGreaterOrEqual 1
        foreach ($ex in $Help.examples.example) { $ex.code.Trim() | Should -Not -BeNullOrEmpty }
    }

    It 'names its inputs and outputs' {
        $Help.inputTypes | Should -Not -BeNullOrEmpty
        $Help.returnValues | Should -Not -BeNullOrEmpty
    }
}

Describe 'about_TieDxl' {
    It 'is installed with the module and documents TIEDXL_CONFIG' {
        $about = Get-Help about_TieDxl -ErrorAction Stop | Out-String
        $about | Should -Match 'TIEDXL_CONFIG'
    }
}
