package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// words is a regular expression matching the phrase s in Terraform's
// output, which wraps a diagnostic's lines anywhere between words.
func words(s string) string {
	parts := strings.Fields(s)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, `\s+`)
}

// TestAccReport_certificateErrors: what a user sees through the real
// Terraform CLI when a server's certificate does not verify, one resource
// or data source per protocol: the summary, the host, the protocol, the
// operation, which certificate and why, never "unreachable".
func TestAccReport_certificateErrors(t *testing.T) {
	skipUnlessAcc(t)
	for _, c := range []struct {
		name, host, protocol string
		flaw                 labca.Flaw
		config               string
		want                 []string
	}{
		{
			name: "WinRM", host: model.App1, protocol: model.WinRM, flaw: labca.WrongName,
			config: `data "bastion_dns_client_servers" "x" { hosts = ["` + model.App1 + `"] }`,
			want: []string{"DNS Client Servers Not Read", "On " + model.App1 + " over WinRM, reading the DNS client server list",
				`the certificate "priv-app1" is issued for priv-app1, not for ` + model.App1 + " (name mismatch)"},
		},
		{
			name: "LDAP", host: model.DC1, protocol: model.LDAP, flaw: labca.Expired,
			config: `data "bastion_domain_controllers" "x" {}`,
			want: []string{"Domain Controllers Not Read", "On " + model.DC1 + " over LDAP, reading the domain controllers",
				`the certificate "` + model.DC1 + `" expired on`, "(expired)"},
		},
		{
			name: "TDS", host: model.SQLNetwork, protocol: model.TDS, flaw: labca.UnknownAuthority,
			config: `resource "bastion_sql_login" "x" {
  name  = "PRIV\\svc-report"
  roles = ["dbcreator"]
}`,
			want: []string{"On " + model.Key(model.SQLNetwork) + " over TDS (SQL Server),", `signed by "bastion lab unknown CA"`, "(unknown authority)"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := startLab(t, func(l *lab.Lab) error { return l.Env.SetCertificateFlaw(c.host, c.protocol, c.flaw) })
			var re []string
			for _, w := range c.want {
				re = append(re, words(w))
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      l.ProviderHCL() + c.config + "\n",
					ExpectError: regexp.MustCompile(`(?si)` + strings.Join(re, ".*")),
				}},
			})
		})
	}
}
