# Run in a child pwsh by Package.Tests.ps1, whose PSResourceGet settings and CurrentUser module folder are temporary
# (XDG_DATA_HOME, LOCALAPPDATA): registers the folder repository and installs TieDxl from it, or uninstalls it and
# unregisters the repository. Prints key=value lines.
param(
    [Parameter(Mandatory)] [ValidateSet('Install', 'Uninstall')] [string] $Action,
    [Parameter(Mandatory)] [string] $RepositoryName,
    [string] $RepositoryPath,
    [string] $Version,
    # The temporary folder that must hold the CurrentUser module folder: nothing is installed anywhere else.
    [string] $IsolatedRoot
)
$ErrorActionPreference = 'Stop'
if ($Action -eq 'Install') {
    $userFolder = [Environment]::GetFolderPath($IsWindows ? 'MyDocuments' : 'UserProfile')
    if (-not $IsolatedRoot -or -not $userFolder.StartsWith($IsolatedRoot, [StringComparison]::Ordinal)) {
        throw "The CurrentUser module folder would be under '$userFolder', not under the isolated '$IsolatedRoot': not installing."
    }
    Register-PSResourceRepository -Name $RepositoryName -Uri $RepositoryPath -Trusted
    "Repositories=$(@(Get-PSResourceRepository).Name -join ',')"
    "Found=$((Find-PSResource -Name TieDxl -Repository $RepositoryName).Version)"
    Install-PSResource -Name TieDxl -Version $Version -Repository $RepositoryName -Scope CurrentUser -TrustRepository -Quiet
    $installed = Get-InstalledPSResource -Name TieDxl -Scope CurrentUser
    "InstalledVersion=$($installed.Version)"
    "InstalledLocation=$($installed.InstalledLocation)"
}
else {
    Uninstall-PSResource -Name TieDxl -Scope CurrentUser
    Unregister-PSResourceRepository -Name $RepositoryName
    "Installed=$(@(Get-InstalledPSResource -Name TieDxl -Scope CurrentUser -ErrorAction Ignore).Count)"
    "Repositories=$(@(Get-PSResourceRepository).Name -join ',')"
}
