# ID: <host>/<source domain NetBIOS name>[/<corp_username>]: the PRIV server the
# MIMPAM cmdlets run on, the CORP domain and, with the provider's
# pam_corp_password set, the CORP account to check the configuration with
# (importing one that does not exist then fails).
import {
  to = bastion_pam_domain_configuration.corp
  id = "priv-app1.priv.contoso.test/CORP/CORP\\Administrator"
}
