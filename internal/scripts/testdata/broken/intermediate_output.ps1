# expect: stdout
# Broken on purpose: -PassThru makes Restart-Service emit the service object,
# which joins the script's result before the final hashtable.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Restart-Service -Name 'FIMService' -Force -PassThru
[ordered]@{ restarted = $true }
