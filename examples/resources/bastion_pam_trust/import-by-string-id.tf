# ID: <host>/<source_forest>: the PRIV server the MIMPAM cmdlets run on, then
# the CORP forest's DNS name.
import {
  to = bastion_pam_trust.corp
  id = "priv-app1.priv.contoso.com/corp.contoso.com"
}
