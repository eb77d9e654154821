# expect: placeholder
# Broken on purpose: a value spliced into the script text by a template.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$svc = Get-Service -Name '{{ .ServiceName }}'
[ordered]@{ status = [string]$svc.Status }
