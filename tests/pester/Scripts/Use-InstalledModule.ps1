# Run in a child pwsh by Package.Tests.ps1: with PSModulePath holding only -ModuleRoot, imports TieDxl by name, starts
# the test fabric, looks a file up and sends an External report. Prints key=value lines. Uses no cmdlet of the
# modules that are now out of reach (Microsoft.PowerShell.Utility and the others under $PSHOME/Modules).
param(
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [Parameter(Mandatory)] [string] $KnownHash,
    [Parameter(Mandatory)] [string] $NewHash
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $ModuleRoot
"Available=$(@(Get-Module -ListAvailable -Name TieDxl).Count)"
$module = Import-Module -Name TieDxl -PassThru
"ModuleBase=$($module.ModuleBase)"
"Version=$($module.Version)"
$info = Start-DxlTestFabric -Name installed
try {
    "Lookup=$((Get-TieFileReputation -Hash $KnownHash).MostSevere)"
    $report = Set-TieExternalReputation -Hash $NewHash -TrustLevel MightBeTrusted -FileName installed.exe -Force -Confirm:$false -PassThru -WarningAction SilentlyContinue
    "Report=$($report.Status)"
    # Sent means published; the simulator applies the report a moment later.
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while ($info.ExternalReports -lt 1 -and [DateTime]::UtcNow -lt $deadline) { [System.Threading.Thread]::Sleep(50) }
    "ExternalReports=$($info.ExternalReports)"
}
finally {
    Stop-DxlTestFabric -Confirm:$false
}
