# What the bastion's servers and the CORP domain controllers really use to
# find the bastion's domain, judged by rule HA-7: no computer may depend on
# one domain controller. A server whose DNS settings are changed by hand, or
# a CORP conditional forwarder left with one PRIV DC, fails the next plan.
#
# The CORP account's password is the provider's pam_corp_password (or
# BASTION_PAM_CORP_PASSWORD), here the account the PAM trust is managed with;
# any authenticated CORP user may read the DNS application partitions.
data "bastion_dns_client_servers" "bastion" {
  hosts = [
    "priv-dc1.priv.contoso.test",
    "priv-dc2.priv.contoso.test",
    "priv-app1.priv.contoso.test",
    "priv-app2.priv.contoso.test",
  ]
  corp_domains = [
    { dns_name = "corp.contoso.test", username = "CORP\\Administrator" },
  ]
  # Where the provider's WinRM account may log on to them: the CORP DCs' own
  # forwarders and file-backed conditional forwarders, which the directory
  # does not hold.
  # dns_server_hosts = ["corp-dc1.corp.contoso.test"]
}

# Every PRIV DC address is already resolved to the DC's name, so the
# topology needs no addresses to name the DC HA-7 finds.
data "bastion_topology" "bastion" {
  domain = { dns_name = "priv.contoso.test", forest_functional_level = 7 }
  domain_controllers = [
    { host = "priv-dc1.priv.contoso.test" },
    { host = "priv-dc2.priv.contoso.test" },
  ]
  dns_servers  = data.bastion_dns_client_servers.bastion.dns_servers
  ha_functions = ["resource_management"]
}

output "not_domain_controllers" {
  description = "DNS server entries that belong to no PRIV domain controller."
  value       = { for h, s in data.bastion_dns_client_servers.bastion.non_dc_servers : h => s if length(s) > 0 }
}
