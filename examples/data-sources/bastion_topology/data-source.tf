# Judge the bastion this configuration builds, at every plan. The MIM Service
# nodes come from their resources; the domain controllers, the SQL Server
# failover cluster instance and the DNS settings from what the rest of the
# configuration knows about them, the backups from the directory.

locals {
  # priv-dc1, the forest's first DC, holds the five FSMO roles.
  domain_controllers = {
    "priv-dc1.priv.contoso.test" = { address = "10.0.0.11", fsmo_roles = ["SchemaMaster", "DomainNamingMaster", "PDCEmulator", "RIDMaster", "InfrastructureMaster"] }
    "priv-dc2.priv.contoso.test" = { address = "10.0.0.12", fsmo_roles = [] }
  }
  # The application servers by MIM service name (a rebuilt node keeps the name; only the host changes).
  app_servers = { "PRIV-APP1" = "priv-app1.priv.contoso.test", "PRIV-APP2" = "priv-app2.priv.contoso.test" }
}

# The two MIM Service nodes (see the bastion_mim_service_node resource).
resource "bastion_mim_service_node" "node" {
  for_each = local.app_servers

  host = each.value
  # Set explicitly: a workflow finishes only on the service name that started it, so a rebuilt node keeps the lost one's.
  service_name                        = each.key
  external_host_name                  = "pam.priv.contoso.test"
  service_partition_name              = "PAM.PRIV.CONTOSO.TEST"
  sql_server                          = "priv-sql.priv.contoso.test"
  service_account                     = "PRIV\\svc-mim"
  service_account_password_wo         = var.mim_service_account_password
  service_account_password_wo_version = 1
  installer_path                      = "\\\\priv-fs.priv.contoso.test\\install\\MIM\\Service and Portal\\Service and Portal.msi"
}

# When each DC and naming context was last backed up, from the directory.
data "bastion_backup_status" "priv" {}

data "bastion_topology" "bastion" {
  domain = {
    dns_name                = "priv.contoso.test"
    forest_functional_level = 7
  }

  domain_controllers = [for host, dc in local.domain_controllers : {
    host           = host
    site           = "Default-First-Site-Name"
    global_catalog = true
    fsmo_roles     = dc.fsmo_roles
    addresses      = [dc.address]
  }]

  sql = {
    network_name     = "priv-sql.priv.contoso.test"
    clustered        = true
    nodes            = values(local.app_servers)
    data_directories = ["C:\\ClusterStorage\\Volume1\\MSSQL\\Data"]
    log_directories  = ["L:\\MSSQL\\Log"]
  }

  mim_nodes = [for n in bastion_mim_service_node.node : {
    host                   = n.host
    service_name           = n.service_name
    service_partition_name = n.service_partition_name
    external_host_name     = n.external_host_name
    pam_components         = n.pam_components
  }]

  # Each DC asks the other first and itself second; the member servers ask
  # both DCs.
  dns_servers = merge(
    { for host, dc in local.domain_controllers : host => concat([for other, o in local.domain_controllers : o.address if other != host], ["127.0.0.1"]) },
    { for host in values(local.app_servers) : host => [for dc in values(local.domain_controllers) : dc.address] },
  )

  # The system state backups the directory records (rule HA-9: every FSMO
  # holder backed up within the tombstone lifetime).
  backups = [for b in data.bastion_backup_status.priv.backups : {
    dc             = b.backed_up_dc
    naming_context = b.dn
    last_backup    = b.last_backup
  } if b.last_backup != null && b.backed_up_dc != ""]
  tombstone_lifetime_days = data.bastion_backup_status.priv.tombstone_lifetime_days

  long_lived_requests = true # requests wait for manual approval
  ha_functions        = ["privileged_role_activation", "resource_management"]
}

variable "mim_service_account_password" {
  type      = string
  sensitive = true
  ephemeral = true
}


output "recovery_runbook" {
  value = [for s in data.bastion_topology.bastion.recovery_runbook : "${s.order}. ${s.action}${s.command == null ? "" : " (${s.command})"}"]
}

output "survives_the_loss_of_one_server" {
  value = { for r in data.bastion_topology.bastion.readiness : r.display_name => r.survives_single_loss }
}
