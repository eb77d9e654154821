# Runs New-PAMDomainConfiguration for a source (CORP) domain, then
# Test-PAMDomainConfiguration to confirm it. The cmdlet writes the
# configuration data PAM needs into the source domain (it "updates a domain
# in an existing forest"), so running it again on a configured domain is an
# update, not an error. It needs the PAM trust, the domain local group
# <NETBIOS>$$$ and auditing of account management and directory service
# access in the source domain (MIMDocs, planning the bastion environment).
# Input: source_domain (NetBIOS name), corp_username, corp_password.
# Output: output, output_type: Test-PAMDomainConfiguration's answer as text
# and its .NET type (a String: the provider reads it, see
# pam_domain_configuration_test.ps1).
# Second hop: explicit -Credentials: the MIMPAM cmdlets reach the CORP
# domain with the CORP credential given.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: pam

$domain = [string]$Params.source_domain
$credential = Connect-MIMPAM -Params $Params
$null = New-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential
$answer = @(Test-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential)
$types = @($answer | ForEach-Object { if ($null -eq $_) { 'null' } else { $_.GetType().FullName } })
[ordered]@{
    output      = (($answer | ForEach-Object { [string]$_ }) -join "`n")
    output_type = ($types -join ',')
}
