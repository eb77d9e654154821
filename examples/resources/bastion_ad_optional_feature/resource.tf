# Turn on the Active Directory Recycle Bin in the PRIV forest (forest level
# Windows Server 2008 R2 or higher), so deleted objects can be restored
# without a backup. It cannot be turned off again: destroying this resource
# only forgets it.
resource "bastion_ad_optional_feature" "recycle_bin" {
  name = "Recycle Bin Feature"
}

# MIM PAM's time-limited group memberships need the Privileged Access
# Management feature (forest level Windows Server 2016).
resource "bastion_ad_optional_feature" "pam" {
  name = "Privileged Access Management Feature"
}
