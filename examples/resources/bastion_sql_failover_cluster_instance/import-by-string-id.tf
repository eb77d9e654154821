# ID: the instance's network name FQDN.
import {
  to = bastion_sql_failover_cluster_instance.mim
  id = "priv-sql.priv.contoso.test"
}
