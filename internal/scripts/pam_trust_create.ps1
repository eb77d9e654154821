# Creates the PAM trust with New-PAMTrust: the source (CORP) forest trusts
# the PRIV forest, and with bidirectional PRIV trusts it back. A half-removed
# trust (one side left, e.g. by a destroy that had no CORP credential) is
# removed first with Remove-PAMTrust; a whole one is New-PAMTrust's error.
# SID history, quarantine and the PIM bit are set afterwards by
# pam_trust_settings (netdom).
# Input: source_forest, corp_username, corp_password, bidirectional.
# Output: priv_forest, created, repaired_half_trust.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# A .NET call's failure reaches PowerShell wrapped in MethodInvocationException:
# rethrow the real one, so its type tells what went wrong.
function Get-CallException {
    param([System.Management.Automation.ErrorRecord] $Record)
    $exception = $Record.Exception
    if ($exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $exception.InnerException) {
        return $exception.InnerException
    }
    return $exception
}

function ConvertTo-LdapFilterValue {
    param([string] $Value)
    $builder = New-Object -TypeName System.Text.StringBuilder
    foreach ($ch in $Value.ToCharArray()) {
        if ('\*()'.IndexOf($ch) -ge 0 -or [int]$ch -eq 0) {
            [void]$builder.Append('\' + ([int]$ch).ToString('x2'))
        }
        else {
            [void]$builder.Append($ch)
        }
    }
    return $builder.ToString()
}

function Get-MIMPAMModulePath {
    $path = 'C:\Program Files\Microsoft Forefront Identity Manager\2010\Service\PAM\PowerShell\Modules\MIMPAM\MIMPAM.psd1'
    $key = Get-ItemProperty -LiteralPath 'HKLM:\System\CurrentControlSet\Services\FIMService' -Name 'ImagePath' -ErrorAction SilentlyContinue
    if ($null -ne $key) {
        $folder = [System.IO.Path]::GetDirectoryName(([string]$key.ImagePath).Trim().Trim('"'))
        $candidate = [System.IO.Path]::Combine($folder, 'PAM\PowerShell\Modules\MIMPAM\MIMPAM.psd1')
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            $path = $candidate
        }
    }
    return $path
}

$source = [string]$Params.source_forest
if ($source -notmatch '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$') {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList ('source_forest must be a DNS domain name, not ' + $source))
}
$user = [string]$Params.corp_username
$password = [string]$Params.corp_password
$bidirectional = [bool]$Params.bidirectional
$secure = ConvertTo-SecureString -String $password -AsPlainText -Force
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList $user, $secure

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
try {
    $current = [System.DirectoryServices.ActiveDirectory.Forest]::GetCurrentForest()
}
catch {
    throw (Get-CallException -Record $_)
}
$privSide = $true
try {
    $null = $current.GetTrustRelationship($source)
}
catch {
    $inner = Get-CallException -Record $_
    if ($inner -isnot [System.DirectoryServices.ActiveDirectory.ActiveDirectoryObjectNotFoundException]) {
        throw $inner
    }
    $privSide = $false
}

$repaired = $false
if ($privSide -ne $corpSide) {
    $null = Remove-PAMTrust -SourceForest $source -Credentials $credential
    $repaired = $true
}
$null = New-PAMTrust -SourceForest $source -Credentials $credential -Bidirectional:$bidirectional
[ordered]@{ priv_forest = [string]$privForest; created = $true; repaired_half_trust = $repaired }
