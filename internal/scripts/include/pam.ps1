# Shared by the PAM scripts: each has an include line naming "pam", and the
# provider embeds the script with this text in that line's place (the lab
# accepts the expanded script's digest; see scripts.go).

# A .NET call's failure reaches PowerShell wrapped in MethodInvocationException:
# rethrow the real one, so its type tells what went wrong.
function Get-CallException {
    param([System.Management.Automation.ErrorRecord] $Record)
    $exception = $Record.Exception
    if ($exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $exception.InnerException) {
        return $exception.InnerException
    }
    return $exception
}

function ConvertTo-LdapFilterValue {
    param([string] $Value)
    $builder = New-Object -TypeName System.Text.StringBuilder
    foreach ($ch in $Value.ToCharArray()) {
        if ('\*()'.IndexOf($ch) -ge 0 -or [int]$ch -eq 0) {
            [void]$builder.Append('\' + ([int]$ch).ToString('x2'))
        }
        else {
            [void]$builder.Append($ch)
        }
    }
    return $builder.ToString()
}

function Get-MIMPAMModulePath {
    $path = 'C:\Program Files\Microsoft Forefront Identity Manager\2010\Service\PAM\PowerShell\Modules\MIMPAM\MIMPAM.psd1'
    $key = Get-ItemProperty -LiteralPath 'HKLM:\System\CurrentControlSet\Services\FIMService' -Name 'ImagePath' -ErrorAction SilentlyContinue
    if ($null -ne $key) {
        $folder = [System.IO.Path]::GetDirectoryName(([string]$key.ImagePath).Trim().Trim('"'))
        $candidate = [System.IO.Path]::Combine($folder, 'PAM\PowerShell\Modules\MIMPAM\MIMPAM.psd1')
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            $path = $candidate
        }
    }
    return $path
}

# New-CorpCredential is the CORP administrator's credential for the MIMPAM
# cmdlets' -Credentials.
function New-CorpCredential {
    param([string] $User, [string] $Password)
    $secure = ConvertTo-SecureString -String $Password -AsPlainText -Force
    return (New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList $User, $secure)
}

# Connect-MIMPAM imports the MIMPAM module and returns the CORP credential
# the input names (corp_username, corp_password).
function Connect-MIMPAM {
    param($Params)
    Import-Module -Name (Get-MIMPAMModulePath)
    return (New-CorpCredential -User ([string]$Params.corp_username) -Password ([string]$Params.corp_password))
}
