# Runs New-PAMDomainConfiguration for a source (CORP) domain, then
# Test-PAMDomainConfiguration to confirm it. The cmdlet writes the
# configuration data PAM needs into the source domain (it "updates a domain
# in an existing forest"), so running it again on a configured domain is an
# update, not an error. It needs the PAM trust, the domain local group
# <NETBIOS>$$$ and auditing of account management and directory service
# access in the source domain (MIMDocs, planning the bastion environment).
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

$domain = [string]$Params.source_domain
$secure = ConvertTo-SecureString -String ([string]$Params.corp_password) -AsPlainText -Force
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList ([string]$Params.corp_username), $secure

Import-Module -Name (Get-MIMPAMModulePath)
$null = New-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential
$configured = [bool](Test-PAMDomainConfiguration -SourceDomain $domain -Credentials $credential)
[ordered]@{ configured = $configured }
