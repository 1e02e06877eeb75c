# The module as users get it: the .nupkg that build.ps1 -Task Package published into the local repository, installed
# with PSResourceGet and imported by name; beside assemblies of another version that carry its dependencies' names;
# removed and imported again in one session. Everything runs in child pwsh processes with temporary PSResourceGet
# settings and module folders, so nothing reaches the user's own repositories or modules.
BeforeAll {
    $script:ModulePath = $env:TIEDXL_TEST_MODULE ?? (Join-Path $PSScriptRoot '../../out/TieDxl/TieDxl.psd1')
    $script:RepositoryPath = $env:TIEDXL_TEST_REPOSITORY ?? (Join-Path $PSScriptRoot '../../out/repository')
    $script:Version = (Import-PowerShellDataFile $ModulePath).ModuleVersion
    $script:Package = Join-Path $RepositoryPath "TieDxl.$Version.nupkg"
    if (-not (Test-Path -LiteralPath $Package)) {
        throw "No package ${Package}: build.ps1 -Task Package (which -Task Test runs) makes it."
    }
    $script:Pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    $script:Scripts = Join-Path $PSScriptRoot 'Scripts'
    # Seeded in the simulator as KnownTrusted (tests/pester/TestSupport.psm1).
    $script:NotepadSha256 = '142e1d688ef0568370c37187fd9f2351d7ddeda574f8bfa9b0fa4ef42db85aa2'

    # Runs a script in a child pwsh with extra environment variables; returns its key=value lines as a hashtable,
    # its whole output and its exit code.
    function script:Invoke-ChildScript {
        param([string] $Name, [string[]] $Arguments = @(), [hashtable] $Environment = @{})
        $saved = @{}
        foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
        try {
            $lines = @(& $Pwsh -NoProfile -NonInteractive -File (Join-Path $Scripts $Name) @Arguments 2>&1 | ForEach-Object { "$_" })
            $code = $LASTEXITCODE
        }
        finally {
            foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
        }
        $values = @{}
        foreach ($line in $lines) { if ($line -match '^([\w.]+)=(.*)$') { $values[$Matches[1]] = $Matches[2] } }
        [pscustomobject]@{ Values = $values; Output = $lines -join [Environment]::NewLine; ExitCode = $code }
    }

    function script:New-RandomSha256 {
        [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)).ToLowerInvariant()
    }

    # A library named like one of TieDxl's dependencies, of another version, with one class: <Name>.ForeignProbe.
    # Compiled with the Roslyn that PowerShell ships (Add-Type -OutputAssembly cannot choose the assembly name).
    function script:New-ForeignAssembly([string] $Name, [string] $AssemblyVersion, [string] $Folder) {
        $source = "[assembly: System.Reflection.AssemblyVersion(`"$AssemblyVersion`")] namespace $Name { public static class ForeignProbe { public static string Hello() { return `"foreign $Name $AssemblyVersion`"; } } }"
        $tree = [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree]::ParseText($source)
        $references = [Microsoft.CodeAnalysis.MetadataReference[]]@([Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile([object].Assembly.Location))
        $options = [Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions]::new([Microsoft.CodeAnalysis.OutputKind]::DynamicallyLinkedLibrary)
        $compilation = [Microsoft.CodeAnalysis.CSharp.CSharpCompilation]::Create($Name, [Microsoft.CodeAnalysis.SyntaxTree[]]@($tree), $references, $options)
        $null = New-Item -ItemType Directory -Force -Path $Folder
        $path = Join-Path $Folder "$Name.dll"
        $stream = [IO.File]::Create($path)
        try { $result = $compilation.Emit($stream) } finally { $stream.Dispose() }
        if (-not $result.Success) { throw "Compiling $Name failed: $($result.Diagnostics -join '; ')" }
        $path
    }
}

Describe 'The package' {
    It 'holds the manifest, the format file, the help, the assemblies and LICENSE, nothing of tests or the build' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Package)
        try { $entries = @($zip.Entries.FullName) } finally { $zip.Dispose() }
        $content = @($entries | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|TieDxl\.nuspec$)' } | Sort-Object)
        foreach ($f in 'TieDxl.psd1', 'TieDxl.format.ps1xml', 'TieDxl.dll', 'TieDxl.ModuleLoading.dll', 'LICENSE',
            'en-US/TieDxl.dll-Help.xml', 'en-US/about_TieDxl.help.txt',
            'Dependencies/TieDxl.Dxl.dll', 'Dependencies/TieDxl.Tie.dll', 'Dependencies/TieDxl.Fabric.dll',
            'Dependencies/MQTTnet.dll', 'Dependencies/MQTTnet.Server.dll', 'Dependencies/MessagePack.dll') {
            $content | Should -Contain $f
        }
        $content | Where-Object { $_ -notmatch '^(TieDxl\.(psd1|format\.ps1xml|dll|ModuleLoading\.dll)|LICENSE|en-US/[^/]+|Dependencies/[^/]+\.dll)$' } |
            Should -BeNullOrEmpty -Because 'only the module files belong in the package'
    }
}

Describe 'Install-PSResource from the local repository' {
    BeforeAll {
        # PSResourceGet keeps its repositories under LocalApplicationData (XDG_DATA_HOME on Linux and macOS,
        # LOCALAPPDATA on Windows) and installs CurrentUser modules under the home folder on Linux and macOS
        # (~/.local/share/powershell/Modules): temporary ones isolate both. The child refuses to install when the
        # CurrentUser folder is not under them.
        $script:Settings = Join-Path $TestDrive 'psresourceget'
        $null = New-Item -ItemType Directory -Path (Join-Path $Settings 'home')
        $script:IsolatedEnvironment = @{ XDG_DATA_HOME = $Settings; LOCALAPPDATA = $Settings; HOME = (Join-Path $Settings 'home') }
        $script:RepositoryName = 'TieDxlPackageTest'
        $script:Install = Invoke-ChildScript -Name 'Use-PSResourceRepository.ps1' -Environment $IsolatedEnvironment -Arguments @(
            '-Action', 'Install', '-RepositoryName', $RepositoryName, '-RepositoryPath', (Resolve-Path $RepositoryPath).Path,
            '-Version', $Version, '-IsolatedRoot', $Settings)
    }

    AfterAll {
        if ($Install -and $Install.Values['InstalledLocation']) {
            $script:Uninstall = Invoke-ChildScript -Name 'Use-PSResourceRepository.ps1' -Environment $IsolatedEnvironment -Arguments @(
                '-Action', 'Uninstall', '-RepositoryName', $RepositoryName)
        }
    }

    It 'installs the package into the isolated CurrentUser module folder' {
        $Install.ExitCode | Should -Be 0 -Because $Install.Output
        $Install.Values['Found'] | Should -Be $Version
        $Install.Values['InstalledVersion'] | Should -Be $Version
        $Install.Values['InstalledLocation'] | Should -BeLike "$Settings*" -Because 'nothing may be installed into the real user scope'
        Test-Path -LiteralPath (Join-Path $Install.Values['InstalledLocation'] "TieDxl/$Version/TieDxl.psd1") | Should -BeTrue
    }

    It 'imports by name with PSModulePath holding only that folder, then looks up and reports on the test fabric' {
        $r = Invoke-ChildScript -Name 'Use-InstalledModule.ps1' -Arguments @(
            '-ModuleRoot', $Install.Values['InstalledLocation'], '-KnownHash', $NotepadSha256, '-NewHash', (New-RandomSha256))
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Values['Available'] | Should -Be '1'
        $r.Values['ModuleBase'] | Should -Be (Join-Path $Install.Values['InstalledLocation'] "TieDxl/$Version")
        $r.Values['Version'] | Should -Be $Version
        $r.Values['Lookup'] | Should -Be 'KnownTrusted'
        $r.Values['Report'] | Should -Be 'Sent'
        $r.Values['ExternalReports'] | Should -Be '1'
    }

    It 'uninstalls and unregisters, leaving neither behind' {
        $u = Invoke-ChildScript -Name 'Use-PSResourceRepository.ps1' -Environment $IsolatedEnvironment -Arguments @(
            '-Action', 'Uninstall', '-RepositoryName', $RepositoryName)
        $u.ExitCode | Should -Be 0 -Because $u.Output
        $u.Values['Installed'] | Should -Be '0'
        $u.Values['Repositories'] -split ',' | Should -Not -Contain $RepositoryName
        Test-Path -LiteralPath (Join-Path $Install.Values['InstalledLocation'] 'TieDxl') | Should -BeFalse
        $script:Install = $null
    }
}

Describe 'Beside assemblies of another version named like its dependencies' {
    BeforeAll {
        $folder = Join-Path $TestDrive 'foreign'
        $script:Foreign = @{
            Lower  = @((New-ForeignAssembly 'MessagePack' '1.0.0.0' (Join-Path $folder 'lower')), (New-ForeignAssembly 'MQTTnet' '4.0.0.0' (Join-Path $folder 'lower')))
            Higher = @((New-ForeignAssembly 'MessagePack' '9.0.0.0' (Join-Path $folder 'higher')), (New-ForeignAssembly 'MQTTnet' '9.0.0.0' (Join-Path $folder 'higher')))
        }
    }

    It 'works with the <Versions> versions loaded <Order>' -ForEach @(
        @{ Versions = 'Lower'; Order = 'ForeignFirst'; MessagePack = '1.0.0.0'; MQTTnet = '4.0.0.0' }
        @{ Versions = 'Lower'; Order = 'TieDxlFirst'; MessagePack = '1.0.0.0'; MQTTnet = '4.0.0.0' }
        @{ Versions = 'Higher'; Order = 'ForeignFirst'; MessagePack = '9.0.0.0'; MQTTnet = '9.0.0.0' }
        @{ Versions = 'Higher'; Order = 'TieDxlFirst'; MessagePack = '9.0.0.0'; MQTTnet = '9.0.0.0' }
    ) {
        $r = Invoke-ChildScript -Name 'Use-ModuleBesideForeignAssemblies.ps1' -Arguments (@(
                '-ModulePath', $ModulePath, '-Order', $Order, '-KnownHash', $NotepadSha256, '-NewHash', (New-RandomSha256),
                '-ForeignPath', ($Foreign[$Versions] -join [IO.Path]::PathSeparator)))
        $r.ExitCode | Should -Be 0 -Because $r.Output
        # The other module's copies load and are what PowerShell finds by name.
        $r.Values['Loaded.MessagePack'] | Should -Be $MessagePack
        $r.Values['Loaded.MQTTnet'] | Should -Be $MQTTnet
        $r.Values['Probe.MessagePack'] | Should -Be "foreign MessagePack $MessagePack"
        $r.Values['Probe.MQTTnet'] | Should -Be "foreign MQTTnet $MQTTnet"
        # TieDxl works on its own copies, in its own load context.
        $r.Values['Lookup'] | Should -Be 'KnownTrusted'
        $r.Values['Report'] | Should -Be 'Sent'
        $r.Values['TrustLevelType'] | Should -Be 'KnownTrusted'
        $r.Values['CaughtByType'] | Should -Be 'True'
        $r.Values["Context.MessagePack.$MessagePack"] | Should -Be 'Default'
        $r.Values["Context.MQTTnet.$MQTTnet"] | Should -Be 'Default'
        $r.Values['Context.MessagePack.2.5.0.0'] | Should -Be 'TieDxl.Dependencies'
        $r.Values.Keys | Where-Object { $_ -like 'Context.MQTTnet.5.*' } | ForEach-Object { $r.Values[$_] } | Should -Be 'TieDxl.Dependencies'
        # Asking by name for the very versions TieDxl uses does not hand out TieDxl's copies.
        $r.Values['ByName.MQTTnet'] | Should -Not -Be 'TieDxl.Dependencies'
        $r.Values['ByName.MessagePack'] | Should -Not -Be 'TieDxl.Dependencies'
        $r.Values['ByName.MQTTnet'] | Should -Not -BeNullOrEmpty
    }
}

Describe 'Remove-Module TieDxl, then Import-Module TieDxl in the same session' {
    It 'closes the sessions opened before the removal with a goodbye, and works again after the import' {
        $r = Invoke-ChildScript -Name 'Use-ModuleAfterRemoval.ps1' -Arguments @('-ModulePath', $ModulePath, '-KnownHash', $NotepadSha256)
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Values['BeforeLookup'] | Should -Be 'KnownTrusted'
        $r.Values['CommandsAfterRemoval'] | Should -Be '0'
        $r.Values['BeforeState'] | Should -Be 'Closed'
        $r.Values['CleanGoodbyes'] | Should -Be '3' -Because 'both sessions and then the fabric''s own TIE service client say goodbye'
        $r.Values['AbruptDisconnects'] | Should -Be '0'
        $r.Values['FabricFolderRemoved'] | Should -Be 'True' -Because 'the test fabric goes down with the module, after the goodbyes'
        $r.Values['AfterLookup'] | Should -Be 'KnownTrusted'
        $r.Values['TrustLevelType'] | Should -Be 'KnownTrusted'
        $r.Values['Sessions'] | Should -Be 'again,after'
        $r.Values['Done'] | Should -Be 'True'
    }
}
