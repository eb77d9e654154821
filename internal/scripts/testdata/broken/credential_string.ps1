# expect: signature
# Broken on purpose: a user name string where New-PAMTrust takes a PSCredential
# (PowerShell would prompt for the password; there is no console under WinRM).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$null = New-PAMTrust -SourceForest ([string]$Params.corp_forest) -Credentials 'CORP\Administrator'
[ordered]@{ trusted = $true }
