# A login is imported by its name (DOMAIN\name; quote the backslash).
terraform import bastion_sql_login.mim_service 'PRIV\svc-mim'
