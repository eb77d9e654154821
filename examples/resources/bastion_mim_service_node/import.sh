# A MIM Service node is imported by its host FQDN.
terraform import bastion_mim_service_node.app1 priv-app1.priv.contoso.test
