# A PAM domain configuration is imported by <host>/<source_domain>: the PRIV
# server the MIMPAM cmdlets run on, then the CORP domain's NetBIOS name.
terraform import bastion_pam_domain_configuration.corp priv-app1.priv.contoso.com/CORP
