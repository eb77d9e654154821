# A PAM domain configuration is imported by <host>/<source_domain>[/<corp_username>]:
# the PRIV server the MIMPAM cmdlets run on, the CORP domain's NetBIOS name, and
# optionally the CORP account. With that account and the provider's
# pam_corp_password, the import runs Test-PAMDomainConfiguration and fails for a
# configuration that does not exist.
terraform import 'bastion_pam_domain_configuration.corp' 'priv-app1.priv.contoso.test/CORP/CORP\Administrator'
