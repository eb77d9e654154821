# ID: the domain's DNS name.
import {
  to = bastion_fsmo_roles.priv
  id = "priv.contoso.test"
}
