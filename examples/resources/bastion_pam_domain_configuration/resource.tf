# PAM's configuration data in the CORP domain (New-PAMDomainConfiguration),
# after the trust. The CORP domain must have the domain local group CORP$$$
# and auditing of account management and directory service access.
resource "bastion_pam_domain_configuration" "corp" {
  host          = bastion_mim_service_node.app1.host
  source_domain = bastion_pam_trust.corp.flat_name

  # Write-only: every plan runs Test-PAMDomainConfiguration with it (the
  # configuration lives in CORP, where only that cmdlet can see it). A destroy
  # takes the password from BASTION_PAM_CORP_PASSWORD, or leaves the
  # configuration in CORP with a warning.
  corp_username            = "CORP\\Administrator"
  corp_password_wo         = var.corp_admin_password
  corp_password_wo_version = 1
}

variable "corp_admin_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
