# Runs SQL Server setup.exe for a failover cluster instance: InstallFailoverCluster
# on the first node, AddNode on each further node, RemoveNode to take a node out.
# Every value arrives as data in $Params and is quoted by the rules setup.exe's
# command line is split with (CommandLineToArgvW). Passwords (settings ending
# in PASSWORD or PWD) never reach the command line, which any account can list:
# they go to setup in a configuration file (/CONFIGURATIONFILE, "Install SQL
# Server using a configuration file") in a folder only the running account and
# LocalSystem can read, deleted when setup ends, on failure too. They never
# come back: the returned arguments show them as ********. A service account
# ending in $ is a (group) managed service account: its password setting is
# dropped. On failure the error carries setup's exit code, Summary.txt's exit
# message and its last lines.
# Input: media_path (folder holding setup.exe), action, parameters (setting
# name -> string, boolean or array of strings; multi-valued settings such as
# SQLSYSADMINACCOUNTS or FAILOVERCLUSTERDISKS take an array), summary_tail_lines
# (how many of Summary.txt's last lines a failure reports).
# Output: action, exit_code, reboot_required, summary_log, arguments.
# Second hop: run-as. Setup's cluster actions reach every node of the
# failover cluster (WMI, cluster API) as the logon running setup, and
# media_path may be a UNC path: with input.run_as the script runs in a
# one-shot scheduled task under that account's own logon (include runas),
# as SqlServerDsc's PsDscRunAsCredential and Ansible's become do.
# Input also: run_as ({username, password}; the provider's WinRM account).
param([Parameter(Mandatory = $true)] $Params)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# include: runas
if (Test-RunAs -Params $Params) {
    return (Invoke-AsAccount -Params $Params -Script $MyInvocation.MyCommand.ScriptBlock.ToString())
}
# include: private_dir

# include: native_argument

$action = [string]$Params.action
if (@('InstallFailoverCluster', 'AddNode', 'RemoveNode') -cnotcontains $action) {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList ('Unknown SQL Server setup action: ' + $action))
}
$media = [string]$Params.media_path
if ($media -eq '' -or $media -match '["\r\n]') {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList 'media_path must be a folder path without double quotes or line breaks.')
}
$setup = [System.IO.Path]::Combine($media, 'setup.exe')
if (-not (Test-Path -LiteralPath $setup -PathType Leaf)) {
    throw (New-Object -TypeName System.IO.FileNotFoundException -ArgumentList ('SQL Server setup not found: ' + $setup))
}

if ($null -eq $Params.PSObject.Properties['parameters']) {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList 'parameters is required.')
}
# Settings the script itself sets, or that would make setup wait for a person.
$reserved = @('ACTION', 'Q', 'QS', 'QUIET', 'QUIETSIMPLE', 'IACCEPTSQLSERVERLICENSETERMS', 'CONFIGURATIONFILE', 'UIMODE', 'HELP', 'INDICATEPROGRESS')
$values = @{}
foreach ($property in $Params.parameters.PSObject.Properties) {
    $name = ([string]$property.Name).ToUpperInvariant()
    if ($name -notmatch '^[A-Z][A-Z0-9_]*$') {
        throw (New-Object -TypeName System.ArgumentException -ArgumentList ('Invalid SQL Server setup setting name: ' + $name))
    }
    if ($reserved -contains $name) {
        throw (New-Object -TypeName System.ArgumentException -ArgumentList ('The setup setting ' + $name + ' is set by the provider, not by parameters.'))
    }
    $list = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($item in @($property.Value)) {
        $text = [string]$item
        if ($item -is [bool]) {
            $text = 'False'
            if ($item) {
                $text = 'True'
            }
        }
        if ($text -match "[`r`n`0]") {
            throw (New-Object -TypeName System.ArgumentException -ArgumentList ('The setup setting ' + $name + ' must not contain a line break.'))
        }
        if ($list.Count -gt 0 -and $text.StartsWith('/')) {
            throw (New-Object -TypeName System.ArgumentException -ArgumentList ('A further value of the setup setting ' + $name + ' must not start with /.'))
        }
        $list.Add($text)
    }
    $values[$name] = $list
}

# A (group) managed service account has no password: drop the matching setting.
foreach ($name in @($values.Keys)) {
    if ($name -match '^(.+)SVCACCOUNT$') {
        $passwordName = $Matches[1] + 'SVCPASSWORD'
        $account = $values[$name]
        if ($account.Count -gt 0 -and $account[0].EndsWith('$') -and $values.ContainsKey($passwordName)) {
            [void]$values.Remove($passwordName)
        }
    }
}

$names = [string[]]@($values.Keys)
[void][System.Array]::Sort($names, [System.StringComparer]::Ordinal)
$arguments = New-Object -TypeName 'System.Collections.Generic.List[string]'
$shown = New-Object -TypeName 'System.Collections.Generic.List[string]'
foreach ($fixed in @(('/ACTION=' + $action), '/Q', '/IACCEPTSQLSERVERLICENSETERMS')) {
    $arguments.Add($fixed)
    $shown.Add($fixed)
}
$configuration = New-Object -TypeName 'System.Collections.Generic.List[string]'
$configuration.Add('[OPTIONS]')
$secrets = New-Object -TypeName 'System.Collections.Generic.List[string]'
foreach ($name in $names) {
    if ($name -match '(PASSWORD|PWD)$') {
        # A configuration file value is one quoted string: a double quote in
        # it cannot be written.
        $secret = [string]$values[$name][0]
        if ($secret.Contains('"')) {
            throw (New-Object -TypeName System.ArgumentException -ArgumentList ('The setup setting ' + $name + ' must not contain a double quote: setup reads it from a configuration file.'))
        }
        $configuration.Add($name + '="' + $secret + '"')
        $secrets.Add($secret)
        $shown.Add('/' + $name + '=********')
        continue
    }
    $quoted = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($value in $values[$name]) {
        $quoted.Add((ConvertTo-NativeArgument -Value $value))
    }
    $arguments.Add('/' + $name + '=' + ($quoted -join ' '))
    $shown.Add('/' + $name + '=' + ($quoted -join ' '))
}

# setup writes to the console; keep that off the bootstrap's stdout.
$directory = ''
try {
    $directory = New-PrivateDirectory -Prefix 'bastion-sql-setup-'
    $stdout = [System.IO.Path]::Combine($directory, 'setup.out')
    $stderr = [System.IO.Path]::Combine($directory, 'setup.err')
    if ($secrets.Count -gt 0) {
        $file = [System.IO.Path]::Combine($directory, 'ConfigurationFile.ini')
        [System.IO.File]::WriteAllLines($file, $configuration.ToArray(), (New-Object -TypeName System.Text.UnicodeEncoding -ArgumentList $false, $true))
        $arguments.Add('/CONFIGURATIONFILE=' + (ConvertTo-NativeArgument -Value $file))
    }
    $process = Start-Process -FilePath $setup -ArgumentList ($arguments -join ' ') -WorkingDirectory $media -Wait -PassThru -NoNewWindow -RedirectStandardOutput $stdout -RedirectStandardError $stderr
    $code = [int]$process.ExitCode
}
finally {
    Remove-PrivateDirectory -Path $directory
}

# Setup writes Summary.txt under the version's folder (130, 140, 150, 160): take the newest.
$summary = ''
$newest = [datetime]::MinValue
$pattern = [System.IO.Path]::Combine([string]$env:ProgramFiles, 'Microsoft SQL Server\*\Setup Bootstrap\Log\Summary.txt')
foreach ($log in @(Get-ChildItem -Path $pattern -ErrorAction SilentlyContinue)) {
    if ($log.LastWriteTimeUtc -gt $newest) {
        $newest = $log.LastWriteTimeUtc
        $summary = [string]$log.FullName
    }
}
if ($code -ne 0 -and $code -ne 3010) {
    $message = ''
    if ($summary -ne '') {
        foreach ($line in [System.IO.File]::ReadAllLines($summary)) {
            if ($line -match '^\s*Exit message:\s*(.*)$') {
                $message = $Matches[1].Trim()
                break
            }
        }
    }
    $tail = ''
    if ($summary -ne '') {
        $tail = Get-RedactedTail -Path $summary -Count ([int]$Params.summary_tail_lines) -Secrets $secrets.ToArray()
    }
    throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('SQL Server setup failed with exit code ' + $code + ': ' + $message + ' See ' + $summary + '. Its last lines:' + "`n" + $tail))
}
[ordered]@{
    action          = $action
    exit_code       = $code
    reboot_required = ($code -eq 3010)
    summary_log     = $summary
    arguments       = $shown.ToArray()
}
