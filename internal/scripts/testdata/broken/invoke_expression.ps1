# expect: forbidden
# Broken on purpose: Invoke-Expression runs input text as code.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$value = Invoke-Expression -Command ([string]$Params.expression)
[ordered]@{ value = [string]$value }
