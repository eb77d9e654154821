package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

// Host names of topology.MinimalHATopology.
const (
	topoDC1  = "priv-dc1.priv.contoso.com"
	topoDC2  = "priv-dc2.priv.contoso.com"
	topoApp1 = "priv-app1.priv.contoso.com"
	topoApp2 = "priv-app2.priv.contoso.com"
	topoAddr = "data.bastion_topology.t"
)

const emptyProvider = "provider \"bastion\" {}\n"

// topologyHCL writes t as a bastion_topology data source named "t". The
// backups are moved from topology.ExampleNow to now, since the data source
// ages them against the clock. enforce nil leaves the attribute out.
func topologyHCL(t topology.Topology, enforce *bool) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("data \"bastion_topology\" \"t\" {\n")
	w("  domain = { dns_name = %q, forest_functional_level = %d }\n", t.Domain.DNSName, t.Domain.ForestFunctionalLevel)
	w("  domain_controllers = [\n")
	for _, d := range t.DomainControllers {
		w("    { host = %q, site = %q, global_catalog = %t, read_only = %t, fsmo_roles = %s, addresses = %s },\n",
			d.Host, d.Site, d.GlobalCatalog, d.ReadOnly, hclList(d.FSMORoles), hclList(d.Addresses))
	}
	w("  ]\n")
	if s := t.SQL; s != nil {
		w("  sql = {\n    network_name = %q\n    clustered = %t\n    nodes = %s\n    data_directories = %s\n    log_directories = %s\n  }\n",
			s.NetworkName, s.Clustered, hclList(s.Nodes), hclList(s.DataDirectories), hclList(s.LogDirectories))
	}
	w("  mim_nodes = [\n")
	for _, n := range t.MIMNodes {
		w("    { host = %q, service_name = %q, service_partition_name = %q, external_host_name = %q, pam_components = %t, site = %q },\n",
			n.Host, n.ServiceName, n.ServicePartitionName, n.ExternalHostName, n.PAMComponents, n.Site)
	}
	w("  ]\n")
	if t.DNSServers != nil {
		w("  dns_servers = {\n")
		var keys []string
		for k := range t.DNSServers {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			w("    %q = %s\n", k, hclList(t.DNSServers[k]))
		}
		w("  }\n")
	}
	if len(t.Backups) > 0 {
		shift := time.Since(topology.ExampleNow)
		w("  backups = [\n")
		for _, bk := range t.Backups {
			last := "null"
			if !bk.LastBackup.IsZero() {
				last = fmt.Sprintf("%q", bk.LastBackup.Add(shift).UTC().Format(time.RFC3339))
			}
			w("    { dc = %q, naming_context = %q, last_backup = %s },\n", bk.DC, bk.NamingContext, last)
		}
		w("  ]\n")
	}
	if t.TombstoneLifetimeDays != nil {
		w("  tombstone_lifetime_days = %d\n", *t.TombstoneLifetimeDays)
	}
	w("  long_lived_requests = %t\n", t.LongLivedRequests)
	var fs []string
	for _, f := range t.HAFunctions {
		fs = append(fs, string(f))
	}
	w("  ha_functions = %s\n", hclList(fs))
	if enforce != nil {
		w("  enforce = %t\n", *enforce)
	}
	w("}\n")
	return b.String()
}

func hclList(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func boolPtr(b bool) *bool { return &b }

// minimalWith returns the minimal HA topology changed by fns.
func minimalWith(fns ...func(*topology.Topology)) topology.Topology {
	t := topology.MinimalHATopology()
	for _, f := range fns {
		f(&t)
	}
	return t
}

// ruleError matches the Error diagnostic of rule id whose Hosts line is
// exactly hosts: the summary, then only the indented "with ... on ..."
// context lines (a source line numbered 100 or more is indented by one
// space only), then the detail's first paragraph naming the rule, then
// "Hosts:". So the match cannot wander into another diagnostic.
func ruleError(id string, hosts ...string) *regexp.Regexp {
	q := make([]string, len(hosts))
	for i, h := range hosts {
		q[i] = regexp.QuoteMeta(h)
	}
	return regexp.MustCompile(`Error: HA Rule ` + regexp.QuoteMeta(id) + ` Violated\n(?:\n| +[^\n]*\n)*` +
		`Rule ` + regexp.QuoteMeta(id) + ` \([^\n]*(?:\n[^\n]+)*\n\nHosts: ` + strings.Join(q, `,\s+`) + `\s`)
}

// onlyErrorsOf checks, before Terraform runs, that the broken topology
// yields Error violations of rule only, one of them naming exactly hosts.
func onlyErrorsOf(t *testing.T, top topology.Topology, rule string, hosts []string) {
	t.Helper()
	found := false
	for _, v := range topology.Evaluate(top).Violations {
		if v.Severity != topology.Error {
			continue
		}
		if v.RuleID != rule {
			t.Fatalf("the broken topology for %s also breaks %s: %s", rule, v.RuleID, v.Message)
		}
		if slices.Equal(v.Hosts, hosts) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no %s error with hosts %v: %+v", rule, hosts, topology.Evaluate(top).Violations)
	}
}

func noViolations(t *testing.T, top topology.Topology) {
	t.Helper()
	if vs := topology.Evaluate(top).Violations; len(vs) > 0 {
		t.Fatalf("the fixed topology has violations: %+v", vs)
	}
}

var cleanState = []statecheck.StateCheck{
	statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("ok"), knownvalue.Bool(true)),
	statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("violations"), knownvalue.ListExact([]knownvalue.Check{})),
}

// TestAccTopology_rules: for each rule, a topology whose plan fails naming
// the rule and the hosts, and its fix, which plans and applies cleanly.
func TestAccTopology_rules(t *testing.T) {
	skipUnlessAcc(t)
	ruleCases := []struct {
		rule   string
		hosts  []string
		broken func(*topology.Topology)
		fixed  func(*topology.Topology) // nil: the minimal HA topology itself
	}{
		{"HA-1", []string{topoDC1}, func(t *topology.Topology) {
			// An RODC does not count: PAM writes group memberships.
			t.DomainControllers[1].ReadOnly = true
			t.DomainControllers[1].FSMORoles = nil
			t.DomainControllers[0].FSMORoles = adnames.FSMORoles()
		}, nil},
		{"HA-2", []string{topoApp1}, func(t *topology.Topology) {
			t.SQL.Clustered = false
			t.SQL.Nodes = []string{topoApp1}
		}, nil},
		{"HA-3", []string{topoDC2}, func(t *topology.Topology) {
			t.SQL.Nodes = []string{topoApp1, topoDC2}
		}, nil},
		{"HA-4", []string{topoDC1}, func(t *topology.Topology) {
			t.MIMNodes[0].Host = topoDC1
		}, nil},
		{"HA-5", []string{topoApp1, topoApp2}, func(t *topology.Topology) {
			t.MIMNodes[1].ServicePartitionName = "pam-b.priv.contoso.com"
		}, func(t *topology.Topology) {
			// servicePartitionName is compared without regard to case.
			t.MIMNodes[1].ServicePartitionName = "PAM.PRIV.CONTOSO.COM"
		}},
		{"HA-6", []string{topoApp1, topoApp2}, func(t *topology.Topology) {
			t.SQL.DataDirectories = []string{`C:\MSSQL\Data`}
		}, func(t *topology.Topology) {
			t.SQL.DataDirectories = []string{`\\priv-store.priv.contoso.com\pamsql\Data`}
		}},
		{"HA-7", []string{topoApp1, topoDC1}, func(t *topology.Topology) {
			t.DNSServers[topoApp1] = []string{"10.0.0.11"}
		}, func(t *topology.Topology) {
			t.DNSServers[topoApp1] = []string{"10.0.0.11", "10.0.0.12"}
		}},
		{"HA-8", []string{topoApp1, topoApp2}, func(t *topology.Topology) {
			t.MIMNodes[0].PAMComponents = false
			t.MIMNodes[1].PAMComponents = false
		}, nil},
		{"HA-9", []string{topoDC2}, func(t *topology.Topology) {
			t.Backups[1].LastBackup = topology.ExampleNow.AddDate(0, 0, -61)
		}, func(t *topology.Topology) {
			t.Backups[1].LastBackup = topology.ExampleNow.AddDate(0, 0, -61)
			t.TombstoneLifetimeDays = new(int)
			*t.TombstoneLifetimeDays = 180
		}},
		{"HA-10", []string{topoApp1}, func(t *topology.Topology) {
			// Activation then rests on priv-app1, the only MIM Service host
			// with the PAM components; no other rule calls that an error.
			t.MIMNodes[1].PAMComponents = false
		}, nil},
	}
	for _, c := range ruleCases {
		t.Run(c.rule, func(t *testing.T) {
			broken := minimalWith(c.broken)
			fixed := topology.MinimalHATopology()
			if c.fixed != nil {
				fixed = minimalWith(c.fixed)
			}
			onlyErrorsOf(t, broken, c.rule, c.hosts)
			noViolations(t, fixed)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{Config: emptyProvider + topologyHCL(broken, boolPtr(true)), PlanOnly: true, ExpectError: ruleError(c.rule, c.hosts...)},
					{Config: emptyProvider + topologyHCL(fixed, boolPtr(true)), ConfigStateChecks: cleanState},
				},
			})
		})
	}
}

func runbookStep(order int64, action string, hosts []string, command string) knownvalue.Check {
	var cmd knownvalue.Check = knownvalue.Null()
	if command != "" {
		cmd = knownvalue.StringExact(command)
	}
	return knownvalue.ObjectPartial(map[string]knownvalue.Check{
		"order":   knownvalue.Int64Exact(order),
		"action":  knownvalue.StringRegexp(regexp.MustCompile(action)),
		"hosts":   exactStrings(hosts...),
		"command": cmd,
		"reason":  knownvalue.StringRegexp(regexp.MustCompile(`^Microsoft's HA and disaster recovery considerations`)),
	})
}

// TestAccTopology_recoveryRunbook checks the minimal HA runbook step by step
// against the seed's order: a DC first (then its FSMO roles and the DNS
// settings), SQL Server, a restart of every MIM Service, the PAM Monitoring
// service, and the PAM Component service only below forest level 7.
func TestAccTopology_recoveryRunbook(t *testing.T) {
	skipUnlessAcc(t)
	dcs, apps := []string{topoDC1, topoDC2}, []string{topoApp1, topoApp2}
	common := []knownvalue.Check{
		runbookStep(1, `^Bring at least one domain controller of the domain priv\.contoso\.com online before restarting any other server$`, dcs, ""),
		runbookStep(2, `^If a domain controller will not return to production, check which FSMO roles it held and transfer them`, dcs, "netdom query fsmo"),
		runbookStep(3, `^Check the DNS settings`, []string{topoDC1, topoDC2, topoApp1, topoApp2}, ""),
		runbookStep(4, `^Bring SQL Server priv-sql\.priv\.contoso\.com online \(the failover cluster instance on any one of its nodes\)$`, apps, ""),
		runbookStep(5, `^Restart the MIM Service \(FIMService\) on priv-app1\.priv\.contoso\.com$`, []string{topoApp1}, "Restart-Service FIMService"),
		runbookStep(6, `^Restart the MIM Service \(FIMService\) on priv-app2\.priv\.contoso\.com$`, []string{topoApp2}, "Restart-Service FIMService"),
		runbookStep(7, `^Start the PAM Monitoring service`, apps, `net start "PAM Monitoring service"`),
	}
	level6 := minimalWith(func(t *topology.Topology) { t.Domain.ForestFunctionalLevel = 6 })
	noViolations(t, level6)
	withComponent := append(slices.Clone(common),
		runbookStep(8, `^Start the PAM Component service \(PrivilegeManagementComponentService\) on that same server: the forest functional level is 6 \(Windows Server 2012 R2\)`, apps, `net start "PAM Component service"`))
	hostsRe := regexp.MustCompile(`(?s)` + strings.Join([]string{regexp.QuoteMeta(topoDC1), regexp.QuoteMeta(topoDC2), regexp.QuoteMeta(topoApp1), regexp.QuoteMeta(topoApp2)}, ".*"))

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: emptyProvider + topologyHCL(topology.MinimalHATopology(), nil),
				ConfigStateChecks: append(slices.Clone(cleanState),
					statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("recovery_runbook"), knownvalue.ListExact(common)),
					statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("mermaid"), knownvalue.StringRegexp(hostsRe)),
					statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("mermaid"),
						knownvalue.StringExact(topology.RenderMermaid(topology.MinimalHATopology(), topology.Evaluate(topology.MinimalHATopology())))),
				),
			},
			{
				Config:            emptyProvider + topologyHCL(level6, nil),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("recovery_runbook"), knownvalue.ListExact(withComponent))},
			},
		},
	})
}

// TestAccTopology_readinessAndWarnings: with enforce = false an Error
// violation is a warning, the apply succeeds, and the outputs carry the
// verdict: ok false, the violations, and the readiness simulation.
func TestAccTopology_readinessAndWarnings(t *testing.T) {
	skipUnlessAcc(t)
	top := minimalWith(func(t *topology.Topology) { t.MIMNodes[1].PAMComponents = false })
	readiness := func(f topology.Function, survives bool, losses ...string) knownvalue.Check {
		ls := []knownvalue.Check{}
		for _, h := range losses {
			ls = append(ls, knownvalue.ObjectPartial(map[string]knownvalue.Check{"host": knownvalue.StringExact(h)}))
		}
		return knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"function": knownvalue.StringExact(string(f)), "display_name": knownvalue.StringExact(f.DisplayName()),
			"priority": knownvalue.StringExact(f.Priority().String()), "needs_ha": knownvalue.Bool(true), "available": knownvalue.Bool(true),
			"survives_single_loss": knownvalue.Bool(survives), "losses": knownvalue.ListExact(ls),
		})
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: emptyProvider + topologyHCL(top, boolPtr(false)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("ok"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("violations"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectExact(map[string]knownvalue.Check{
						"rule_id": knownvalue.StringExact("HA-8"), "severity": knownvalue.StringExact("warning"),
						"functions": knownvalue.ListSizeExact(5), "hosts": exactStrings(topoApp2),
						"attribute": knownvalue.StringExact("mim_nodes[1].pam_components"),
						"message":   knownvalue.StringRegexp(regexp.MustCompile(`cannot be added subsequently`)),
					}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"rule_id": knownvalue.StringExact("HA-10"), "severity": knownvalue.StringExact("error"),
						"functions": exactStrings("trust_establishment"),
						"hosts":     exactStrings(topoApp1),
						"attribute": knownvalue.StringExact("ha_functions"),
					}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"rule_id": knownvalue.StringExact("HA-10")}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"rule_id": knownvalue.StringExact("HA-10")}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"rule_id": knownvalue.StringExact("HA-10")}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"rule_id":   knownvalue.StringExact("HA-10"),
						"functions": exactStrings("monitoring"),
					}),
				})),
				statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("readiness"), knownvalue.ListExact([]knownvalue.Check{
					readiness(topology.TrustEstablishment, false, topoApp1),
					readiness(topology.UserGroupMigration, false, topoApp1),
					readiness(topology.MIMAdministration, false, topoApp1),
					readiness(topology.PrivilegedRoleActivation, false, topoApp1),
					readiness(topology.ResourceManagement, true),
					readiness(topology.Monitoring, false, topoApp1),
				})),
				statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("mermaid"), knownvalue.StringRegexp(regexp.MustCompile(`HA-10 \(error\)`))),
			},
		}},
	})
}

// checkBlockStatus asserts the status of check block name in the plan and
// that one of its problems matches re (nil: no problem to look for).
type checkBlockStatus struct {
	name   string
	status tfjson.CheckStatus
	re     *regexp.Regexp
}

func (c checkBlockStatus) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, cr := range req.Plan.Checks {
		if cr.Address.Kind != tfjson.CheckKindCheckBlock || cr.Address.Name != c.name {
			continue
		}
		if cr.Status != c.status {
			resp.Error = fmt.Errorf("check.%s has status %q, want %q", c.name, cr.Status, c.status)
			return
		}
		if c.re == nil {
			return
		}
		for _, in := range cr.Instances {
			for _, p := range in.Problems {
				if c.re.MatchString(p.Message) {
					return
				}
			}
		}
		resp.Error = fmt.Errorf("no problem of check.%s matches %s: %+v", c.name, c.re, cr.Instances)
		return
	}
	resp.Error = fmt.Errorf("no check.%s in the plan", c.name)
}

// inCheckBlock wraps a data source in check "ha" with an assertion on ok.
func inCheckBlock(dataSource string) string {
	return "check \"ha\" {\n" + dataSource + `
  assert {
    condition     = data.bastion_topology.t.ok
    error_message = join("\n", [for v in data.bastion_topology.t.violations : "${v.rule_id}: ${v.message}" if v.severity == "error"])
  }
}
`
}

// TestAccTopology_checkBlock: inside a check block the rule errors are
// warnings, so the plan succeeds; the plan's check results carry them.
// With enforce = false the assertion reports the violations instead.
func TestAccTopology_checkBlock(t *testing.T) {
	skipUnlessAcc(t)
	broken := minimalWith(func(t *topology.Topology) { t.MIMNodes[0].Host = topoDC1 })
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// No ExpectError: the step fails if the plan does. The failed
				// read is planned again for apply, so the plan is not empty.
				Config: emptyProvider + inCheckBlock(topologyHCL(broken, boolPtr(true))), PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
					checkBlockStatus{"ha", tfjson.CheckStatusFail, regexp.MustCompile(`^HA Rule HA-4 Violated: .*\n\nHosts: ` + regexp.QuoteMeta(topoDC1) + `\n`)},
				}},
			},
			{
				Config: emptyProvider + inCheckBlock(topologyHCL(broken, boolPtr(false))), PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
					checkBlockStatus{"ha", tfjson.CheckStatusFail, regexp.MustCompile(`^HA-4: The MIM Service is installed on ` + regexp.QuoteMeta(topoDC1) + `, a domain controller`)},
				}},
			},
			{
				// A clean bastion passes its check, and applies. A check block's
				// data source is always read again at apply, hence the plan.
				Config: emptyProvider + inCheckBlock(topologyHCL(topology.MinimalHATopology(), nil)), ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					checkBlockStatus{"ha", tfjson.CheckStatusPass, nil},
				}},
				ConfigStateChecks: cleanState,
			},
		},
	})
}

// noResourceChanges: the plan reads no data source during apply and
// changes no resource; only outputs may change.
type noResourceChanges struct{}

func (noResourceChanges) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if !rc.Change.Actions.NoOp() {
			resp.Error = fmt.Errorf("%s is planned to %v", rc.Address, rc.Change.Actions)
			return
		}
	}
}

// planRan records that the pre-apply plan succeeded.
type planRan struct{ ran *bool }

func (p planRan) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	*p.ran = true
}

// TestAccTopology_unknownInputs: an input known only after apply makes the
// outputs unknown at plan time; the rules are then checked at apply, and a
// broken topology fails there. Nothing is skipped.
func TestAccTopology_unknownInputs(t *testing.T) {
	skipUnlessAcc(t)
	// terraform_data's output is unknown until apply.
	later := func(top topology.Topology, host string) string {
		hcl := topologyHCL(top, nil)
		return emptyProvider + fmt.Sprintf("resource \"terraform_data\" \"host\" {\n  input = %q\n}\n", host) +
			strings.Replace(hcl, fmt.Sprintf("{ host = %q, service_name", host), "{ host = terraform_data.host.output, service_name", 1)
	}
	broken := minimalWith(func(t *topology.Topology) { t.MIMNodes[0].Host = topoDC1 })
	unknown := []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(topoAddr, plancheck.ResourceActionRead),
		plancheck.ExpectUnknownValue(topoAddr, tfjsonpath.New("ok")),
		plancheck.ExpectUnknownValue(topoAddr, tfjsonpath.New("violations")),
		plancheck.ExpectUnknownValue(topoAddr, tfjsonpath.New("mermaid")),
	}
	t.Run("clean", func(t *testing.T) {
		resource.ParallelTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []resource.TestStep{{
				Config:            later(topology.MinimalHATopology(), topoApp1),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: unknown},
				ConfigStateChecks: cleanState,
			}},
		})
	})
	t.Run("broken", func(t *testing.T) {
		var planned bool
		resource.ParallelTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []resource.TestStep{{
				Config:           later(broken, topoDC1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(slices.Clone(unknown), planRan{&planned})},
				ExpectError:      ruleError("HA-4", topoDC1),
			}},
		})
		if !planned {
			t.Fatal("the plan of the broken topology with an unknown host failed; it should have been deferred to apply")
		}
	})
}

// TestAccTopology_references: inputs built from other values with for
// expressions, leaving optional attributes out.
func TestAccTopology_references(t *testing.T) {
	skipUnlessAcc(t)
	config := emptyProvider + `
locals {
  dcs  = { "priv-dc1.priv.contoso.com" = "10.0.0.11", "priv-dc2.priv.contoso.com" = "10.0.0.12" }
  apps = ["priv-app1.priv.contoso.com", "priv-app2.priv.contoso.com"]
}

# count, not for_each: the test harness's state shim knows only numbered instances.
resource "terraform_data" "nodes" {
  count = length(local.apps)
  input = { host = local.apps[count.index], partition = "PAM.PRIV.CONTOSO.COM" }
}

data "bastion_topology" "t" {
  domain             = { dns_name = "priv.contoso.com" }
  domain_controllers = [for h, a in local.dcs : { host = h, addresses = [a] }]
  sql = {
    network_name = "priv-sql.priv.contoso.com"
    clustered    = true
    nodes        = local.apps
  }
  mim_nodes    = [for n in terraform_data.nodes : { host = n.output.host, service_partition_name = n.output.partition }]
  dns_servers  = { for h in local.apps : h => values(local.dcs) }
  ha_functions = ["privileged_role_activation"]
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: append(slices.Clone(cleanState),
				statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("readiness").AtSliceIndex(3), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"function": knownvalue.StringExact("privileged_role_activation"), "survives_single_loss": knownvalue.Bool(true),
				})),
				// Forest level unset is read as below 7: the PAM Component service is started.
				statecheck.ExpectKnownValue(topoAddr, tfjsonpath.New("recovery_runbook"), knownvalue.ListSizeExact(8)),
			),
		}},
	})
}

// TestAccTopology_validation: bad inputs fail at plan time, naming the
// attribute and what is allowed.
func TestAccTopology_validation(t *testing.T) {
	skipUnlessAcc(t)
	base := topologyHCL(topology.MinimalHATopology(), nil)
	edit := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("the configuration has no %q", old)
		}
		return emptyProvider + strings.Replace(base, old, new, 1)
	}
	steps := []struct {
		old, new string
		want     string
	}{
		{`"trust_establishment"`, `"role_activation"`, `(?s)an element of ha_functions is "role_activation"; value must be one of:.*"trust_establishment".*"user_group_migration".*"mim_administration".*"privileged_role_activation".*"resource_management".*"monitoring"`},
		{`"PDCEmulator"`, `"PDC"`, `(?s)an element of domain_controllers\[0\]\.fsmo_roles is "PDC"; value must be one of:.*"SchemaMaster".*"DomainNamingMaster".*"PDCEmulator".*"RIDMaster".*"InfrastructureMaster"`},
		{`{ host = "priv-dc2.priv.contoso.com"`, `{ host = "priv-dc2"`, `(?s)domain_controllers\[1\]\.host.*"priv-dc2" is a short name.*fully qualified domain name`},
		{`{ host = "priv-app2.priv.contoso.com"`, `{ host = "priv app2.priv.contoso.com"`, `(?s)mim_nodes\[1\]\.host.*invalid label`},
		{`"priv-app1.priv.contoso.com" = [`, `"priv-app1" = [`, `(?s)dns_servers.*"priv-app1" is a short name`},
		{`"10.0.0.11", "10.0.0.12"]`, `"10.0.0.11", "dc 2"]`, `(?s)dns_servers\["priv-app1\.priv\.contoso\.com"\]\[1\].*"dc 2" is neither an IP address nor a host name`},
		{`addresses = ["10.0.0.12"]`, `addresses = ["10.0.0.312"]`, `(?s)domain_controllers\[1\]\.addresses\[0\].*"10\.0\.0\.312" is not an IP address`},
		{`last_backup = "`, `last_backup = "yesterday`, `(?s)backups\[0\]\.last_backup.*is not an RFC 3339 timestamp.*2025-05-31T10:00:00Z`},
		{`forest_functional_level = 7`, `forest_functional_level = 11`, `(?s)domain\.forest_functional_level.*value must be between 0 and 10`},
		{`data_directories = [`, `data_directories = ["MSSQL\\Data", `, `(?s)sql\.data_directories\[0\].*not an absolute Windows path`},
		{`clustered = true`, `clustered = false`, `(?s)Standalone SQL Server With Several Nodes.*sql\.nodes lists 2 servers but sql\.clustered is not true`},
		{`long_lived_requests = true`, `long_lived_requests = true
  tombstone_lifetime_days = 1`, `(?s)tombstone_lifetime_days.*value must be at least 2`},
	}
	var ts []resource.TestStep
	for _, s := range steps {
		// Terraform wraps long lines: a space in want matches any white space.
		ts = append(ts, resource.TestStep{Config: edit(s.old, s.new), PlanOnly: true, ExpectError: regexp.MustCompile(strings.ReplaceAll(s.want, " ", `\s+`))})
	}
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: ts})
}

// terraformBlock matches the start of a top-level terraform block.
var terraformBlock = regexp.MustCompile(`(?m)^terraform \{`)

// withoutTerraformBlock drops the terraform block (required_providers names
// the registry source, which the test harness does not install).
func withoutTerraformBlock(t *testing.T, hcl string) string {
	t.Helper()
	loc := terraformBlock.FindStringIndex(hcl)
	if loc == nil {
		return hcl
	}
	depth := 0
	for i := loc[1] - 1; i < len(hcl); i++ {
		switch hcl[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return hcl[:loc[0]] + hcl[i+1:]
			}
		}
	}
	t.Fatal("unbalanced terraform block")
	return ""
}

// exampleCase is one of examples/topologies: the Go topology it writes in
// HCL (so the data source's diagram must be RenderMermaid's), and the edit
// that breaks it the way its deployment option invites.
type exampleCase struct {
	dir       string
	instances map[string]topology.Topology // for_each key ("" when single) => topology
	old, new  string                       // the breaking edit (a regexp on the file)
	rule      string
	hosts     []string
}

func exampleCases() []exampleCase {
	ind := topology.IndependentBastionTopologies()
	return []exampleCase{
		{"minimal-ha", map[string]topology.Topology{"": topology.MinimalHATopology()},
			// Saving a server by putting the MIM Service on a DC.
			`(host\s+= )"priv-app1\.priv\.contoso\.com"`, `${1}"priv-dc1.priv.contoso.com"`, "HA-4", []string{topoDC1}},
		{"single-bastion-multi-site", map[string]topology.Topology{"": topology.SingleBastionMultiSiteTopology()},
			// The FCI's databases on each node's own C: drive.
			`C:\\\\ClusterStorage\\\\Volume1\\\\MSSQL\\\\Data`, `C:\\MSSQL\\Data`, "HA-6", []string{topoApp1, topoApp2}},
		{"bastion-per-site", map[string]topology.Topology{"": topology.BastionPerSiteTopology()},
			// Site A's MIM Service keeps its own site alias as partition.
			`(service_partition_name = )local\.partition`, `${1}"pam-a.priv.contoso.com"`, "HA-5",
			[]string{"priv-a-app1.priv.contoso.com", "priv-b-app1.priv.contoso.com"}},
		{"replicated-directory", map[string]topology.Topology{"": topology.ReplicatedDirectoryTopology()},
			// Below level 2016, resource management needs the MIM Service again.
			`(forest_functional_level = )7`, `${1}6`, "HA-2", []string{"priv-a-app1.priv.contoso.com"}},
		{"independent-bastions", map[string]topology.Topology{"a": ind[0], "b": ind[1]},
			// A shared template's mistake breaks every bastion: app2 keeps one DNS server.
			`("\$\{each\.value\.prefix\}app2\.\$\{each\.value\.domain\}" = )\["\$\{each\.value\.subnet\}12", "\$\{each\.value\.subnet\}11"\]`,
			`${1}["$${each.value.subnet}12"]`, "HA-7", []string{"priv-b-app2.priv-b.contoso.com", "priv-b-dc2.priv-b.contoso.com"}},
	}
}

// TestAccTopology_examples plans each examples/topologies/*/main.tf: it
// plans cleanly, with ok true and the diagram of the Go topology it
// describes known at plan time, and its broken variant is rejected naming
// the rule and the hosts.
func TestAccTopology_examples(t *testing.T) {
	skipUnlessAcc(t)
	dirs, err := filepath.Glob(filepath.Join("..", "..", "examples", "topologies", "*", "main.tf"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples/topologies/*/main.tf: %v", err)
	}
	cases := exampleCases()
	if len(dirs) != len(cases) {
		t.Fatalf("examples/topologies has %d examples, the test knows %d", len(dirs), len(cases))
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "topologies", c.dir, "main.tf"))
			if err != nil {
				t.Fatal(err)
			}
			hcl := withoutTerraformBlock(t, string(raw))
			// The edit changes the first match only (bastion-per-site: site A's node).
			re := regexp.MustCompile(c.old)
			loc := re.FindStringSubmatchIndex(hcl)
			if loc == nil {
				t.Fatalf("the breaking edit %s matches nothing", c.old)
			}
			broken := hcl[:loc[0]] + string(re.ExpandString(nil, c.new, hcl, loc)) + hcl[loc[1]:]
			// The outputs are known at plan time: ok, and the diagram, which is
			// RenderMermaid's for the Go topology (so no violation note either).
			okAtPlan, mermaidAtPlan := map[string]knownvalue.Check{}, map[string]knownvalue.Check{}
			for key, top := range c.instances {
				noViolations(t, top)
				okAtPlan[key] = knownvalue.Bool(true)
				mermaidAtPlan[key] = knownvalue.StringExact(topology.RenderMermaid(top, topology.Evaluate(top)))
			}
			outputs := []plancheck.PlanCheck{
				plancheck.ExpectKnownOutputValue("ok", knownvalue.MapExact(okAtPlan)),
				plancheck.ExpectKnownOutputValue("mermaid", knownvalue.MapExact(mermaidAtPlan)),
			}
			if len(c.instances) == 1 {
				outputs = []plancheck.PlanCheck{
					plancheck.ExpectKnownOutputValue("ok", okAtPlan[""]),
					plancheck.ExpectKnownOutputValue("mermaid", mermaidAtPlan[""]),
				}
			}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						// The outputs are the plan's only changes.
						Config: hcl, PlanOnly: true, ExpectNonEmptyPlan: true,
						ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: append(outputs, noResourceChanges{})},
					},
					{Config: broken, PlanOnly: true, ExpectError: ruleError(c.rule, c.hosts...)},
				},
			})
		})
	}
}

// TestAccTopology_dataSourceExample plans the documentation's example with
// the real bastion_mim_service_node resources. Before the nodes exist the
// data source depends on resources being created, so Terraform reads it
// during apply: its outputs are unknown in the plan, and nothing fails.
func TestAccTopology_dataSourceExample(t *testing.T) {
	skipUnlessAcc(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "data-sources", "bastion_topology", "data-source.tf"))
	if err != nil {
		t.Fatal(err)
	}
	// The example reads the backups from the directory: it plans against the lab.
	l := startLab(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: l.ProviderHCL() + string(raw), PlanOnly: true, ExpectNonEmptyPlan: true,
			ConfigVariables: config.Variables{
				"mim_service_account_password": config.StringVariable("not-used-by-a-plan"),
			},
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
				// The example keys its nodes by MIM service name, which a rebuilt node keeps.
				plancheck.ExpectResourceAction(`bastion_mim_service_node.node["PRIV-APP1"]`, plancheck.ResourceActionCreate),
				plancheck.ExpectResourceAction("data.bastion_topology.bastion", plancheck.ResourceActionRead),
				plancheck.ExpectUnknownValue("data.bastion_topology.bastion", tfjsonpath.New("ok")),
				plancheck.ExpectUnknownOutputValue("recovery_runbook"),
			}},
		}},
	})
}

func TestTopologyAttributePath(t *testing.T) {
	tp := topology.AttrPath
	cases := []struct {
		hint topology.Path
		want path.Path
		ok   bool
	}{
		{nil, path.Empty(), false},
		{tp("domain_controllers"), path.Root("domain_controllers"), true},
		{tp("mim_nodes").Index(1).Name("host"), path.Root("mim_nodes").AtListIndex(1).AtName("host"), true},
		{tp("mim_nodes").Index(0).Name("pam_components"), path.Root("mim_nodes").AtListIndex(0).AtName("pam_components"), true},
		{tp("mim_nodes").Name("service_partition_name"), path.Root("mim_nodes"), true},
		{tp("sql"), path.Root("sql"), true},
		{tp("sql").Name("clustered"), path.Root("sql").AtName("clustered"), true},
		{tp("sql").Name("data_directories").Index(2), path.Root("sql").AtName("data_directories").AtListIndex(2), true},
		{tp("dns_servers").Key("priv-app1.priv.contoso.com"), path.Root("dns_servers").AtMapKey("priv-app1.priv.contoso.com"), true},
		{tp("dns_servers").Key(`a"b`), path.Root("dns_servers").AtMapKey(`a"b`), true},
		{tp("ha_functions"), path.Root("ha_functions"), true},
		{topology.Path{{Index: 0, IsIndex: true}}, path.Empty(), false},
	}
	for _, c := range cases {
		got, ok := attributePath(c.hint)
		if ok != c.ok || (ok && !got.Equal(c.want)) {
			t.Errorf("attributePath(%s) = %s, %v; want %s, %v", c.hint, got, ok, c.want, c.ok)
		}
	}
	// Every hint the rules produce for the minimal topology's mistakes maps.
	for _, v := range topology.Evaluate(minimalWith(func(t *topology.Topology) {
		t.MIMNodes[0].Host = topoDC1
		t.MIMNodes[1].ServicePartitionName = "other"
		t.SQL.LogDirectories = []string{`C:\Log`}
		t.DNSServers[topoApp2] = []string{"10.0.0.12"}
	})).Violations {
		if _, ok := attributePath(v.Path); !ok && v.Attribute != "" {
			t.Errorf("%s: attribute %q does not map to a path", v.RuleID, v.Attribute)
		}
	}
}

func TestTopologyValidators(t *testing.T) {
	cases := []struct {
		name  string
		v     validator.String
		value types.String
		want  string // "" for valid
	}{
		{"rfc3339 UTC", validators.RFC3339(), types.StringValue("2025-05-31T10:00:00Z"), ""},
		{"rfc3339 offset", validators.RFC3339(), types.StringValue("2025-05-31T12:00:00+02:00"), ""},
		{"rfc3339 date only", validators.RFC3339(), types.StringValue("2025-05-31"), "is not an RFC 3339 timestamp"},
		{"rfc3339 month 13", validators.RFC3339(), types.StringValue("2025-13-01T00:00:00Z"), "is not an RFC 3339 timestamp"},
		{"rfc3339 null", validators.RFC3339(), types.StringNull(), ""},
		{"rfc3339 unknown", validators.RFC3339(), types.StringUnknown(), ""},
		{"ip v4", validators.IPAddress(), types.StringValue("10.0.0.11"), ""},
		{"ip v6", validators.IPAddress(), types.StringValue("fd00::11"), ""},
		{"ip bad octet", validators.IPAddress(), types.StringValue("10.0.0.256"), "is not an IP address"},
		{"ip host name", validators.IPAddress(), types.StringValue("priv-dc1"), "is not an IP address"},
		{"ip unknown", validators.IPAddress(), types.StringUnknown(), ""},
		{"dns address", validators.DNSServerEntry(), types.StringValue("127.0.0.1"), ""},
		{"dns host", validators.DNSServerEntry(), types.StringValue("priv-dc1.priv.contoso.com."), ""},
		{"dns short name", validators.DNSServerEntry(), types.StringValue("priv-dc1"), ""},
		{"dns space", validators.DNSServerEntry(), types.StringValue("priv dc1"), "is neither an IP address nor a host name"},
		{"dns empty", validators.DNSServerEntry(), types.StringValue(""), "is neither an IP address nor a host name"},
		{"dns null", validators.DNSServerEntry(), types.StringNull(), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := path.Root("backups").AtListIndex(0).AtName("last_backup")
			resp := &validator.StringResponse{}
			c.v.ValidateString(context.Background(), validator.StringRequest{Path: p, ConfigValue: c.value}, resp)
			if c.want == "" {
				if resp.Diagnostics.HasError() {
					t.Fatalf("unexpected error: %v", resp.Diagnostics)
				}
				return
			}
			if !resp.Diagnostics.HasError() {
				t.Fatal("want an error")
			}
			d := resp.Diagnostics.Errors()[0]
			if !strings.Contains(d.Detail(), c.want) || !strings.Contains(d.Detail(), p.String()) || !strings.Contains(d.Detail(), "value must be") {
				t.Fatalf("detail %q should name the attribute, say %q and what is allowed", d.Detail(), c.want)
			}
		})
	}
}

// TestTopologyDataSourceSchema: every attribute is documented.
func TestTopologyDataSourceSchema(t *testing.T) {
	resp := &datasource.SchemaResponse{}
	NewTopologyDataSource().Schema(context.Background(), datasource.SchemaRequest{}, resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	if resp.Schema.MarkdownDescription == "" {
		t.Error("the data source has no MarkdownDescription")
	}
	var walk func(prefix string, attrs map[string]schema.Attribute)
	walk = func(prefix string, attrs map[string]schema.Attribute) {
		for name, a := range attrs {
			if a.GetMarkdownDescription() == "" {
				t.Errorf("%s%s has no MarkdownDescription", prefix, name)
			}
			if n, ok := a.(schema.NestedAttribute); ok {
				nested := map[string]schema.Attribute{}
				for k, v := range n.GetNestedObject().GetAttributes() {
					nested[k] = v.(schema.Attribute)
				}
				walk(prefix+name+".", nested)
			}
		}
	}
	walk("", resp.Schema.Attributes)
	if diags := resp.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatal(diags)
	}
}

// The guide's generated sections: the seed's tables, the rules and the
// diagrams come from internal/topology, so they cannot drift from what the
// data source does. BASTION_UPDATE_GUIDE=1 rewrites them.
const guidePath = "../../templates/guides/ha-topology.md.tmpl"

var generatedSection = regexp.MustCompile(`(?s)<!-- generated:([a-z0-9-]+) -->\n(.*?)<!-- end generated:([a-z0-9-]+) -->`)

func guideSections() map[string]string {
	mermaid := func(top topology.Topology) string {
		return "```mermaid\n" + topology.RenderMermaid(top, topology.Evaluate(top)) + "```\n"
	}
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	var funcs strings.Builder
	funcs.WriteString("| Function (`ha_functions` id) | Relative priority during recovery | Mitigation if the function is unavailable | Needs online |\n| --- | --- | --- | --- |\n")
	for _, f := range topology.Functions() {
		fmt.Fprintf(&funcs, "| %s (`%s`) | %s | %s | %s |\n", f.DisplayName, f.ID, f.Priority, cell(f.Mitigation), cell(f.Requires))
	}
	var runbook strings.Builder
	runbook.WriteString("| Step | Action | Hosts | Command |\n| --- | --- | --- | --- |\n")
	level6 := topology.MinimalHATopology()
	level6.Domain.ForestFunctionalLevel = 6
	for _, s := range topology.Evaluate(level6).RecoveryOrder {
		cmd := ""
		if s.Command != "" {
			cmd = "`" + s.Command + "`"
		}
		fmt.Fprintf(&runbook, "| %d | %s | %s | %s |\n", s.Order, cell(s.Action), strings.Join(s.Hosts, ", "), cmd)
	}
	broken := topology.MinimalHATopology()
	broken.MIMNodes[0].Host = topoDC1
	broken.DNSServers[topoApp2] = []string{"10.0.0.12"}
	ind := topology.IndependentBastionTopologies()
	sections := map[string]string{
		"functions":                 funcs.String(),
		"runbook":                   runbook.String(),
		"minimal-ha":                mermaid(topology.MinimalHATopology()),
		"minimal-ha-broken":         mermaid(broken),
		"single-bastion-multi-site": mermaid(topology.SingleBastionMultiSiteTopology()),
		"bastion-per-site":          mermaid(topology.BastionPerSiteTopology()),
		"replicated-directory":      mermaid(topology.ReplicatedDirectoryTopology()),
		"independent-bastions-a":    mermaid(ind[0]),
		"independent-bastions-b":    mermaid(ind[1]),
	}
	for _, r := range topology.Rules() {
		sections["rule-"+strings.ToLower(r.ID)] = fmt.Sprintf("### %s: %s\n\n> %s\n\n", r.ID, r.Title, cell(r.Seed))
	}
	return sections
}

// escapeTemplate keeps text literal in a tfplugindocs (Go text/template)
// template: Mermaid's hexagon nodes use "{{".
func escapeTemplate(s string) string { return strings.ReplaceAll(s, "{{", `{{"{{"}}`) }

func TestTopologyGuideGenerated(t *testing.T) {
	raw, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	want := guideSections()
	seen := map[string]bool{}
	var stale []string
	updated := generatedSection.ReplaceAllStringFunc(string(raw), func(m string) string {
		sm := generatedSection.FindStringSubmatch(m)
		name := sm[1]
		if sm[3] != name {
			t.Errorf("generated section %q ends as %q", name, sm[3])
		}
		body, ok := want[name]
		if !ok {
			t.Errorf("unknown generated section %q", name)
			return m
		}
		seen[name] = true
		if escapeTemplate(body) != sm[2] {
			stale = append(stale, name)
		}
		return "<!-- generated:" + name + " -->\n" + escapeTemplate(body) + "<!-- end generated:" + name + " -->"
	})
	for name := range want {
		if !seen[name] {
			t.Errorf("the guide lacks the generated section %q", name)
		}
	}
	if len(stale) > 0 {
		if os.Getenv("BASTION_UPDATE_GUIDE") == "1" {
			if err := os.WriteFile(guidePath, []byte(updated), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote %v", stale)
		} else {
			t.Errorf("generated sections %v of %s are stale: run BASTION_UPDATE_GUIDE=1 go test ./internal/provider/ -run TestTopologyGuideGenerated", stale, guidePath)
		}
	}

	// tfplugindocs renders the file as a Go template: it must parse, and
	// the diagrams must come out as RenderMermaid wrote them.
	tmpl, err := template.New("guide").Funcs(template.FuncMap{
		"tffile": func(string) (string, error) { return "", nil },
	}).Parse(updated)
	if err != nil {
		t.Fatalf("the guide is not a valid template: %v", err)
	}
	var out strings.Builder
	if err := tmpl.Execute(&out, nil); err != nil {
		t.Fatalf("executing the guide template: %v", err)
	}
	for name, body := range want {
		if !strings.Contains(out.String(), body) {
			t.Errorf("the rendered guide does not contain section %q as generated", name)
		}
	}
}
