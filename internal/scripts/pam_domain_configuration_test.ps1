# Runs Test-PAMDomainConfiguration for a source (CORP) domain. The
# configuration lives in the source domain, where neither the provider's
# LDAP connection (PRIV) nor a script without the CORP credential can look,
# so this cmdlet is the only witness.
# Input: source_domain (NetBIOS name), corp_username, corp_password.
# Output: configured.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

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

$secure = ConvertTo-SecureString -String ([string]$Params.corp_password) -AsPlainText -Force
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList ([string]$Params.corp_username), $secure

Import-Module -Name (Get-MIMPAMModulePath)
$configured = [bool](Test-PAMDomainConfiguration -SourceDomain ([string]$Params.source_domain) -Credentials $credential)
[ordered]@{ configured = $configured }
