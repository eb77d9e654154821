# Shared by the scripts that hand a secret to an installer through a file, or
# keep an installer's log: a new directory under the running account's temp
# folder whose ACL, set when it is created, lets only that account and
# LocalSystem in (the Windows Installer service, LocalSystem, writes its half
# of a verbose log). Inheritance is cut, so no group of the parent gets in.
function New-PrivateDirectory {
    param([string] $Prefix)
    $self = [System.Security.Principal.WindowsIdentity]::GetCurrent().User
    $system = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-18'
    $security = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
    [void]$security.SetAccessRuleProtection($true, $false)
    [void]$security.SetOwner($self)
    foreach ($sid in @($self, $system)) {
        $rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList $sid, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow'
        [void]$security.AddAccessRule($rule)
    }
    $path = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), $Prefix + [guid]::NewGuid().ToString('N'))
    $null = [System.IO.Directory]::CreateDirectory($path, $security)
    return $path
}

# Remove-PrivateDirectory deletes the directory and everything in it; it is
# called from finally blocks, so it never throws.
function Remove-PrivateDirectory {
    param([string] $Path)
    if ($Path -ne '' -and (Test-Path -LiteralPath $Path -PathType Container)) {
        try {
            [System.IO.Directory]::Delete($Path, $true)
        }
        catch {
            $null = $_
        }
    }
}

# Get-RedactedTail returns the last $Count lines of a text file with every
# secret value replaced by ********, and any line naming a property or
# setting that ends in PASSWORD or PWD cut after its name.
function Get-RedactedTail {
    param([string] $Path, [int] $Count, [string[]] $Secrets)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return ''
    }
    $all = [System.IO.File]::ReadAllLines($Path)
    $first = [System.Math]::Max(0, $all.Length - $Count)
    $lines = @()
    if ($all.Length -gt $first) {
        $lines = $all[$first..($all.Length - 1)]
    }
    $out = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($line in $lines) {
        $text = [string]$line
        foreach ($secret in $Secrets) {
            if ($secret -ne '') {
                $text = $text.Replace($secret, '********')
            }
        }
        if ($text -match '^(.*?\b[A-Z0-9_]*(PASSWORD|PWD)\b\s*[=:])') {
            $text = $Matches[1] + ' ********'
        }
        [void]$out.Add($text)
    }
    return ($out -join "`n")
}
