# A replica DC built by Terraform, holding two roles. The forest's first DC
# (priv-dc1) is read, never created: it is what stays after a teardown.
variable "dsrm_password" {
  description = "Directory Services Restore Mode password of the new DC."
  type        = string
  sensitive   = true
  ephemeral   = true
}

resource "bastion_domain_controller" "dc2" {
  host                  = "priv-dc2.priv.contoso.com"
  domain_name           = "priv.contoso.com"
  safe_mode_password_wo = var.dsrm_password
}

resource "bastion_fsmo_roles" "priv" {
  domain_name = "priv.contoso.com"
  # The DC's id (its FQDN) is known once it is promoted, so the roles move
  # after the promotion, in the same apply.
  pdc_emulator = bastion_domain_controller.dc2.id
  rid_master   = bastion_domain_controller.dc2.id

  # terraform destroy destroys this resource before the DC it refers to:
  # every role goes back to the forest's first DC, then priv-dc2 is demoted.
  holder_on_destroy = "priv-dc1.priv.contoso.com"
}
