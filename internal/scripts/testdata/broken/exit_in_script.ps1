# expect: forbidden
# Broken on purpose: exit ends the bootstrap's process before it replies.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$svc = Get-Service -Name 'FIMService' -ErrorAction SilentlyContinue
if ($null -eq $svc) {
    exit 2
}
[ordered]@{ status = [string]$svc.Status }
