# Sets the logon password of the MIM Service (FIMService) after the service
# account's password was changed in the directory, then restarts the service.
# Input: account ("DOMAIN\name"), password. Output: restarted.
# Second hop: none (Win32_Service.Change on this host; the service's own logon
# is what reaches SQL Server afterwards).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$service = Get-CimInstance -ClassName 'Win32_Service' -Filter "Name='FIMService'"
if ($null -eq $service) {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList 'The MIM Service is not installed on this computer.')
}
$change = Invoke-CimMethod -InputObject $service -MethodName 'Change' -Arguments @{ StartName = [string]$Params.account; StartPassword = [string]$Params.password }
if ([int]$change.ReturnValue -ne 0) {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('Win32_Service.Change returned ' + [int]$change.ReturnValue + '.'))
}
Restart-Service -Name 'FIMService' -Force
[ordered]@{ restarted = $true }
