# ID: the node's host FQDN.
import {
  to = bastion_mim_service_node.app1
  id = "priv-app1.priv.contoso.test"
}
