# expect: signature
# Broken on purpose: netdom's /passwordo is written in the script.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$corp = [string]$Params.corp_domain
$priv = [string]$Params.priv_domain
$user = [string]$Params.corp_admin
$output = & netdom trust $corp /domain:$priv /enablepimtrust:yes /usero:$user /passwordo:Pass@word1 2>&1
[ordered]@{ exit_code = $LASTEXITCODE; output = [string]($output -join "`n") }
