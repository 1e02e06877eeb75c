# Run in a child pwsh by Package.Tests.ps1: a session is open when Remove-Module TieDxl runs; the module is imported
# again in the same session and used. Prints key=value lines; the exit code tells whether the process ended cleanly.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $KnownHash
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$info = Start-DxlTestFabric -Name removal
$before = Connect-DxlFabric -ConfigPath $info.ConfigPath -Name before -PassThru -TimeoutSec 30
"BeforeLookup=$((Get-TieFileReputation -Hash $KnownHash -Session $before).MostSevere)"
$clean = $info.CleanDisconnects
$abrupt = $info.AbruptDisconnects

Remove-Module TieDxl
"CommandsAfterRemoval=$(@(Get-Command -Name Get-TieFileReputation -ErrorAction Ignore).Count)"
# Both sessions of this runspace (the fabric's and 'before') say goodbye, then the fabric stops (its counters stay readable).
$deadline = [DateTime]::UtcNow.AddSeconds(20)
while ((Test-Path -LiteralPath (Split-Path $info.ConfigPath)) -and [DateTime]::UtcNow -lt $deadline) { [System.Threading.Thread]::Sleep(50) }
"BeforeState=$($before.State)"
# Counted once the fabric is down: the two sessions, then the fabric's own TIE service client.
"CleanGoodbyes=$($info.CleanDisconnects - $clean)"
"AbruptDisconnects=$($info.AbruptDisconnects - $abrupt)"
"FabricFolderRemoved=$(-not (Test-Path -LiteralPath (Split-Path $info.ConfigPath)))"

Import-Module $ModulePath
$info = Start-DxlTestFabric -Name again
$after = Connect-DxlFabric -ConfigPath $info.ConfigPath -Name after -PassThru -TimeoutSec 30
"AfterLookup=$((Get-TieFileReputation -Hash $KnownHash -Session $after).MostSevere)"
"TrustLevelType=$([TieDxl.Tie.TrustLevel]::KnownTrusted)"
"Sessions=$(@(Get-DxlSession).Name -join ',')"
Stop-DxlTestFabric -Confirm:$false
"Done=True"
