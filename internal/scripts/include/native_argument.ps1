# Shared by the scripts that start a native program with values from their
# input (SQL Server setup): each has an include line naming
# "native_argument" (see scripts.go).

# CommandLineToArgvW quoting, the rules a native program's command line is
# split by: the program receives the value as one argument, whatever quotes,
# spaces or backslashes it holds. Backslashes are literal unless a double
# quote follows; then 2n backslashes stand for n, and 2n+1 for n and a
# literal quote.
function ConvertTo-NativeArgument {
    param([string] $Value)
    $builder = New-Object -TypeName System.Text.StringBuilder
    [void]$builder.Append('"')
    $backslashes = 0
    foreach ($ch in $Value.ToCharArray()) {
        if ($ch -eq [char]92) {
            $backslashes++
            continue
        }
        if ($ch -eq [char]34) {
            [void]$builder.Append([char]92, 2 * $backslashes + 1)
        }
        elseif ($backslashes -gt 0) {
            [void]$builder.Append([char]92, $backslashes)
        }
        [void]$builder.Append($ch)
        $backslashes = 0
    }
    if ($backslashes -gt 0) {
        [void]$builder.Append([char]92, 2 * $backslashes)
    }
    [void]$builder.Append('"')
    return $builder.ToString()
}
