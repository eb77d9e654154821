# The demo bastion: the seed's minimal HA topology in the lab. Two domain
# controllers exist already; the two application servers host the SQL Server
# failover cluster instance and the MIM Service with the PAM components.
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
  mim_hosts = ["priv-app1.priv.contoso.test", "priv-app2.priv.contoso.test"]
}

# Every node shares one partition name: the bastion uses manual approvals, and
# only services with the same partition name may act on a request.
resource "bastion_mim_service_node" "node" {
  for_each = toset(local.mim_hosts)

  host                                = each.value
  external_host_name                  = "pam.priv.contoso.test"
  service_partition_name              = "PAM.PRIV.CONTOSO.TEST"
  sql_server                          = "priv-sql.priv.contoso.test"
  service_account                     = "PRIV\\svc-mim"
  service_account_password_wo         = var.mim_service_account_password
  service_account_password_wo_version = 1
  installer_path                      = "C:\\Sources\\MIM\\Service and Portal\\Service and Portal.msi"
}

output "mim_nodes" {
  description = "Each MIM Service node with the names that bind requests to it."
  value = {
    for host, node in bastion_mim_service_node.node : host => {
      service_name           = node.service_name
      service_partition_name = node.service_partition_name
      config_file            = node.config_file_path
      fim_service            = node.fim_service_state
      pam_monitoring         = node.pam_monitoring_service_state
    }
  }
}
