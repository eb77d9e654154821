# Reads a MIM Service node: where the service lives (FIMService ImagePath), the
# config file's exact bytes, and the state of the MIM and PAM services with
# when each last started.
# Input: none. Output: see internal/mim.readReply.
# Second hop: none (the registry, the file system and services of this host).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$serviceNames = @('FIMService', 'PamMonitoringService', 'PrivilegeManagementComponentService')
# One CIM query names each service's process; the process's creation time is
# when the service last started (Win32_Service.ProcessId is 0 when stopped).
$processIds = @{}
foreach ($w in @(Get-CimInstance -ClassName Win32_Service -Filter "Name='FIMService' OR Name='PamMonitoringService' OR Name='PrivilegeManagementComponentService'")) {
    $processIds[[string]$w.Name] = [int]$w.ProcessId
}
$services = [ordered]@{}
foreach ($name in $serviceNames) {
    $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -ne $svc) {
        $started = $null
        $processId = $processIds[$name]
        if ($null -ne $processId -and $processId -ne 0) {
            $process = Get-Process -Id $processId -ErrorAction SilentlyContinue
            if ($null -ne $process) { $started = $process.StartTime.ToUniversalTime().ToString('o') }
        }
        $services[$name] = [ordered]@{ status = [string]$svc.Status; start_type = [string]$svc.StartType; started_at = $started }
    }
}

$key = Get-ItemProperty -LiteralPath 'HKLM:\System\CurrentControlSet\Services\FIMService' -ErrorAction SilentlyContinue
if ($null -eq $key -or $null -eq $key.PSObject.Properties['ImagePath']) {
    return [ordered]@{ installed = $false; computer_name = $env:COMPUTERNAME; services = $services }
}

# ImagePath is quoted when it has spaces; the config file sits beside the exe.
$image = ([string]$key.ImagePath).Trim().Trim('"')
$configPath = $image + '.config'
$bytes = [System.IO.File]::ReadAllBytes($configPath)
$version = [string](Get-Item -LiteralPath $image).VersionInfo.ProductVersion
# The MIM Service keeps its database location beside ImagePath; ObjectName is the service's logon account.
$values = [ordered]@{}
foreach ($name in @('DatabaseServer', 'DatabaseName', 'ObjectName')) {
    $property = $key.PSObject.Properties[$name]
    if ($null -ne $property) { $values[$name] = [string]$property.Value } else { $values[$name] = '' }
}

[ordered]@{
    installed     = $true
    computer_name = $env:COMPUTERNAME
    image_path    = $image
    config_path   = $configPath
    config_base64 = [Convert]::ToBase64String($bytes)
    version       = $version
    database      = $values['DatabaseServer']
    database_name = $values['DatabaseName']
    logon_account = $values['ObjectName']
    services      = $services
}
