# Only the PRIV directory is replicated to the second site, Microsoft's
# alternative when a SQL cluster spanning sites is too complex. Site A holds a
# DC and one server with a standalone SQL Server and the MIM Service; site B
# holds a second DC. "Users in site B who have previously already activated
# their privileged roles would be able to continue to operate for
# administering resources in site B": only resource management is marked for
# HA. That needs forest functional level 7 (Windows Server 2016), so that AD,
# not the PAM Component service, expires the memberships.

terraform {
  required_version = ">= 1.11"
  required_providers {
    bastion = {
      source = "bastion-pam/bastion"
    }
  }
}

provider "bastion" {}

data "bastion_topology" "ha" {
  domain = {
    dns_name                = "priv.contoso.com"
    forest_functional_level = 7
  }

  domain_controllers = [
    {
      host           = "priv-a-dc1.priv.contoso.com"
      site           = "SiteA"
      global_catalog = true
      fsmo_roles     = ["SchemaMaster", "DomainNamingMaster", "PDCEmulator", "RIDMaster", "InfrastructureMaster"]
      addresses      = ["10.1.0.11"]
    },
    {
      host           = "priv-b-dc1.priv.contoso.com"
      site           = "SiteB"
      global_catalog = true
      fsmo_roles     = []
      addresses      = ["10.2.0.11"]
    },
  ]

  # A standalone instance: its network name is the server's own name.
  sql = {
    network_name     = "priv-a-app1.priv.contoso.com"
    clustered        = false
    nodes            = ["priv-a-app1.priv.contoso.com"]
    data_directories = ["D:\\MSSQL\\Data"]
    log_directories  = ["L:\\MSSQL\\Log"]
  }

  mim_nodes = [
    {
      host                   = "priv-a-app1.priv.contoso.com"
      service_name           = "priv-a-app1"
      service_partition_name = "pam.priv.contoso.com"
      external_host_name     = "pam.priv.contoso.com"
      pam_components         = true
      site                   = "SiteA"
    },
  ]

  dns_servers = {
    "priv-a-dc1.priv.contoso.com"  = ["10.2.0.11", "127.0.0.1"]
    "priv-b-dc1.priv.contoso.com"  = ["10.1.0.11", "127.0.0.1"]
    "priv-a-app1.priv.contoso.com" = ["10.1.0.11", "10.2.0.11"]
  }

  backups = [
    { dc = "priv-a-dc1.priv.contoso.com", naming_context = "DC=priv,DC=contoso,DC=com", last_backup = timeadd(plantimestamp(), "-26h") },
    { dc = "priv-b-dc1.priv.contoso.com", naming_context = "DC=priv,DC=contoso,DC=com", last_backup = timeadd(plantimestamp(), "-26h") },
  ]

  long_lived_requests = true
  ha_functions        = ["resource_management"]
}

output "ok" {
  value = data.bastion_topology.ha.ok
}

# Activation does not survive the loss of site A's server; resource
# management does.
output "survives_single_loss" {
  value = { for r in data.bastion_topology.ha.readiness : r.function => r.survives_single_loss }
}

output "mermaid" {
  value = data.bastion_topology.ha.mermaid
}
