# The PAM trust: corp.contoso.test trusts the bastion forest, with SID history
# on, quarantine off and the PIM trust bit set on CORP's side (the defaults).
# The commands run on a MIM Service node installed with the PAM components;
# the CORP side's settings are set through LSA on CORP's PDC.
resource "bastion_pam_trust" "corp" {
  host          = bastion_mim_service_node.app1.host
  source_forest = "corp.contoso.test"

  # Write-only: never stored in state or plan. Every plan reads CORP's side of
  # the trust with it, since neither the provider's LDAP connection (PRIV) nor
  # a refresh can. A destroy takes it from BASTION_PAM_CORP_PASSWORD.
  corp_username            = "CORP\\Administrator"
  corp_password_wo         = var.corp_admin_password
  corp_password_wo_version = 1

  # Also run Test-PAMTrust at every plan and record the answer in `verified`.
  verify_on_plan = true

  # Changing bidirectional deletes and recreates the trust; the plan refuses
  # it unless this is set.
  # allow_trust_recreation = true
}

variable "corp_admin_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
