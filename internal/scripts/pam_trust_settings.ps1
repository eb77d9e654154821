# Reads, and when asked sets, the CORP side of a PAM trust: the source
# forest's trustedDomain object for the PRIV forest. It holds the bits netdom
# sets (MIMDocs "Deploy MIM PAM with Windows Server 2016": run on PRIV,
# netdom trust <CORP> /domain:<PRIV> /usero:<CORP admin> /passwordo:...;
# the netdom page: /EnableSIDHistory is valid only on the outbound side of a
# forest trust, which in a PAM trust is CORP's). The PRIV side has no such
# bits. Plans read the CORP side over LDAP, not with this script: it runs
# for create and update (netdom, and the read-back after it) and for
# Test-PAMTrust (verify), which has no LDAP equivalent.
# netdom takes the CORP password on its command line (/passwordo): local
# administrators and process-creation auditing can see it while netdom runs.
# /passwordo:* would prompt on a console, which a WinRM session has not. The
# password is passed as one quoted argument and masked in netdom's output.
# Input: source_forest, corp_username, corp_password, apply (set the wanted
# settings that differ), sid_history, quarantine, pim_trust (the wanted
# settings), verify (run Test-PAMTrust), bidirectional (for Test-PAMTrust).
# Output: priv_forest, corp_side_present, corp_trust_direction,
# corp_trust_attributes, netdom_runs, verified (null unless verify).
# Second hop: the CORP forest is reached with the CORP credential given
# (DirectoryContext, -Credentials, netdom /usero); the PRIV forest's side is
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

# include: native_argument

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

function Invoke-NetdomTrust {
    param([string] $Trusting, [string] $Trusted, [string] $User, [string] $Password, [string] $Option)
    $token = [guid]::NewGuid().ToString('N')
    $stdout = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'bastion-netdom-' + $token + '.out')
    $stderr = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'bastion-netdom-' + $token + '.err')
    $text = ''
    try {
        $process = Start-Process -FilePath 'netdom.exe' -ArgumentList @('trust', (ConvertTo-NativeArgument -Value $Trusting), ('/domain:' + (ConvertTo-NativeArgument -Value $Trusted)), ('/usero:' + (ConvertTo-NativeArgument -Value $User)), ('/passwordo:' + (ConvertTo-NativeArgument -Value $Password)), $Option) -Wait -PassThru -NoNewWindow -RedirectStandardOutput $stdout -RedirectStandardError $stderr
        $code = [int]$process.ExitCode
        foreach ($file in @($stdout, $stderr)) {
            if (Test-Path -LiteralPath $file -PathType Leaf) {
                $text = $text + [System.IO.File]::ReadAllText($file)
            }
        }
    }
    finally {
        foreach ($file in @($stdout, $stderr)) {
            if (Test-Path -LiteralPath $file -PathType Leaf) {
                [void][System.IO.File]::Delete($file)
            }
        }
    }
    if ($code -ne 0) {
        $text = $text.Replace($Password, '********').Trim()
        throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('netdom trust ' + $Trusting + ' /domain:' + $Trusted + ' ' + $Option + ' failed with exit code ' + $code + ': ' + $text))
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
        Invoke-NetdomTrust -Trusting $forest.RootDomain.Name -Trusted $privForest -User $user -Password $password -Option ($option + ':' + $value)
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
