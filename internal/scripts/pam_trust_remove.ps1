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

try {
    $privForest = [System.DirectoryServices.ActiveDirectory.Forest]::GetCurrentForest()
}
catch {
    throw (Get-CallException -Record $_)
}
$privSide = $true
try {
    $null = $privForest.GetTrustRelationship($source)
}
catch {
    $inner = Get-CallException -Record $_
    if ($inner -isnot [System.DirectoryServices.ActiveDirectory.ActiveDirectoryObjectNotFoundException]) {
        throw $inner
    }
    $privSide = $false
}

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
$secure = ConvertTo-SecureString -String $password -AsPlainText -Force
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList $user, $secure
$null = Remove-PAMTrust -SourceForest $source -Credentials $credential
[ordered]@{ removed = $true; corp_side_removed = $true }
