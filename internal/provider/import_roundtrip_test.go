package provider

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// importRoundTripExtras are the resources examples/bastion does not build.
const importRoundTripExtras = `
resource "bastion_dns_record" "mim" {
  zone    = "priv.contoso.test"
  name    = "mim"
  type    = "A"
  records = ["10.0.1.21", "10.0.1.22"]
}

resource "bastion_ad_optional_feature" "recycle_bin" {
  name = "Recycle Bin Feature"
}
`

// importSecrets are the write-only values an operator fills in after
// -generate-config-out, per resource type: Terraform cannot generate what
// it never stores. Their _version attributes stay as generated (null): an
// import records no version, and setting one later is what hands the
// secret to Windows again.
var importSecrets = map[string]map[string]string{
	"bastion_domain_controller":        {"safe_mode_password_wo": "var.dsrm_password"},
	"bastion_mim_service_node":         {"service_account_password_wo": "var.mim_service_account_password"},
	"bastion_pam_trust":                {"corp_password_wo": "var.corp_admin_password"},
	"bastion_pam_domain_configuration": {"corp_password_wo": "var.corp_admin_password"},
}

// importID is the import ID of a resource in state s, in its documented format.
func importID(typ string, s map[string]any) string {
	str := func(k string) string { v, _ := s[k].(string); return v }
	switch typ {
	case "bastion_pam_trust":
		return str("host") + "/" + str("source_forest") + "/" + str("corp_username")
	case "bastion_pam_domain_configuration":
		return str("host") + "/" + str("source_domain") + "/" + str("corp_username")
	}
	return str("id")
}

// fillSecrets sets, in the configuration -generate-config-out wrote, the
// write-only attributes importSecrets lists, and nothing else.
func fillSecrets(t *testing.T, generated string) string {
	t.Helper()
	blocks := regexp.MustCompile(`(?s)resource "([a-z_]+)" "[a-z0-9_]+" \{.*?\n\}\n`)
	return blocks.ReplaceAllStringFunc(generated, func(block string) string {
		typ := blocks.FindStringSubmatch(block)[1]
		for attr, value := range importSecrets[typ] {
			line := regexp.MustCompile(`(?m)^(\s*` + attr + `\s*=\s*).*$`)
			if !line.MatchString(block) {
				t.Fatalf("the generated %s has no line for %s:\n%s", typ, attr, block)
			}
			block = line.ReplaceAllString(block, "${1}"+value)
		}
		return block
	})
}

// Issue 12 item 4: every resource of a whole bastion is imported with an
// import block, `terraform plan -generate-config-out` writes its
// configuration, the operator fills in only the write-only secrets, and the
// plan imports everything without a change; after the import the next plan
// is empty and every ID equals the one the create stored. The real
// Terraform CLI drives it, because the test framework cannot edit the
// generated file between the two plans.
func TestAccImport_generatedConfigPlansEmpty(t *testing.T) {
	skipUnlessAcc(t)
	l := startTopologyLab(t, model.TopologyBastion)
	tf := newTerraformCLI(t)
	for name, v := range map[string]string{
		"dsrm_password":                labDSRMPassword,
		"mim_service_account_password": l.Seed.MIMSvcPassword,
		"corp_admin_password":          l.CorpAdminPassword(),
	} {
		tf.setVar(name, v)
	}

	// Create: examples/bastion as make demo applies it, plus the two resources it does not use.
	tf.write("main.tf", importRoundTripBuildConfig(t, l)+importRoundTripExtras)
	tf.must("init", "-input=false")
	tf.must("apply", "-auto-approve", "-input=false")
	var st tfjson.State
	tf.showJSON(&st)
	created := managedResources(&st)
	var types []string
	for addr := range created {
		types = append(types, strings.Split(addr, ".")[0])
	}
	slices.Sort(types)
	types = slices.Compact(types)
	if len(types) != len(New("test")().Resources(t.Context())) {
		t.Fatalf("the configuration creates %d resource types %v; every resource type must be imported", len(types), types)
	}

	// Forget everything, then import it with import blocks.
	tf.remove("terraform.tfstate")
	imports := providerSourceBlock + providerWithCorpPassword(l) + bastionVariables
	for _, addr := range slices.Sorted(maps.Keys(created)) {
		typ := strings.Split(addr, ".")[0]
		imports += fmt.Sprintf("\nimport {\n  to = %s\n  id = %q\n}\n", addr, importID(typ, created[addr]))
	}
	tf.write("main.tf", imports)
	out, code := tf.run("plan", "-input=false", "-generate-config-out=generated.tf")
	generated := tf.read("generated.tf")
	if code != 0 {
		t.Logf("plan -generate-config-out exited %d, as the write-only secrets are not filled in yet:\n%s", code, out)
	}
	tf.write("generated.tf", fillSecrets(t, generated))

	l.Env.ResetCounters()
	eventsBefore := len(l.Env.Events())
	out = tf.must("plan", "-input=false", "-out=import.tfplan")
	var plan tfjson.Plan
	tf.showJSON(&plan, "import.tfplan")
	for _, rc := range plan.ResourceChanges {
		if rc.Change.Importing == nil || !rc.Change.Actions.NoOp() {
			t.Errorf("%s: want a no-op import, got %v (importing %v)", rc.Address, rc.Change.Actions, rc.Change.Importing != nil)
		}
	}
	if len(plan.ResourceChanges) != len(created) {
		t.Errorf("the plan has %d resource changes, want %d imports", len(plan.ResourceChanges), len(created))
	}
	if t.Failed() {
		t.Fatalf("the generated configuration, secrets filled in, does not import without changes:\n%s\n\ngenerated.tf:\n%s\n\nplan:\n%s", planSummary(&plan), generated, out)
	}
	tf.must("apply", "-input=false", "import.tfplan")
	if out, code := tf.run("plan", "-input=false", "-detailed-exitcode"); code != 0 {
		t.Fatalf("the plan after the import is not empty (exit %d):\n%s", code, out)
	}
	if ev := l.Env.Events()[eventsBefore:]; len(ev) != 0 {
		t.Errorf("importing changed the lab: %v", ev)
	}
	if runs := writeScriptRuns(l); len(runs) != 0 {
		t.Errorf("importing ran scripts that change Windows: %v", runs)
	}

	// Taking the imported FCI down runs setup, which needs the media path
	// import could not read: the destroy plan says so, before anything runs.
	if out, code := tf.run("plan", "-destroy", "-input=false"); code == 0 || !regexp.MustCompile(`(?s)Missing Required Attribute.*setup_media_path`).MatchString(out) {
		t.Errorf("a destroy plan of the imported FCI without setup_media_path: exit %d, want the missing attribute named:\n%s", code, out)
	}

	// The ID after import equals the ID after create.
	st = tfjson.State{}
	tf.showJSON(&st)
	imported := managedResources(&st)
	for addr, c := range created {
		if got, want := imported[addr]["id"], c["id"]; got != want {
			t.Errorf("%s: id after import %q, after create %q", addr, got, want)
		}
	}
}

// bastionVariables declares the example's secret variables.
var bastionVariables = secretVariables("dsrm_password", "mim_service_account_password", "corp_admin_password")

// importRoundTripBuildConfig is examples/bastion/main.tf with the lab's
// provider block; its terraform block stays (the CLI needs the source).
func importRoundTripBuildConfig(t *testing.T, l *lab.Lab) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/bastion/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, "provider \"bastion\" {}\n") {
		t.Fatal("examples/bastion/main.tf: no provider \"bastion\" {} to replace")
	}
	return strings.Replace(s, "provider \"bastion\" {}\n", providerWithCorpPassword(l), 1)
}

// writeScriptRuns lists the scripts run since the counters were reset that
// change Windows (every script but the reads).
func writeScriptRuns(l *lab.Lab) map[string]int {
	out := map[string]int{}
	for name, n := range l.Env.ScriptRuns() {
		if !readOnlyScript(name) {
			out[name] = n
		}
	}
	return out
}

// readOnlyScript: the scripts that only read (every other one changes Windows).
func readOnlyScript(name string) bool {
	return slices.Contains([]string{"mim_read", "dns_client_read", "pam_domain_configuration_test"}, name)
}

// Importing an object that does not exist fails with Terraform's own
// "Cannot import non-existent remote object", for every resource: its Read
// finds nothing and removes it from the state, leaving Terraform nothing to
// import. One lab with the SQL instance, one without it (the FCI case).
func TestAccImport_absentObjectsFail(t *testing.T) {
	skipUnlessAcc(t)
	withSQL := startLab(t)
	pamPrepareHost(t, withSQL, model.App1) // the MIMPAM module, no PAM trust and no configuration in CORP
	noSQL, err := lab.Start(lab.Options{Dir: t.TempDir(), NoSQL: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(noSQL.Close)
	watchLab(t, noSQL)
	cases := []struct {
		typ, hcl, id string
		l            *lab.Lab
	}{
		{"bastion_ad_optional_feature", `name = "Recycle Bin Feature"`, "Recycle Bin Feature", withSQL},
		{"bastion_dns_record", `zone = "priv.contoso.test"
  name = "absent"
  type = "A"
  records = ["10.0.1.9"]`, model.DomainDNS + "/absent/A", withSQL},
		{"bastion_domain_controller", fmt.Sprintf(`host = %q
  domain_name = %q
  safe_mode_password_wo = "x"`, model.Spare1, model.DomainDNS), model.Spare1, withSQL},
		{"bastion_fsmo_roles", `domain_name = "absent.contoso.test"`, "absent.contoso.test", withSQL},
		{"bastion_mim_service_node", fmt.Sprintf(`host = %q
  sql_server = %q
  service_account = %q
  service_account_password_wo = "x"
  external_host_name = %q`, model.App2, model.SQLNetwork, model.MIMSvcUser, model.MIMAlias), model.App2, withSQL},
		{"bastion_pam_domain_configuration", fmt.Sprintf(`host = %q
  source_domain = "CORP"
  corp_username = %q
  corp_password_wo = "x"`, model.App1, model.CorpAdminUser), model.App1 + "/CORP/" + model.CorpAdminUser, withSQL},
		{"bastion_pam_trust", fmt.Sprintf(`host = %q
  source_forest = %q
  corp_username = %q
  corp_password_wo = "x"`, model.App1, model.CorpDomainDNS, model.CorpAdminUser), model.App1 + "/" + model.CorpDomainDNS + "/" + model.CorpAdminUser, withSQL},
		{"bastion_sql_failover_cluster_instance", fmt.Sprintf(`network_name = %q
  nodes = [%q, %q]`, model.SQLNetwork, model.App1, model.App2), model.SQLNetwork, noSQL},
		{"bastion_sql_login", `name = "PRIV\\absent-login"`, `PRIV\absent-login`, withSQL},
	}
	if len(cases) != len(New("test")().Resources(t.Context())) {
		t.Fatalf("%d cases for %d resource types: every resource needs one", len(cases), len(New("test")().Resources(t.Context())))
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			cfg := providerWithCorpPassword(c.l) + fmt.Sprintf("resource %q \"x\" {\n  %s\n}\n", c.typ, c.hcl)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: cfg, ResourceName: c.typ + ".x", ImportState: true, ImportStateId: c.id,
					ExpectError: regexp.MustCompile(`Cannot import non-existent remote object`),
				}},
			})
		})
	}
}

// Creating a DC, a MIM Service node or an FCI that the lab already holds
// fails before anything changes, with the import block that adopts it: no
// script that changes Windows runs and the lab records no change. The DC,
// the MIM node and an FCI without the MIM database are refused when the
// apply starts; a DC holding FSMO roles and an FCI holding the MIM Service
// database at plan (a tainted one would be taken down first).
func TestAccImport_createExistingRefused(t *testing.T) {
	skipUnlessAcc(t)
	plain := startLab(t)
	withMIM := startLab(t)
	pamPrepareHost(t, withMIM, model.App1) // the MIM Service runs on priv-app1 and its database on the FCI
	dc := fmt.Sprintf(`resource "bastion_domain_controller" "x" {
  host                  = %q
  domain_name           = %q
  safe_mode_password_wo = "Dsrm-Passw0rd!"
}
`, model.DC2, model.DomainDNS)
	mimNode := fmt.Sprintf(`resource "bastion_mim_service_node" "x" {
  host                        = %q
  sql_server                  = %q
  service_account             = %q
  service_account_password_wo = %q
  external_host_name          = %q
  installer_path              = %q
}
`, model.App1, model.SQLNetwork, model.MIMSvcUser, withMIM.Seed.MIMSvcPassword, model.MIMAlias, model.DefaultMIMMSIPath)
	sqlFCI := labFCIConfig()
	cases := []struct {
		name, hcl, typ, id, want string
		l                        *lab.Lab
	}{
		{"domain_controller", dc, "bastion_domain_controller", model.DC2, `Already A Domain Controller.*so nothing was changed`, plain},
		{"domain_controller_holding_fsmo_roles", strings.Replace(dc, model.DC2, model.DC1, 1), "bastion_domain_controller", model.DC1, `holds.*FSMO.*If this is a new resource`, plain},
		{"sql_failover_cluster_instance", sqlFCI, fciType, model.SQLNetwork, `SQL Server Failover Cluster Instance Already Exists.*so nothing was changed`, plain},
		{"mim_service_node", mimNode, "bastion_mim_service_node", model.App1, `MIM Service Already Installed.*so nothing was changed`, withMIM},
		{"sql_failover_cluster_instance_holding_the_mim_database", sqlFCI, fciType, model.SQLNetwork, `SQL Server Instance Holds The MIM Service Database.*Nothing was run`, withMIM},
	}
	events := map[*lab.Lab]int{}
	for _, l := range []*lab.Lab{plain, withMIM} {
		l.Env.ResetCounters()
		events[l] = len(l.Env.Events())
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The error names the exact import block; Terraform wraps long lines.
			want := strings.ReplaceAll(c.want, " ", `\s+`) + fmt.Sprintf(`.*import \{\s+to = %s\.<name>\s+id = "%s"\s+\}`, c.typ, regexp.QuoteMeta(c.id))
			expectError(t, providerWithCorpPassword(c.l)+c.hcl, false, "(?s)"+want)
		})
	}
	// The subtests run in parallel, after this function returns.
	t.Cleanup(func() {
		for _, l := range []*lab.Lab{plain, withMIM} {
			if runs := writeScriptRuns(l); len(runs) != 0 {
				t.Errorf("a refused create ran scripts that change Windows: %v", runs)
			}
			if ev := l.Env.Events()[events[l]:]; len(ev) != 0 {
				t.Errorf("a refused create changed the lab: %v", ev)
			}
		}
		if withMIM.Env.ScriptRuns()["mim_read"] == 0 {
			t.Error("the MIM node's create did not read the host before refusing it")
		}
	})
}

// labFCIConfig is a bastion_sql_failover_cluster_instance "x" for the lab's
// instance on priv-app1 and priv-app2, with every setup setting.
func labFCIConfig() string {
	return fmt.Sprintf(`resource "bastion_sql_failover_cluster_instance" "x" {
  network_name          = %q
  nodes                 = [%q, %q]
  data_directory        = "C:\\ClusterStorage\\Volume1\\MSSQL"
  sysadmin_accounts     = [%q]
  sql_service_account   = "PRIV\\gmsa-sql$"
  agent_service_account = "PRIV\\gmsa-sqlagent$"
  setup_media_path      = %q
}
`, model.SQLNetwork, model.App1, model.App2, model.AdminUser, model.DefaultSQLMediaPath)
}
