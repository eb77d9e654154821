# Runs Test-PAMDomainConfiguration for a source (CORP) domain. The
# configuration lives in the source domain, where neither the provider's
# LDAP connection (PRIV) nor a script without the CORP credential can look,
# so this cmdlet is the only witness.
# Input: source_domain (NetBIOS name), corp_username, corp_password.
# Output: configured.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: pam

$credential = Connect-MIMPAM -Params $Params
$configured = [bool](Test-PAMDomainConfiguration -SourceDomain ([string]$Params.source_domain) -Credentials $credential)
[ordered]@{ configured = $configured }
