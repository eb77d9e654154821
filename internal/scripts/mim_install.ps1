# Installs the MIM Service (and, when asked, the PAM components) from the
# "Service and Portal" MSI. Every value arrives as data in $Params.
#
# No installer process is started with the properties on its command line:
# the install goes through the Windows Installer automation object
# (WindowsInstaller.Installer, InstallProduct), in this process, so the
# service account password appears on no command line any account can list
# and in no transform Windows Installer would cache. Property values are
# quoted by msiexec's own rule (a double quote is doubled).
#
# The verbose log (EnableLog 'voicewarmupx', msiexec's /l*vx) is written to a
# directory only the running account and LocalSystem can read; its last
# lines, with every secret value and any *PASSWORD property line redacted,
# come back in the reply, and the directory is deleted, on failure too. The
# exit code is the one the log's "MainEngineThread is returning <n>" line
# reports (0, 1603, 1618, 3010, ...): the provider decides what each means.
# Input: installer_path (string), properties (object of MSI property ->
# string), secret_properties (the same, for passwords), log_tail_lines (int).
# Output: exit_code, reboot_required, log_tail.
# Second hop: run-as. The installer creates the MIM Service database on SQL
# Server with Windows authentication as the logon running it, and may read
# installer_path from a UNC path: with input.run_as the script runs in a
# one-shot scheduled task under that account's own logon (include runas).
# Input also: run_as ({username, password}; the provider's WinRM account).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: runas
if (Test-RunAs -Params $Params) {
    return (Invoke-AsAccount -Params $Params -Script $MyInvocation.MyCommand.ScriptBlock.ToString())
}

# include: private_dir

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

$settings = New-Object -TypeName 'System.Collections.Generic.List[string]'
$secrets = New-Object -TypeName 'System.Collections.Generic.List[string]'
foreach ($group in @('properties', 'secret_properties')) {
    foreach ($property in $Params.$group.PSObject.Properties) {
        $name = [string]$property.Name
        $value = [string]$property.Value
        if ($name -notmatch '^[A-Z][A-Z0-9_]*$') {
            throw (New-Object -TypeName System.ArgumentException -ArgumentList ('Invalid MSI property name: ' + $name))
        }
        if ($value -match '[\r\n]') {
            throw (New-Object -TypeName System.ArgumentException -ArgumentList ('MSI property ' + $name + ' must not contain a line break.'))
        }
        $settings.Add($name + '="' + $value.Replace('"', '""') + '"')
        if ($group -eq 'secret_properties') {
            $secrets.Add($value)
        }
    }
}
$tailLines = [int]$Params.log_tail_lines

$directory = ''
try {
    $directory = New-PrivateDirectory -Prefix 'bastion-msi-'
    $log = [System.IO.Path]::Combine($directory, 'install.log')
    $msi = New-Object -ComObject 'WindowsInstaller.Installer'
    $type = $msi.GetType()
    # msiUILevelNone: no dialog waits for a person.
    $null = $type.InvokeMember('UILevel', [System.Reflection.BindingFlags]::SetProperty, $null, $msi, @(2))
    $null = $type.InvokeMember('EnableLog', [System.Reflection.BindingFlags]::InvokeMethod, $null, $msi, @('voicewarmupx', $log))
    $failure = ''
    try {
        $null = $type.InvokeMember('InstallProduct', [System.Reflection.BindingFlags]::InvokeMethod, $null, $msi, @($installer, ($settings -join ' ')))
    }
    catch {
        $failure = [string]$_.Exception.Message
    }
    $code = -1
    if (Test-Path -LiteralPath $log -PathType Leaf) {
        foreach ($line in [System.IO.File]::ReadAllLines($log)) {
            if ([string]$line -match 'MainEngineThread is returning (\d+)') {
                $code = [int]$Matches[1]
            }
        }
    }
    if ($code -lt 0) {
        if ($failure -eq '') {
            $code = 0
        }
        else {
            $code = 1603
        }
    }
    $tail = ''
    if ($code -ne 0) {
        $tail = Get-RedactedTail -Path $log -Count $tailLines -Secrets $secrets.ToArray()
        if ($tail -eq '' -and $failure -ne '') {
            foreach ($secret in $secrets) {
                $failure = $failure.Replace($secret, '********')
            }
            $tail = $failure
        }
    }
}
finally {
    Remove-PrivateDirectory -Path $directory
}
[ordered]@{ exit_code = $code; reboot_required = ($code -eq 3010); log_tail = $tail }
