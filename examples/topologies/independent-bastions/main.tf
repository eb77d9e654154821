# "Multiple independent bastion environments", one per administrative
# boundary: the same software and the same shape, different domain names, and
# "no commonality between the directories and databases". Each is Microsoft's
# minimal HA topology with every function marked, checked on its own.

terraform {
  required_version = ">= 1.11"
  required_providers {
    bastion = {
      source = "bastion-pam/bastion"
    }
  }
}

provider "bastion" {}

locals {
  bastions = {
    a = { domain = "priv-a.contoso.com", site = "SiteA", prefix = "priv-a-", subnet = "10.1.0." }
    b = { domain = "priv-b.contoso.com", site = "SiteB", prefix = "priv-b-", subnet = "10.2.0." }
  }
}

data "bastion_topology" "ha" {
  for_each = local.bastions

  domain = {
    dns_name                = each.value.domain
    forest_functional_level = 7
  }

  domain_controllers = [
    {
      host           = "${each.value.prefix}dc1.${each.value.domain}"
      site           = each.value.site
      global_catalog = true
      fsmo_roles     = ["SchemaMaster", "DomainNamingMaster", "PDCEmulator"]
      addresses      = ["${each.value.subnet}11"]
    },
    {
      host           = "${each.value.prefix}dc2.${each.value.domain}"
      site           = each.value.site
      global_catalog = true
      fsmo_roles     = ["RIDMaster", "InfrastructureMaster"]
      addresses      = ["${each.value.subnet}12"]
    },
  ]

  sql = {
    network_name     = "${each.value.prefix}sql.${each.value.domain}"
    clustered        = true
    nodes            = ["${each.value.prefix}app1.${each.value.domain}", "${each.value.prefix}app2.${each.value.domain}"]
    data_directories = ["C:\\ClusterStorage\\Volume1\\MSSQL\\Data"]
    log_directories  = ["L:\\MSSQL\\Log"]
  }

  mim_nodes = [for app in ["app1", "app2"] : {
    host                   = "${each.value.prefix}${app}.${each.value.domain}"
    service_name           = "${each.value.prefix}${app}"
    service_partition_name = "pam.${each.value.domain}"
    external_host_name     = "pam.${each.value.domain}"
    pam_components         = true
    site                   = each.value.site
  }]

  dns_servers = {
    "${each.value.prefix}dc1.${each.value.domain}"  = ["${each.value.subnet}12", "127.0.0.1"]
    "${each.value.prefix}dc2.${each.value.domain}"  = ["${each.value.subnet}11", "127.0.0.1"]
    "${each.value.prefix}app1.${each.value.domain}" = ["${each.value.subnet}11", "${each.value.subnet}12"]
    "${each.value.prefix}app2.${each.value.domain}" = ["${each.value.subnet}12", "${each.value.subnet}11"]
  }

  backups = [for dc in ["dc1", "dc2"] : {
    dc             = "${each.value.prefix}${dc}.${each.value.domain}"
    naming_context = "DC=${join(",DC=", split(".", each.value.domain))}"
    last_backup    = timeadd(plantimestamp(), "-26h")
  }]

  long_lived_requests = true
  ha_functions = [
    "trust_establishment", "user_group_migration", "mim_administration",
    "privileged_role_activation", "resource_management", "monitoring",
  ]
}

output "ok" {
  value = { for k, t in data.bastion_topology.ha : k => t.ok }
}

output "mermaid" {
  value = { for k, t in data.bastion_topology.ha : k => t.mermaid }
}
