# expect: grammar
# Broken on purpose: the if condition lacks its closing parenthesis.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$name = [string]$Params.name
if (($name -eq '') {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList 'name is required.')
}
[ordered]@{ name = $name }
