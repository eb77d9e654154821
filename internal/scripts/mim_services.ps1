# Starts, stops or restarts the MIM Service and the PAM services, in the order
# given. Only these three service names are accepted.
# Input: action ("start" | "stop" | "restart"), names (array of service names).
# Output: services (name -> status) after the action.
# Second hop: none (this host's services; each service logs on as its own account).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$allowed = @('FIMService', 'PamMonitoringService', 'PrivilegeManagementComponentService')
$action = [string]$Params.action
if (@('start', 'stop', 'restart') -notcontains $action) {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList ('Unknown service action: ' + $action))
}
$result = [ordered]@{}
foreach ($name in @($Params.names)) {
    $name = [string]$name
    if ($allowed -notcontains $name) {
        throw (New-Object -TypeName System.ArgumentException -ArgumentList ('Service not managed by this provider: ' + $name))
    }
    switch ($action) {
        'start' { Start-Service -Name $name }
        'stop' { Stop-Service -Name $name -Force }
        'restart' { Restart-Service -Name $name -Force }
    }
    $result[$name] = [string](Get-Service -Name $name).Status
}
[ordered]@{ services = $result }
