# ID: <host>/<source_forest>[/<corp_username>]: the PRIV server the MIMPAM
# cmdlets run on, the CORP forest's DNS name and, with the provider's
# pam_corp_password set, the CORP account to read the CORP side with (the
# import then records the CORP side's settings, so the first plan shows any
# drift there).
import {
  to = bastion_pam_trust.corp
  id = "priv-app1.priv.contoso.test/corp.contoso.test/CORP\\Administrator"
}
