# Removes the PAM trust. Terraform gives a destroy no configuration, so the
# write-only CORP password reaches it only when the operator puts it in the
# provider (pam_corp_password or BASTION_PAM_CORP_PASSWORD). With it, Remove-PAMTrust
# deletes both sides. Without it, only the PRIV side can go (the PRIV forest's
# trustedDomain object for the source forest, deleted as the WinRM account,
# a PRIV administrator): the CORP side stays until a CORP administrator
# removes it, or the next create of the same trust clears it.
# A trust already gone is not an error: removed comes back false.
# Input: source_forest, corp_username, corp_password ('' when there is none).
# Output: removed, corp_side_removed.
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

$privForest = Get-PrivForest
$privSide = Test-PrivSide -Forest $privForest

if ($password -eq '') {
    if ($privSide) {
        try {
            [void]$privForest.DeleteLocalSideOfTrustRelationship($source)
        }
        catch {
            throw (Get-CallException -Record $_)
        }
    }
    return [ordered]@{ removed = $privSide; corp_side_removed = $false }
}

try {
    $context = New-Object -TypeName System.DirectoryServices.ActiveDirectory.DirectoryContext -ArgumentList 'Forest', $source, $user, $password
    $forest = [System.DirectoryServices.ActiveDirectory.Forest]::GetForest($context)
    $searcher = New-Object -TypeName System.DirectoryServices.DirectorySearcher -ArgumentList $forest.RootDomain.GetDirectoryEntry()
    $searcher.Filter = '(&(objectClass=trustedDomain)(trustPartner=' + (ConvertTo-LdapFilterValue -Value $privForest.Name) + '))'
    $corpSide = $null -ne $searcher.FindOne()
}
catch {
    throw (Get-CallException -Record $_)
}
if (-not $privSide -and -not $corpSide) {
    return [ordered]@{ removed = $false; corp_side_removed = $false }
}
Import-Module -Name (Get-MIMPAMModulePath)
$credential = New-CorpCredential -User $user -Password $password
$null = Remove-PAMTrust -SourceForest $source -Credentials $credential
[ordered]@{ removed = $true; corp_side_removed = $true }
