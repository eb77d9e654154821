# The SQL Server failover cluster instance that holds the MIM Service
# database: two member servers (never domain controllers), files on cluster
# disks and backups on an SMB share dedicated to the bastion. The provider
# reads it through its network name, so the provider's sql.server is
# "priv-sql.priv.contoso.test" and its account is in sysadmin_accounts.
resource "bastion_sql_failover_cluster_instance" "mim" {
  network_name = "priv-sql.priv.contoso.test"
  nodes = [
    "priv-app1.priv.contoso.test", # InstallFailoverCluster runs here
    "priv-app2.priv.contoso.test", # AddNode; add or remove nodes later in place
  ]

  ip_addresses = [{
    address         = "10.0.0.50"
    cluster_network = "Cluster Network 1"
    subnet_mask     = "255.255.255.0"
  }]
  cluster_disks    = ["Cluster Disk 1", "Cluster Disk 2"]
  data_directory   = "E:\\MSSQL"
  log_directory    = "F:\\MSSQL\\Log"
  backup_directory = "\\\\priv-fs.priv.contoso.test\\sqlbackup$\\MSSQL"

  # The provider's own account (here PRIV\Administrator, its WinRM account),
  # so it can read the instance, and the DBAs' group.
  sysadmin_accounts = ["PRIV\\Administrator", "PRIV\\SQL Admins"]

  # A group managed service account (name ending in $) has no password.
  sql_service_account = "PRIV\\gmsa-sql$"
  # A domain account needs one: write-only, never stored in state or plan.
  agent_service_account             = "PRIV\\svc-sqlagent"
  agent_service_password_wo         = var.sql_agent_password
  agent_service_password_wo_version = 1

  setup_media_path = "\\\\priv-fs.priv.contoso.test\\install\\SQL2019"

  timeouts = {
    create = "3h"
    update = "90m"
  }
}

variable "sql_agent_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
