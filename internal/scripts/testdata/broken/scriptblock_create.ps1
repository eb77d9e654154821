# expect: forbidden
# Broken on purpose: code built from input text.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$block = [ScriptBlock]::Create([string]$Params.code)
[ordered]@{ length = $block.ToString().Length }
