# expect: signature
# Broken on purpose: Get-Service has no -Recurse parameter.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$svc = Get-Service -Name 'FIMService' -Recurse
[ordered]@{ status = [string]$svc.Status }
