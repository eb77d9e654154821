# Every setting can also come from a BASTION_* environment variable, so a
# pipeline can keep credentials out of the configuration entirely.
provider "bastion" {
  # NTLM over HTTPS works on domain controllers and member servers alike
  # (Basic cannot reach a DC: Windows accepts it for local accounts only).
  winrm {
    auth     = "ntlm"
    username = "PRIV\\tf-bastion"
    password = var.priv_admin_password
    ca_file  = "/etc/bastion/priv-ca.pem"
  }

  ldap {
    domain    = "priv.contoso.com"
    servers   = ["priv-dc1.priv.contoso.com", "priv-dc2.priv.contoso.com"]
    pinned_dc = "priv-dc1.priv.contoso.com"
    username  = "PRIV\\tf-bastion"
    password  = var.priv_admin_password
    ca_file   = "/etc/bastion/priv-ca.pem"
  }

  sql {
    server  = "priv-sql.priv.contoso.com"
    auth    = "windows"
    ca_file = "/etc/bastion/priv-ca.pem"
  }
}

variable "priv_admin_password" {
  type      = string
  sensitive = true
}
