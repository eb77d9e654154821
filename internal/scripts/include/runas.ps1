# Shared by the scripts whose step reaches a second machine (SQL Server on
# another host, a DC, the failover cluster, a UNC path) and whose commands
# take no credential. A WinRM session authenticated with NTLM is a network
# logon: the other machine would see ANONYMOUS LOGON ("Making the second hop
# in PowerShell Remoting", Microsoft). With input.run_as = {username,
# password}, the script runs itself again under that account's own logon,
# as Packer's elevated provisioner and Ansible's become do:
# - a one-shot scheduled task (Schedule.Service COM API) registered with
#   TASK_LOGON_PASSWORD and the highest run level: the password is an
#   argument of RegisterTaskDefinition, never in a script, a command line
#   or a file;
# - its action is cmd.exe running the constant bootstrap this session runs
#   (the -EncodedCommand of this process), with stdin and stdout on two
#   named pipes only the account (and this session) may open: the envelope
#   (this script, the input without run_as) goes in, the JSON reply comes out;
# - the task and pipes are removed in a finally block, on failure too; a task
#   a killed session leaves behind expires and Task Scheduler deletes it.
# Without run_as the script runs in the WinRM session (resource-based
# constrained delegation configured for the target makes that work).

# Test-RunAs reports whether the input asks for a run under run_as.
function Test-RunAs {
    param($Params)
    $property = $Params.PSObject.Properties['run_as']
    return ($null -ne $property -and $null -ne $property.Value)
}

# ConvertTo-AsciiJson escapes every non-ASCII character as \uXXXX, so the
# task's console code page cannot change the envelope.
function ConvertTo-AsciiJson {
    param([string] $Json)
    $builder = New-Object -TypeName System.Text.StringBuilder
    foreach ($ch in $Json.ToCharArray()) {
        if ([int]$ch -gt 127) {
            [void]$builder.Append('\u' + ([int]$ch).ToString('x4'))
        }
        else {
            [void]$builder.Append($ch)
        }
    }
    return $builder.ToString()
}

# New-RunAsPipe creates one end of the task's stdin or stdout: one instance,
# protected DACL, open to the run-as account and this session only.
function New-RunAsPipe {
    param([string] $Name, [System.IO.Pipes.PipeDirection] $Direction, [System.Security.Principal.SecurityIdentifier] $Account)
    $security = New-Object -TypeName System.IO.Pipes.PipeSecurity
    [void]$security.SetAccessRuleProtection($true, $false)
    $rights = [System.IO.Pipes.PipeAccessRights]'ReadWrite, Synchronize'
    $allow = [System.Security.AccessControl.AccessControlType]::Allow
    [void]$security.AddAccessRule((New-Object -TypeName System.IO.Pipes.PipeAccessRule -ArgumentList $Account, $rights, $allow))
    $self = [System.Security.Principal.WindowsIdentity]::GetCurrent().User
    [void]$security.AddAccessRule((New-Object -TypeName System.IO.Pipes.PipeAccessRule -ArgumentList $self, ([System.IO.Pipes.PipeAccessRights]::FullControl), $allow))
    return (New-Object -TypeName System.IO.Pipes.NamedPipeServerStream -ArgumentList $Name, $Direction, 1, ([System.IO.Pipes.PipeTransmissionMode]::Byte), ([System.IO.Pipes.PipeOptions]::Asynchronous), 65536, 65536, $security)
}

# Wait-RunAsPipe waits for the task to open a pipe; a task that ended
# first (it could not start, or cmd.exe failed) is an error.
function Wait-RunAsPipe {
    param($Pipe, $Task)
    $wait = $Pipe.BeginWaitForConnection($null, $null)
    while (-not $wait.AsyncWaitHandle.WaitOne(500)) {
        if ([int]$Task.State -ne 4 -and [int]$Task.LastTaskResult -ne 267045 -and [int]$Task.LastTaskResult -ne 267011) {
            throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('The run-as task ended before it read its input (last result 0x' + ([int]$Task.LastTaskResult).ToString('x8') + ').'))
        }
    }
    [void]$Pipe.EndWaitForConnection($wait)
}

# Invoke-AsAccount runs Script with the input minus run_as in the
# one-shot task and returns its result, or throws its error.
function Invoke-AsAccount {
    param($Params, [string] $Script)
    $account = [string]$Params.run_as.username
    $password = [string]$Params.run_as.password
    $inner = [ordered]@{}
    foreach ($property in $Params.PSObject.Properties) {
        if ($property.Name -ne 'run_as') {
            $inner[$property.Name] = $property.Value
        }
    }
    $envelope = ConvertTo-Json -InputObject ([ordered]@{ script = $Script; input = $inner }) -Depth 12 -Compress
    $bytes = [System.Text.Encoding]::ASCII.GetBytes((ConvertTo-AsciiJson -Json $envelope))

    # The bootstrap this process runs is the last argument of its command line.
    $commandLine = [Environment]::GetCommandLineArgs()
    if ($commandLine.Length -lt 2 -or $commandLine[$commandLine.Length - 2] -ne '-EncodedCommand') {
        throw (New-Object -TypeName System.InvalidOperationException -ArgumentList 'The run-as step needs the bootstrap command line (powershell.exe ... -EncodedCommand).')
    }
    $bootstrap = [string]$commandLine[$commandLine.Length - 1]
    $sid = (New-Object -TypeName System.Security.Principal.NTAccount -ArgumentList $account).Translate([System.Security.Principal.SecurityIdentifier])

    $token = [guid]::NewGuid().ToString('N')
    $name = 'bastion-runas-' + $token
    $system = [Environment]::SystemDirectory
    $powershell = [System.IO.Path]::Combine($system, 'WindowsPowerShell\v1.0\powershell.exe')
    $stdin = $null
    $stdout = $null
    $folder = $null
    $registered = $false
    $text = ''
    $code = 0
    try {
        $stdin = New-RunAsPipe -Name ($name + '-in') -Direction ([System.IO.Pipes.PipeDirection]::Out) -Account $sid
        $stdout = New-RunAsPipe -Name ($name + '-out') -Direction ([System.IO.Pipes.PipeDirection]::In) -Account $sid

        $service = New-Object -ComObject 'Schedule.Service'
        [void]$service.Connect()
        $folder = $service.GetFolder('\')
        $definition = $service.NewTask(0)
        $definition.RegistrationInfo.Description = 'One run of a bastion provider step that reaches another machine. Deleted when the step ends.'
        $definition.Principal.RunLevel = 1
        $definition.Settings.Enabled = $true
        $definition.Settings.AllowDemandStart = $true
        $definition.Settings.DisallowStartIfOnBatteries = $false
        $definition.Settings.StopIfGoingOnBatteries = $false
        $definition.Settings.MultipleInstances = 2
        $definition.Settings.ExecutionTimeLimit = 'PT4H'
        # Expiry: Task Scheduler deletes a task its session could not delete.
        $definition.Settings.DeleteExpiredTaskAfter = 'PT0S'
        $trigger = $definition.Triggers.Create(1)
        $trigger.StartBoundary = [datetime]::Now.AddHours(4).ToString('s')
        $trigger.EndBoundary = [datetime]::Now.AddHours(4).AddMinutes(1).ToString('s')
        $action = $definition.Actions.Create(0)
        $action.Path = [System.IO.Path]::Combine($system, 'cmd.exe')
        $action.Arguments = '/d /c "' + $powershell + ' -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ' + $bootstrap + ' < \\.\pipe\' + $name + '-in > \\.\pipe\' + $name + '-out"'
        # 6: TASK_CREATE_OR_UPDATE; 1: TASK_LOGON_PASSWORD.
        $task = $folder.RegisterTaskDefinition($name, $definition, 6, $account, $password, 1)
        $registered = $true
        $null = $task.Run($null)

        Wait-RunAsPipe -Pipe $stdin -Task $task
        [void]$stdin.Write($bytes, 0, $bytes.Length)
        [void]$stdin.Flush()
        [void]$stdin.WaitForPipeDrain()
        [void]$stdin.Dispose()
        $stdin = $null

        Wait-RunAsPipe -Pipe $stdout -Task $task
        $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stdout, (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false)
        $text = $reader.ReadToEnd()
        while ([int]$task.State -eq 4) {
            [System.Threading.Thread]::Sleep(200)
        }
        $code = [int]$task.LastTaskResult
    }
    finally {
        foreach ($pipe in @($stdin, $stdout)) {
            if ($null -ne $pipe) {
                [void]$pipe.Dispose()
            }
        }
        if ($registered) {
            try {
                [void]$folder.DeleteTask($name, 0)
            }
            catch {
                $null = $_
            }
        }
    }

    $reply = $null
    if ($text.Trim() -ne '') {
        $reply = ConvertFrom-Json -InputObject $text
    }
    if ($null -eq $reply) {
        throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('The run-as task ended with exit code ' + $code + ' and no reply.'))
    }
    if ([bool]$reply.ok) {
        return $reply.result
    }
    # Rethrow the step's own exception type where it can be built from a message.
    $type = [string]$reply.error.type
    $message = [string]$reply.error.message
    $exception = $null
    try {
        $exception = New-Object -TypeName $type -ArgumentList $message
    }
    catch {
        $exception = $null
    }
    if ($exception -isnot [System.Exception]) {
        $exception = New-Object -TypeName System.Management.Automation.RuntimeException -ArgumentList ($type + ': ' + $message)
    }
    throw $exception
}
