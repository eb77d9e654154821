# Microsoft's minimal high availability topology, in one site: "at least four
# servers, and shared storage. Two of the servers must be configured as domain
# controllers ... The other two servers can be configured as a failover cluster
# providing SQL Server, and provide the MIM Service." Every function is marked
# for HA.
#
# The values are literals so the file plans on its own; in a real
# configuration they come from the resources that build the bastion, e.g.
# [for n in bastion_mim_service_node.node : { host = n.host, ... }].

terraform {
  required_version = ">= 1.11"
  required_providers {
    bastion = {
      source = "bastion-pam/bastion"
    }
  }
}

# The data source contacts no server, so the provider needs no settings.
provider "bastion" {}

data "bastion_topology" "ha" {
  domain = {
    dns_name                = "priv.contoso.com"
    forest_functional_level = 7 # Windows Server 2016: AD expires PAM memberships itself
  }

  domain_controllers = [
    {
      host           = "priv-dc1.priv.contoso.com"
      site           = "Default-First-Site-Name"
      global_catalog = true
      fsmo_roles     = ["SchemaMaster", "DomainNamingMaster", "PDCEmulator"]
      addresses      = ["10.0.0.11"]
    },
    {
      host           = "priv-dc2.priv.contoso.com"
      site           = "Default-First-Site-Name"
      global_catalog = true
      fsmo_roles     = ["RIDMaster", "InfrastructureMaster"]
      addresses      = ["10.0.0.12"]
    },
  ]

  # A SQL Server failover cluster instance on the two member servers, with its
  # databases on a Cluster Shared Volume and its logs on a cluster disk.
  sql = {
    network_name     = "priv-sql.priv.contoso.com"
    clustered        = true
    nodes            = ["priv-app1.priv.contoso.com", "priv-app2.priv.contoso.com"]
    data_directories = ["C:\\ClusterStorage\\Volume1\\MSSQL\\Data"]
    log_directories  = ["L:\\MSSQL\\Log"]
  }

  # The same two servers host the MIM Service with the PAM components, with
  # one partition name, so either may act on a request the other accepted.
  # Users reach them through one alias (external_host_name), "a single alias
  # (for instance, A, or CNAME records) so that one common name is exposed to
  # the user": in the configuration that builds the bastion it is a
  # bastion_dns_record in the AD-integrated zone, e.g.
  #   resource "bastion_dns_record" "mim" {
  #     zone    = "priv.contoso.com"
  #     name    = "pam"
  #     type    = "A"
  #     records = ["10.0.0.21", "10.0.0.22"] # one per MIM Service node
  #   }
  # (this file plans without provider settings, so it shows it as a comment).
  mim_nodes = [
    {
      host                   = "priv-app1.priv.contoso.com"
      service_name           = "priv-app1"
      service_partition_name = "pam.priv.contoso.com"
      external_host_name     = "pam.priv.contoso.com"
      pam_components         = true
      site                   = "Default-First-Site-Name"
    },
    {
      host                   = "priv-app2.priv.contoso.com"
      service_name           = "priv-app2"
      service_partition_name = "pam.priv.contoso.com"
      external_host_name     = "pam.priv.contoso.com"
      pam_components         = true
      site                   = "Default-First-Site-Name"
    },
  ]

  # Each computer lists both DCs, so none depends on one of them.
  dns_servers = {
    "priv-dc1.priv.contoso.com"  = ["10.0.0.12", "127.0.0.1"]
    "priv-dc2.priv.contoso.com"  = ["10.0.0.11", "127.0.0.1"]
    "priv-app1.priv.contoso.com" = ["10.0.0.11", "10.0.0.12"]
    "priv-app2.priv.contoso.com" = ["10.0.0.12", "10.0.0.11"]
  }

  # What `repadmin /showbackup` reports; here both backups are a day old.
  backups = [
    { dc = "priv-dc1.priv.contoso.com", naming_context = "DC=priv,DC=contoso,DC=com", last_backup = timeadd(plantimestamp(), "-26h") },
    { dc = "priv-dc2.priv.contoso.com", naming_context = "DC=priv,DC=contoso,DC=com", last_backup = timeadd(plantimestamp(), "-26h") },
  ]

  long_lived_requests = true # manual approvals
  ha_functions = [
    "trust_establishment", "user_group_migration", "mim_administration",
    "privileged_role_activation", "resource_management", "monitoring",
  ]
}

output "ok" {
  value = data.bastion_topology.ha.ok
}

output "recovery_runbook" {
  value = [for s in data.bastion_topology.ha.recovery_runbook : "${s.order}. ${s.action}"]
}

output "mermaid" {
  value = data.bastion_topology.ha.mermaid
}
