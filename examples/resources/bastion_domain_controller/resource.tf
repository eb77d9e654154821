# A third domain controller for the PRIV domain (rule HA-1: any HA function
# needs at least two; a third keeps two while one is rebuilt). The member
# server is promoted over WinRM, reboots, and the provider waits until the
# directory lists it.
#
# The provider's WinRM account (winrm.username and winrm.password) must be a
# domain admin: the promotion uses it unless admin_username and
# admin_password_wo name another account, as here, and the demotion on
# destroy always uses it. Nothing secret is staged on the DC or kept in the
# state.
resource "bastion_domain_controller" "dc3" {
  host        = "priv-dc3.priv.contoso.test"
  domain_name = "priv.contoso.test"
  site_name   = "Default-First-Site-Name"

  # A global catalog by default; set false for -NoGlobalCatalog. Changed in
  # place later by flipping only bit 0x1 of the DC's NTDS Settings options.
  global_catalog = true
  install_dns    = true

  # Promotion-time settings (changing them later replaces the DC).
  database_path = "D:\\NTDS"
  log_path      = "L:\\NTDS"
  sysvol_path   = "D:\\SYSVOL"

  # Optional: promote with another domain admin account than the provider's
  # WinRM account (the demotion still uses the provider's).
  admin_username    = "PRIV\\dc-builder"
  admin_password_wo = var.dc_builder_password

  # Write-only: never stored in state or plan. Promotion sets it; bump the
  # version to rotate it on the running DC through the dedicated account
  # PRIV\svc-dsrm (ntdsutil "sync from domain account", no secret on any
  # command line).
  safe_mode_password_wo         = var.dsrm_password
  safe_mode_password_wo_version = 1
  dsrm_sync_account             = "svc-dsrm"

  timeouts = {
    create = "2h"
  }
}

variable "dsrm_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "dc_builder_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
