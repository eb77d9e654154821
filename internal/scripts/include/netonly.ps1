# Shared by the scripts that run a native program under another forest's
# credential: Start-NetOnlyProcess starts it the way `runas /netonly` does,
# with CreateProcessWithLogonW and LOGON_NETCREDENTIALS_ONLY
# (https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-createprocesswithlogonw):
# the process keeps the caller's token on this host, and only its network
# connections authenticate with the credential given. The password reaches
# the API as data, never the program's command line. The P/Invoke
# declarations are built with Reflection.Emit (no source text is compiled,
# so no compiler process or temporary file). The call goes through the
# Secondary Logon service (seclogon): disabled, it fails with
# ERROR_SERVICE_DISABLED (1058).

function Get-NetOnlyNative {
    $name = New-Object -TypeName System.Reflection.AssemblyName -ArgumentList 'BastionNetOnly'
    $assembly = [System.AppDomain]::CurrentDomain.DefineDynamicAssembly($name, [System.Reflection.Emit.AssemblyBuilderAccess]::Run)
    $module = $assembly.DefineDynamicModule('BastionNetOnly')
    $type = $module.DefineType('BastionNetOnly.Native', [System.Reflection.TypeAttributes]'Public, Class, Abstract, Sealed')
    $dllImport = [System.Runtime.InteropServices.DllImportAttribute]
    $ctor = $dllImport.GetConstructor([Type[]]@([string]))
    $setLastError = $dllImport.GetField('SetLastError')
    $methods = @(
        @('advapi32.dll', 'CreateProcessWithLogonW', [bool], [Type[]]@([string], [string], [string], [int], [string], [System.Text.StringBuilder], [int], [IntPtr], [string], [IntPtr], [IntPtr])),
        @('kernel32.dll', 'WaitForSingleObject', [int], [Type[]]@([IntPtr], [int])),
        @('kernel32.dll', 'GetExitCodeProcess', [bool], [Type[]]@([IntPtr], [IntPtr])),
        @('kernel32.dll', 'TerminateProcess', [bool], [Type[]]@([IntPtr], [int])),
        @('kernel32.dll', 'CloseHandle', [bool], [Type[]]@([IntPtr]))
    )
    foreach ($m in $methods) {
        $method = $type.DefinePInvokeMethod($m[1], $m[0], [System.Reflection.MethodAttributes]'Public, Static, PinvokeImpl', [System.Reflection.CallingConventions]::Standard, $m[2], $m[3], [System.Runtime.InteropServices.CallingConvention]::Winapi, [System.Runtime.InteropServices.CharSet]::Unicode)
        [void]$method.SetImplementationFlags([System.Reflection.MethodImplAttributes]::PreserveSig)
        $attribute = New-Object -TypeName System.Reflection.Emit.CustomAttributeBuilder -ArgumentList $ctor, @($m[0]), ([System.Reflection.FieldInfo[]]@($setLastError)), @($true)
        [void]$method.SetCustomAttribute($attribute)
    }
    return $type.CreateType()
}

# Start-NetOnlyProcess runs $CommandLine (its program quoted first) with the
# network credential $User / $Password, waits up to $TimeoutSeconds, and
# returns its exit code and what it wrote to stdout and stderr. $Directory
# is a private directory (New-PrivateDirectory) for that output.
function Start-NetOnlyProcess {
    param([string] $Application, [string] $CommandLine, [string] $User, [string] $Password, [string] $Directory, [int] $TimeoutSeconds)
    $native = Get-NetOnlyNative
    $domain = $null
    $name = $User
    $slash = $User.IndexOf([char]92)
    if ($slash -ge 0) {
        $domain = $User.Substring(0, $slash)
        $name = $User.Substring($slash + 1)
    }
    $outPath = [System.IO.Path]::Combine($Directory, 'output.txt')
    # FileShare.Inheritable makes the handle one the new process can be given.
    $output = New-Object -TypeName System.IO.FileStream -ArgumentList $outPath, ([System.IO.FileMode]::CreateNew), ([System.IO.FileAccess]::Write), ([System.IO.FileShare]::Read -bor [System.IO.FileShare]::Inheritable)
    $pointer = [IntPtr]::Size
    # STARTUPINFOW: cb, then dwFlags and the three standard handles at their
    # offsets for this process's pointer size.
    if ($pointer -eq 8) {
        $layout = @(104, 60, 80, 88, 96)
    }
    else {
        $layout = @(68, 44, 56, 60, 64)
    }
    $startup = [System.Runtime.InteropServices.Marshal]::AllocHGlobal($layout[0])
    $info = [System.Runtime.InteropServices.Marshal]::AllocHGlobal(2 * $pointer + 8)
    $exit = [System.Runtime.InteropServices.Marshal]::AllocHGlobal(4)
    $process = [IntPtr]::Zero
    try {
        for ($i = 0; $i -lt $layout[0]; $i++) {
            [void][System.Runtime.InteropServices.Marshal]::WriteByte($startup, $i, 0)
        }
        $handle = $output.SafeFileHandle.DangerousGetHandle()
        [void][System.Runtime.InteropServices.Marshal]::WriteInt32($startup, 0, $layout[0])
        # STARTF_USESTDHANDLES
        [void][System.Runtime.InteropServices.Marshal]::WriteInt32($startup, $layout[1], 0x100)
        [void][System.Runtime.InteropServices.Marshal]::WriteIntPtr($startup, $layout[3], $handle)
        [void][System.Runtime.InteropServices.Marshal]::WriteIntPtr($startup, $layout[4], $handle)
        $line = New-Object -TypeName System.Text.StringBuilder -ArgumentList $CommandLine
        # LOGON_NETCREDENTIALS_ONLY = 2; CREATE_NO_WINDOW = 0x08000000,
        # CREATE_UNICODE_ENVIRONMENT = 0x400.
        $ok = $native::CreateProcessWithLogonW($name, $domain, $Password, 2, $Application, $line, 0x08000400, [IntPtr]::Zero, $Directory, $startup, $info)
        if (-not $ok) {
            $code = [System.Runtime.InteropServices.Marshal]::GetLastWin32Error()
            throw (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList $code)
        }
        $process = [System.Runtime.InteropServices.Marshal]::ReadIntPtr($info, 0)
        [void]$native::CloseHandle([System.Runtime.InteropServices.Marshal]::ReadIntPtr($info, $pointer))
        # WAIT_OBJECT_0 = 0; anything else is a timeout or a failed wait.
        if ($native::WaitForSingleObject($process, $TimeoutSeconds * 1000) -ne 0) {
            [void]$native::TerminateProcess($process, 1460)
            throw (New-Object -TypeName System.TimeoutException -ArgumentList ($Application + ' did not finish within ' + $TimeoutSeconds + ' seconds and was stopped.'))
        }
        if (-not $native::GetExitCodeProcess($process, $exit)) {
            throw (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList ([System.Runtime.InteropServices.Marshal]::GetLastWin32Error()))
        }
        $code = [System.Runtime.InteropServices.Marshal]::ReadInt32($exit)
    }
    finally {
        if ($process -ne [IntPtr]::Zero) {
            [void]$native::CloseHandle($process)
        }
        $output.Dispose()
        [void][System.Runtime.InteropServices.Marshal]::FreeHGlobal($startup)
        [void][System.Runtime.InteropServices.Marshal]::FreeHGlobal($info)
        [void][System.Runtime.InteropServices.Marshal]::FreeHGlobal($exit)
    }
    return [ordered]@{ exit_code = $code; output = [System.IO.File]::ReadAllText($outPath) }
}
