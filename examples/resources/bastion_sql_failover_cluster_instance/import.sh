# A failover cluster instance is imported by its network name; nodes and
# owner are read over TDS. Settings TDS cannot show (directories, accounts,
# features) are taken from the configuration by the first apply.
terraform import bastion_sql_failover_cluster_instance.mim priv-sql.priv.contoso.test
