# Uninstalls the MIM Service and Portal product (with its PAM components).
# Already absent is success: removed = $false.
# Input: none. Output: removed, exit_code.
# Second hop: none (msiexec /x removes this host's product; the database
# on SQL Server is left as it is).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$roots = @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall', 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall')
$product = $null
foreach ($root in $roots) {
    foreach ($entry in (Get-ChildItem -LiteralPath $root -ErrorAction SilentlyContinue)) {
        $props = Get-ItemProperty -LiteralPath $entry.PSPath
        $display = [string]($props.PSObject.Properties['DisplayName'] | ForEach-Object { $_.Value })
        if ($display -like '*Identity Manager Service and Portal*') { $product = $entry.PSChildName }
    }
}
if ($null -eq $product) {
    return [ordered]@{ removed = $false; exit_code = 0 }
}
if ($product -notmatch '^\{[0-9A-Fa-f-]+\}$') {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('Unexpected product code: ' + $product))
}
$process = Start-Process -FilePath 'msiexec.exe' -ArgumentList @('/x', $product, '/qn', '/norestart') -Wait -PassThru -NoNewWindow
$code = [int]$process.ExitCode
if ($code -ne 0 -and $code -ne 3010) {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('msiexec /x failed with exit code ' + $code + '.'))
}
[ordered]@{ removed = $true; exit_code = $code }
