# Runs New-PAMDomainConfiguration for a source (CORP) domain, then
# Test-PAMDomainConfiguration to confirm it. The cmdlet writes the
# configuration data PAM needs into the source domain (it "updates a domain
# in an existing forest"), so running it again on a configured domain is an
# update, not an error. It needs the PAM trust, the domain local group
# <NETBIOS>$$$ and auditing of account management and directory service
# access in the source domain (MIMDocs, planning the bastion environment).
# Input: source_domain (NetBIOS name), corp_username, corp_password.
# Output: configured.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: pam

$domain = [string]$Params.source_domain
$credential = Connect-MIMPAM -Params $Params
$null = New-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential
$configured = [bool](Test-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential)
[ordered]@{ configured = $configured }
