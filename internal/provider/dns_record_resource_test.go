package provider

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

func dnsRecordHCL(resName, zone, name, typ string, ttl int, records ...string) string {
	q := make([]string, len(records))
	for i, r := range records {
		q[i] = fmt.Sprintf("%q", r)
	}
	ttlLine := ""
	if ttl > 0 {
		ttlLine = fmt.Sprintf("  ttl     = %d\n", ttl)
	}
	return fmt.Sprintf("resource \"bastion_dns_record\" %q {\n  zone    = %q\n  name    = %q\n  type    = %q\n  records = [%s]\n%s}\n",
		resName, zone, name, typ, strings.Join(q, ", "), ttlLine)
}

// labAnswers is what the lab's DNS server answers for fqdn and type: "value/ttl", sorted.
func labAnswers(l *lab.Lab, fqdn string, typ uint16) []string {
	var out []string
	for _, a := range l.Env.Resolve(fqdn, typ) {
		out = append(out, fmt.Sprintf("%s/%d", a.Value, a.TTL))
	}
	sort.Strings(out)
	return out
}

func expectAnswers(l *lab.Lab, fqdn string, typ uint16, want ...string) func(*terraform.State) error {
	return func(*terraform.State) error {
		got := labAnswers(l, fqdn, typ)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("the lab's DNS server answers %s type %d with %v, want %v", fqdn, typ, got, want)
		}
		return nil
	}
}

// TestAccDNSRecord_lifecycle: the MIM Service alias as two A records, then a
// CNAME beside it; update, import, drift (a record changed outside
// Terraform) and destroy, each checked by asking the lab's DNS server.
func TestAccDNSRecord_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	zone := model.DomainDNS
	fqdn := "mim." + zone
	addr := "bastion_dns_record.mim"
	v1 := l.ProviderHCL() + dnsRecordHCL("mim", zone, "mim", "A", 0, "10.0.1.21", "10.0.1.22")
	v2 := l.ProviderHCL() + dnsRecordHCL("mim", zone, "mim", "A", 600, "10.0.1.21", "10.0.1.23") +
		dnsRecordHCL("portal", zone, "portal", "CNAME", 0, fqdn)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if a := labAnswers(l, fqdn, model.DNSTypeA); len(a) != 0 {
				return fmt.Errorf("after destroy %s still answers %v", fqdn, a)
			}
			if a := labAnswers(l, "portal."+zone, model.DNSTypeCNAME); len(a) != 0 {
				return fmt.Errorf("after destroy portal still answers %v", a)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: v1,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(zone+"/mim/A")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fqdn"), knownvalue.StringExact(fqdn)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ttl"), knownvalue.Int64Exact(3600)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("dn"), knownvalue.StringExact("DC=mim,DC="+zone+",CN=MicrosoftDNS,DC=DomainDnsZones,DC=priv,DC=contoso,DC=test")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("records"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("10.0.1.21"), knownvalue.StringExact("10.0.1.22")})),
				},
				Check: expectAnswers(l, fqdn, model.DNSTypeA, "10.0.1.21/3600", "10.0.1.22/3600"),
			},
			{ // update in place: one address and the TTL; a CNAME at another name
				Config:           v2,
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeTestCheckFunc(
					expectAnswers(l, fqdn, model.DNSTypeA, "10.0.1.21/600", "10.0.1.23/600"),
					expectAnswers(l, "portal."+zone, model.DNSTypeA, fqdn+"/3600"), // an A query meets the CNAME
				),
			},
			importStep(v2, addr, zone+"/mim/A"),
			{ // drift: someone pointed the alias at one node with the DNS tools; the plan puts it back
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error {
						return e.Domain.SetDNSRecord(zone, "mim", model.DNSTypeA, 60, "10.0.1.99")
					})
				},
				Config: v2,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("ttl"), knownvalue.Int64Exact(600)),
				}},
				Check: expectAnswers(l, fqdn, model.DNSTypeA, "10.0.1.21/600", "10.0.1.23/600"),
			},
			{ // the node removed outside Terraform: the plan creates it again
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { delete(e.Domain.Zone(zone).Nodes, "mim"); return nil })
				},
				Config:           v2,
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionCreate),
				Check:            expectAnswers(l, fqdn, model.DNSTypeA, "10.0.1.21/600", "10.0.1.23/600"),
			},
		},
	})
}

// TestAccDNSRecord_rules: bad data fails the plan naming the attribute;
// a CNAME cannot share its name with other records.
func TestAccDNSRecord_rules(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	zone := model.DomainDNS
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: l.ProviderHCL() + dnsRecordHCL("r", zone, "x", "A", 0, "2001:db8::1"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Invalid DNS Record.*not an IPv4 address`)},
			{Config: l.ProviderHCL() + dnsRecordHCL("r", zone, "x", "AAAA", 0, "2001:DB8:0::1"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)canonical form,\s+"2001:db8::1"`)},
			{Config: l.ProviderHCL() + dnsRecordHCL("r", zone, "x", "CNAME", 0, "a.example.com", "b.example.com"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)exactly one target name`)},
			{Config: l.ProviderHCL() + dnsRecordHCL("r", zone, "x", "CNAME", 0, "mim.example.com."), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)without\s+the\s+trailing\s+dot`)},
			{Config: l.ProviderHCL() + dnsRecordHCL("r", zone, "x", "MX", 0, "mail.example.com"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)type\s+is\s+"MX";\s+value\s+must\s+be\s+one\s+of`)},
			{Config: l.ProviderHCL() + dnsRecordHCL("r", zone, "x.", "A", 0, "10.0.0.1"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)name\s+"x\."\s+is\s+not\s+@\s+or\s+DNS\s+labels`)},
			{ // A then a CNAME at the same name: refused at apply, the A stays
				Config: l.ProviderHCL() + dnsRecordHCL("a", zone, "svc", "A", 0, "10.0.0.1") +
					strings.Replace(dnsRecordHCL("c", zone, "svc", "CNAME", 0, "mim."+zone), "{\n", "{\n  depends_on = [bastion_dns_record.a]\n", 1),
				ExpectError: regexp.MustCompile(`(?s)DNS Records Not Written.*CNAME cannot share its name`),
			},
			{ // the A record is untouched
				Config:   l.ProviderHCL() + dnsRecordHCL("a", zone, "svc", "A", 0, "10.0.0.1"),
				PlanOnly: true,
				Check:    expectAnswers(l, "svc."+zone, model.DNSTypeA, "10.0.0.1/3600"),
			},
		},
	})
}

// TestAccDNSRecord_unknownZone: a zone that does not exist fails the apply,
// naming the zone.
func TestAccDNSRecord_unknownZone(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	expectError(t, l.ProviderHCL()+dnsRecordHCL("r", "nowhere.test", "mim", "A", 0, "10.0.0.1"), false, `(?s)DNS Records Not Written.*no AD-integrated zone nowhere.test`)
}
