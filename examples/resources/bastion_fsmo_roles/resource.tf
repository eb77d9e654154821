# Spread the operations master roles over the two PRIV domain controllers.
# Roles left unset are only read. Destroying this resource moves nothing.
resource "bastion_fsmo_roles" "priv" {
  domain_name = "priv.contoso.test"

  schema_master        = "priv-dc1.priv.contoso.test"
  domain_naming_master = "priv-dc1.priv.contoso.test"
  pdc_emulator         = "priv-dc2.priv.contoso.test"
  rid_master           = "priv-dc2.priv.contoso.test"

  # Only for a holder lost for good: it must then never return to the network.
  allow_seize = false
}

output "infrastructure_master" {
  value = bastion_fsmo_roles.priv.infrastructure_master
}
