# Demotes this domain controller to a member server with
# Uninstall-ADDSDomainController. The domain admin credential (the provider's
# own WinRM account: Terraform hands a provider no resource configuration when
# it destroys one) and the new local Administrator password (random, made by
# the provider and recorded nowhere) arrive as data in $Params and become a
# PSCredential and a SecureString here: an explicit credential avoids the
# second hop a WinRM session cannot make. Nothing is written to disk. The
# server reboots when the demotion completes; the provider then waits over
# LDAP until its NTDS Settings object is gone.
# Input: admin_username, admin_password, local_admin_password.
# Output: status, message, reboot_required.
# Second hop: explicit -Credential: Uninstall-ADDSDomainController
# authenticates to the remaining DCs with it.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: adds_result

$password = ConvertTo-SecureString -String ([string]$Params.admin_password) -AsPlainText -Force
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList ([string]$Params.admin_username), $password
$localPassword = ConvertTo-SecureString -String ([string]$Params.local_admin_password) -AsPlainText -Force

$result = Uninstall-ADDSDomainController -Credential $credential -LocalAdministratorPassword $localPassword -NoRebootOnCompletion:$false -Force
Get-ADDSResult -Result $result -Cmdlet 'Uninstall-ADDSDomainController'
