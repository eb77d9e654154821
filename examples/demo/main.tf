# The demo bastion: Microsoft's minimal HA topology in the lab. Two domain
# controllers and the SQL Server failover cluster instance (on the two
# application servers) exist already; this configuration adds the MIM Service
# with the PAM components on both application servers, the SQL login the MIM
# Service account needs, and judges the whole bastion at every plan.
#
# The provider is configured by the BASTION_* environment variables that
# `make demo` takes from the lab.

terraform {
  required_version = ">= 1.11"
  required_providers {
    bastion = {
      source = "bastion-pam/bastion"
    }
  }
}

provider "bastion" {}

variable "mim_service_account_password" {
  description = "Password of PRIV\\svc-mim. Ephemeral: it reaches the provider's write-only attribute and nothing stores it."
  type        = string
  sensitive   = true
  ephemeral   = true
}

locals {
  sql_network_name = "priv-sql.priv.contoso.test"
  # The MIM hosts by service name (a rebuilt node keeps the name; only the host changes).
  mim_hosts = { "PRIV-APP1" = "priv-app1.priv.contoso.test", "PRIV-APP2" = "priv-app2.priv.contoso.test" }
}

# The directory as it is: every DC, its site, global catalog flag and roles (LDAP only).
data "bastion_domain_controllers" "priv" {}

# When each DC and naming context was last backed up, against the tombstone lifetime.
data "bastion_backup_status" "priv" {}

# The MIM Service account may create its database on the FCI.
resource "bastion_sql_login" "mim_service" {
  name  = "PRIV\\svc-mim"
  roles = ["dbcreator"]
}

# Every node shares one partition name: the bastion uses manual approvals, and
# only services with the same partition name may act on a request.
resource "bastion_mim_service_node" "node" {
  for_each = local.mim_hosts

  host = each.value
  # Set explicitly: a workflow finishes only on the service name that started it, so a rebuilt node keeps the lost one's.
  service_name                        = each.key
  external_host_name                  = "pam.priv.contoso.test"
  service_partition_name              = "PAM.PRIV.CONTOSO.TEST"
  sql_server                          = local.sql_network_name
  service_account                     = bastion_sql_login.mim_service.name
  service_account_password_wo         = var.mim_service_account_password
  service_account_password_wo_version = 1
  installer_path                      = "C:\\Sources\\MIM\\Service and Portal\\Service and Portal.msi"
}

# Microsoft's HA rules, judged at every plan. With enforce = false a violation is
# a warning; the check block below reports it on every plan and apply.
data "bastion_topology" "bastion" {
  domain = {
    dns_name                = "priv.contoso.test"
    forest_functional_level = data.bastion_domain_controllers.priv.forest_functional_level
  }
  domain_controllers = [for dc in data.bastion_domain_controllers.priv.domain_controllers : {
    host           = dc.host
    site           = dc.site
    global_catalog = dc.global_catalog
    read_only      = dc.read_only
    fsmo_roles     = dc.fsmo_roles
  }]
  sql = {
    network_name     = local.sql_network_name
    clustered        = true
    nodes            = values(local.mim_hosts)
    data_directories = ["C:\\ClusterStorage\\Volume1\\MSSQL\\Data"]
    log_directories  = ["C:\\ClusterStorage\\Volume1\\MSSQL\\Log"]
  }
  mim_nodes = [for n in bastion_mim_service_node.node : {
    host                   = n.host
    service_name           = n.service_name
    service_partition_name = n.service_partition_name
    external_host_name     = n.external_host_name
    pam_components         = n.pam_components
  }]
  backups = [for b in data.bastion_backup_status.priv.backups : {
    dc             = b.backed_up_dc
    naming_context = b.dn
    last_backup    = b.last_backup
  } if b.last_backup != null && b.backed_up_dc != ""]
  # The directory's own figure, so HA-9 and bastion_backup_status agree.
  tombstone_lifetime_days = data.bastion_backup_status.priv.tombstone_lifetime_days
  long_lived_requests     = true
  ha_functions            = ["privileged_role_activation", "resource_management", "mim_administration"]
  enforce                 = false
}

check "high_availability" {
  assert {
    condition     = data.bastion_topology.bastion.ok
    error_message = join("\n", [for v in data.bastion_topology.bastion.violations : "${v.rule_id}: ${v.message}"])
  }
}

output "mim_nodes" {
  description = "Each MIM Service node with the names that bind requests to it."
  value = {
    for host, node in bastion_mim_service_node.node : host => {
      service_name           = node.service_name
      service_partition_name = node.service_partition_name
      fim_service            = node.fim_service_state
      pam_monitoring         = node.pam_monitoring_service_state
    }
  }
}

output "domain_controllers" {
  description = "The PRIV domain's DCs as the directory lists them."
  value       = { for dc in data.bastion_domain_controllers.priv.domain_controllers : dc.host => dc.fsmo_roles }
}

output "backup_warnings" {
  description = "What the backup check found (empty when every FSMO holder has a fresh backup)."
  value       = data.bastion_backup_status.priv.warnings
}

output "recovery_runbook" {
  description = "Microsoft's recovery order for this bastion."
  value       = [for s in data.bastion_topology.bastion.recovery_runbook : "${s.order}. ${s.action}"]
}
