# Shared by the PAM trust scripts (after the pam include): the source
# forest, checked to be a DNS domain name, and the CORP account.
$source = [string]$Params.source_forest
if ($source -notmatch '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$') {
    throw (New-Object -TypeName System.ArgumentException -ArgumentList ('source_forest must be a DNS domain name, not ' + $source))
}
$user = [string]$Params.corp_username
$password = [string]$Params.corp_password

# Get-PrivForest is the forest of the host (PRIV).
function Get-PrivForest {
    try {
        return [System.DirectoryServices.ActiveDirectory.Forest]::GetCurrentForest()
    }
    catch {
        throw (Get-CallException -Record $_)
    }
}

# Test-PrivSide reports whether PRIV's forest has its side of the trust with
# the source forest.
function Test-PrivSide {
    param($Forest)
    try {
        $null = $Forest.GetTrustRelationship($source)
        return $true
    }
    catch {
        $inner = Get-CallException -Record $_
        if ($inner -isnot [System.DirectoryServices.ActiveDirectory.ActiveDirectoryObjectNotFoundException]) {
            throw $inner
        }
        return $false
    }
}
