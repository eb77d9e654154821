# Evicts a lost node from the Windows Server failover cluster, run on a node
# that stays: Remove-ClusterNode -Force, which skips the cleanup that would
# need the lost server itself. The node leaves the possible owners of every
# clustered role, so SQL Server setup's AddNode can then add its replacement.
# Second hop: none (the cmdlet talks to this node's own cluster service, and
# -Force does not contact the evicted node).
# Input: node (the lost node's computer name).
# Output: nodes (name -> state) after the eviction.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Import-Module -Name FailoverClusters
$node = [string]$Params.node
if ($node -notmatch '^[A-Za-z0-9][A-Za-z0-9-]{0,14}$') {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList ('Not a computer name: ' + $node))
}
$member = $false
foreach ($n in @(Get-ClusterNode)) {
    if ([string]$n.Name -eq $node) { $member = $true }
}
if ($member) {
    Remove-ClusterNode -Name $node -Force
}
$result = [ordered]@{}
foreach ($n in @(Get-ClusterNode)) {
    $result[[string]$n.Name] = [string]$n.State
}
[ordered]@{ nodes = $result }
