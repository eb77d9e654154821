# A bastion in each site, "sharing a common PRIV directory and common SQL
# database": each of two sites holds a domain controller and a server that is
# both a SQL Server failover cluster node and a MIM Service host. The cluster
# instance is stretched across the sites, its files on an SMB share dedicated
# to the bastion (not on a bastion server), and every MIM Service shares one
# servicePartitionName so either site can finish what the other started.
# Every function is marked for HA.

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
  partition = "pam.priv.contoso.com" # the same on every MIM Service
}

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
      fsmo_roles     = ["SchemaMaster", "DomainNamingMaster", "PDCEmulator"]
      addresses      = ["10.1.0.11"]
    },
    {
      host           = "priv-b-dc1.priv.contoso.com"
      site           = "SiteB"
      global_catalog = true
      fsmo_roles     = ["RIDMaster", "InfrastructureMaster"]
      addresses      = ["10.2.0.11"]
    },
  ]

  sql = {
    network_name     = "priv-sql.priv.contoso.com"
    clustered        = true
    nodes            = ["priv-a-app1.priv.contoso.com", "priv-b-app1.priv.contoso.com"]
    data_directories = ["\\\\priv-store.priv.contoso.com\\pamsql\\Data"]
    log_directories  = ["\\\\priv-store.priv.contoso.com\\pamsql\\Log"]
  }

  mim_nodes = [
    {
      host                   = "priv-a-app1.priv.contoso.com"
      service_name           = "priv-a-app1"
      service_partition_name = local.partition
      external_host_name     = local.partition
      pam_components         = true
      site                   = "SiteA"
    },
    {
      host                   = "priv-b-app1.priv.contoso.com"
      service_name           = "priv-b-app1"
      service_partition_name = local.partition
      external_host_name     = local.partition
      pam_components         = true
      site                   = "SiteB"
    },
  ]

  # Each computer asks its own site's DC first and the other site's second.
  dns_servers = {
    "priv-a-dc1.priv.contoso.com"  = ["10.2.0.11", "127.0.0.1"]
    "priv-b-dc1.priv.contoso.com"  = ["10.1.0.11", "127.0.0.1"]
    "priv-a-app1.priv.contoso.com" = ["10.1.0.11", "10.2.0.11"]
    "priv-b-app1.priv.contoso.com" = ["10.2.0.11", "10.1.0.11"]
  }

  backups = [
    { dc = "priv-a-dc1.priv.contoso.com", naming_context = "DC=priv,DC=contoso,DC=com", last_backup = timeadd(plantimestamp(), "-26h") },
    { dc = "priv-b-dc1.priv.contoso.com", naming_context = "DC=priv,DC=contoso,DC=com", last_backup = timeadd(plantimestamp(), "-26h") },
  ]

  long_lived_requests = true
  ha_functions = [
    "trust_establishment", "user_group_migration", "mim_administration",
    "privileged_role_activation", "resource_management", "monitoring",
  ]
}

output "ok" {
  value = data.bastion_topology.ha.ok
}

output "mermaid" {
  value = data.bastion_topology.ha.mermaid
}
