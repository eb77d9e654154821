# Synchronizes this domain controller's Directory Services Restore Mode (DSRM)
# administrator password with the password of a domain account:
#   ntdsutil "set dsrm password" "sync from domain account <name>" q q
# (Windows Server 2008 with KB 961320, and every later version). Only the
# account's name reaches the command line; ntdsutil reads the password from
# the DC's own copy of the directory.
# https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2008-R2-and-2008/cc754363(v=ws.10)
# Input: account (sAMAccountName). Output: synchronized (true), output (ntdsutil's text).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$account = [string]$Params.account
# ntdsutil parses its own arguments: the name must be a plain sAMAccountName.
if ($account -notmatch '^[A-Za-z0-9._-]{1,20}$') {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList ('Not a sAMAccountName ntdsutil can take (letters, digits, dot, underscore, hyphen; at most 20): ' + $account))
}
$token = [guid]::NewGuid().ToString('N')
$stdout = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'bastion-ntdsutil-' + $token + '.out')
$text = ''
try {
    $process = Start-Process -FilePath 'ntdsutil.exe' -ArgumentList @('"set dsrm password"', ('"sync from domain account ' + $account + '"'), 'q', 'q') -Wait -PassThru -NoNewWindow -RedirectStandardOutput $stdout
    $code = [int]$process.ExitCode
    if (Test-Path -LiteralPath $stdout -PathType Leaf) {
        $text = [System.IO.File]::ReadAllText($stdout).Trim()
    }
}
finally {
    if (Test-Path -LiteralPath $stdout -PathType Leaf) {
        [void][System.IO.File]::Delete($stdout)
    }
}
# Whatever the exit code, only ntdsutil's success message means it synchronized.
if ($code -ne 0 -or $text -notmatch 'Password has been synchronized successfully') {
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('ntdsutil did not synchronize the DSRM password with ' + $account + ' (exit code ' + $code + '): ' + $text))
}
[ordered]@{ synchronized = $true; output = $text }
