# The MIM Service account's login: the MIM Service installer creates the
# FIMService database with it, so the node waits for the login. The instance
# is the one in the bastion_sql_failover_cluster_instance example.
resource "bastion_sql_login" "mim_service" {
  name  = "PRIV\\svc-mim"
  roles = ["dbcreator", "securityadmin"]

  depends_on = [bastion_sql_failover_cluster_instance.mim]
}

resource "bastion_mim_service_node" "app1" {
  host                                = "priv-app1.priv.contoso.test"
  external_host_name                  = "pam.priv.contoso.test"
  sql_server                          = bastion_sql_failover_cluster_instance.mim.network_name
  service_account                     = bastion_sql_login.mim_service.name
  service_account_password_wo         = var.mim_service_account_password
  service_account_password_wo_version = 1
  installer_path                      = "\\\\priv-fs.priv.contoso.test\\install\\MIM\\Service and Portal\\Service and Portal.msi"
}

variable "mim_service_account_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
