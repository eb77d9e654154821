# Reads, and when asked sets, the CORP side of a PAM trust: the source
# forest's trustedDomain object for the PRIV forest. It holds the bits netdom
# sets (MIMDocs "Deploy MIM PAM with Windows Server 2016": run on PRIV,
# netdom trust <CORP> /domain:<PRIV> /usero:<CORP admin> /passwordo:...,
# a form this script does not use, see below;
# the netdom page: /EnableSIDHistory is valid only on the outbound side of a
# forest trust, which in a PAM trust is CORP's). The PRIV side has no such
# bits. Plans read the CORP side over LDAP, not with this script: it runs
# for create and update (netdom, and the read-back after it) and for
# Test-PAMTrust (verify), which has no LDAP equivalent.
# Why netdom and not an LDAP modify of trustAttributes: MS-ADTS 6.1.6.9.7
# (https://learn.microsoft.com/openspecs/windows_protocols/ms-adts/4fab8099-7f99-4547-9cbc-c1cd59e084f6)
# says trusted domain objects "cannot be created or modified by client
# machines over the LDAPv3 transport"; they change only through the LSA
# policy calls of MS-LSAD 3.1.4.7 (LsarSetTrustedDomainInfoByName), which
# netdom makes. Why no /usero and /passwordo: a password on a command line
# is readable by anyone who can list processes. netdom runs instead in a
# process started with CreateProcessWithLogonW(LOGON_NETCREDENTIALS_ONLY)
# (runas /netonly; include netonly): the CORP password is an argument of
# that API call, and netdom's LSA connection to the CORP DC authenticates
# with it. Every other network connection netdom makes carries it too: a
# connection to the PRIV side would fail, as PRIV does not trust CORP. The
# three options change only CORP's object; that netdom then opens no PRIV
# connection is not yet confirmed on Windows.
# Input: source_forest, corp_username, corp_password, apply (set the wanted
# settings that differ), sid_history, quarantine, pim_trust (the wanted
# settings), verify (run Test-PAMTrust), bidirectional (for Test-PAMTrust).
# Output: priv_forest, corp_side_present, corp_trust_direction,
# corp_trust_attributes, netdom_runs, verified (null unless verify).
# Second hop: the CORP forest is reached with the CORP credential given
# (DirectoryContext, -Credentials, netdom's LOGON_NETCREDENTIALS_ONLY
# logon); the PRIV forest's side is read and written on a PRIV DC as the
# running logon, a second hop from a MIM node: with input.run_as the script
# runs in a one-shot scheduled task under that account's own logon (include
# runas).
# Input also: run_as ({username, password}; the provider's WinRM account).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: runas
if (Test-RunAs -Params $Params) {
    return (Invoke-AsAccount -Params $Params -Script $MyInvocation.MyCommand.ScriptBlock.ToString())
}

# include: pam

# include: native_argument

# include: private_dir

# include: netonly

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

# Invoke-NetdomTrust runs netdom for one setting of the trusting (CORP)
# side. netdom gets no /usero or /passwordo: it runs under the CORP
# credential as its network logon (include netonly), so its command line
# holds domain names and the option only.
function Invoke-NetdomTrust {
    param([string] $Netdom, [string] $Trusting, [string] $Trusted, [string] $User, [string] $Password, [string] $Option)
    $line = (ConvertTo-NativeArgument -Value $Netdom) + ' trust ' + (ConvertTo-NativeArgument -Value $Trusting) + ' /domain:' + (ConvertTo-NativeArgument -Value $Trusted) + ' ' + $Option
    $directory = New-PrivateDirectory -Prefix 'bastion-netdom-'
    try {
        $result = Start-NetOnlyProcess -Application $Netdom -CommandLine $line -User $User -Password $Password -Directory $directory -TimeoutSeconds 600
    }
    catch {
        throw (Get-CallException -Record $_)
    }
    finally {
        Remove-PrivateDirectory -Path $directory
    }
    if ([int]$result.exit_code -ne 0) {
        $text = ([string]$result.output).Replace($Password, '********').Trim()
        throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('netdom trust ' + $Trusting + ' /domain:' + $Trusted + ' ' + $Option + ' failed with exit code ' + $result.exit_code + ': ' + $text))
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
$runs = New-Object -TypeName 'System.Collections.Generic.List[string]'
if ($apply) {
    $netdom = [System.IO.Path]::Combine([Environment]::SystemDirectory, 'netdom.exe')
    foreach ($option in $want.Keys) {
        $on = [bool]$want[$option][0]
        $bit = [int64]$want[$option][1]
        $isOn = ([int64]$corp.attributes -band $bit) -ne 0
        if ($corp.present -and $isOn -eq $on) {
            continue
        }
        if (-not (Test-Path -LiteralPath $netdom -PathType Leaf)) {
            throw (New-Object -TypeName System.IO.FileNotFoundException -ArgumentList ('netdom.exe was not found in ' + [Environment]::SystemDirectory + ': install the AD DS tools on this host (Install-WindowsFeature RSAT-ADDS-Tools).'))
        }
        $value = 'no'
        if ($on) {
            $value = 'yes'
        }
        Invoke-NetdomTrust -Netdom $netdom -Trusting $forest.RootDomain.Name -Trusted $privForest -User $user -Password $password -Option ($option + ':' + $value)
        $runs.Add($option + ':' + $value)
    }
    if ($runs.Count -gt 0) {
        $corp = Read-CorpSide -Root $root -Partner $privForest
    }
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
    netdom_runs           = $runs.ToArray()
    verified              = $verified
}
