# Reads this computer's DNS client server list: the ServerAddresses of every
# interface (MSFT_DNSClientServerAddress, what Get-DnsClientServerAddress
# returns), IPv4 first, in the order CIM lists the interfaces, without
# duplicates.
# https://learn.microsoft.com/powershell/module/dnsclient/get-dnsclientserveraddress
# Input: none. Output: computer_name, servers (array of addresses).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$servers = New-Object -TypeName System.Collections.Generic.List[string]
$entries = @(Get-CimInstance -Namespace 'root/StandardCimv2' -ClassName 'MSFT_DNSClientServerAddress')
# AddressFamily 2 is IPv4, 23 IPv6.
foreach ($family in @(2, 23)) {
    foreach ($entry in $entries) {
        if ([int]$entry.AddressFamily -ne $family) {
            continue
        }
        foreach ($address in @($entry.ServerAddresses)) {
            $value = [string]$address
            if ($value -ne '' -and -not $servers.Contains($value)) {
                $servers.Add($value)
            }
        }
    }
}
[ordered]@{ computer_name = $env:COMPUTERNAME; servers = $servers.ToArray() }
