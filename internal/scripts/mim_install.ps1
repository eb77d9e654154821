# Installs the MIM Service (and, when asked, the PAM components) from the
# "Service and Portal" MSI. Every value arrives as data in $Params; MSI
# property values are quoted by msiexec's own rule (a double quote is doubled).
# Input: installer_path (string), properties (object of MSI property -> string).
# Output: exit_code, reboot_required.
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$existing = Get-ItemProperty -LiteralPath 'HKLM:\System\CurrentControlSet\Services\FIMService' -Name 'ImagePath' -ErrorAction SilentlyContinue
if ($null -ne $existing) {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList 'The MIM Service is already installed on this computer.')
}

$installer = [string]$Params.installer_path
if ($installer -match '["\r\n]') {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList 'installer_path must not contain a double quote or a line break.')
}
if (-not (Test-Path -LiteralPath $installer -PathType Leaf)) {
    throw (New-Object -TypeName System.IO.FileNotFoundException -ArgumentList ('MIM installer not found: ' + $installer))
}

$arguments = New-Object -TypeName 'System.Collections.Generic.List[string]'
$arguments.Add('/i')
$arguments.Add('"' + $installer + '"')
$arguments.Add('/qn')
$arguments.Add('/norestart')
foreach ($property in $Params.properties.PSObject.Properties) {
    $name = [string]$property.Name
    $value = [string]$property.Value
    if ($name -notmatch '^[A-Z][A-Z0-9_]*$') {
        throw (New-Object -TypeName System.ArgumentException -ArgumentList ('Invalid MSI property name: ' + $name))
    }
    if ($value -match '[\r\n]') {
        throw (New-Object -TypeName System.ArgumentException -ArgumentList ('MSI property ' + $name + ' must not contain a line break.'))
    }
    $arguments.Add($name + '="' + $value.Replace('"', '""') + '"')
}

$process = Start-Process -FilePath 'msiexec.exe' -ArgumentList $arguments.ToArray() -Wait -PassThru -NoNewWindow
$code = [int]$process.ExitCode
if ($code -ne 0 -and $code -ne 3010) {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('msiexec failed with exit code ' + $code + '.'))
}
[ordered]@{ exit_code = $code; reboot_required = ($code -eq 3010) }
