# One MIM Service node behind the pam.priv.contoso.test alias. Every node of the
# bastion shares the partition name, so any of them may act on a request.
resource "bastion_mim_service_node" "app1" {
  host                   = "priv-app1.priv.contoso.test"
  external_host_name     = "pam.priv.contoso.test"
  service_partition_name = "PAM.PRIV.CONTOSO.TEST"
  sql_server             = "priv-sql.priv.contoso.test"
  service_account        = "PRIV\\svc-mim"

  # Write-only: never stored in state or plan. Bump the version to apply a
  # rotated password.
  service_account_password_wo         = var.mim_service_account_password
  service_account_password_wo_version = 1

  # Changing a value restarts FIMService and the PAM services in place. Set it
  # to bastion_sql_failover_cluster_instance.<name>.started_at to restart them
  # after every failover, restart or restore of the SQL Server instance.
  restart_triggers = {
    sql_restored = "2025-06-01"
  }

  mail_server    = "mail.corp.contoso.test"
  installer_path = "\\\\priv-fs.priv.contoso.test\\install\\MIM\\Service and Portal\\Service and Portal.msi"

  timeouts = {
    create = "90m"
  }
}

variable "mim_service_account_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
