# Reads, and when asked sets, the CORP side of a PAM trust: the source
# forest's trustedDomain object (TDO) for the PRIV forest. It holds the bits
# MIMDocs sets with netdom ("Deploy MIM PAM with Windows Server 2016", step
# 5: netdom trust <CORP> /domain:<PRIV> /EnableSIDHistory:yes
# /Quarantine:no /EnablePIMTrust:yes, trustAttributes TREAT_AS_EXTERNAL,
# QUARANTINED_DOMAIN and PIM_TRUST, MS-ADTS 6.1.6.7.9). The PRIV side has
# no such bits. Plans read the CORP side over LDAP, not with this script:
# it runs for create and update (the change) and for Test-PAMTrust
# (verify), which has no LDAP equivalent.
# How: TDOs change only through LSA, never over LDAP (MS-ADTS 6.1.6.9.7);
# the script makes the LSA calls netdom makes (include lsa_trust):
# LsaOpenPolicy on the CORP forest root domain's PDC,
# LsaQueryTrustedDomainInfoByName for the PRIV forest, netdom's own checks,
# then one LsaSetTrustedDomainInfoByName for every bit that differs. No
# program is started, so no password is on any command line.
# Input: source_forest, corp_username, corp_password, apply (set the wanted
# settings that differ), sid_history, quarantine, pim_trust (the wanted
# settings), verify (run Test-PAMTrust), bidirectional (for Test-PAMTrust).
# Output: priv_forest, corp_side_present, corp_trust_direction,
# corp_trust_attributes (after the change, as the PDC holds them),
# settings_changed (e.g. "/EnableSIDHistory:yes"), verified (null unless
# verify).
# Second hop: the CORP forest is reached only with the explicit CORP
# credential given: DirectoryContext for LDAP, -Credentials for
# Test-PAMTrust, and for the LSA RPC calls to the CORP PDC a thread
# impersonating LogonUserW's LOGON32_LOGON_NEW_CREDENTIALS token for that
# account (the running PRIV account administers nothing in CORP, even once
# CORP trusts PRIV, and a WinRM network logon has nothing to present). The PRIV forest's side is read locally as the
# running logon, a second hop from a MIM node to a PRIV DC: with
# input.run_as the script runs in a one-shot scheduled task under that
# account's own logon (include runas).
# Input also: run_as ({username, password}; the provider's WinRM account).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: runas
if (Test-RunAs -Params $Params) {
    return (Invoke-AsAccount -Params $Params -Script $MyInvocation.MyCommand.ScriptBlock.ToString())
}

# include: pam

# include: lsa_trust

function Read-CorpSide {
    param($Root, [string] $Partner)
    $searcher = New-Object -TypeName System.DirectoryServices.DirectorySearcher -ArgumentList $Root
    $searcher.Filter = '(&(objectClass=trustedDomain)(trustPartner=' + (ConvertTo-LdapFilterValue -Value $Partner) + '))'
    [void]$searcher.PropertiesToLoad.Add('trustAttributes')
    [void]$searcher.PropertiesToLoad.Add('trustDirection')
    try {
        $found = $searcher.FindOne()
    }
    catch {
        throw (Get-CallException -Record $_)
    }
    if ($null -eq $found) {
        return [ordered]@{ present = $false; direction = 0; attributes = [int64]0 }
    }
    return [ordered]@{
        present    = $true
        direction  = [int]$found.Properties['trustdirection'][0]
        attributes = [int64]$found.Properties['trustattributes'][0]
    }
}

# include: pam_trust
if ($password -eq '') {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList 'corp_password is empty.')
}
$apply = [bool]$Params.apply
$want = [ordered]@{
    '/EnableSIDHistory' = @([bool]$Params.sid_history, [int64]0x40)
    '/Quarantine'       = @([bool]$Params.quarantine, [int64]0x4)
    '/EnablePIMTrust'   = @([bool]$Params.pim_trust, [int64]0x400)
}
$verifyTrust = [bool]$Params.verify
$bidirectional = [bool]$Params.bidirectional

try {
    $privForest = [System.DirectoryServices.ActiveDirectory.Domain]::GetComputerDomain().Forest.Name
    $context = New-Object -TypeName System.DirectoryServices.ActiveDirectory.DirectoryContext -ArgumentList 'Forest', $source, $user, $password
    $forest = [System.DirectoryServices.ActiveDirectory.Forest]::GetForest($context)
    $root = $forest.RootDomain.GetDirectoryEntry()
}
catch {
    throw (Get-CallException -Record $_)
}

$corp = Read-CorpSide -Root $root -Partner $privForest
$changed = @()
$differs = -not $corp.present
foreach ($option in $want.Keys) {
    $isOn = ([int64]$corp.attributes -band [int64]$want[$option][1]) -ne 0
    if ($isOn -ne [bool]$want[$option][0]) {
        $differs = $true
    }
}
if ($apply -and $differs) {
    # The forest root domain's PDC, as netdom aims its LSA calls at one DC;
    # the reply then says what that DC holds after the change, whatever
    # DC the LDAP read above found.
    try {
        $pdc = $forest.RootDomain.PdcRoleOwner.Name
    }
    catch {
        throw (Get-CallException -Record $_)
    }
    $set = Set-TrustAttribute -Server $pdc -Trusting $forest.RootDomain.Name -Trusted $privForest -User $user -Password $password -Want $want
    $corp = [ordered]@{ present = $true; direction = [int]$set.direction; attributes = [int64]$set.attributes }
    $changed = $set.changed
}

$verified = $null
if ($verifyTrust) {
    Import-Module -Name (Get-MIMPAMModulePath)
    $verified = [bool](Test-PAMTrust -SourceForest $source -CorpCredentials (New-CorpCredential -User $user -Password $password) -Bidirectional:$bidirectional)
}

[ordered]@{
    priv_forest           = [string]$privForest
    corp_side_present     = [bool]$corp.present
    corp_trust_direction  = [int]$corp.direction
    corp_trust_attributes = [int64]$corp.attributes
    settings_changed      = @($changed)
    verified              = $verified
}
