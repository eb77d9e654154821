# The FSMO roles of a domain are imported by the domain's DNS name.
terraform import bastion_fsmo_roles.priv priv.contoso.test
