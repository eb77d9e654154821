# What the bastion's servers really use for DNS, judged by rule HA-7: no
# computer may depend on one domain controller. A server whose DNS settings
# are changed by hand fails the next plan.
data "bastion_dns_client_servers" "bastion" {
  hosts = [
    "priv-dc1.priv.contoso.com",
    "priv-dc2.priv.contoso.com",
    "priv-app1.priv.contoso.com",
    "priv-app2.priv.contoso.com",
  ]
}

data "bastion_topology" "bastion" {
  domain = { dns_name = "priv.contoso.com", forest_functional_level = 7 }
  domain_controllers = [
    { host = "priv-dc1.priv.contoso.com", addresses = ["10.0.0.11"] },
    { host = "priv-dc2.priv.contoso.com", addresses = ["10.0.0.12"] },
  ]
  dns_servers  = data.bastion_dns_client_servers.bastion.dns_servers
  ha_functions = ["trust_establishment"]
}
