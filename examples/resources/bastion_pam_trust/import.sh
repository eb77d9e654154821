# A PAM trust is imported by <host>/<source_forest>: the PRIV server the
# MIMPAM cmdlets run on, then the CORP forest's DNS name. The CORP credential
# cannot be imported: the first apply after the import reads CORP's side of
# the trust with the configured one.
terraform import bastion_pam_trust.corp priv-app1.priv.contoso.com/corp.contoso.com
