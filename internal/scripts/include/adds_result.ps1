# Shared by the ADDSDeployment scripts: Install-ADDSDomainController and
# Uninstall-ADDSDomainController report a failed operation in their result
# (Status, Message, RebootRequired) as well as by throwing. Get-ADDSResult
# throws unless the status is Success and returns the reply's fields.
function Get-ADDSResult {
    param([object] $Result, [string] $Cmdlet)
    if ([string]$Result.Status -ne 'Success') {
        throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ($Cmdlet + ' ended with status ' + [string]$Result.Status + ': ' + [string]$Result.Message))
    }
    return [ordered]@{
        status          = [string]$Result.Status
        message         = [string]$Result.Message
        reboot_required = [bool]$Result.RebootRequired
    }
}
