# The records of one type at one name: <zone>/<name>/<type>.
terraform import bastion_dns_record.mim priv.contoso.test/mim/A
