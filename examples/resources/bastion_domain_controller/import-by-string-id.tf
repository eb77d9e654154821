# ID: the DC's host FQDN.
import {
  to = bastion_domain_controller.dc2
  id = "priv-dc2.priv.contoso.com"
}
