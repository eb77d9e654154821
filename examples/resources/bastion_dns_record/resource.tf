# The single alias users reach the MIM Service by ("a single alias (for
# instance, A, or CNAME records) so that one common name is exposed to the
# user"): one A record per MIM Service node behind it.
resource "bastion_dns_record" "mim" {
  zone    = "priv.contoso.test"
  name    = "mim"
  type    = "A"
  records = ["10.0.1.21", "10.0.1.22"]
  ttl     = 300
}

# Or, with a load balancer that keeps a session on one node, a CNAME to its
# name.
resource "bastion_dns_record" "mim_portal" {
  zone    = "priv.contoso.test"
  name    = "mim-portal"
  type    = "CNAME"
  records = ["mim-nlb.priv.contoso.test"]
}
