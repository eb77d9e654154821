# A complete bastion: Microsoft's minimal high availability topology for MIM
# PAM ("High availability and disaster recovery considerations for the
# bastion environment"): two domain controllers, a two-node SQL Server
# failover cluster instance on the two application servers, the MIM Service
# with the PAM components on the same two servers, the PAM trust to the CORP
# forest and PAM's configuration in the CORP domain.
#
# What must exist before: the forest's first DC (priv-dc1, which this
# configuration reads but never creates, and which holds every FSMO role),
# domain-joined member servers with WinRM over HTTPS and the setup media,
# and the Windows Server failover cluster that priv-app1 and priv-app2 are
# nodes of. `make demo` starts a simulated bastion with exactly that.
#
# Recovery (guide "Recovering a lost MIM Service node"): list the lost server
# in the provider's lost_hosts (BASTION_LOST_HOSTS), change its name in the
# locals below to the new server's, run one `terraform apply`.

terraform {
  required_version = ">= 1.11"
  required_providers {
    bastion = {
      source = "bastion-pam/bastion"
    }
  }
}

# The provider takes its settings from the BASTION_* environment variables
# (for `make demo`, from the simulated bastion's lab.env).
provider "bastion" {}

locals {
  domain   = "priv.contoso.test"
  first_dc = "priv-dc1.priv.contoso.test" # the forest's first DC: read, never created or demoted here
  site     = "Default-First-Site-Name"

  # Each server built on is named once, here: recovering a lost one changes
  # its name here and nothing else.
  replica_dc = "priv-dc2.priv.contoso.test"  # the second DC (rule HA-1: every HA function needs two)
  app1       = "priv-app1.priv.contoso.test" # SQL FCI node (InstallFailoverCluster runs here), MIM node PRIV-APP1
  app2       = "priv-app2.priv.contoso.test" # SQL FCI node, MIM node PRIV-APP2

  sql_network_name  = "priv-sql.priv.contoso.test"
  mim_alias         = "pam.priv.contoso.test"
  corp_forest       = "corp.contoso.test"
  sql_setup_media   = "C:\\Sources\\SQL2019"
  mim_installer     = "C:\\Sources\\MIM\\Service and Portal\\Service and Portal.msi"
  mim_service_login = "PRIV\\svc-mim"
}

variable "dsrm_password" {
  description = "Directory Services Restore Mode password of the new DC."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "mim_service_account_password" {
  description = "Password of PRIV\\svc-mim, the MIM Service account."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "corp_admin_password" {
  description = "Password of CORP\\Administrator, for the PAM trust and PAM's configuration in CORP."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# The directory as it is (LDAP): functional level and the first DC's roles.
data "bastion_domain_controllers" "priv" {}

data "bastion_backup_status" "priv" {}

resource "bastion_domain_controller" "replica" {
  host                  = local.replica_dc
  domain_name           = local.domain
  site_name             = local.site
  safe_mode_password_wo = var.dsrm_password
}

# Every role stays on the forest's first DC, which is backed up; a destroy
# gives back to it whatever a later change moved (see the guide "Tearing
# down and decommissioning").
resource "bastion_fsmo_roles" "priv" {
  domain_name           = local.domain
  schema_master         = local.first_dc
  domain_naming_master  = local.first_dc
  pdc_emulator          = local.first_dc
  rid_master            = local.first_dc
  infrastructure_master = local.first_dc
  holder_on_destroy     = local.first_dc

  depends_on = [bastion_domain_controller.replica]
}

resource "bastion_sql_failover_cluster_instance" "mim" {
  network_name = local.sql_network_name
  nodes        = [local.app1, local.app2]

  data_directory = "C:\\ClusterStorage\\Volume1\\MSSQL"
  log_directory  = "C:\\ClusterStorage\\Volume1\\MSSQL\\Log"

  # The provider's own account, so it can read the instance.
  sysadmin_accounts = ["PRIV\\Administrator"]

  # Group managed service accounts: no password to hand to setup.
  sql_service_account   = "PRIV\\gmsa-sql$"
  agent_service_account = "PRIV\\gmsa-sqlagent$"

  setup_media_path = local.sql_setup_media
}

# The MIM Service account may create its database on the instance.
resource "bastion_sql_login" "mim_service" {
  name  = local.mim_service_login
  roles = ["dbcreator"]

  depends_on = [bastion_sql_failover_cluster_instance.mim]
}

resource "bastion_mim_service_node" "app1" {
  host = local.app1
  # Set explicitly: a workflow finishes only on the service name that started it, so a rebuilt node keeps the lost one's.
  service_name                        = "PRIV-APP1"
  service_partition_name              = upper(local.mim_alias) # one partition for every node: manual approvals
  external_host_name                  = local.mim_alias
  sql_server                          = bastion_sql_failover_cluster_instance.mim.network_name
  service_account                     = bastion_sql_login.mim_service.name
  service_account_password_wo         = var.mim_service_account_password
  service_account_password_wo_version = 1
  installer_path                      = local.mim_installer
}

resource "bastion_mim_service_node" "app2" {
  host = local.app2
  # The lost node's name survives a move to a new server (see PRIV-APP1's comment).
  service_name                        = "PRIV-APP2"
  service_partition_name              = upper(local.mim_alias) # one partition for every node: manual approvals
  external_host_name                  = local.mim_alias
  sql_server                          = bastion_sql_failover_cluster_instance.mim.network_name
  service_account                     = bastion_sql_login.mim_service.name
  service_account_password_wo         = var.mim_service_account_password
  service_account_password_wo_version = 1
  installer_path                      = local.mim_installer
}

# The PAM trust and PAM's configuration in CORP run on the first MIM node,
# which has the MIMPAM module.
resource "bastion_pam_trust" "corp" {
  host                     = bastion_mim_service_node.app1.host
  source_forest            = local.corp_forest
  corp_username            = "CORP\\Administrator"
  corp_password_wo         = var.corp_admin_password
  corp_password_wo_version = 1
}

resource "bastion_pam_domain_configuration" "corp" {
  host                     = bastion_pam_trust.corp.host
  source_domain            = bastion_pam_trust.corp.flat_name
  corp_username            = "CORP\\Administrator"
  corp_password_wo         = var.corp_admin_password
  corp_password_wo_version = 1
}

locals {
  mim_nodes     = [bastion_mim_service_node.app1, bastion_mim_service_node.app2]
  first_dc_read = one([for dc in data.bastion_domain_controllers.priv.domain_controllers : dc if lower(dc.host) == local.first_dc])
}

# Microsoft's HA rules over what this configuration built.
data "bastion_topology" "bastion" {
  domain = {
    dns_name                = local.domain
    forest_functional_level = data.bastion_domain_controllers.priv.forest_functional_level
  }
  domain_controllers = [
    {
      host           = local.first_dc
      site           = local.first_dc_read.site
      global_catalog = local.first_dc_read.global_catalog
      read_only      = local.first_dc_read.read_only
      fsmo_roles     = local.first_dc_read.fsmo_roles
    },
    {
      host           = bastion_domain_controller.replica.host
      site           = bastion_domain_controller.replica.site_name
      global_catalog = bastion_domain_controller.replica.global_catalog
      read_only      = bastion_domain_controller.replica.read_only
      fsmo_roles     = bastion_domain_controller.replica.fsmo_roles
    },
  ]
  sql = {
    network_name     = bastion_sql_failover_cluster_instance.mim.network_name
    clustered        = bastion_sql_failover_cluster_instance.mim.is_clustered
    nodes            = bastion_sql_failover_cluster_instance.mim.nodes
    data_directories = [bastion_sql_failover_cluster_instance.mim.data_directory]
    log_directories  = [bastion_sql_failover_cluster_instance.mim.log_directory]
  }
  mim_nodes = [for n in local.mim_nodes : {
    host                   = n.host
    service_name           = n.service_name
    service_partition_name = n.service_partition_name
    external_host_name     = n.external_host_name
    pam_components         = n.pam_components
    site                   = local.site
  }]
  backups = [for b in data.bastion_backup_status.priv.backups : {
    dc             = b.backed_up_dc
    naming_context = b.dn
    last_backup    = b.last_backup
  } if b.last_backup != null && b.backed_up_dc != ""]
  tombstone_lifetime_days = data.bastion_backup_status.priv.tombstone_lifetime_days
  long_lived_requests     = true
  ha_functions            = ["privileged_role_activation", "resource_management", "mim_administration"]
  enforce                 = false # the check below reports violations without blocking a recovery
}

check "high_availability" {
  assert {
    condition     = data.bastion_topology.bastion.ok
    error_message = join("\n", [for v in data.bastion_topology.bastion.violations : "${v.rule_id}: ${v.message}"])
  }
}

check "every_node_up" {
  assert {
    condition     = alltrue([for h, state in bastion_sql_failover_cluster_instance.mim.node_status : state == "up"])
    error_message = "SQL Server failover cluster nodes not up: ${jsonencode(bastion_sql_failover_cluster_instance.mim.node_status)}"
  }
}

check "mim_services_running" {
  assert {
    condition     = alltrue([for n in local.mim_nodes : n.fim_service_state == "Running" && n.pam_monitoring_service_state == "Running"])
    error_message = "MIM Service or PAM Monitoring service not running: ${jsonencode({ for n in local.mim_nodes : n.service_name => [n.fim_service_state, n.pam_monitoring_service_state] })}"
  }
}

output "mim_nodes" {
  description = "Each MIM Service node with the names that bind requests to it."
  value = { for n in local.mim_nodes : n.service_name => {
    host                   = n.host
    service_partition_name = n.service_partition_name
    fim_service            = n.fim_service_state
  } }
}

output "sql_nodes" {
  description = "The failover cluster instance's nodes and their state."
  value       = bastion_sql_failover_cluster_instance.mim.node_status
}

output "recovery_runbook" {
  description = "Microsoft's recovery order for this bastion."
  value       = [for s in data.bastion_topology.bastion.recovery_runbook : "${s.order}. ${s.action}"]
}
