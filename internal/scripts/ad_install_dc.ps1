# Promotes this server to an additional domain controller of an existing
# domain with Install-ADDSDomainController, installing the AD-Domain-Services
# feature (with its management tools) first when it is absent. The domain
# admin credential (the provider's WinRM account, or the resource's override)
# and the DSRM password arrive as data in $Params and become a PSCredential
# and a SecureString here: an explicit credential avoids the second hop a
# WinRM session cannot make. Nothing is written to disk. Optional settings
# are passed only when set, through one splatted hashtable. The server
# reboots when the promotion completes; the provider then waits for the DC
# over LDAP.
# Input: domain_name, admin_username, admin_password, safe_mode_password,
# site_name, database_path, log_path, sysvol_path, installation_media_path,
# replication_source_dc ("" when not set), install_dns (true, false or null:
# Windows decides), global_catalog (bool).
# Output: status, message, reboot_required, feature_installed.
# Second hop: explicit -Credential (the domain admin credential above):
# Install-ADDSDomainController authenticates to the existing DCs with it.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: adds_result

$featureInstalled = $false
$feature = Get-WindowsFeature -Name 'AD-Domain-Services'
if (-not $feature.Installed) {
    $install = Install-WindowsFeature -Name 'AD-Domain-Services' -IncludeManagementTools
    if (-not $install.Success) {
        throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('Installing the AD-Domain-Services feature failed: ' + [string]$install.ExitCode))
    }
    $featureInstalled = $true
}

$password = ConvertTo-SecureString -String ([string]$Params.admin_password) -AsPlainText -Force
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList ([string]$Params.admin_username), $password
$safeMode = ConvertTo-SecureString -String ([string]$Params.safe_mode_password) -AsPlainText -Force

$promotion = @{
    DomainName                    = [string]$Params.domain_name
    Credential                    = $credential
    SafeModeAdministratorPassword = $safeMode
    NoRebootOnCompletion          = $false
    Force                         = $true
}
if ([string]$Params.site_name -ne '') {
    $promotion['SiteName'] = [string]$Params.site_name
}
if ($null -ne $Params.install_dns) {
    $promotion['InstallDns'] = [bool]$Params.install_dns
}
if (-not [bool]$Params.global_catalog) {
    $promotion['NoGlobalCatalog'] = $true
}
if ([string]$Params.database_path -ne '') {
    $promotion['DatabasePath'] = [string]$Params.database_path
}
if ([string]$Params.log_path -ne '') {
    $promotion['LogPath'] = [string]$Params.log_path
}
if ([string]$Params.sysvol_path -ne '') {
    $promotion['SysvolPath'] = [string]$Params.sysvol_path
}
if ([string]$Params.installation_media_path -ne '') {
    $promotion['InstallationMediaPath'] = [string]$Params.installation_media_path
}
if ([string]$Params.replication_source_dc -ne '') {
    $promotion['ReplicationSourceDC'] = [string]$Params.replication_source_dc
}

$result = Install-ADDSDomainController @promotion
$reply = Get-ADDSResult -Result $result -Cmdlet 'Install-ADDSDomainController'
$reply['feature_installed'] = $featureInstalled
$reply
