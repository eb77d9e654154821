# Every domain controller of the bastion forest, read over LDAP.
data "bastion_domain_controllers" "priv" {}

output "global_catalogs" {
  value = [for dc in data.bastion_domain_controllers.priv.domain_controllers : dc.host if dc.global_catalog]
}

output "pdc_emulator" {
  value = data.bastion_domain_controllers.priv.fsmo_role_holders["PDCEmulator"]
}

# Judge the real directory against the HA rules: at forest level 2016,
# resource management (time-limited memberships) needs only the DCs.
data "bastion_topology" "live" {
  ha_functions = ["resource_management"]
  domain = {
    dns_name                = data.bastion_domain_controllers.priv.domain_name
    forest_functional_level = data.bastion_domain_controllers.priv.forest_functional_level
  }
  domain_controllers = [
    for dc in data.bastion_domain_controllers.priv.domain_controllers : {
      host           = dc.host
      site           = dc.site
      global_catalog = dc.global_catalog
      read_only      = dc.read_only
      fsmo_roles     = dc.fsmo_roles
    }
  ]
}
