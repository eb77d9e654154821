# Shared by the scripts that change a trusted domain object (TDO) in another
# forest: Set-TrustAttribute makes the LSA calls netdom makes for
# `netdom trust <trusting> /domain:<trusted> /EnableSIDHistory /Quarantine
# /EnablePIMTrust`, aimed at one DC, under an explicit credential of that
# forest. TDOs change only through LSA, never over LDAP (MS-ADTS 6.1.6.9.7,
# https://learn.microsoft.com/openspecs/windows_protocols/ms-adts/4fab8099-7f99-4547-9cbc-c1cd59e084f6):
# LsaOpenPolicy, LsaQueryTrustedDomainInfoByName and
# LsaSetTrustedDomainInfoByName with TrustedDomainInformationEx (MS-LSAD
# 3.1.4.7, LsarQueryTrustedDomainInfoByName and
# LsarSetTrustedDomainInfoByName). The credential: LogonUserW with
# LOGON32_LOGON_NEW_CREDENTIALS (9) and LOGON32_PROVIDER_WINNT50 (3)
# (https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-logonuserw)
# returns a copy of the caller's token whose outbound connections
# authenticate as that account; LogonUserW checks nothing for this type, so
# a wrong password fails at LsaOpenPolicy (ERROR_LOGON_FAILURE, 1326). The
# thread impersonates the token for the LSA calls only. The password is an
# argument of LogonUserW, never on a command line or in a file. The
# P/Invoke declarations are built with Reflection.Emit (no source text is
# compiled, so no compiler process or temporary file).

function Get-LsaTrustNative {
    $name = New-Object -TypeName System.Reflection.AssemblyName -ArgumentList 'BastionLsaTrust'
    $assembly = [System.AppDomain]::CurrentDomain.DefineDynamicAssembly($name, [System.Reflection.Emit.AssemblyBuilderAccess]::Run)
    $module = $assembly.DefineDynamicModule('BastionLsaTrust')
    $type = $module.DefineType('BastionLsaTrust.Native', [System.Reflection.TypeAttributes]'Public, Class, Abstract, Sealed')
    $dllImport = [System.Runtime.InteropServices.DllImportAttribute]
    $ctor = $dllImport.GetConstructor([Type[]]@([string]))
    # DllImportAttribute is a pseudo-attribute: the metadata emitter writes
    # it as the method's P/Invoke map again, with its own defaults for the
    # fields it is not given (CharSet ANSI), so it carries the same calling
    # convention and character set as DefinePInvokeMethod, plus SetLastError.
    $fields = [System.Reflection.FieldInfo[]]@($dllImport.GetField('SetLastError'), $dllImport.GetField('CallingConvention'), $dllImport.GetField('CharSet'))
    $values = [object[]]@($true, [System.Runtime.InteropServices.CallingConvention]::Winapi, [System.Runtime.InteropServices.CharSet]::Unicode)
    # The Lsa* functions return an NTSTATUS; the others a BOOL with the
    # error in GetLastError.
    $methods = @(
        @('advapi32.dll', 'LogonUserW', [bool], [Type[]]@([string], [string], [string], [int], [int], [IntPtr])),
        @('advapi32.dll', 'ImpersonateLoggedOnUser', [bool], [Type[]]@([IntPtr])),
        @('advapi32.dll', 'RevertToSelf', [bool], [Type[]]@()),
        @('kernel32.dll', 'CloseHandle', [bool], [Type[]]@([IntPtr])),
        @('advapi32.dll', 'LsaOpenPolicy', [int], [Type[]]@([IntPtr], [IntPtr], [int], [IntPtr])),
        @('advapi32.dll', 'LsaQueryTrustedDomainInfoByName', [int], [Type[]]@([IntPtr], [IntPtr], [int], [IntPtr])),
        @('advapi32.dll', 'LsaSetTrustedDomainInfoByName', [int], [Type[]]@([IntPtr], [IntPtr], [int], [IntPtr])),
        @('advapi32.dll', 'LsaFreeMemory', [int], [Type[]]@([IntPtr])),
        @('advapi32.dll', 'LsaClose', [int], [Type[]]@([IntPtr])),
        @('advapi32.dll', 'LsaNtStatusToWinError', [int], [Type[]]@([int]))
    )
    foreach ($m in $methods) {
        $method = $type.DefinePInvokeMethod($m[1], $m[0], [System.Reflection.MethodAttributes]'Public, Static, PinvokeImpl', [System.Reflection.CallingConventions]::Standard, $m[2], $m[3], [System.Runtime.InteropServices.CallingConvention]::Winapi, [System.Runtime.InteropServices.CharSet]::Unicode)
        [void]$method.SetImplementationFlags([System.Reflection.MethodImplAttributes]::PreserveSig)
        $attribute = New-Object -TypeName System.Reflection.Emit.CustomAttributeBuilder -ArgumentList $ctor, @($m[0]), $fields, $values
        [void]$method.SetCustomAttribute($attribute)
    }
    return $type.CreateType()
}

# New-LsaString allocates an LSA_UNICODE_STRING for $Value: USHORT Length
# and MaximumLength in bytes, then the buffer pointer at the next pointer
# boundary. It returns the structure and the buffer; free both.
function New-LsaString {
    param([string] $Value)
    $buffer = [System.Runtime.InteropServices.Marshal]::StringToHGlobalUni($Value)
    $string = [System.Runtime.InteropServices.Marshal]::AllocHGlobal(2 * [IntPtr]::Size)
    [void][System.Runtime.InteropServices.Marshal]::WriteInt16($string, 0, [int16](2 * $Value.Length))
    [void][System.Runtime.InteropServices.Marshal]::WriteInt16($string, 2, [int16](2 * $Value.Length + 2))
    [void][System.Runtime.InteropServices.Marshal]::WriteIntPtr($string, [IntPtr]::Size, $buffer)
    return @($string, $buffer)
}

# New-LsaFailure is the exception of a failed LSA call: the Win32 error
# LsaNtStatusToWinError makes of its NTSTATUS, and Windows' message for it.
function New-LsaFailure {
    param($Native, [int] $Status, [string] $Call, [string] $Server, [string] $User, [string] $Trusted)
    $code = [int]$Native::LsaNtStatusToWinError($Status)
    $text = (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList $code).Message.Trim()
    $message = $Call + ' on \\' + $Server + ' as ' + $User + ' failed with error ' + $code + ': ' + $text
    # ERROR_FILE_NOT_FOUND is STATUS_OBJECT_NAME_NOT_FOUND: no TDO by that name.
    if ($code -eq 2) {
        $message += ' The source forest has no trusted domain object for ' + $Trusted + ': create the trust first (New-PAMTrust).'
    }
    return (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList $code, $message)
}

# Test-TrustAttributeChange applies netdom's checks to changing the bits in
# $Changed on the trusting side (MS-ADTS 6.1.6.7.9): TREAT_AS_EXTERNAL is
# valid only on the outbound side of a forest-transitive trust, PIM_TRUST
# needs FOREST_TRANSITIVE.
function Test-TrustAttributeChange {
    param([string] $Trusting, [string] $Trusted, [int] $Direction, [int64] $Attributes, [int64] $Changed)
    $forest = ($Attributes -band 0x8) -ne 0
    if (($Changed -band 0x40) -ne 0 -and (-not $forest -or ($Direction -band 2) -eq 0)) {
        throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL (/EnableSIDHistory) is valid only on the outbound side of a forest-transitive trust (MS-ADTS 6.1.6.7.9); the trust of ' + $Trusting + ' with ' + $Trusted + ' has trustDirection ' + $Direction + ' and trustAttributes 0x' + $Attributes.ToString('X') + '.'))
    }
    if (($Changed -band 0x400) -ne 0 -and -not $forest) {
        throw (New-Object -TypeName System.InvalidOperationException -ArgumentList ('TRUST_ATTRIBUTE_PIM_TRUST (/EnablePIMTrust) needs TRUST_ATTRIBUTE_FOREST_TRANSITIVE (MS-ADTS 6.1.6.7.9); the trust of ' + $Trusting + ' with ' + $Trusted + ' has trustAttributes 0x' + $Attributes.ToString('X') + '.'))
    }
}

# Set-TrustAttribute sets the wanted settings on $Trusting's TDO for
# $Trusted through LSA on $Server, as $User / $Password. $Want maps each
# setting's netdom option to @(wanted, bit). All the bits that differ go in
# one LsaSetTrustedDomainInfoByName. It returns the TDO's direction and
# attributes as they now are, and the settings changed ("/Option:yes|no").
function Set-TrustAttribute {
    param([string] $Server, [string] $Trusting, [string] $Trusted, [string] $User, [string] $Password, $Want)
    $native = Get-LsaTrustNative
    # $null given to a string parameter of a .NET method arrives as "";
    # LogonUserW wants NULL for a name without a domain (a UPN).
    $domain = [System.Management.Automation.Language.NullString]::Value
    $account = $User
    $slash = $User.IndexOf([char]92)
    if ($slash -ge 0) {
        $domain = $User.Substring(0, $slash)
        $account = $User.Substring($slash + 1)
    }
    $pointer = [IntPtr]::Size
    # TRUSTED_DOMAIN_INFORMATION_EX: two LSA_UNICODE_STRINGs and a PSID, then
    # TrustDirection, TrustType and TrustAttributes (ULONGs).
    $directionAt = 5 * $pointer
    $attributesAt = $directionAt + 8
    # LSA_OBJECT_ATTRIBUTES, zeroed as LsaOpenPolicy asks: six members, each
    # padded to a pointer.
    $objectSize = 6 * $pointer
    $out = [System.Runtime.InteropServices.Marshal]::AllocHGlobal($pointer)
    $objectAttributes = [System.Runtime.InteropServices.Marshal]::AllocHGlobal($objectSize)
    $system = New-LsaString -Value ('\\' + $Server)
    $name = New-LsaString -Value $Trusted
    $token = [IntPtr]::Zero
    $policy = [IntPtr]::Zero
    $info = [IntPtr]::Zero
    $impersonating = $false
    try {
        for ($i = 0; $i -lt $objectSize; $i++) {
            [void][System.Runtime.InteropServices.Marshal]::WriteByte($objectAttributes, $i, 0)
        }
        # The error is read in the next statement, before PowerShell's own
        # calls can replace it.
        $ok = $native::LogonUserW($account, $domain, $Password, 9, 3, $out)
        $lastError = [System.Runtime.InteropServices.Marshal]::GetLastWin32Error()
        if (-not $ok) {
            throw (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList $lastError)
        }
        $token = [System.Runtime.InteropServices.Marshal]::ReadIntPtr($out)
        $ok = $native::ImpersonateLoggedOnUser($token)
        $lastError = [System.Runtime.InteropServices.Marshal]::GetLastWin32Error()
        if (-not $ok) {
            throw (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList $lastError)
        }
        $impersonating = $true
        # POLICY_VIEW_LOCAL_INFORMATION (0x1) | POLICY_TRUST_ADMIN (0x8) |
        # POLICY_LOOKUP_NAMES (0x800).
        $status = $native::LsaOpenPolicy($system[0], $objectAttributes, 0x809, $out)
        if ($status -ne 0) {
            throw (New-LsaFailure -Native $native -Status $status -Call 'LsaOpenPolicy' -Server $Server -User $User -Trusted $Trusted)
        }
        $policy = [System.Runtime.InteropServices.Marshal]::ReadIntPtr($out)
        # TrustedDomainInformationEx = 6.
        $call = 'LsaQueryTrustedDomainInfoByName(' + $Trusted + ')'
        $status = $native::LsaQueryTrustedDomainInfoByName($policy, $name[0], 6, $out)
        if ($status -ne 0) {
            throw (New-LsaFailure -Native $native -Status $status -Call $call -Server $Server -User $User -Trusted $Trusted)
        }
        $info = [System.Runtime.InteropServices.Marshal]::ReadIntPtr($out)
        $direction = [System.Runtime.InteropServices.Marshal]::ReadInt32($info, $directionAt)
        # A ULONG: read its four bytes unsigned.
        $attributes = [int64][System.BitConverter]::ToUInt32([System.BitConverter]::GetBytes([System.Runtime.InteropServices.Marshal]::ReadInt32($info, $attributesAt)), 0)
        $next = $attributes
        $changedBits = [int64]0
        $changes = New-Object -TypeName 'System.Collections.Generic.List[string]'
        foreach ($option in $Want.Keys) {
            $on = [bool]$Want[$option][0]
            $bit = [int64]$Want[$option][1]
            if ((($attributes -band $bit) -ne 0) -eq $on) {
                continue
            }
            $changedBits = $changedBits -bor $bit
            if ($on) {
                $next = $next -bor $bit
                $changes.Add($option + ':yes')
            }
            else {
                $next = $next -band (-bnot $bit)
                $changes.Add($option + ':no')
            }
        }
        if ($changedBits -ne 0) {
            Test-TrustAttributeChange -Trusting $Trusting -Trusted $Trusted -Direction $direction -Attributes $attributes -Changed $changedBits
            # The same buffer goes back with TrustAttributes changed only.
            [void][System.Runtime.InteropServices.Marshal]::WriteInt32($info, $attributesAt, [System.BitConverter]::ToInt32([System.BitConverter]::GetBytes([uint32]$next), 0))
            $call = 'LsaSetTrustedDomainInfoByName(' + $Trusted + ')'
            $status = $native::LsaSetTrustedDomainInfoByName($policy, $name[0], 6, $info)
            if ($status -ne 0) {
                throw (New-LsaFailure -Native $native -Status $status -Call $call -Server $Server -User $User -Trusted $Trusted)
            }
        }
        return [ordered]@{ direction = $direction; attributes = $next; changed = $changes.ToArray() }
    }
    finally {
        # The policy handle is closed over the same connection, before the
        # thread stops impersonating.
        if ($info -ne [IntPtr]::Zero) {
            [void]$native::LsaFreeMemory($info)
        }
        if ($policy -ne [IntPtr]::Zero) {
            [void]$native::LsaClose($policy)
        }
        if ($impersonating) {
            [void]$native::RevertToSelf()
        }
        if ($token -ne [IntPtr]::Zero) {
            [void]$native::CloseHandle($token)
        }
        [void][System.Runtime.InteropServices.Marshal]::FreeHGlobal($out)
        [void][System.Runtime.InteropServices.Marshal]::FreeHGlobal($objectAttributes)
        foreach ($p in @($system[0], $system[1], $name[0], $name[1])) {
            [void][System.Runtime.InteropServices.Marshal]::FreeHGlobal($p)
        }
    }
}
