#Requires -Version 7.4
<#
.SYNOPSIS
    The TieDxl benchmark suite: every scenario against the embedded fabric and against mosquitto over mutual TLS,
    on loopback, with the baselines measured in the same run. Prints a table and writes bench/results/results.md.

.DESCRIPTION
    Run with: dotnet pwsh -NoProfile ./build.ps1 -Task Bench   (a few minutes)
    The brokers and the TIE simulator run in their own process (bench/TieDxl.Bench serve), so the pwsh figures
    (throughput, latency, peak working set) are the client's alone.

    Environment knobs: TIEDXL_BENCH_QUICK=1 shrinks the counts tenfold; TIEDXL_BENCH_ONLY=repeats runs only 4b (repeated files); TIEDXL_BENCH_ONLY=bytes runs only the bytes
    per lookup and the side-by-side lookups against 0.2.0 (a few minutes); TIEDXL_BENCH_SKIP_BASELINE=1 leaves those out.
#>
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Root = Split-Path $PSScriptRoot -Parent
$ResultsDir = Join-Path $PSScriptRoot 'results'
$null = New-Item -ItemType Directory -Force -Path $ResultsDir
$Pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
$Module = $env:TIEDXL_TEST_MODULE ?? (Join-Path $Root 'out/TieDxl/TieDxl.psd1')
$Quick = $env:TIEDXL_BENCH_QUICK -eq '1'
$Scale = $Quick ? 10 : 1
$Brokers = 'fabric', 'mosquitto'
$Rows = [System.Collections.Generic.List[object]]::new()

function Write-Step([string] $Text) { Write-Host "`n=== $Text" -ForegroundColor Cyan }

function Add-Row {
    param($Scenario, $Broker, $Case, $Count, $Seconds, $PerSecond, $P50, $P99, $PeakMb, $Note)
    $Rows.Add([pscustomobject]@{
            Scenario = $Scenario; Broker = $Broker; Case = $Case; Count = $Count; Seconds = $Seconds
            PerSecond = $PerSecond; P50Ms = $P50; P99Ms = $P99; PeakMb = $PeakMb; Note = $Note
        })
    $Rows[-1] | Format-Table -HideTableHeaders | Out-String -Width 200 | Write-Host
}

Write-Step 'Building the benchmark program (Release)'
& dotnet build (Join-Path $PSScriptRoot 'TieDxl.Bench/TieDxl.Bench.csproj') -c Release --nologo -v:quiet | Out-Host
if ($LASTEXITCODE -ne 0) { throw 'building bench/TieDxl.Bench failed' }
$BenchDll = Join-Path $PSScriptRoot 'TieDxl.Bench/bin/Release/net10.0/TieDxl.Bench.dll'

function Invoke-BenchProgram([string[]] $Arguments, [string] $Dll = $BenchDll) {
    $lines = & dotnet $Dll @Arguments
    if ($LASTEXITCODE -ne 0) { throw "TieDxl.Bench $Arguments failed ($LASTEXITCODE)" }
    foreach ($line in $lines) {
        if ($line -like 'RESULT *') {
            $r = $line.Substring(7) | ConvertFrom-Json
            Add-Row $r.Scenario $r.Broker $r.Case $r.Count $r.Seconds $r.PerSecond $r.P50Ms $r.P99Ms $r.PeakWorkingSetMb $r.Note
        }
        elseif ($line -notmatch '^\s*$') { Write-Verbose $line }
    }
}

# A broker + TIE simulator in its own process; returns the process and the config path.
function Start-Server([string] $Broker, [int] $DelayMs = 0) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($BenchDll, 'serve', '--broker', $Broker, '--delay-ms', "$DelayMs")) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while ([DateTime]::UtcNow -lt $deadline) {
        $line = $process.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "the $Broker server exited before it was ready" }
        if ($line -like 'CONFIG *') { return [pscustomobject]@{ Process = $process; Config = $line.Substring(7) } }
    }
    throw "the $Broker server was not ready within 60 s"
}

function Stop-Server($Server) {
    try { $Server.Process.StandardInput.Close() } catch { }
    if (-not $Server.Process.WaitForExit(15000)) { $Server.Process.Kill($true) }
}

# Runs a script in a fresh pwsh with the module and the config, and returns the JSON object it prints last.
# $Connect adds parameters to Connect-DxlFabric (-NoCache where passes repeat their inputs and must reach TIE).
function Invoke-Pwsh([string] $Script, [string] $Config, [string] $Connect = '') {
    $wrapped = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Module'
`$null = Connect-DxlFabric -ConfigPath '$Config' -TimeoutSec 60 $Connect
$Script
"@
    $file = Join-Path $ResultsDir 'scenario.ps1'
    Set-Content -Path $file -Value $wrapped
    $out = & $Pwsh -NoProfile -NonInteractive -File $file
    if ($LASTEXITCODE -ne 0) { throw "scenario failed: $($out -join "`n")" }
    ($out | Where-Object { $_ -like '{*' } | Select-Object -Last 1) | ConvertFrom-Json
}

# Pipes N hashes into Get-TieFileReputation and reports rate, latency (from -Verbose) and the peak working set.
# A warm process measures __PASSES__ passes and reports the one with the median rate (the machine is shared and noisy).
$LookupScript = @'
$hashes = [string[]]::new(__COUNT__)
for ($i = 0; $i -lt $hashes.Length; $i++) { $hashes[$i] = '{0:x32}' -f ($i + 1) }
# Warm-up, as the ceiling has: in pwsh the JIT needs some 40,000-60,000 lookups to reach its final tier.
if (__WARM__) { foreach ($pass in 1..3) { $null = ($hashes[0..([math]::Min($hashes.Length, 20000) - 1)] | Get-TieFileReputation -ThrottleLimit 64 | Measure-Object) } }
$passes = foreach ($pass in 1..__PASSES__) {
    $log = [System.IO.Path]::GetTempFileName()
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    # A compiled consumer (Measure-Object) so the figure is the cmdlet's, not a script block's; the closing -Verbose
    # line (rate, latency percentiles) goes to a file.
    $n = ($hashes | Get-TieFileReputation -ThrottleLimit __THROTTLE__ -Verbose 4> $log | Measure-Object).Count
    $watch.Stop()
    $stats = (Get-Content $log | Select-String 'p50 ([\d.]+) ms, p99 ([\d.]+) ms' | Select-Object -Last 1).Matches[0].Groups
    Remove-Item $log
    [pscustomobject]@{ Count = $n; Seconds = $watch.Elapsed.TotalSeconds; Rate = $n / $watch.Elapsed.TotalSeconds
        P50 = [double]$stats[1].Value; P99 = [double]$stats[2].Value }
}
$sorted = @($passes | Sort-Object Rate)
$median = $sorted[[math]::Floor($sorted.Count / 2)]
[pscustomobject]@{ Count = $median.Count; Seconds = $median.Seconds; P50 = $median.P50; P99 = $median.P99
    PeakMb = [math]::Round((Get-Process -Id $PID).PeakWorkingSet64 / 1MB)
    Rates = @($sorted | ForEach-Object { [math]::Round($_.Rate) }) } | ConvertTo-Json -Compress
'@
function Measure-Lookups([string] $Config, [int] $Count, [int] $Throttle, [switch] $Cold, [int] $Passes = 1) {
    $script = $LookupScript.Replace('__COUNT__', "$Count").Replace('__THROTTLE__', "$Throttle").Replace('__WARM__', ($Cold ? '$false' : '$true')).Replace('__PASSES__', "$Passes")
    # The warm-up and the passes ask for the same hashes: without the session cache every lookup reaches TIE.
    Invoke-Pwsh $script $Config '-NoCache'
}

# The note of a row measured in several passes: which rates the median was taken from.
function Get-PassNote($Result) {
    if (@($Result.Rates).Count -le 1) { return $null }
    "median of $(@($Result.Rates).Count) passes ($(@($Result.Rates) -join ', ')/s)"
}

$Summary = [ordered]@{}

# ---------------------------------------------------------------------------------------------------------------
# The 0.2.0 release, built beside this checkout (its sources from git, this bench program on top, so both sides
# run the same harness): the baseline of the bytes and lookups side by side below. Kept between runs in the temp
# folder, keyed by the commit.
$BaselineCommit = '7d1ab15'
function Initialize-Baseline {
    $folder = Join-Path ([System.IO.Path]::GetTempPath()) "tiedxl-bench-baseline-$BaselineCommit"
    $dll = Join-Path $folder 'bench/TieDxl.Bench/bin/Release/net10.0/TieDxl.Bench.dll'
    $module = Join-Path $folder 'out/TieDxl/TieDxl.psd1'
    if (-not ((Test-Path $dll) -and (Test-Path $module))) {
        Remove-Item -Recurse -Force $folder -ErrorAction Ignore
        $null = New-Item -ItemType Directory -Force -Path $folder
        & git -C $Root archive --format=tar $BaselineCommit | & tar -x -C $folder
        if ($LASTEXITCODE -ne 0) { throw "git archive $BaselineCommit failed (a shallow clone?)" }
        Copy-Item -Recurse -Force (Join-Path $PSScriptRoot 'TieDxl.Bench/*.cs') (Join-Path $folder 'bench/TieDxl.Bench/')
        & dotnet build (Join-Path $folder 'bench/TieDxl.Bench/TieDxl.Bench.csproj') -c Release --nologo -v:quiet | Out-Host
        if ($LASTEXITCODE -ne 0) { throw "building the $BaselineCommit bench program failed" }
        & $Pwsh -NoProfile -NonInteractive -File (Join-Path $folder 'build.ps1') -Task Build | Out-Host
        if ($LASTEXITCODE -ne 0) { throw "building the $BaselineCommit module failed" }
    }
    [pscustomobject]@{ Label = $BaselineCommit; Dll = $dll; Module = $module }
}

# Bytes allocated in pwsh per Get-TieFileReputation lookup: distinct random MD5s, a warm process, the broker and the
# TIE simulator in the server process; GC.GetTotalAllocatedBytes(precise) over the pipeline, median of three runs.
$CmdletBytesScript = @'
$rng = [System.Random]::new()
function New-Md5s([int] $n) { $b = [byte[]]::new(16); $h = [string[]]::new($n); for ($i = 0; $i -lt $n; $i++) { $rng.NextBytes($b); $h[$i] = [Convert]::ToHexString($b).ToLowerInvariant() }; ,$h }
foreach ($w in 1..2) { $null = (New-Md5s __COUNT__) | Get-TieFileReputation | Measure-Object }
$runs = foreach ($r in 1..3) {
    $h = New-Md5s __COUNT__
    [GC]::Collect()
    $before = [GC]::GetTotalAllocatedBytes($true)
    $n = ($h | Get-TieFileReputation | Measure-Object).Count
    ([GC]::GetTotalAllocatedBytes($true) - $before) / $n
}
[pscustomobject]@{ Runs = @($runs | Sort-Object | ForEach-Object { [math]::Round($_) }) } | ConvertTo-Json -Compress
'@

function Measure-Bytes($Side, [string] $Broker, [string] $Config, [int] $Count) {
    $before = $Rows.Count
    Invoke-BenchProgram @('bytes', '--config', $Config, '--broker', $Broker, '--count', "$Count", '--runs', '3') $Side.Dll
    $Rows[$before].Case = "TieClient ($($Side.Label)), bytes allocated per lookup"
    $Summary["$Broker bytes $($Side.Label)"] = $Rows[$before].PerSecond
    $saved = $script:Module
    $script:Module = $Side.Module
    try { $runs = @((Invoke-Pwsh $CmdletBytesScript.Replace('__COUNT__', "$Count") $Config).Runs) }
    finally { $script:Module = $saved }
    Add-Row 'bytes' $Broker "Get-TieFileReputation ($($Side.Label)), bytes allocated per lookup" $Count 0 ([int]$runs[1]) $null $null $null "B/lookup in pwsh, median of 3 runs ($($runs -join ', '))"
    $Summary["$Broker cmdlet bytes $($Side.Label)"] = [int]$runs[1]
}

# TieClient lookups/s, 64 in flight: the builds alternate against the same server, five rounds; the median of each.
function Measure-LookupsSideBySide($Sides, [string] $Broker, [string] $Config, [int] $Count) {
    $rates = @{}
    foreach ($side in $Sides) { $rates[$side.Label] = [System.Collections.Generic.List[double]]::new() }
    foreach ($round in 1..($Quick ? 1 : 5)) {
        foreach ($side in $Sides) {
            $line = & dotnet $side.Dll lookups --config $Config --broker $Broker --inflight 64 --count $Count | Where-Object { $_ -like 'RESULT *' } | Select-Object -Last 1
            if ($LASTEXITCODE -ne 0 -or -not $line) { throw "TieDxl.Bench lookups ($($side.Label)) failed" }
            $rates[$side.Label].Add(($line.Substring(7) | ConvertFrom-Json).PerSecond)
        }
    }
    foreach ($side in $Sides) {
        $sorted = @($rates[$side.Label] | Sort-Object)
        $median = [int]$sorted[[math]::Floor($sorted.Count / 2)]
        Add-Row 'side by side' $Broker "TieClient lookups, 64 in flight ($($side.Label))" $Count $null $median $null $null $null "median of $($sorted.Count) alternating runs ($($sorted -join ', ')/s)"
        $Summary["$Broker lookups $($side.Label)"] = $median
    }
}

# 4b, defined here so that TIEDXL_BENCH_ONLY=repeats can run it alone.
function Measure-RepeatedFiles {
    Write-Step '4b. Repeated files: the .NET SDK folder through Get-TieFileReputation, cache and sharing on and off'
    # A real tree with repeated files (side-by-side copies of the same assemblies). "Off" is the 0.2.0 release, which
    # has neither (without the baseline: this build with -NoCache, which still shares within a run).
    $sdkLine = @(& dotnet --list-sdks) | Select-Object -Last 1
    $sdk = if ($sdkLine -match '^(\S+) \[(.+)\]$') { Join-Path $Matches[2] $Matches[1] }
    $sdkFiles = $Quick ? 1000 : 100000
    $repeatedScript = @'
$files = @(Get-ChildItem -Recurse -File -LiteralPath '__TREE__' | Select-Object -First __MAX__)
foreach ($f in $files) { $null = [System.IO.File]::ReadAllBytes($f.FullName).Length }   # warm the page cache
$log = [System.IO.Path]::GetTempFileName()
function Get-Requests { $m = Get-Content $log | Select-String '(\d+) request\(s\) reached TIE' | Select-Object -Last 1; $m ? [int]$m.Matches[0].Groups[1].Value : $files.Count }
$w = [System.Diagnostics.Stopwatch]::StartNew()
$out = @($files | Get-TieFileReputation __PARAMS__ -Verbose 4> $log)
$first = $w.Elapsed.TotalSeconds
$requests = Get-Requests
$w.Restart()
$null = $files | Get-TieFileReputation __PARAMS__ -Verbose 4> $log
$second = $w.Elapsed.TotalSeconds
$again = Get-Requests
Remove-Item $log
[pscustomobject]@{ Inputs = $files.Count; Distinct = @($out.Sha256 | Sort-Object -Unique).Count; Requests = $requests
    First = $first; Again = $again; Second = $second } | ConvertTo-Json -Compress
'@
    if (-not $sdk -or -not (Test-Path -LiteralPath $sdk)) { Write-Host "no .NET SDK folder found ($sdkLine): skipped" }
    else {
        $off = ($env:TIEDXL_BENCH_SKIP_BASELINE -ne '1') ? (Initialize-Baseline) : $null
        $offLabel = $off ? "$BaselineCommit (no cache, no sharing)" : 'this build with -NoCache (sharing on)'
        foreach ($broker in $Brokers) {
            $server = Start-Server $broker
            try {
                $script = $repeatedScript.Replace('__TREE__', $sdk).Replace('__MAX__', "$sdkFiles")
                $on = Invoke-Pwsh $script.Replace('__PARAMS__', '') $server.Config
                $saved = $script:Module
                if ($off) { $script:Module = $off.Module }
                try { $base = Invoke-Pwsh $script.Replace('__PARAMS__', ($off ? '' : '-NoCache')) $server.Config }
                finally { $script:Module = $saved }
                $what = "$($on.Inputs) inputs, $($on.Distinct) distinct files"
                Add-Row 'repeated files' $broker 'SDK folder, cache and sharing on' $on.Inputs ([math]::Round($on.First, 2)) ([math]::Round($on.Inputs / $on.First)) $null $null $null "$what; $($on.Requests) requests reached TIE"
                Add-Row 'repeated files' $broker 'SDK folder, cache and sharing on, again' $on.Inputs ([math]::Round($on.Second, 2)) ([math]::Round($on.Inputs / $on.Second)) $null $null $null "$what; $($on.Again) requests reached TIE"
                Add-Row 'repeated files' $broker "SDK folder, $offLabel" $base.Inputs ([math]::Round($base.First, 2)) ([math]::Round($base.Inputs / $base.First)) $null $null $null "$what; $($base.Requests) requests reached TIE (again: $($base.Again) in $([math]::Round($base.Second, 2)) s)"
            }
            finally { Stop-Server $server }
        }
    }
}

if ($env:TIEDXL_BENCH_ONLY -eq 'repeats') {
    Measure-RepeatedFiles
    $Rows | Format-Table Scenario, Broker, Case, Count, Seconds, PerSecond, Note -AutoSize | Out-String -Width 260 | Write-Host
    return
}

if ($env:TIEDXL_BENCH_SKIP_BASELINE -ne '1') {
    Write-Step "0. Bytes per lookup and TieClient lookups/s, this build against $BaselineCommit (0.2.0), side by side"
    $sides = @([pscustomobject]@{ Label = 'this build'; Dll = $BenchDll; Module = $Module })
    try { $sides += Initialize-Baseline }
    catch { Write-Warning "The $BaselineCommit build is not available ($_): this build is measured alone." }
    foreach ($broker in $Brokers) {
        $server = Start-Server $broker
        try {
            foreach ($side in $sides) { Measure-Bytes $side $broker $server.Config ([int](20000 / $Scale)) }
            Measure-LookupsSideBySide $sides $broker $server.Config ([int](20000 / $Scale))
        }
        finally { Stop-Server $server }
    }
}
if ($env:TIEDXL_BENCH_ONLY -eq 'bytes') {
    # A few minutes instead of the whole suite: this section's rows only.
    $Rows | Format-Table Scenario, Broker, Case, Count, PerSecond, Note -AutoSize | Out-String -Width 220 | Write-Host
    return
}

# ---------------------------------------------------------------------------------------------------------------
Write-Step '1. Ceiling: echo service on our DXL client, 1/16/64/256 requests in flight'
Invoke-BenchProgram @('ceiling', '--brokers', ($Brokers -join ','), '--seconds', ($Quick ? '1' : '3'), '--repeat', ($Quick ? '1' : '3'))

foreach ($broker in $Brokers) {
    Write-Step "2. Get-TieFileReputation in pwsh, hashes piped, TIE simulator ($broker)"
    $server = Start-Server $broker
    try {
        # The ceiling again with the echo service in the server process, beside the TIE simulator (and the fabric's
        # broker): the process layout of every pwsh scenario, where the client never shares a process with the service.
        Invoke-BenchProgram @('ceiling-remote', '--config', $server.Config, '--broker', $broker, '--inflight', '64,256', '--seconds', ($Quick ? '1' : '3'), '--repeat', ($Quick ? '1' : '3'))
        # The TIE API alone (no PowerShell): what the cmdlet layer costs on top.
        Invoke-BenchProgram @('lookups', '--config', $server.Config, '--broker', $broker, '--inflight', '1,64', '--count', "$([int](20000 / $Scale))")
        foreach ($throttle in 1, 64, 256) {
            $count = [int](20000 / $Scale)
            $r = Measure-Lookups $server.Config $count $throttle -Passes ($Quick ? 1 : 5)
            $case = $throttle -eq 64 ? 'ThrottleLimit 64 (default)' : "ThrottleLimit $throttle"
            Add-Row 'pipeline' $broker $case $r.Count ([math]::Round($r.Seconds, 2)) ([math]::Round($r.Count / $r.Seconds)) $r.P50 $r.P99 $r.PeakMb (Get-PassNote $r)
            $Summary["$broker pipeline $throttle"] = $r.Count / $r.Seconds
            $Summary["$broker p50 $throttle"] = $r.P50
        }
        $r = Measure-Lookups $server.Config ([int](20000 / $Scale)) 64 -Cold
        Add-Row 'pipeline' $broker 'ThrottleLimit 64, cold process' $r.Count ([math]::Round($r.Seconds, 2)) ([math]::Round($r.Count / $r.Seconds)) $r.P50 $r.P99 $r.PeakMb 'first pass of a fresh pwsh: JIT warming up'
        # The performance notes' thread-pool setting, measured inside pwsh before anyone recommends it.
        foreach ($throttle in 1, 64) {
            $env:DOTNET_ThreadPool_UnfairSemaphoreSpinLimit = '0'
            try { $r = Measure-Lookups $server.Config ([int](20000 / $Scale)) $throttle }
            finally { Remove-Item Env:DOTNET_ThreadPool_UnfairSemaphoreSpinLimit }
            Add-Row 'pipeline' $broker "ThrottleLimit $throttle, spin limit 0" $r.Count ([math]::Round($r.Seconds, 2)) ([math]::Round($r.Count / $r.Seconds)) $r.P50 $r.P99 $r.PeakMb 'DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0'
        }

        Write-Step "3. Scaling at the default throttle ($broker)"
        foreach ($count in 1000, 10000, 100000) {
            $n = [int]($count / $Scale)
            $r = Measure-Lookups $server.Config $n 64
            Add-Row 'scaling' $broker "$n hashes" $r.Count ([math]::Round($r.Seconds, 2)) ([math]::Round($r.Count / $r.Seconds)) $r.P50 $r.P99 $r.PeakMb $null
            $Summary["$broker peak $count"] = $r.PeakMb
            $Summary["$broker time $count"] = $r.Seconds
        }
    }
    finally { Stop-Server $server }

    Write-Step "2b. The same with 5 ms added per TIE answer, standing in for a remote server ($broker)"
    $server = Start-Server $broker 5
    try {
        $r1 = Measure-Lookups $server.Config ([int](1000 / $Scale)) 1
        Add-Row 'delay 5 ms' $broker 'ThrottleLimit 1' $r1.Count ([math]::Round($r1.Seconds, 2)) ([math]::Round($r1.Count / $r1.Seconds)) $r1.P50 $r1.P99 $r1.PeakMb $null
        $rd = Measure-Lookups $server.Config ([int](20000 / $Scale)) 64
        Add-Row 'delay 5 ms' $broker 'ThrottleLimit 64 (default)' $rd.Count ([math]::Round($rd.Seconds, 2)) ([math]::Round($rd.Count / $rd.Seconds)) $rd.P50 $rd.P99 $rd.PeakMb $null
        $Summary["$broker delay ratio"] = ($rd.Count / $rd.Seconds) / ($r1.Count / $r1.Seconds)
    }
    finally { Stop-Server $server }
}

# ---------------------------------------------------------------------------------------------------------------
Write-Step '4. Files: Get-ChildItem -Recurse | Get-TieFileReputation against three Get-FileHash passes'
$tree = Join-Path ([System.IO.Path]::GetTempPath()) 'tiedxl-bench-tree'
$fileCount = [int](500 / $Scale)
if (-not (Test-Path $tree) -or @(Get-ChildItem -Recurse -File $tree).Count -ne $fileCount) {
    Remove-Item -Recurse -Force $tree -ErrorAction SilentlyContinue
    $buffer = [byte[]]::new(1MB)
    for ($i = 0; $i -lt $fileCount; $i++) {
        $dir = Join-Path $tree ('d{0:00}' -f ($i % 20))
        $null = New-Item -ItemType Directory -Force -Path $dir
        [System.Security.Cryptography.RandomNumberGenerator]::Fill($buffer)
        [System.IO.File]::WriteAllBytes((Join-Path $dir "f$i.bin"), $buffer)
    }
}
foreach ($broker in $Brokers) {
    $server = Start-Server $broker
    try {
        $r = Invoke-Pwsh @"
Get-ChildItem -Recurse -File '$tree' | ForEach-Object { [System.IO.File]::ReadAllBytes(`$_.FullName).Length } | Out-Null   # warm the page cache
`$one = Get-ChildItem -Recurse -File '$tree' | Select-Object -First 1                                                           # and the JIT, both sides
foreach (`$a in 'MD5', 'SHA1', 'SHA256') { `$one | Get-FileHash -Algorithm `$a | Out-Null }
`$one | Get-TieFileReputation | Out-Null
# Alternating rounds, the median of each side (one pass of each varied by a third between runs).
`$threes = @(); `$ourses = @()
foreach (`$round in 1..$($Quick ? 1 : 3)) {
    `$w = [System.Diagnostics.Stopwatch]::StartNew()
    foreach (`$a in 'MD5', 'SHA1', 'SHA256') { Get-ChildItem -Recurse -File '$tree' | Get-FileHash -Algorithm `$a | Out-Null }
    `$threes += `$w.Elapsed.TotalSeconds
    `$w.Restart()
    `$n = @(Get-ChildItem -Recurse -File '$tree' | Get-TieFileReputation).Count
    `$ourses += `$w.Elapsed.TotalSeconds
}
`$three = @(`$threes | Sort-Object)[[math]::Floor(`$threes.Count / 2)]
`$ours = @(`$ourses | Sort-Object)[[math]::Floor(`$ourses.Count / 2)]
[pscustomobject]@{ Count = `$n; Three = `$three; Ours = `$ours; Rounds = `$threes.Count; PeakMb = [math]::Round((Get-Process -Id `$PID).PeakWorkingSet64 / 1MB) } | ConvertTo-Json -Compress
"@ $server.Config '-NoCache'
        $mb = $fileCount
        Add-Row 'files' $broker "3 x Get-FileHash, $mb MB" $r.Count ([math]::Round($r.Three, 2)) ([math]::Round($mb / $r.Three)) $null $null $null "MB/s, baseline; median of $($r.Rounds)"
        Add-Row 'files' $broker "Get-TieFileReputation, $mb MB" $r.Count ([math]::Round($r.Ours, 2)) ([math]::Round($mb / $r.Ours)) $null $null $r.PeakMb "MB/s, hash + lookup; median of $($r.Rounds)"
        $Summary["$broker files ratio"] = $r.Three / $r.Ours
    }
    finally { Stop-Server $server }
}

# ---------------------------------------------------------------------------------------------------------------
Measure-RepeatedFiles

# ---------------------------------------------------------------------------------------------------------------
Write-Step '5. Codec micro-benchmarks (BenchmarkDotNet)'
Invoke-BenchProgram @('codec')

Write-Step '5b. Envelope decoder fuzz campaign'
Invoke-BenchProgram @('fuzz', '--cases', ($Quick ? '200000' : '2000000'))

# ---------------------------------------------------------------------------------------------------------------
Write-Step '6. Start-up: Import-Module TieDxl against bare pwsh; Connect-DxlFabric on loopback'
function Measure-Median([scriptblock] $Action, [int] $Runs) {
    $times = foreach ($i in 1..$Runs) { (Measure-Command $Action).TotalMilliseconds }
    ($times | Sort-Object)[[int][math]::Floor($Runs / 2)]
}
$runs = $Quick ? 3 : 7
$bare = Measure-Median { & $Pwsh -NoProfile -NonInteractive -Command '1' | Out-Null } $runs
# The first Import-Module of a session pays for PowerShell's module machinery whatever the module: an empty one shows it.
$emptyModule = Join-Path $ResultsDir 'Empty.psm1'
Set-Content -Path $emptyModule -Value '# empty'
$empty = Measure-Median { & $Pwsh -NoProfile -NonInteractive -Command "Import-Module '$emptyModule'" | Out-Null } $runs
$withModule = Measure-Median { & $Pwsh -NoProfile -NonInteractive -Command "Import-Module '$Module'" | Out-Null } $runs
Add-Row 'startup' '-' 'pwsh -c 1 (baseline)' $runs ([math]::Round($bare / 1000, 3)) $null $null $null $null 'median'
Add-Row 'startup' '-' 'pwsh + Import-Module of an empty module' $runs ([math]::Round($empty / 1000, 3)) $null $null $null $null "median; module machinery adds $([math]::Round($empty - $bare)) ms"
Add-Row 'startup' '-' 'pwsh + Import-Module TieDxl' $runs ([math]::Round($withModule / 1000, 3)) $null $null $null $null "median; adds $([math]::Round($withModule - $bare)) ms to bare pwsh, $([math]::Round($withModule - $empty)) ms to an empty module"
$Summary['import ms'] = $withModule - $bare
$Summary['import over empty ms'] = $withModule - $empty
foreach ($broker in $Brokers) {
    $server = Start-Server $broker
    try {
        $r = Invoke-Pwsh @"
Disconnect-DxlFabric
`$times = foreach (`$i in 1..5) { (Measure-Command { Connect-DxlFabric -ConfigPath '$($server.Config)' -Name "c`$i" }).TotalMilliseconds }
[pscustomobject]@{ Median = (`$times | Sort-Object)[2]; First = `$times[0] } | ConvertTo-Json -Compress
"@ $server.Config
        Add-Row 'startup' $broker 'Connect-DxlFabric' 5 ([math]::Round($r.Median / 1000, 3)) $null $null $null $null "median; first $([math]::Round($r.First)) ms"
    }
    finally { Stop-Server $server }
}

# ---------------------------------------------------------------------------------------------------------------
Write-Step 'Targets'
function Get-Ceiling([string] $Broker, [string] $Like) {
    ($Rows | Where-Object { $_.Scenario -eq 'ceiling' -and $_.Broker -eq $Broker -and $_.Case -like $Like }).PerSecond
}
$targets = foreach ($broker in $Brokers) {
    # Two baselines: the echo service in the requester's own process, and in the server process (the pwsh layout).
    $inProcess = Get-Ceiling $broker '*256 in flight'
    $remote = Get-Ceiling $broker '*256 in flight, service in another process'
    [pscustomobject]@{ Target = "default throttle >= 70% of the 256-in-flight echo ceiling, service in another process as TIE is ($broker)"
        Measured = '{0:P0} ({1:N0} of {2:N0}/s)' -f ($Summary["$broker pipeline 64"] / $remote), $Summary["$broker pipeline 64"], $remote
        Met = ($Summary["$broker pipeline 64"] / $remote) -ge 0.70 }
    [pscustomobject]@{ Target = "default throttle >= 70% of the 256-in-flight echo ceiling, service in the requester's process ($broker)"
        Measured = '{0:P0} ({1:N0} of {2:N0}/s)' -f ($Summary["$broker pipeline 64"] / $inProcess), $Summary["$broker pipeline 64"], $inProcess
        Met = ($Summary["$broker pipeline 64"] / $inProcess) -ge 0.70 }
    [pscustomobject]@{ Target = "5 ms service: default >= 25 x ThrottleLimit 1 ($broker)"
        Measured = '{0:N1} x' -f $Summary["$broker delay ratio"]; Met = $Summary["$broker delay ratio"] -ge 25 }
    [pscustomobject]@{ Target = "100k vs 10k hashes: peak working set <= 1.3 x ($broker)"
        Measured = '{0:N2} x ({1} MB vs {2} MB)' -f ($Summary["$broker peak 100000"] / $Summary["$broker peak 10000"]), $Summary["$broker peak 100000"], $Summary["$broker peak 10000"]
        Met = ($Summary["$broker peak 100000"] / $Summary["$broker peak 10000"]) -le 1.3 }
    [pscustomobject]@{ Target = "files: one-read triple hash >= 1.5 x three Get-FileHash passes ($broker)"
        Measured = '{0:N2} x' -f $Summary["$broker files ratio"]; Met = $Summary["$broker files ratio"] -ge 1.5 }
}
foreach ($broker in 'fabric', 'mosquitto') {
    if (-not $Summary.Contains("$broker lookups $BaselineCommit")) { continue }
    $targets += [pscustomobject]@{ Target = "Get-TieFileReputation bytes per lookup <= half of $BaselineCommit ($broker)"
        Measured = '{0:N0} vs {1:N0} B ({2:P0}); TieClient {3:N0} vs {4:N0} B' -f $Summary["$broker cmdlet bytes this build"], $Summary["$broker cmdlet bytes $BaselineCommit"],
            ($Summary["$broker cmdlet bytes this build"] / $Summary["$broker cmdlet bytes $BaselineCommit"]), $Summary["$broker bytes this build"], $Summary["$broker bytes $BaselineCommit"]
        Met = $Summary["$broker cmdlet bytes this build"] -le $Summary["$broker cmdlet bytes $BaselineCommit"] / 2 }
    $targets += [pscustomobject]@{ Target = "TieClient lookups/s at least as fast as $BaselineCommit, side by side ($broker)"
        Measured = '{0:N0} vs {1:N0}/s ({2:P0})' -f $Summary["$broker lookups this build"], $Summary["$broker lookups $BaselineCommit"], ($Summary["$broker lookups this build"] / $Summary["$broker lookups $BaselineCommit"])
        Met = $Summary["$broker lookups this build"] -ge $Summary["$broker lookups $BaselineCommit"] }
}
$targets += [pscustomobject]@{ Target = 'sequential p50 <= 0.5 ms over mosquitto with TLS (ThrottleLimit 1)'
    Measured = '{0:N3} ms' -f $Summary['mosquitto p50 1']; Met = $Summary['mosquitto p50 1'] -le 0.5 }
$targets += [pscustomobject]@{ Target = 'Import-Module adds < 150 ms'
    Measured = '{0:N0} ms over bare pwsh ({1:N0} ms over importing an empty module)' -f $Summary['import ms'], $Summary['import over empty ms']; Met = $Summary['import ms'] -lt 150 }
$targets | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

# ---------------------------------------------------------------------------------------------------------------
$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Select-String '^model name' | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$machine = "{0} cores, {1}, {2}, .NET {3}, pwsh {4}" -f [Environment]::ProcessorCount, ($cpu ? $cpu : 'unknown CPU'),
    [System.Runtime.InteropServices.RuntimeInformation]::OSDescription, [Environment]::Version, $PSVersionTable.PSVersion
$md = [System.Text.StringBuilder]::new()
$null = $md.AppendLine("Machine: $machine  ").AppendLine("Date: $([DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm')) UTC  ").AppendLine('Command: `dotnet pwsh -NoProfile ./build.ps1 -Task Bench`').AppendLine()
$null = $md.AppendLine('| scenario | broker | case | count | seconds | per second | p50 ms | p99 ms | peak MB | note |').AppendLine('|---|---|---|---|---|---|---|---|---|---|')
foreach ($r in $Rows) { $null = $md.AppendLine("| $($r.Scenario) | $($r.Broker) | $($r.Case) | $($r.Count) | $($r.Seconds) | $($r.PerSecond) | $($r.P50Ms) | $($r.P99Ms) | $($r.PeakMb) | $($r.Note) |") }
$null = $md.AppendLine().AppendLine('| target | measured | met |').AppendLine('|---|---|---|')
foreach ($t in $targets) { $null = $md.AppendLine("| $($t.Target) | $($t.Measured) | $($t.Met ? 'yes' : 'no') |") }
$file = Join-Path $ResultsDir 'results.md'
Set-Content -Path $file -Value $md.ToString()
Write-Step "Results"
$Rows | Format-Table Scenario, Broker, Case, Count, Seconds, PerSecond, P50Ms, P99Ms, PeakMb, Note -AutoSize | Out-String -Width 220 | Write-Host
Write-Host "Written to $file"
