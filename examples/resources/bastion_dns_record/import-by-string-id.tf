# Records already in the zone are imported as <zone>/<name>/<type>.
import {
  to = bastion_dns_record.mim
  id = "priv.contoso.test/mim/A"
}
