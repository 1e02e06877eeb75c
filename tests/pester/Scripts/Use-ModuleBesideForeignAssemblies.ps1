# Run in a child pwsh by Package.Tests.ps1: loads assemblies that carry the names of TieDxl's dependencies (another
# version, another module's copy) before or after importing TieDxl, then uses both. Prints key=value lines.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    # Paths separated by the platform's path separator (pwsh -File passes one string per parameter).
    [Parameter(Mandatory)] [string] $ForeignPath,
    [Parameter(Mandatory)] [ValidateSet('ForeignFirst', 'TieDxlFirst')] [string] $Order,
    [Parameter(Mandatory)] [string] $KnownHash,
    [Parameter(Mandatory)] [string] $NewHash
)
$ErrorActionPreference = 'Stop'

function Import-ForeignAssembly {
    foreach ($path in $ForeignPath.Split([IO.Path]::PathSeparator)) {
        $assembly = [System.Reflection.Assembly]::LoadFrom($path)
        $name = $assembly.GetName().Name
        "Loaded.$name=$($assembly.GetName().Version)"
        # By name, as a script of the other module would: the foreign copy must be the one PowerShell sees.
        "Probe.$name=$(([type]"$name.ForeignProbe")::Hello())"
    }
}

function Use-TieDxl {
    $info = Start-DxlTestFabric -Name coexist
    try {
        "Lookup=$((Get-TieFileReputation -Hash $KnownHash).MostSevere)"
        $report = Set-TieExternalReputation -Hash $NewHash -TrustLevel MightBeTrusted -FileName coexist.exe -Force -Confirm:$false -PassThru -WarningAction SilentlyContinue
        "Report=$($report.Status)"
        "TrustLevelType=$([TieDxl.Tie.TrustLevel]::KnownTrusted)"
        try { throw [TieDxl.Dxl.DxlTimeoutException]::new('topic', 'id', [timespan]::FromSeconds(1)) }
        catch [TieDxl.Dxl.DxlTimeoutException] { 'CaughtByType=True' }
    }
    finally {
        Stop-DxlTestFabric -Confirm:$false
    }
}

if ($Order -eq 'ForeignFirst') { Import-ForeignAssembly }
Import-Module $ModulePath
if ($Order -eq 'ForeignFirst') { Use-TieDxl }
else { Use-TieDxl; Import-ForeignAssembly }

# What another module gets when it asks for the exact MQTTnet and MessagePack that TieDxl uses: never TieDxl's copy.
foreach ($reference in 'MQTTnet, Version=5.2.0.1603, Culture=neutral, PublicKeyToken=fdb7629f2e364a63',
    'MessagePack, Version=2.5.0.0, Culture=neutral, PublicKeyToken=b4a0369545f0a1be') {
    $name = ([System.Reflection.AssemblyName]$reference).Name
    try { "ByName.$name=$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext([System.Reflection.Assembly]::Load($reference)).Name)" }
    catch { "ByName.$name=NotFound" }
}

foreach ($assembly in [AppDomain]::CurrentDomain.GetAssemblies()) {
    $name = $assembly.GetName()
    if ($name.Name -in 'MessagePack', 'MQTTnet', 'MQTTnet.Server') {
        "Context.$($name.Name).$($name.Version)=$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly).Name)"
    }
}
