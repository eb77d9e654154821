# expect: stdout
# Broken on purpose: Write-Host puts text on stdout beside the JSON reply.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Write-Host 'Restarting the MIM Service'
Restart-Service -Name 'FIMService' -Force
[ordered]@{ restarted = $true }
