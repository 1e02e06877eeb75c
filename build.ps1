#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and demonstrates the TieDxl module.

.DESCRIPTION
    Tasks:
      Build  dotnet publish of src/TieDxl into out/TieDxl, plus the manifest, the format file and the help
             (MAML generated from docs/en-US/*.md).
      Test   Build and Package, then the xunit tests (dotnet test, TRX) and every tests/pester/*.Tests.ps1 in its own fresh
             pwsh. Ends with one line "N passed, N failed" and a non-zero exit code on any failure, on a
             crashed phase, on a skipped test or when no test ran.
      Package
             Build, then the module's .nupkg (Publish-PSResource) into the local file repository out/repository:
             the manifest, the format file, the help, the assemblies and LICENSE. Install it with
             Register-PSResourceRepository -Name TieDxlLocal -Uri ./out/repository -Trusted and
             Install-PSResource TieDxl -Repository TieDxlLocal.
      Clean  Removes out/, .tools/ and every bin/ and obj/ folder under src/ and tests/.
      Demo   Build, then ./demo/Demo.ps1 in a fresh pwsh that finds TieDxl on PSModulePath.
      Bench  Build, then ./bench/Bench.ps1 in a fresh pwsh that finds TieDxl on PSModulePath.

    Fresh machine (only the .NET SDK):
      dotnet tool restore
      dotnet pwsh -NoProfile ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Clean', 'Demo', 'Bench')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Time limit of one Pester file (its own pwsh) and of the xunit run, in seconds.
    [ValidateRange(30, 86400)]
    [int] $TestTimeoutSec = 1200
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Root = $PSScriptRoot
$OutDir = Join-Path $Root 'out'
$ModuleOut = Join-Path $OutDir 'TieDxl'
$ResultsDir = Join-Path $OutDir 'test-results'
$RepositoryOut = Join-Path $OutDir 'repository'
$PesterVersion = '6.2.0'
$PwshPath = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')

# Environment of every child process (dotnet, pwsh): quiet, no colours, no telemetry.
$ChildEnvironment = [ordered]@{
    NO_COLOR                      = '1'
    DOTNET_CLI_TELEMETRY_OPTOUT   = '1'
    DOTNET_NOLOGO                 = '1'
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'
    POWERSHELL_TELEMETRY_OPTOUT   = '1'
    POWERSHELL_UPDATECHECK        = 'Off'
}
foreach ($name in $ChildEnvironment.Keys) { Set-Item -Path "env:$name" -Value $ChildEnvironment[$name] }

$Clock = [System.Diagnostics.Stopwatch]::StartNew()
function Write-Step([string] $Text) {
    Write-Host ('==> [{0:mm\:ss}] {1}' -f $Clock.Elapsed, $Text)
}

# Runs an external command; throws when it exits non-zero.
function Invoke-Native([string] $FilePath, [string[]] $Arguments) {
    Write-Host "    $FilePath $($Arguments -join ' ')"
    & $FilePath @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($Arguments -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

# Starts a child process with arguments passed one by one (no quoting problems), its output on our console,
# and a time limit after which the whole process tree is killed. Returns the exit code (-1 on timeout).
function Start-ChildProcess {
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [hashtable] $Environment = @{},
        [int] $TimeoutSec = $TestTimeoutSec,
        [string] $WorkingDirectory = $Root
    )
    $psi = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.WorkingDirectory = $WorkingDirectory
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    Write-Host "    $FilePath $($ArgumentList -join ' ')"
    $p = [System.Diagnostics.Process]::Start($psi)
    try {
        if (-not $p.WaitForExit([int]([Math]::Min([int64]$TimeoutSec * 1000, [int]::MaxValue)))) {
            Write-Host "    !! timed out after $TimeoutSec s, killing process $($p.Id) and its children"
            try { $p.Kill($true) } catch { Write-Host "    !! kill failed: $_" }
            $null = $p.WaitForExit(10000)
            return -1
        }
        $p.WaitForExit()  # flush redirected/async state
        return $p.ExitCode
    }
    finally {
        $p.Dispose()
    }
}

function Invoke-Build {
    Write-Step "Build ($Configuration) -> $ModuleOut"
    if (Test-Path $ModuleOut) { Remove-Item -Recurse -Force $ModuleOut }
    Invoke-Native 'dotnet' @('publish', (Join-Path $Root 'src/TieDxl/TieDxl.csproj'), '-c', $Configuration, '-o', $ModuleOut, '--nologo', '-v:minimal')

    foreach ($file in 'TieDxl.psd1', 'TieDxl.format.ps1xml') {
        Copy-Item -LiteralPath (Join-Path $Root $file) -Destination $ModuleOut
    }

    $helpOut = Join-Path $ModuleOut 'en-US'
    $null = New-Item -ItemType Directory -Force -Path $helpOut
    Copy-Item -LiteralPath (Join-Path $Root 'docs/en-US/about_TieDxl.help.txt') -Destination $helpOut

    # The MAML generator needs the cmdlet metadata, so it imports the freshly built module. A binary module
    # can never be unloaded: do that in a child pwsh, never in this process.
    Write-Step 'Help (MAML from docs/en-US/*.md)'
    $code = Start-ChildProcess -FilePath $PwshPath -TimeoutSec 300 -ArgumentList @(
        '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/New-MamlHelp.ps1'),
        '-ModuleManifest', (Join-Path $ModuleOut 'TieDxl.psd1'),
        '-DocsPath', (Join-Path $Root 'docs/en-US'),
        '-OutFile', (Join-Path $helpOut 'TieDxl.dll-Help.xml'))
    if ($code -ne 0) { throw "Help generation failed (exit code $code)." }
    Write-Step "Module ready: $(Join-Path $ModuleOut 'TieDxl.psd1')"
}

# The package holds what an installed module needs, nothing of the build: no .pdb, no XML doc comments.
function Invoke-Package {
    Invoke-Build
    $version = (Import-PowerShellDataFile (Join-Path $ModuleOut 'TieDxl.psd1')).ModuleVersion
    Write-Step "Package TieDxl $version -> $RepositoryOut"
    $staging = Join-Path $OutDir 'package-staging'
    $stagedModule = Join-Path $staging 'TieDxl'
    if (Test-Path $staging) { Remove-Item -Recurse -Force $staging }
    $null = New-Item -ItemType Directory -Force -Path $stagedModule
    Copy-Item -Path (Join-Path $ModuleOut '*') -Destination $stagedModule -Recurse
    Get-ChildItem -LiteralPath $stagedModule -Recurse -File |
        Where-Object { $_.Extension -eq '.pdb' -or ($_.Extension -eq '.xml' -and $_.Directory.Name -ne 'en-US') } |
        Remove-Item -Force
    Copy-Item -LiteralPath (Join-Path $Root 'LICENSE') -Destination $stagedModule

    $null = New-Item -ItemType Directory -Force -Path $RepositoryOut
    # Publish-PSResource refuses a version the repository already holds: a rebuild replaces it.
    Remove-Item -Path (Join-Path $RepositoryOut "TieDxl.$version.nupkg") -Force -ErrorAction Ignore
    $settings = Join-Path $staging 'psresourceget-settings'
    $null = New-Item -ItemType Directory -Force -Path $settings
    $childEnv = @{}
    foreach ($k in $ChildEnvironment.Keys) { $childEnv[$k] = $ChildEnvironment[$k] }
    $childEnv['XDG_DATA_HOME'] = $settings
    $childEnv['LOCALAPPDATA'] = $settings
    $code = Start-ChildProcess -FilePath $PwshPath -Environment $childEnv -TimeoutSec 300 -ArgumentList @(
        '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/Publish-ModulePackage.ps1'),
        '-ModulePath', $stagedModule, '-RepositoryPath', $RepositoryOut)
    if ($code -ne 0) { throw "Publish-PSResource failed (exit code $code)." }
    Remove-Item -Recurse -Force $staging
    $package = Join-Path $RepositoryOut "TieDxl.$version.nupkg"
    if (-not (Test-Path -LiteralPath $package)) { throw "Publish-PSResource wrote no $package." }
    Write-Step "Package ready: $package"
}

function Invoke-Clean {
    Write-Step 'Clean'
    $targets = [System.Collections.Generic.List[string]]::new()
    foreach ($d in 'out', '.tools', 'TestResults') {
        $p = Join-Path $Root $d
        if (Test-Path $p) { $targets.Add($p) }
    }
    foreach ($top in 'src', 'tests', 'demo', 'bench', 'tools') {
        $p = Join-Path $Root $top
        if (-not (Test-Path $p)) { continue }
        Get-ChildItem -LiteralPath $p -Directory -Recurse -Force |
            Where-Object { $_.Name -in 'bin', 'obj', 'TestResults' } |
            ForEach-Object { $targets.Add($_.FullName) }
    }
    foreach ($t in $targets) {
        if (Test-Path -LiteralPath $t) {
            Write-Host "    removing $t"
            Remove-Item -LiteralPath $t -Recurse -Force
        }
    }
}

# Mosquitto is started by the tests themselves (own instance, free loopback port), never as a service.
function Resolve-Mosquitto {
    $cmd = Get-Command mosquitto -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($cmd) { return $cmd.Source }
    foreach ($p in '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto') {
        if (Test-Path -LiteralPath $p) { return $p }
    }
    return $null
}

function Initialize-Mosquitto {
    $path = Resolve-Mosquitto
    if (-not $path) {
        $isRoot = (-not $IsWindows) -and ((& id -u) -eq '0')
        $aptGet = Get-Command apt-get -CommandType Application -ErrorAction Ignore
        if (-not ($isRoot -and $aptGet)) {
            throw ('The tests need the Mosquitto MQTT broker (the "mosquitto" executable), which was not found on PATH ' +
                   'or in /usr/sbin. Install it, e.g. on Debian/Ubuntu: "sudo apt-get install -y mosquitto" ' +
                   '(no service needs to run; the tests start their own broker), then run the Test task again.')
        }
        Write-Step 'Installing mosquitto (apt-get)'
        # Keep the package's postinst from starting a system broker: a policy-rc.d that denies every start.
        $policy = '/usr/sbin/policy-rc.d'
        $ownPolicy = -not (Test-Path -LiteralPath $policy)
        if ($ownPolicy) {
            Set-Content -LiteralPath $policy -Value "#!/bin/sh`nexit 101" -NoNewline
            & chmod 755 $policy
        }
        try {
            $env:DEBIAN_FRONTEND = 'noninteractive'
            Invoke-Native 'apt-get' @('update', '-q')
            Invoke-Native 'apt-get' @('install', '-y', '-q', '--no-install-recommends', 'mosquitto')
        }
        finally {
            if ($ownPolicy) { Remove-Item -LiteralPath $policy -Force -ErrorAction Ignore }
        }
        $path = Resolve-Mosquitto
        if (-not $path) { throw 'apt-get installed mosquitto, but no mosquitto executable was found afterwards.' }
    }
    $env:TIEDXL_MOSQUITTO = $path
    Write-Step "Mosquitto: $path"
}

# Reads the counts and the failed test names from a VSTest TRX file.
function Read-TrxResult([string] $Path) {
    [xml] $trx = Get-Content -LiteralPath $Path -Raw
    $ns = [System.Xml.XmlNamespaceManager]::new($trx.NameTable)
    $ns.AddNamespace('t', 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010')
    $counters = $trx.SelectSingleNode('/t:TestRun/t:ResultSummary/t:Counters', $ns)
    if (-not $counters) { throw "No ResultSummary/Counters in $Path." }
    $failedNames = @($trx.SelectNodes("//t:UnitTestResult[@outcome!='Passed' and @outcome!='NotExecuted']", $ns) |
        ForEach-Object { "xunit: $($_.testName) [$($_.outcome)]" })
    $skippedNames = @($trx.SelectNodes("//t:UnitTestResult[@outcome='NotExecuted']", $ns) |
        ForEach-Object { "xunit: $($_.testName)" })
    [pscustomobject]@{
        Passed       = [int]$counters.passed
        Failed       = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        Skipped      = [int]$counters.notExecuted
        FailedNames  = $failedNames
        SkippedNames = $skippedNames
    }
}

function Invoke-Test {
    Invoke-Package
    Initialize-Mosquitto

    if (Test-Path $ResultsDir) { Remove-Item -Recurse -Force $ResultsDir }
    $null = New-Item -ItemType Directory -Force -Path $ResultsDir

    $passed = 0; $failed = 0; $skipped = 0
    $failedNames = [System.Collections.Generic.List[string]]::new()
    $skippedNames = [System.Collections.Generic.List[string]]::new()

    # --- xunit -------------------------------------------------------------------------------------------
    Write-Step 'xunit (dotnet test)'
    $xunitDir = Join-Path $ResultsDir 'xunit'
    $trxPath = Join-Path $xunitDir 'xunit.trx'
    $code = Start-ChildProcess -FilePath 'dotnet' -ArgumentList @(
        'test', (Join-Path $Root 'tests/TieDxl.Tests/TieDxl.Tests.csproj'), '-c', $Configuration, '--nologo',
        '--logger', 'trx;LogFileName=xunit.trx', '--logger', 'console;verbosity=normal',
        '--results-directory', $xunitDir,
        '--blame-hang-timeout', "$([Math]::Max(60, $TestTimeoutSec - 60))s", '--blame-hang-dump-type', 'none')
    $xunitRan = 0
    if (Test-Path -LiteralPath $trxPath) {
        try {
            $r = Read-TrxResult $trxPath
            $passed += $r.Passed; $failed += $r.Failed; $skipped += $r.Skipped
            $xunitRan = $r.Passed + $r.Failed
            foreach ($n in $r.FailedNames) { $failedNames.Add($n) }
            foreach ($n in $r.SkippedNames) { $skippedNames.Add($n) }
            if ($code -ne 0 -and $r.Failed -eq 0) {
                $failed++; $failedNames.Add("xunit: dotnet test exited with code $code although no test failed (crash or timeout)")
            }
        }
        catch {
            $failed++; $failedNames.Add("xunit: unreadable TRX file ($_)")
        }
    }
    else {
        $failed++; $failedNames.Add("xunit: no TRX file; dotnet test exited with code $code (build error, crash or timeout)")
    }
    if ($xunitRan -eq 0) {
        $failed++; $failedNames.Add('xunit: no test ran')
    }

    # --- Pester ------------------------------------------------------------------------------------------
    Write-Step "Pester $PesterVersion"
    $pesterManifest = Join-Path $Root ".tools/packages/pester/$PesterVersion/tools/Pester.psd1"
    $pesterRan = 0
    try {
        if (-not (Test-Path -LiteralPath $pesterManifest)) {
            Invoke-Native 'dotnet' @('restore', (Join-Path $Root 'tests/tools/PesterRestore.csproj'), '--nologo', '-v:minimal')
        }
        if (-not (Test-Path -LiteralPath $pesterManifest)) { throw "Pester not found at $pesterManifest after restore." }

        $files = @(Get-ChildItem -LiteralPath (Join-Path $Root 'tests/pester') -Filter '*.Tests.ps1' -File -ErrorAction Ignore |
            Sort-Object Name)
        $pesterDir = Join-Path $ResultsDir 'pester'
        $null = New-Item -ItemType Directory -Force -Path $pesterDir
        $childEnv = @{}
        foreach ($k in $ChildEnvironment.Keys) { $childEnv[$k] = $ChildEnvironment[$k] }
        $childEnv['TIEDXL_TEST_MODULE'] = Join-Path $ModuleOut 'TieDxl.psd1'
        $childEnv['TIEDXL_TEST_REPOSITORY'] = $RepositoryOut
        $childEnv['TIEDXL_MOSQUITTO'] = $env:TIEDXL_MOSQUITTO
        foreach ($file in $files) {
            $base = $file.Name -replace '\.Tests\.ps1$', ''
            $summaryPath = Join-Path $pesterDir "$base.summary.json"
            Write-Step "Pester: $($file.Name) (fresh pwsh)"
            $code = Start-ChildProcess -FilePath $PwshPath -Environment $childEnv -ArgumentList @(
                '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/Invoke-PesterFile.ps1'),
                '-PesterManifest', $pesterManifest,
                '-TestFile', $file.FullName,
                '-ResultFile', (Join-Path $pesterDir "$base.nunit3.xml"),
                '-SummaryFile', $summaryPath)
            if (-not (Test-Path -LiteralPath $summaryPath)) {
                $failed++; $failedNames.Add("pester: $($file.Name): no summary; pwsh exited with code $code (crash or timeout)")
                continue
            }
            try {
                $s = Get-Content -LiteralPath $summaryPath -Raw | ConvertFrom-Json
                $passed += [int]$s.Passed; $failed += [int]$s.Failed; $skipped += [int]$s.Skipped + [int]$s.NotRun
                $pesterRan += [int]$s.Passed + [int]$s.Failed
                foreach ($n in @($s.FailedNames)) { if ($n) { $failedNames.Add("pester: $n") } }
                foreach ($n in @($s.SkippedNames)) { if ($n) { $skippedNames.Add("pester: $n") } }
                # A failed BeforeAll/AfterAll or a file that does not even parse fails no single test: count it.
                foreach ($n in @($s.FailedBlocks) + @($s.FailedContainers)) {
                    if ($n) { $failed++; $failedNames.Add("pester: $($file.Name): $n (block or container failed)") }
                }
                if ($code -ne 0 -and [int]$s.Failed -eq 0) {
                    $failed++; $failedNames.Add("pester: $($file.Name): pwsh exited with code $code although no test failed")
                }
            }
            catch {
                $failed++; $failedNames.Add("pester: $($file.Name): unreadable summary ($_)")
            }
        }
    }
    catch {
        $failed++; $failedNames.Add("pester: the phase crashed: $_")
    }
    if ($pesterRan -eq 0) {
        $failed++; $failedNames.Add('pester: no test ran')
    }

    # --- summary ------------------------------------------------------------------------------------------
    Write-Host ''
    Write-Host ('Results: {0} (total {1:mm\:ss})' -f $ResultsDir, $Clock.Elapsed)
    if ($skippedNames.Count -gt 0 -or $skipped -gt 0) {
        Write-Host "Skipped or not run ($skipped; the project allows none):"
        foreach ($n in $skippedNames) { Write-Host "  - $n" }
    }
    if ($failedNames.Count -gt 0) {
        Write-Host 'Failed:'
        foreach ($n in $failedNames) { Write-Host "  - $n" }
    }
    $line = '{0} passed, {1} failed' -f $passed, $failed
    if ($skipped -gt 0) { $line += ", $skipped skipped" }
    Write-Host $line
    if ($failed -gt 0 -or $skipped -gt 0 -or $passed -eq 0) { exit 1 }
    exit 0
}

function Invoke-Script([string] $RelativePath, [string] $TaskName) {
    $script = Join-Path $Root $RelativePath
    if (-not (Test-Path -LiteralPath $script)) {
        throw "The $TaskName task runs ./$RelativePath, which does not exist yet in this checkout."
    }
    Invoke-Build
    $childEnv = @{}
    foreach ($k in $ChildEnvironment.Keys) { $childEnv[$k] = $ChildEnvironment[$k] }
    # The child finds the built module by name (Import-Module TieDxl) before anything installed.
    $childEnv['PSModulePath'] = $OutDir + [IO.Path]::PathSeparator + $env:PSModulePath
    $childEnv['TIEDXL_TEST_MODULE'] = Join-Path $ModuleOut 'TieDxl.psd1'
    Write-Step "$TaskName ($RelativePath, fresh pwsh)"
    $code = Start-ChildProcess -FilePath $PwshPath -Environment $childEnv -TimeoutSec 86400 -ArgumentList @(
        '-NoProfile', '-NonInteractive', '-File', $script)
    if ($code -ne 0) { throw "$TaskName failed (exit code $code)." }
}

try {
    Push-Location $Root
    switch ($Task) {
        'Build' { Invoke-Build }
        'Package' { Invoke-Package }
        'Test'  { Invoke-Test }
        'Clean' { Invoke-Clean }
        'Demo'  { Invoke-Script 'demo/Demo.ps1' 'Demo' }
        'Bench' { Invoke-Script 'bench/Bench.ps1' 'Bench' }
    }
}
catch {
    Write-Host "build.ps1 -Task $Task failed: $($_.Exception.Message)"
    if ($Task -eq 'Test') { Write-Host '0 passed, 1 failed' }
    exit 1
}
finally {
    Pop-Location
}
