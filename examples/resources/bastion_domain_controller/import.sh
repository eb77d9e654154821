# A domain controller is imported by its host FQDN. Nothing runs on the DC:
# the import and every refresh read it over LDAP.
terraform import bastion_domain_controller.dc3 priv-dc3.priv.contoso.test
