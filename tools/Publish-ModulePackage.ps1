#Requires -Version 7.4
<#
.SYNOPSIS
    Publishes a staged module folder as a .nupkg into a local file repository, with Publish-PSResource.
.DESCRIPTION
    build.ps1 -Task Package runs this in a fresh pwsh whose PSResourceGet settings folder (XDG_DATA_HOME,
    LOCALAPPDATA) is a temporary one, so the repository registered here never reaches the user's own settings.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RepositoryPath
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$name = 'TieDxlBuild'
Register-PSResourceRepository -Name $name -Uri $RepositoryPath -Trusted
try {
    Publish-PSResource -Path $ModulePath -Repository $name
}
finally {
    Unregister-PSResourceRepository -Name $name
}
