# expect: preamble
# Broken on purpose: no Set-StrictMode -Version Latest after the param block.
param([Parameter(Mandatory = $true)] $Params)
$ErrorActionPreference = 'Stop'

$svc = Get-Service -Name 'FIMService'
[ordered]@{ status = [string]$svc.Status }
