# ID: <host>/<source domain NetBIOS name>: the PRIV server the MIMPAM cmdlets
# run on, then the CORP domain.
import {
  to = bastion_pam_domain_configuration.corp
  id = "priv-app1.priv.contoso.com/CORP"
}
