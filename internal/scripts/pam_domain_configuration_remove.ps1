# Runs Remove-PAMDomainConfiguration for a source (CORP) domain when
# Test-PAMDomainConfiguration finds the configuration there; a configuration
# already gone is not an error (removed comes back false).
# Terraform gives a destroy no configuration: the provider runs this only
# when the provider has the CORP password (pam_corp_password or BASTION_PAM_CORP_PASSWORD).
# Input: source_domain (NetBIOS name), corp_username, corp_password.
# Output: removed.
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

$domain = [string]$Params.source_domain
$secure = ConvertTo-SecureString -String ([string]$Params.corp_password) -AsPlainText -Force
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList ([string]$Params.corp_username), $secure

Import-Module -Name (Get-MIMPAMModulePath)
$removed = [bool](Test-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential)
if ($removed) {
    $null = Remove-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential
}
[ordered]@{ removed = $removed }
