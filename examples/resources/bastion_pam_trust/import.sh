# A PAM trust is imported by <host>/<source_forest>[/<corp_username>]: the
# PRIV server the MIMPAM cmdlets run on, the CORP forest's DNS name, and
# optionally the CORP account. With that account and the provider's
# pam_corp_password, the import reads CORP's side of the trust too; without
# them, the first plan reads it with the configured corp_password_wo.
terraform import 'bastion_pam_trust.corp' 'priv-app1.priv.contoso.test/corp.contoso.test/CORP\Administrator'
