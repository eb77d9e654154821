# ID: the DC's host FQDN.
import {
  to = bastion_domain_controller.dc3
  id = "priv-dc3.priv.contoso.test"
}
