# expect: bootstrap
# role: bootstrap
# Broken on purpose: the error reply lacks error.type and the catch block exits 0.
# bastion bootstrap: the only text ever placed on the command line (as -EncodedCommand).
# It reads one JSON envelope from stdin: {"script": "<static embedded script text>", "input": {...}}.
# Configuration values travel only inside "input" and reach the script as data ($Params),
# never as script text. The script's result goes back as one JSON document on stdout.
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
$InformationPreference = 'SilentlyContinue'
$VerbosePreference = 'SilentlyContinue'
# UTF-8 both ways: stdin would otherwise be read in the OEM code page. Hosts without a console refuse this; go on.
try {
    $utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
    [Console]::InputEncoding = $utf8
    [Console]::OutputEncoding = $utf8
}
catch {
    $null = $_
}
try {
    $raw = [string]($input | Out-String)
    $envelope = ConvertFrom-Json -InputObject $raw
    $block = [ScriptBlock]::Create([string]$envelope.script)
    $result = & $block -Params $envelope.input
    $reply = [ordered]@{ ok = $true; result = $result }
    [Console]::Out.Write((ConvertTo-Json -InputObject $reply -Depth 12 -Compress))
    exit 0
}
catch {
    $err = $_
    $category = [string]$err.CategoryInfo.Category
    $reply = [ordered]@{
        ok    = $false
        error = [ordered]@{
            message  = $err.Exception.Message
            category = $category
            id       = [string]$err.FullyQualifiedErrorId
        }
    }
    [Console]::Out.Write((ConvertTo-Json -InputObject $reply -Depth 6 -Compress))
    exit 0
}
