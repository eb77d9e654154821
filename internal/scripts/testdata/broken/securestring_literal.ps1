# expect: signature
# Broken on purpose: the DSRM password is a string literal where
# Install-ADDSDomainController takes a SecureString built from $Params.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$password = ConvertTo-SecureString -String ([string]$Params.admin_password) -AsPlainText -Force
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList ([string]$Params.admin_user), $password
$result = Install-ADDSDomainController -DomainName ([string]$Params.domain_name) -Credential $credential -SafeModeAdministratorPassword 'Dsrm-P@ssw0rd' -InstallDns -NoRebootOnCompletion -Force
[ordered]@{ status = [string]$result.Status }
