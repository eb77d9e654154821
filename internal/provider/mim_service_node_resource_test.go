package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/mim"
)

const mimMSI = `C:\Sources\MIM\Service and Portal\Service and Portal.msi`

type mimNodeConfig struct {
	Name, Host, External, ServiceName, Partition, Password, Installer, Mail, Email, Database, SQLServer string
	Version                                                                                             int
}

func (c mimNodeConfig) hcl() string {
	if c.Name == "" {
		c.Name = "node"
	}
	if c.External == "" {
		c.External = model.MIMAlias
	}
	if c.Installer == "" {
		c.Installer = mimMSI
	}
	if c.Version == 0 {
		c.Version = 1
	}
	if c.SQLServer == "" {
		c.SQLServer = model.SQLNetwork
	}
	var b strings.Builder
	fmt.Fprintf(&b, "resource \"bastion_mim_service_node\" %q {\n", c.Name)
	fmt.Fprintf(&b, "  host = %q\n  external_host_name = %q\n  sql_server = %q\n  service_account = %q\n", c.Host, c.External, c.SQLServer, model.MIMSvcUser)
	fmt.Fprintf(&b, "  service_account_password_wo = %q\n  service_account_password_wo_version = %d\n  installer_path = %q\n", c.Password, c.Version, c.Installer)
	for k, v := range map[string]string{"service_name": c.ServiceName, "service_partition_name": c.Partition, "mail_server": c.Mail, "service_account_email": c.Email, "sql_database": c.Database} {
		if v != "" {
			fmt.Fprintf(&b, "  %s = %q\n", k, v)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// labCheck runs f against the lab's model inside a test step.
func labCheck(l *lab.Lab, f func(e *model.Env) error) resource.TestCheckFunc {
	return func(*terraform.State) error { return l.Env.Do(f) }
}

func mimNames(l *lab.Lab, host string) (mim.Names, error) {
	var n mim.Names
	err := l.Env.Do(func(e *model.Env) error {
		h := e.Host(host)
		b, ok := h.ReadFile(model.MIMConfigPath)
		if !ok {
			return fmt.Errorf("no config file on %s", host)
		}
		var err error
		n, err = mim.ParseNames(b)
		return err
	})
	return n, err
}

func fimStarts(l *lab.Lab, host string) int {
	n := -1
	_ = l.Env.Do(func(e *model.Env) error {
		if s := e.Host(host).Service(model.FIMService); s != nil {
			n = s.Starts
		}
		return nil
	})
	return n
}

func noRejectedScripts(l *lab.Lab) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if r := l.Env.Rejected(); len(r) > 0 {
			return fmt.Errorf("the lab rejected %d scripts: %+v", len(r), r)
		}
		return nil
	}
}

func TestAccMIMServiceNode_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	addr := "bastion_mim_service_node.node"
	base := mimNodeConfig{Host: model.App1, Partition: "PAM.PRIV.CONTOSO.TEST", Password: l.Seed.MIMSvcPassword}
	renamed := base
	renamed.Partition = "pam-east.priv.contoso.test" // lower case in configuration, upper case on the node
	var startsBefore int
	var fileBefore []byte

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			return l.Env.Do(func(e *model.Env) error {
				if _, ok := e.Host(model.App1).RegValue(model.FIMServiceKey, "ImagePath"); ok {
					return fmt.Errorf("MIM Service still installed on %s after destroy", model.App1)
				}
				return nil
			})
		},
		Steps: []resource.TestStep{
			{ // create
				Config: l.ProviderHCL() + base.hcl(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("service_name"), knownvalue.StringExact("PRIV-APP1")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("service_partition_name"), knownvalue.StringExact("PAM.PRIV.CONTOSO.TEST")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("config_file_path"), knownvalue.StringExact(model.MIMConfigPath)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fim_service_state"), knownvalue.StringExact("Running")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("pam_monitoring_service_state"), knownvalue.StringExact("Running")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("pam_component_service_state"), knownvalue.StringExact("Running")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("sql_database"), knownvalue.StringExact("FIMService")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("service_account_password_wo"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error {
						n, err := mimNames(l, model.App1)
						if err != nil {
							return err
						}
						// service_name was not configured: the file keeps MIM's default (the computer name).
						if n.ServicePartitionName != "PAM.PRIV.CONTOSO.TEST" || n.ServiceName != "" || n.ExternalHostName != model.MIMAlias {
							return fmt.Errorf("config file on the node reads %+v", n)
						}
						return nil
					},
					labCheck(l, func(e *model.Env) error {
						if !e.SQL[model.Key(model.SQLNetwork)].Databases["fimservice"] {
							return fmt.Errorf("the install did not create the FIMService database")
						}
						return nil
					}),
					noRejectedScripts(l),
				),
			},
			{ // in-place update of the partition name: only that attribute's bytes change, FIMService restarts
				PreConfig: func() {
					startsBefore = fimStarts(l, model.App1)
					_ = l.Env.Do(func(e *model.Env) error { fileBefore, _ = e.Host(model.App1).ReadFile(model.MIMConfigPath); return nil })
				},
				Config:           l.ProviderHCL() + renamed.hcl(),
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionUpdate),
				Check: func(*terraform.State) error {
					if got := fimStarts(l, model.App1); got != startsBefore+1 {
						return fmt.Errorf("FIMService started %d times during the update, want exactly one restart", got-startsBefore)
					}
					var after []byte
					_ = l.Env.Do(func(e *model.Env) error { after, _ = e.Host(model.App1).ReadFile(model.MIMConfigPath); return nil })
					want := strings.Replace(string(fileBefore), `servicePartitionName="PAM.PRIV.CONTOSO.TEST"`, `servicePartitionName="PAM-EAST.PRIV.CONTOSO.TEST"`, 1)
					if string(after) != want {
						return fmt.Errorf("config file changed beyond the partition name:\n%s", after)
					}
					return nil
				},
			},
			// import by host
			importStep(l.ProviderHCL()+renamed.hcl(), addr, model.App1, "service_account_password_wo_version", "installer_path", "service_partition_name"),
			{ // drift: the config file was edited on the node, and a PAM service was stopped
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error {
						h := e.Host(model.App1)
						b, _ := h.ReadFile(model.MIMConfigPath)
						b2, err := mim.SetAttributes(b, map[string]string{mim.AttrServicePartitionName: "SOMEONE.ELSE"})
						if err != nil {
							return err
						}
						h.WriteFile(model.MIMConfigPath, b2)
						return h.SetServiceStatus(model.PamMonitoring, "Stopped")
					})
				},
				Config: l.ProviderHCL() + renamed.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("pam_monitoring_service_state"), knownvalue.StringExact("Running")),
				}},
				Check: func(*terraform.State) error {
					n, err := mimNames(l, model.App1)
					if err != nil {
						return err
					}
					if n.ServicePartitionName != "PAM-EAST.PRIV.CONTOSO.TEST" {
						return fmt.Errorf("apply did not correct the drifted partition name: %q", n.ServicePartitionName)
					}
					return nil
				},
			},
			{ // out-of-band uninstall: the refresh drops the node and the plan recreates it
				PreConfig:        func() { _ = l.Env.Do(func(e *model.Env) error { e.UninstallMIM(e.Host(model.App1)); return nil }) },
				Config:           l.ProviderHCL() + renamed.hcl(),
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionCreate),
				Check:            noRejectedScripts(l),
			},
		},
	})
}

func TestAccMIMServiceNode_unreachableHostKeepsState(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	cfg := l.ProviderHCL() + mimNodeConfig{Host: model.App1, Password: l.Seed.MIMSvcPassword}.hcl()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig:   func() { _ = l.Env.SetReachable(model.App1, false) },
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)MIM Service Node Not Read.*priv-app1\.priv\.contoso\.test.*could not be\s+reached`),
			},
			{ // the host is back: the state was kept, so nothing to do
				PreConfig:        func() { _ = l.Env.SetReachable(model.App1, true) },
				Config:           cfg,
				ConfigPlanChecks: plannedAction("bastion_mim_service_node.node", plancheck.ResourceActionNoop),
			},
		},
	})
}

// The seed's recovery procedure: node B's server is lost; the configuration
// moves B to a new server keeping B's service name and partition name; one
// apply builds it; the next plan is empty; and B's pending requests can be
// completed by the new node.
func TestAccMIMServiceNode_recovery(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	a := mimNodeConfig{Name: "a", Host: model.App1, Partition: "PAM.PRIV.CONTOSO.TEST", Password: l.Seed.MIMSvcPassword}
	b := mimNodeConfig{Name: "b", Host: model.App2, Partition: "PAM.PRIV.CONTOSO.TEST", Password: l.Seed.MIMSvcPassword}
	before := l.ProviderHCL() + a.hcl() + b.hcl()
	movedB := b
	movedB.Host = model.App3
	movedB.ServiceName = "PRIV-APP2" // the lost node's service name
	declareLost := strings.Replace(l.ProviderHCL(), "provider \"bastion\" {", "provider \"bastion\" {\n  lost_hosts = [\""+model.App2+"\"]", 1)
	after := declareLost + a.hcl() + movedB.hcl()

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: before,
				Check: func(*terraform.State) error {
					// Requests accepted by B: bound to B's partition and service name.
					for _, id := range []string{"req-1", "req-2"} {
						if err := l.Env.AddRequest(model.App2, id); err != nil {
							return err
						}
					}
					// A shares the partition but not the service name: it cannot finish B's workflows.
					done, err := l.Env.CompleteRequests(model.App1)
					if err != nil {
						return err
					}
					if len(done) != 0 {
						return fmt.Errorf("node A completed B's workflows %v; the lab must bind them to B's service name", done)
					}
					return nil
				},
			},
			{ // B's server is gone for good; without the declaration the plan stops, keeping B in state
				PreConfig:   func() { _ = l.Env.SetReachable(model.App2, false) },
				Config:      l.ProviderHCL() + a.hcl() + movedB.hcl(),
				ExpectError: regexp.MustCompile(`MIM Service Node Not Read`),
			},
			{ // the operator declares it lost and moves B: one apply rebuilds B on the new server
				Config: after,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("bastion_mim_service_node.b", plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction("bastion_mim_service_node.a", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("bastion_mim_service_node.b", tfjsonpath.New("host"), knownvalue.StringExact(model.App3)),
					statecheck.ExpectKnownValue("bastion_mim_service_node.b", tfjsonpath.New("service_name"), knownvalue.StringExact("PRIV-APP2")),
					statecheck.ExpectKnownValue("bastion_mim_service_node.b", tfjsonpath.New("service_partition_name"), knownvalue.StringExact("PAM.PRIV.CONTOSO.TEST")),
				},
				Check: func(*terraform.State) error {
					n, err := mimNames(l, model.App3)
					if err != nil {
						return err
					}
					if n.ServiceName != "PRIV-APP2" || strings.ToUpper(n.ServicePartitionName) != "PAM.PRIV.CONTOSO.TEST" {
						return fmt.Errorf("new node's config file reads %+v", n)
					}
					done, err := l.Env.CompleteRequests(model.App3)
					if err != nil {
						return err
					}
					if len(done) != 2 || len(l.Env.PendingRequests()) != 0 {
						return fmt.Errorf("new node completed %v, pending %v; want req-1 and req-2 completed", done, l.Env.PendingRequests())
					}
					return nil
				},
			},
			{ // the next plan is empty
				Config:   after,
				PlanOnly: true,
			},
		},
	})
}

// Hostile strings in every free-text attribute reach the lab as data: the
// config file and the installer's properties hold them byte for byte, and the
// lab rejects no script.
func TestAccMIMServiceNode_hostileStrings(t *testing.T) {
	skipUnlessAcc(t)
	hostile := `x'"; Remove-Item C:\ -Recurse; $(Stop-Computer) ` + "`whoami`" + ` & | > < {{.}} %s -EncodedCommand`
	password := `P@ss'"; $(Invoke-Expression 'calc') ` + "`n" + `; exit 0 #`
	installer := `C:\Sources\it's $(calc) ` + "`" + `; & {x}\Service and Portal.msi`
	l := startLab(t)
	_ = l.Env.Do(func(e *model.Env) error {
		e.Credentials[strings.ToLower(model.MIMSvcUser)] = password
		e.Host(model.App1).WriteFile(installer, []byte("simulated MSI"))
		return nil
	})
	// The attributes with a grammar (validated at plan) get the nastiest
	// values their grammar allows: $ and # for PowerShell, ' for quoting.
	mail, email, database := "mail-01.corp.contoso.com", "o'brien+$pam@corp.contoso.com", "FIM$Service#1"
	cfg := mimNodeConfig{
		Host: model.App1, Password: password, Installer: installer,
		ServiceName: hostile, Partition: strings.ToUpper(hostile), Mail: mail, Email: email, Database: database,
	}
	addr := "bastion_mim_service_node.node"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: l.ProviderHCL() + cfg.hcl(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("service_name"), knownvalue.StringExact(hostile)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("sql_database"), knownvalue.StringExact(database)),
				},
				Check: resource.ComposeTestCheckFunc(
					noRejectedScripts(l),
					func(*terraform.State) error {
						n, err := mimNames(l, model.App1)
						if err != nil {
							return err
						}
						if n.ServiceName != hostile || n.ServicePartitionName != strings.ToUpper(hostile) {
							return fmt.Errorf("config file holds %+v", n)
						}
						return l.Env.Do(func(e *model.Env) error {
							p := e.Host(model.App1).Products[model.MIMProductCode]
							for k, want := range map[string]string{"MAIL_SERVER": mail, "SERVICE_ACCOUNT_EMAIL": email, "SQLSERVER_DATABASE": database} {
								if p.Properties[k] != want {
									return fmt.Errorf("installer property %s = %q, want %q as data", k, p.Properties[k], want)
								}
							}
							return nil
						})
					},
				),
			},
		},
	})
}

// No password reaches the state, the plan, or a TF_LOG=trace log. The
// credentials arrive as a pipeline gives them: the provider's through BASTION_*
// environment variables, the service account's through an ephemeral variable.
func TestAccMIMServiceNode_secretsStayOut(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	logFile := logTo(t, "trace")
	header := providerFromEnv(t, l) + secretVariables("mim_password")
	rotated := model.RandomPassword()
	secrets := secretsOf(l.Seed.MIMSvcPassword, l.Seed.AdminPassword, l.Seed.SQLPassword, rotated)
	cfg := func(version int) string {
		return header + strings.Replace(mimNodeConfig{Host: model.App1, Password: "PLACEHOLDER", Version: version}.hcl(), `"PLACEHOLDER"`, "var.mim_password", 1)
	}
	planHasNoSecret := secrets.plan()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           cfg(1),
				ConfigVariables:  config.Variables{"mim_password": config.StringVariable(l.Seed.MIMSvcPassword)},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{planHasNoSecret}},
			},
			{ // rotate: the version bump hands FIMService the new password in place
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { e.Credentials[strings.ToLower(model.MIMSvcUser)] = rotated; return nil })
				},
				Config:          cfg(2),
				ConfigVariables: config.Variables{"mim_password": config.StringVariable(rotated)},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planHasNoSecret, plancheck.ExpectResourceAction("bastion_mim_service_node.node", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					secrets.state,
					func(*terraform.State) error {
						if ev := labEvents(l, "service-start-failed", ""); len(ev) > 0 {
							return fmt.Errorf("FIMService failed to log on after the rotation: %+v", ev[0])
						}
						return nil
					},
				),
			},
		},
	})
	// mim_read shows the WinRM adapter's script runs: the tflog bridge is wired.
	secrets.traceLog(t, logFile, "mim_read")
}

func TestAccMIMServiceNode_planTimeErrors(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pw := l.Seed.MIMSvcPassword
	cases := map[string]struct {
		cfg  mimNodeConfig
		want string
	}{
		"alias as host":      {mimNodeConfig{Host: model.MIMAlias, Password: pw}, `(?s)Node Addressed By Its Alias.*load\s+balancer`},
		"short host name":    {mimNodeConfig{Host: "priv-app1", Password: pw}, `(?s)host.*fully\s+qualified\s+domain\s+name`},
		"relative installer": {mimNodeConfig{Host: model.App1, Password: pw, Installer: `Sources\mim.msi`}, `(?s)installer_path.*absolute\s+Windows\s+path`},
		"multi-line name":    {mimNodeConfig{Host: model.App1, Password: pw, ServiceName: "a\nb"}, `(?s)service_name.*one\s+line`},
		"domain controller":  {mimNodeConfig{Host: model.DC1, Password: pw}, `(?s)HA Rule HA-4 Violated.*priv-dc1\.priv\.contoso\.test\s+is\s+a\s+domain\s+controller`},
		"sql server port":    {mimNodeConfig{Host: model.App1, Password: pw, SQLServer: "priv-sql,1433"}, `(?s)sql_server.*host\s+part.*network\s+name`},
		"sql database":       {mimNodeConfig{Host: model.App1, Password: pw, Database: "FIM Service"}, `(?s)sql_database.*not\s+a\s+regular\s+SQL\s+Server\s+identifier`},
		"e-mail":             {mimNodeConfig{Host: model.App1, Password: pw, Email: "MIM <svc-mim@contoso.com>"}, `(?s)service_account_email.*not\s+an\s+e-mail\s+address`},
		"mail server url":    {mimNodeConfig{Host: model.App1, Password: pw, Mail: "smtp://mail.contoso.com"}, `(?s)mail_server.*invalid\s+label.*mail\s+server's\s+DNS\s+host\s+name`},
	}
	expectPlanErrors(t, l, cases)
}

// restartHCL is a MIM node, the seed's FCI (imported) and bastion_topology
// fed with both start times; trigger is the value of restart_triggers.sql.
func restartHCL(l *lab.Lab, agentPw, trigger string) string {
	node := strings.Replace(mimNodeConfig{Host: model.App1, Password: l.Seed.MIMSvcPassword}.hcl(), "}\n",
		"  restart_triggers = { sql = "+trigger+" }\n}\n", 1)
	return l.ProviderHCL() + fmt.Sprintf(`
import {
  to = bastion_sql_failover_cluster_instance.fci
  id = %q
}
`, model.SQLNetwork) + baseFCI(agentPw, model.App1, model.App2).hcl() + node + fmt.Sprintf(`
data "bastion_topology" "t" {
  domain = { dns_name = %q, forest_functional_level = 7 }
  domain_controllers = [{ host = %q }, { host = %q }]
  sql = {
    network_name = bastion_sql_failover_cluster_instance.fci.network_name
    clustered    = true
    nodes        = bastion_sql_failover_cluster_instance.fci.nodes
    started_at   = bastion_sql_failover_cluster_instance.fci.started_at
  }
  mim_nodes = [{
    host               = bastion_mim_service_node.node.host
    service_started_at = bastion_mim_service_node.node.fim_service_started_at
  }]
  ha_functions = []
  enforce      = false
}
`, model.DomainDNS, model.DC1, model.DC2)
}

// staleHA8 matches the HA-8 violation for a MIM Service older than its SQL
// Server instance, naming the node and the instance.
var staleHA8 = knownvalue.ObjectPartial(map[string]knownvalue.Check{
	"rule_id": knownvalue.StringExact("HA-8"), "severity": knownvalue.StringExact("warning"),
	"hosts":     exactStrings(model.App1, model.SQLNetwork),
	"attribute": knownvalue.StringExact("mim_nodes[0].service_started_at"),
	"message":   knownvalue.StringRegexp(regexp.MustCompile(`before the SQL Server instance ` + regexp.QuoteMeta(model.SQLNetwork) + ` last came online`)),
})

// noHA8 checks that the topology reports no HA-8 violation at all.
func noHA8(addr string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attributesOf(s, addr)
		if err != nil {
			return err
		}
		for k, v := range a {
			if strings.HasPrefix(k, "violations.") && strings.HasSuffix(k, ".rule_id") && v == "HA-8" {
				return fmt.Errorf("%s = HA-8: %s", k, a[strings.TrimSuffix(k, "rule_id")+"message"])
			}
		}
		return nil
	}
}

// After a failover of its SQL Server instance, the MIM Service started
// before it is flagged (bastion_topology HA-8, and a plan warning on the
// node); a restart_triggers change restarts the services in place and
// clears it. Tied to the FCI's started_at, the next failover plans the
// restart by itself.
func TestAccMIMServiceNode_restartAfterSQLRecovery(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	agentPw := model.RandomPassword()
	_ = l.Env.Do(func(e *model.Env) error { e.Credentials[strings.ToLower(fciAgent)] = agentPw; return nil })
	addr, topo := "bastion_mim_service_node.node", "data.bastion_topology.t"
	static := restartHCL(l, agentPw, `"initial"`)
	tied := restartHCL(l, agentPw, "bastion_sql_failover_cluster_instance.fci.started_at")
	failover := func(to string) func() {
		return func() {
			if err := l.Env.Failover(model.SQLNetwork, to, model.FailoverOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var starts int
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{ // the node starts after the instance came online: nothing to say
				Config: static,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fim_service_started_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`))),
					statecheck.ExpectKnownValue("bastion_sql_failover_cluster_instance.fci", tfjsonpath.New("started_at"), knownvalue.NotNull()),
				},
				Check: resource.ComposeTestCheckFunc(noHA8(topo), func(*terraform.State) error { starts = fimStarts(l, model.App1); return nil }),
			},
			{ // the instance fails over: the next plan has nothing to change, and the topology names the node and the instance
				PreConfig:        failover(model.App2),
				Config:           static,
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionNoop),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(topo, tfjsonpath.New("violations"), knownvalue.ListExact([]knownvalue.Check{staleHA8})),
				},
				Check: func(*terraform.State) error {
					if n := fimStarts(l, model.App1); n != starts {
						return fmt.Errorf("FIMService started %d times, want %d: nothing may restart it yet", n, starts)
					}
					return nil
				},
			},
			{ // changing the trigger restarts the services in place and clears it
				Config:           tied,
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeTestCheckFunc(noHA8(topo), noRejectedScripts(l), func(*terraform.State) error {
					if n := fimStarts(l, model.App1); n != starts+1 {
						return fmt.Errorf("FIMService started %d times, want %d", n, starts+1)
					}
					return l.Env.Do(func(e *model.Env) error {
						for _, name := range []string{model.PamMonitoring, model.PamComponent} {
							if s := e.Host(model.App1).Service(name); s.Starts != 2 || s.Status != "Running" {
								return fmt.Errorf("%s: %d starts, %s; want restarted once and running", name, s.Starts, s.Status)
							}
						}
						return nil
					})
				}),
			},
			{ // tied to started_at, the next failover plans the restart by itself
				PreConfig:          failover(model.App1),
				Config:             tied,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
			},
			{
				Config: tied,
				Check: resource.ComposeTestCheckFunc(noHA8(topo), func(*terraform.State) error {
					if n := fimStarts(l, model.App1); n != starts+2 {
						return fmt.Errorf("FIMService started %d times, want %d", n, starts+2)
					}
					return nil
				}),
			},
			// import: restart_triggers cannot be read back
			importStep(tied, addr, model.App1,
				"installer_path", "service_account_password_wo_version", "restart_triggers", "mail_server", "service_account_email"),
		},
	})
}

// The node's plan warns when FIMService started before its SQL Server
// instance last came online, once per walk for the instance, and not when
// the plan restarts it already or the provider's sql settings name another
// server.
func TestMIMServiceNodeStaleServiceWarning(t *testing.T) {
	l := startLab(t)
	ctx := context.Background()
	data := labProviderData(t, l)
	sqlm := &sqlModel{
		Server: types.StringValue(model.SQLNetwork), Auth: types.StringValue("sql"), Username: types.StringValue(model.SQLLoginUser),
		Password: types.StringValue(l.Seed.SQLPassword), CAFile: types.StringValue(l.CAFile),
	}
	if d := configureSQL(ctx, sqlm, l.ConnectTo(), data); d.HasError() {
		t.Fatalf("%v", d)
	}
	r := &mimServiceNodeResource{configuredResource{data}}
	var sqlStarted time.Time
	_ = l.Env.Do(func(e *model.Env) error { sqlStarted = e.SQLInstanceByName(model.SQLNetwork).StartedAt; return nil })
	node := func(fimStarted time.Time, triggers types.Map) *mimServiceNodeResourceModel {
		return &mimServiceNodeResourceModel{Host: types.StringValue(model.App1), SQLServer: newCaseInsensitiveString(model.SQLNetwork),
			FIMServiceStartedAt: timeValue(fimStarted), RestartTriggers: triggers}
	}
	one := types.MapValueMust(types.StringType, map[string]attr.Value{"sql": types.StringValue("1")})
	two := types.MapValueMust(types.StringType, map[string]attr.Value{"sql": types.StringValue("2")})
	stale, fresh := node(sqlStarted.Add(-time.Minute), one), node(sqlStarted.Add(time.Second), one)

	l.Env.ResetCounters()
	var diags diag.Diagnostics
	r.warnStaleService(ctx, stale, stale, &diags)
	r.warnStaleService(ctx, fresh, fresh, &diags)
	if len(diags) != 1 || diags[0].Summary() != "MIM Service Started Before Its SQL Server Instance" ||
		!strings.Contains(diags[0].Detail(), model.App1) || !strings.Contains(diags[0].Detail(), model.SQLNetwork) || !strings.Contains(diags[0].Detail(), "restart_triggers") {
		t.Fatalf("diagnostics %v, want one warning naming %s and %s", diags, model.App1, model.SQLNetwork)
	}
	if n := l.Env.CallCount(model.TDS, ""); n != 1 {
		t.Fatalf("two nodes' plans cost %d TDS requests, want 1", n)
	}
	diags = nil
	r.warnStaleService(ctx, node(sqlStarted.Add(-time.Minute), two), stale, &diags) // the plan restarts it
	other := node(sqlStarted.Add(-time.Minute), one)
	other.SQLServer = newCaseInsensitiveString("other-sql.priv.contoso.test")
	r.warnStaleService(ctx, other, other, &diags)
	if len(diags) != 0 {
		t.Fatalf("diagnostics %v, want none", diags)
	}
}

// An installer that ends with 3010 (restart required) has installed the MIM
// Service: the apply succeeds with the "Restart Required" warning the user
// sees, the node is not restarted (the stated policy: the provider never
// restarts a MIM Service node itself), the install runs once, and the next
// plan is empty.
func TestAccMIMServiceNode_installRestartRequired(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t, func(l *lab.Lab) error { return l.Env.SetInstallRebootRequired(model.App1, true) })
	logFile := logTo(t, "warn")
	addr := "bastion_mim_service_node.node"
	cfg := l.ProviderHCL() + mimNodeConfig{Host: model.App1, Password: l.Seed.MIMSvcPassword}.hcl()
	events := func(kind string) int { return len(labEvents(l, kind, model.Key(model.App1))) }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fim_service_state"), knownvalue.StringExact("Running")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("service_partition_name"), knownvalue.NotNull()),
				},
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error {
						if n := events("msi-install"); n != 1 {
							return fmt.Errorf("the installer ran %d times, want once (3010 is not retried)", n)
						}
						if n := events("restart-pending"); n != 1 {
							return fmt.Errorf("the lab recorded %d pending restarts, want the installer's one", n)
						}
						if n := events("restart"); n != 0 {
							return fmt.Errorf("%s was restarted %d times: the provider never restarts a MIM Service node itself", model.App1, n)
						}
						return nil
					},
					expectWarningLogged(logFile, "Restart Required", model.App1, "exit code 3010", "never restarts a MIM Service node itself"),
					noRejectedScripts(l),
				),
			},
			{ // the restart is the operator's: nothing to plan
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: func(*terraform.State) error {
					if n := events("msi-install"); n != 1 {
						return fmt.Errorf("the installer ran %d times after an empty plan, want once", n)
					}
					return nil
				},
			},
		},
	})
}

// expectWarningLogged finds, in the provider's log (TF_ACC_LOG_PATH), the
// warning diagnostic Terraform shows the user: its summary, and a detail
// holding every one of parts.
func expectWarningLogged(logFile, summary string, parts ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		raw, err := os.ReadFile(logFile)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if !strings.Contains(line, "Response contains warning diagnostic") || !strings.Contains(line, `diagnostic_summary="`+summary+`"`) {
				continue
			}
			missing := ""
			for _, p := range parts {
				if !strings.Contains(line, p) {
					missing = p
					break
				}
			}
			if missing == "" {
				return nil
			}
			return fmt.Errorf("the %q warning lacks %q: %s", summary, missing, line)
		}
		return fmt.Errorf("no %q warning in the provider's log %s", summary, logFile)
	}
}
