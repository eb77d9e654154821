# Replaces the MIM Service config file with new bytes, but only if the file is
# still exactly what was read (sha256 compare), then restarts FIMService so the
# service reads it. The path is derived here from the FIMService ImagePath; it
# is never taken from the input.
# Input: expected_sha256 (hex), content_base64, restart (bool).
# Output: config_path, sha256, restarted.
# Second hop: none (this host's config file and service).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Get-Sha256Hex([byte[]] $Bytes) {
    $hasher = [System.Security.Cryptography.SHA256]::Create()
    try { return (-join ($hasher.ComputeHash($Bytes) | ForEach-Object { $_.ToString('x2') })) }
    finally { $hasher.Dispose() }
}

$key = Get-ItemProperty -LiteralPath 'HKLM:\System\CurrentControlSet\Services\FIMService' -Name 'ImagePath' -ErrorAction SilentlyContinue
if ($null -eq $key) {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList 'The MIM Service is not installed on this computer.')
}
$path = ([string]$key.ImagePath).Trim().Trim('"') + '.config'

$current = [System.IO.File]::ReadAllBytes($path)
$currentHash = Get-Sha256Hex -Bytes $current
if ($currentHash -ne [string]$Params.expected_sha256) {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('The config file ' + $path + ' changed since it was read (sha256 ' + $currentHash + ').'))
}

$bytes = [Convert]::FromBase64String([string]$Params.content_base64)
$temporary = $path + '.bastion-new'
$backup = $path + '.bastion-previous'
[System.IO.File]::WriteAllBytes($temporary, $bytes)
# File.Replace keeps the original file's ACL and leaves the previous bytes beside it.
[System.IO.File]::Replace($temporary, $path, $backup)

$restarted = $false
if ([bool]$Params.restart) {
    Restart-Service -Name 'FIMService' -Force
    $restarted = $true
}
[ordered]@{ config_path = $path; sha256 = (Get-Sha256Hex -Bytes $bytes); restarted = $restarted }
