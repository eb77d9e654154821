# ID: the login name.
import {
  to = bastion_sql_login.mim_service
  id = "PRIV\\svc-mim"
}
