# Reads this DNS server's configuration that decides where it sends the
# queries for other domains: its server-level forwarders (MicrosoftDNS_Server
# Forwarders, what Get-DnsServerForwarder lists) and its conditional
# forwarders and stub zones, file-backed or stored in Active Directory
# (MicrosoftDNS_Zone with ZoneType 3, stub, or 4, forwarder: DNS_ZONE_TYPE,
# [MS-DNSP] 2.2.5.1.1), each with its master servers.
# https://learn.microsoft.com/windows/win32/dns/microsoftdns-server
# https://learn.microsoft.com/windows/win32/dns/microsoftdns-zone
# Input: none. Output: computer_name, forwarders (array of addresses),
# zones (array of name, zone_type, ds_integrated, master_servers).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$server = Get-CimInstance -Namespace 'root/MicrosoftDNS' -ClassName 'MicrosoftDNS_Server'
$forwarders = New-Object -TypeName System.Collections.Generic.List[string]
foreach ($address in @($server.Forwarders)) {
    $value = [string]$address
    if ($value -ne '') {
        $forwarders.Add($value)
    }
}
$zones = New-Object -TypeName System.Collections.Generic.List[object]
foreach ($zone in @(Get-CimInstance -Namespace 'root/MicrosoftDNS' -ClassName 'MicrosoftDNS_Zone')) {
    $type = [int]$zone.ZoneType
    if ($type -ne 3 -and $type -ne 4) {
        continue
    }
    $masters = New-Object -TypeName System.Collections.Generic.List[string]
    foreach ($address in @($zone.MasterServers)) {
        $value = [string]$address
        if ($value -ne '') {
            $masters.Add($value)
        }
    }
    $zones.Add([ordered]@{
            name           = [string]$zone.Name
            zone_type      = $type
            ds_integrated  = [bool]$zone.DsIntegrated
            master_servers = $masters.ToArray()
        })
}
[ordered]@{ computer_name = $env:COMPUTERNAME; forwarders = $forwarders.ToArray(); zones = $zones.ToArray() }
