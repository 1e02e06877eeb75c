# Run in a child pwsh by the tests of what happens when a script ends with its session open: connects, sends
# -Count External reports for made-up SHA-256 hashes (-Base + 1 ..), prints how many came back Sent, and exits
# without Disconnect-DxlFabric.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ConfigPath,
    [Parameter(Mandatory)] [long] $Base,
    [int] $Count = 200
)
Import-Module $ModulePath -ErrorAction Stop
Connect-DxlFabric -ConfigPath $ConfigPath -ErrorAction Stop
$r = 1..$Count | ForEach-Object { '{0:x64}' -f ($Base + $_) } |
    Set-TieExternalReputation -TrustLevel MightBeTrusted -FileName exit.exe -Force -Confirm:$false -PassThru -WarningAction SilentlyContinue
@($r | Where-Object Status -EQ 'Sent').Count
