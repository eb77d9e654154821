# Runs Remove-PAMDomainConfiguration for a source (CORP) domain when
# Test-PAMDomainConfiguration finds the configuration there; a configuration
# already gone is not an error (removed comes back false).
# Terraform gives a destroy no configuration: the provider runs this only
# when the provider has the CORP password (pam_corp_password or BASTION_PAM_CORP_PASSWORD).
# Input: source_domain (NetBIOS name), corp_username, corp_password.
# Output: removed.
# Second hop: explicit -Credentials: the MIMPAM cmdlets reach the CORP
# domain with the CORP credential given.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: pam

$domain = [string]$Params.source_domain
$credential = Connect-MIMPAM -Params $Params
$removed = [bool](Test-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential)
if ($removed) {
    $null = Remove-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential
}
[ordered]@{ removed = $removed }
