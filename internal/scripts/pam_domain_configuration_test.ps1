# Runs Test-PAMDomainConfiguration for a source (CORP) domain. The
# configuration lives in the source domain, where neither the provider's
# LDAP connection (PRIV) nor a script without the CORP credential can look,
# so this cmdlet is the only witness.
# Input: source_domain (NetBIOS name), corp_username, corp_password.
# Output: output (the cmdlet's answer as text), output_type (its .NET type).
# Microsoft's reference lists the cmdlet's output as String: [bool] of any
# non-empty string is $true, so the answer is returned as text and the
# provider reads it (internal/pam), never cast here.
# Second hop: the cmdlet takes -Credentials and reaches CORP with them.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: pam

$credential = Connect-MIMPAM -Params $Params
$answer = @(Test-PAMDomainConfiguration -SourceDomain ([string]$Params.source_domain) -Credentials $credential)
$types = @($answer | ForEach-Object { if ($null -eq $_) { 'null' } else { $_.GetType().FullName } })
[ordered]@{
    output      = (($answer | ForEach-Object { [string]$_ }) -join "`n")
    output_type = ($types -join ',')
}
