#Requires -Version 7.4
<#
.SYNOPSIS
    Runs one Pester test file and writes a JSON summary. build.ps1 starts this in a fresh pwsh per file.
.DESCRIPTION
    The summary (Passed, Failed, Skipped, NotRun, FailedNames, SkippedNames, FailedBlocks, FailedContainers)
    is what build.ps1 adds up. The exit code is 0 when the file ran (whatever its results), non-zero when the
    runner itself broke; a missing summary counts as a failure in build.ps1.
#>
param(
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $TestFile,
    [Parameter(Mandatory)] [string] $ResultFile,
    [Parameter(Mandatory)] [string] $SummaryFile,
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')] [string] $Verbosity = 'Detailed'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Import-Module -Name $PesterManifest -Force

$config = New-PesterConfiguration
$config.Run.Path = $TestFile
$config.Run.PassThru = $true
$config.Run.Exit = $false
$config.Output.Verbosity = $Verbosity
$config.Output.CIFormat = 'None'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnit3'
$config.TestResult.OutputPath = $ResultFile

$result = Invoke-Pester -Configuration $config

$fileName = Split-Path -Leaf $TestFile
# A block that failed (BeforeAll/AfterAll) without failing any of its own tests would otherwise go unnoticed.
$silentBlocks = @($result.FailedBlocks | Where-Object {
        -not @($_.Tests | Where-Object { $_.Result -eq 'Failed' }).Count
    } | ForEach-Object { $_.ExpandedPath })
$containers = @($result.FailedContainers | ForEach-Object { "$($_.Item)" })

$summary = [ordered]@{
    File             = $fileName
    Result           = "$($result.Result)"
    Passed           = $result.PassedCount
    Failed           = $result.FailedCount + $result.InconclusiveCount
    Skipped          = $result.SkippedCount
    NotRun           = $result.NotRunCount
    FailedNames      = @(@($result.Failed) + @($result.Inconclusive) | ForEach-Object { "$fileName`: $($_.ExpandedPath)" })
    SkippedNames     = @(@($result.Skipped) + @($result.NotRun) | ForEach-Object { "$fileName`: $($_.ExpandedPath)" })
    FailedBlocks     = $silentBlocks
    FailedContainers = $containers
}
$summary | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $SummaryFile -Encoding utf8
exit 0
