# Creates the PAM trust with New-PAMTrust: the source (CORP) forest trusts
# the PRIV forest, and with bidirectional PRIV trusts it back. A half-removed
# trust (one side left, e.g. by a destroy that had no CORP credential) is
# removed first with Remove-PAMTrust; a whole one is New-PAMTrust's error.
# SID history, quarantine and the PIM bit are set afterwards by
# pam_trust_settings (the LSA calls netdom makes).
# Input: source_forest, corp_username, corp_password, bidirectional.
# Output: priv_forest, created, repaired_half_trust.
# Second hop: the CORP forest is reached with the CORP credential given
# (DirectoryContext, -Credentials); the PRIV forest's side is
# read and written on a PRIV DC as the running logon, a second hop from a MIM
# node: with input.run_as the script runs in a one-shot scheduled task under
# that account's own logon (include runas).
# Input also: run_as ({username, password}; the provider's WinRM account).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: runas
if (Test-RunAs -Params $Params) {
    return (Invoke-AsAccount -Params $Params -Script $MyInvocation.MyCommand.ScriptBlock.ToString())
}

# include: pam
# include: pam_trust
$bidirectional = [bool]$Params.bidirectional
$credential = New-CorpCredential -User $user -Password $password

Import-Module -Name (Get-MIMPAMModulePath)

try {
    $privForest = [System.DirectoryServices.ActiveDirectory.Domain]::GetComputerDomain().Forest.Name
    $context = New-Object -TypeName System.DirectoryServices.ActiveDirectory.DirectoryContext -ArgumentList 'Forest', $source, $user, $password
    $forest = [System.DirectoryServices.ActiveDirectory.Forest]::GetForest($context)
    $searcher = New-Object -TypeName System.DirectoryServices.DirectorySearcher -ArgumentList $forest.RootDomain.GetDirectoryEntry()
    $searcher.Filter = '(&(objectClass=trustedDomain)(trustPartner=' + (ConvertTo-LdapFilterValue -Value $privForest) + '))'
    $corpSide = $null -ne $searcher.FindOne()
}
catch {
    throw (Get-CallException -Record $_)
}
$current = Get-PrivForest
$privSide = Test-PrivSide -Forest $current

$repaired = $false
if ($privSide -ne $corpSide) {
    $null = Remove-PAMTrust -SourceForest $source -Credentials $credential
    $repaired = $true
}
$null = New-PAMTrust -SourceForest $source -Credentials $credential -Bidirectional:$bidirectional
[ordered]@{ priv_forest = [string]$privForest; created = $true; repaired_half_trust = $repaired }
