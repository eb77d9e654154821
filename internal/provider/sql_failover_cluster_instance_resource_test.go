package provider

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

const (
	fciAddr       = "bastion_sql_failover_cluster_instance.fci"
	fciGMSA       = `PRIV\gmsa-sql$`
	fciAgent      = `PRIV\svc-sqlagent`
	fciSQLAdmins  = `PRIV\SQL Admins`
	fciBackupUNC  = `\\priv-fs.priv.contoso.test\sqlbackup$\MSSQL`
	fciClusterNet = "Cluster Network 1"
)

// fciConfig renders a bastion_sql_failover_cluster_instance block.
type fciConfig struct {
	Network                         string
	Nodes                           []string
	HA                              string // "" = unset
	DataDir, LogDir, TempDir, BkDir string
	Disks                           []string
	IP, ClusterNetwork              string // "" = DEFAULT
	Group                           string
	Sysadmins                       []string
	SQLAccount, SQLPassword         string
	AgentAccount, AgentPassword     string
	Media                           string
	Features                        []string
}

// fciHCLString quotes s for HCL: Go escapes, plus $${ and %%{ so that no
// template sequence in a hostile value is interpreted.
func fciHCLString(s string) string {
	q := strconv.Quote(s)
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(q)
}

func fciHCLList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fciHCLString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (c fciConfig) hcl() string {
	var b strings.Builder
	b.WriteString("resource \"bastion_sql_failover_cluster_instance\" \"fci\" {\n")
	attr := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %s = %s\n", k, fciHCLString(v))
		}
	}
	attr("network_name", c.Network)
	fmt.Fprintf(&b, "  nodes = %s\n", fciHCLList(c.Nodes))
	if c.HA != "" {
		fmt.Fprintf(&b, "  ha = %s\n", c.HA)
	}
	attr("data_directory", c.DataDir)
	attr("log_directory", c.LogDir)
	attr("tempdb_directory", c.TempDir)
	attr("backup_directory", c.BkDir)
	if len(c.Disks) > 0 {
		fmt.Fprintf(&b, "  cluster_disks = %s\n", fciHCLList(c.Disks))
	}
	if c.IP != "" {
		fmt.Fprintf(&b, "  ip_addresses = [{ address = %s, cluster_network = %s, subnet_mask = \"255.255.255.0\" }]\n", fciHCLString(c.IP), fciHCLString(c.ClusterNetwork))
	}
	attr("cluster_group_name", c.Group)
	fmt.Fprintf(&b, "  sysadmin_accounts = %s\n", fciHCLList(c.Sysadmins))
	attr("sql_service_account", c.SQLAccount)
	attr("sql_service_password_wo", c.SQLPassword)
	if c.SQLPassword != "" {
		b.WriteString("  sql_service_password_wo_version = 1\n")
	}
	attr("agent_service_account", c.AgentAccount)
	attr("agent_service_password_wo", c.AgentPassword)
	if c.AgentPassword != "" {
		b.WriteString("  agent_service_password_wo_version = 1\n")
	}
	attr("setup_media_path", c.Media)
	if c.Features != nil {
		fmt.Fprintf(&b, "  features = %s\n", fciHCLList(c.Features))
	}
	b.WriteString("}\n")
	return b.String()
}

// startFCILab starts a lab without the seed's FCI, with the agent account's
// password known to the directory.
func startFCILab(t *testing.T, agentPassword string) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Options{Dir: t.TempDir(), NoSQL: true})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(l.Close)
	watchLab(t, l)
	_ = l.Env.Do(func(e *model.Env) error { e.Credentials[strings.ToLower(fciAgent)] = agentPassword; return nil })
	return l
}

// baseFCI is the lifecycle's instance: a gMSA for SQL Server, a domain
// account for the Agent, data and logs on cluster disks, backups on a share.
func baseFCI(agentPassword string, nodes ...string) fciConfig {
	return fciConfig{
		Network: model.SQLNetwork, Nodes: nodes,
		DataDir: `E:\MSSQL`, LogDir: `F:\MSSQL\Log`, BkDir: fciBackupUNC, Disks: []string{"Cluster Disk 1", "Cluster Disk 2"},
		IP: "10.0.0.50", ClusterNetwork: fciClusterNet,
		Sysadmins:  []string{model.AdminUser, fciSQLAdmins},
		SQLAccount: fciGMSA, AgentAccount: fciAgent, AgentPassword: agentPassword,
		Media: model.DefaultSQLMediaPath,
	}
}

// fciRuns returns the instance's setup runs (secrets are never recorded).
func fciRuns(l *lab.Lab) []model.SQLSetupRun { return l.Env.SQLSetupRuns(model.SQLNetwork) }

// lastRunIs checks the newest setup run's action, host and success.
func lastRunIs(l *lab.Lab, action, host string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		runs := fciRuns(l)
		if len(runs) == 0 {
			return fmt.Errorf("no setup run recorded")
		}
		r := runs[len(runs)-1]
		if r.Action != action || r.Host != model.Key(host) || r.ExitCode != 0 {
			return fmt.Errorf("last setup run: %s on %s exit %d (%s); want %s on %s exit 0", r.Action, r.Host, r.ExitCode, r.Message, action, host)
		}
		for k := range r.Params {
			if model.IsSecretSetting(k) {
				return fmt.Errorf("the lab recorded the secret setting %s", k)
			}
		}
		return nil
	}
}

// labNodes checks the instance's nodes in the lab (owner marked *).
func labNodes(l *lab.Lab, want string) resource.TestCheckFunc {
	return labCheck(l, func(e *model.Env) error {
		s := e.SQLInstanceByName(model.SQLNetwork)
		if s == nil {
			return fmt.Errorf("no instance %s in the lab", model.SQLNetwork)
		}
		var got []string
		for _, n := range s.Nodes {
			name := strings.SplitN(n.Host, ".", 2)[0]
			if n.Owner {
				name += "*"
			}
			got = append(got, name)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != want {
			return fmt.Errorf("lab nodes %v, want %s", got, want)
		}
		return nil
	})
}

// probeSQL logs in once, without retries, as the provider's lab login.
func probeSQL(l *lab.Lab) error {
	c, err := sqlserver.New(sqlserver.Config{
		Server: model.SQLNetwork, Username: model.SQLLoginUser, Password: l.Seed.SQLPassword,
		CACertPEM: l.CA.CertPEM(), ConnectTo: l.ConnectTo(), Retry: transport.RetryPolicy{Attempts: 1},
	})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	_, err = c.ServerInfo(context.Background())
	return err
}

// refreshCost is what one refresh of the instance cost, by protocol.
type refreshCost struct{ tds, winrm, ldap int }

func (c refreshCost) String() string {
	return fmt.Sprintf("%d TDS, %d WinRM, %d LDAP", c.tds, c.winrm, c.ldap)
}

func measureRefresh(l *lab.Lab, into *refreshCost) resource.TestCheckFunc {
	return func(*terraform.State) error {
		*into = refreshCost{tds: l.Env.CallCount(model.TDS, ""), winrm: l.Env.CallCount(model.WinRM, ""), ldap: l.Env.CallCount(model.LDAP, "")}
		if *into != (refreshCost{tds: 1}) {
			return fmt.Errorf("a refresh of the instance cost %s; want 1 TDS batch and nothing else", into)
		}
		return nil
	}
}

func TestAccSQLFailoverClusterInstance_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	agentPw := model.RandomPassword()
	l := startFCILab(t, agentPw)
	two := l.ProviderHCL() + baseFCI(agentPw, model.App1, model.App2).hcl()
	three := l.ProviderHCL() + baseFCI(agentPw, model.App1, model.App2, model.App3).hcl()
	firstRemoved := l.ProviderHCL() + baseFCI(agentPw, model.App2, model.App3).hcl()
	var plain, failover refreshCost

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			err := l.Env.Do(func(e *model.Env) error {
				if e.SQL[model.Key(model.SQLNetwork)] != nil {
					return fmt.Errorf("the instance still exists after destroy")
				}
				return nil
			})
			if err != nil {
				return err
			}
			// The last setup runs: RemoveNode on the passive node, then on the owner.
			var removes []string
			for _, ev := range labEvents(l, "sql-setup", "") {
				if strings.HasPrefix(ev.Detail, "/ACTION=RemoveNode exit=0") {
					removes = append(removes, ev.Host)
				}
			}
			if n := len(removes); n < 2 || removes[n-2] != model.Key(model.App3) || removes[n-1] != model.Key(model.App2) {
				return fmt.Errorf("RemoveNode runs %v: want priv-app3 then the owner priv-app2 last", removes)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // install on two nodes: InstallFailoverCluster on the first, AddNode on the second
				Config: two,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("id"), knownvalue.StringExact(model.SQLNetwork)),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("nodes"), exactStrings(model.App1, model.App2)),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("current_owner"), knownvalue.StringExact(model.App1)),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("is_clustered"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("cluster_group_name"), knownvalue.StringExact("SQL Server (MSSQLSERVER)")),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("version"), knownvalue.StringExact(model.DefaultSQLVersion)),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("shared_paths"), exactStrings(`E:\`, `F:\`)),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("node_status"), knownvalue.MapExact(map[string]knownvalue.Check{
						model.App1: knownvalue.StringExact("up"), model.App2: knownvalue.StringExact("up"),
					})),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("agent_service_password_wo"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					noRejectedScripts(l),
					labNodes(l, "priv-app1*,priv-app2"),
					func(*terraform.State) error {
						runs := fciRuns(l)
						if len(runs) != 2 || runs[0].Action != "InstallFailoverCluster" || runs[0].Host != model.Key(model.App1) ||
							runs[1].Action != "AddNode" || runs[1].Host != model.Key(model.App2) {
							return fmt.Errorf("setup runs %+v", runs)
						}
						p := runs[0].Params
						want := map[string]string{
							"INSTANCENAME": "MSSQLSERVER", "FAILOVERCLUSTERNETWORKNAME": "PRIV-SQL", "FEATURES": "FULLTEXT,SQLENGINE",
							"FAILOVERCLUSTERIPADDRESSES": "IPv4;10.0.0.50;Cluster Network 1;255.255.255.0", "FAILOVERCLUSTERGROUP": "SQL Server (MSSQLSERVER)",
							"FAILOVERCLUSTERDISKS": "Cluster Disk 1,Cluster Disk 2", "INSTALLSQLDATADIR": `E:\MSSQL`, "SQLUSERDBLOGDIR": `F:\MSSQL\Log`,
							"SQLBACKUPDIR": fciBackupUNC, "SQLSVCACCOUNT": fciGMSA, "AGTSVCACCOUNT": fciAgent,
							"SQLSYSADMINACCOUNTS": model.AdminUser + "," + fciSQLAdmins,
						}
						for k, v := range want {
							if got := strings.Join(p[k], ","); got != v {
								return fmt.Errorf("InstallFailoverCluster /%s=%q, want %q", k, got, v)
							}
						}
						if _, ok := runs[1].Params["FEATURES"]; ok {
							return fmt.Errorf("AddNode was given FEATURES: an FCI's features are fixed at install")
						}
						return nil
					},
				),
			},
			{ // a third node is added in place: AddNode on it, never a rebuild
				Config: three,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(fciAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(fciAddr, tfjsonpath.New("nodes"), exactStrings(model.App1, model.App2, model.App3)),
				}},
				Check: resource.ComposeTestCheckFunc(lastRunIs(l, "AddNode", model.App3), labNodes(l, "priv-app1*,priv-app2,priv-app3")),
			},
			{ // and removed in place: RemoveNode on it
				Config:           two,
				ConfigPlanChecks: plannedAction(fciAddr, plancheck.ResourceActionUpdate),
				Check:            resource.ComposeTestCheckFunc(lastRunIs(l, "RemoveNode", model.App3), labNodes(l, "priv-app1*,priv-app2")),
			},
			{ // what a refresh costs: one TDS batch through the network name
				PreConfig:    func() { l.Env.ResetCounters() },
				RefreshState: true,
				Check:        measureRefresh(l, &plain),
			},
			{ // a plan without changes costs the same: the refresh's batch, no directory lookup, no script
				PreConfig: func() { l.Env.ResetCounters() },
				Config:    two,
				PlanOnly:  true,
			},
			{ // a failover during the refresh: logins fail for a while, the adapter retries, the new owner is no drift
				PreConfig: func() {
					// The plan-only step above planned twice (without and with a refresh).
					if got := (refreshCost{tds: l.Env.CallCount(model.TDS, ""), winrm: l.Env.CallCount(model.WinRM, ""), ldap: l.Env.CallCount(model.LDAP, "")}); got != (refreshCost{tds: 1}) {
						t.Errorf("two plans without changes cost %s; want only the refresh's 1 TDS batch", got)
					}
					if err := l.Env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{FailedLogins: 3}); err != nil {
						t.Fatal(err)
					}
					l.Env.ResetCounters()
				},
				RefreshState:      true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeTestCheckFunc(
					measureRefresh(l, &failover),
					resource.TestCheckResourceAttr(fciAddr, "current_owner", model.App2),
					func(*terraform.State) error {
						// The failed logins were spent by the refresh: a single login now succeeds.
						if err := probeSQL(l); err != nil {
							return fmt.Errorf("the refresh did not go through the failed logins: %w", err)
						}
						return nil
					},
				),
			},
			{ // a node that is down is still a node: a warning and node_status, no drift
				PreConfig: func() {
					if err := l.Env.SetSQLNodeStatus(model.SQLNetwork, model.App1, model.NodeDown); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState:      true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:             resource.TestCheckResourceAttr(fciAddr, "node_status."+model.App1, "down"),
			},
			{ // and back up
				PreConfig: func() {
					if err := l.Env.SetSQLNodeStatus(model.SQLNetwork, model.App1, model.NodeUp); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState: true,
				Check:        resource.TestCheckResourceAttr(fciAddr, "node_status."+model.App1, "up"),
			},
			// import by network name: nodes come from TDS
			importStep(two, fciAddr, model.SQLNetwork,
				"setup_media_path", "data_directory", "log_directory", "backup_directory", "cluster_disks", "ip_addresses",
				"features", "sysadmin_accounts", "sql_service_account", "agent_service_account", "agent_service_password_wo_version", "cluster_group_name"),
			{ // drift: a node evicted from the cluster is added back in place
				PreConfig: func() {
					if err := l.Env.EvictNode(model.App1); err != nil {
						t.Fatal(err)
					}
				},
				Config: two,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(fciAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(fciAddr, tfjsonpath.New("nodes"), exactStrings(model.App1, model.App2)),
				}},
				Check: resource.ComposeTestCheckFunc(lastRunIs(l, "AddNode", model.App1), labNodes(l, "priv-app1,priv-app2*"), noRejectedScripts(l)),
			},
			{ // an instance that is no longer clustered is replaced
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { e.SQLInstanceByName(model.SQLNetwork).Clustered = false; return nil })
				},
				Config:             two,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(fciAddr, plancheck.ResourceActionReplace),
				}},
			},
			{ // removing the first node (where it was installed) is in place too
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { e.SQLInstanceByName(model.SQLNetwork).Clustered = true; return nil })
				},
				Config:           firstRemoved,
				ConfigPlanChecks: plannedAction(fciAddr, plancheck.ResourceActionUpdate),
				Check:            resource.ComposeTestCheckFunc(lastRunIs(l, "RemoveNode", model.App1), labNodes(l, "priv-app2*,priv-app3")),
			},
		},
	})
	t.Logf("a refresh of bastion_sql_failover_cluster_instance cost %s; during a failover with 3 failed logins, %s", plain, failover)
}

// The seed's FCI, built outside Terraform, is imported by its network name;
// the first apply only records the settings TDS cannot show (no setup run,
// no replacement), and the next plan is empty.
func TestAccSQLFailoverClusterInstance_importExisting(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	agentPw := model.RandomPassword()
	_ = l.Env.Do(func(e *model.Env) error { e.Credentials[strings.ToLower(fciAgent)] = agentPw; return nil })
	cfg := l.ProviderHCL() + baseFCI(agentPw, model.App1, model.App2).hcl()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             cfg,
				ResourceName:       fciAddr,
				ImportState:        true,
				ImportStateId:      model.SQLNetwork,
				ImportStatePersist: true,
				ImportStateCheck: func(s []*terraform.InstanceState) error {
					if len(s) != 1 || s[0].Attributes["nodes.0"] != model.App1 || s[0].Attributes["nodes.1"] != model.App2 || s[0].Attributes["current_owner"] != model.App1 {
						return fmt.Errorf("imported %+v", s)
					}
					return nil
				},
			},
			{
				Config:           cfg,
				ConfigPlanChecks: plannedAction(fciAddr, plancheck.ResourceActionUpdate),
				Check: func(*terraform.State) error {
					if runs := fciRuns(l); len(runs) != 0 {
						return fmt.Errorf("recording an imported instance ran setup: %+v", runs)
					}
					return nil
				},
			},
			{ // from now on an install-time setting is a rebuild again
				Config:             strings.Replace(cfg, `F:\\MSSQL\\Log`, `G:\\MSSQL\\Log`, 1),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(fciAddr, plancheck.ResourceActionReplace),
				}},
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

func TestAccSQLFailoverClusterInstance_planTimeErrors(t *testing.T) {
	skipUnlessAcc(t)
	agentPw := model.RandomPassword()
	l := startFCILab(t, agentPw)
	with := func(f func(c *fciConfig)) fciConfig {
		c := baseFCI(agentPw, model.App1, model.App2)
		f(&c)
		return c
	}
	cases := map[string]struct {
		cfg  fciConfig
		want string
	}{
		"one node with ha": {with(func(c *fciConfig) { c.Nodes = []string{model.App1} }),
			`(?s)HA Rule HA-3 Violated.*nodes is \["priv-app1\.priv\.contoso\.test"\].*at\s+least\s+two\s+nodes`},
		"duplicate nodes": {with(func(c *fciConfig) { c.Nodes = []string{model.App1, "PRIV-APP1.priv.contoso.test"} }),
			`(?s)Duplicate Failover Cluster Node.*nodes\[1\] is\s+"PRIV-APP1\.priv\.contoso\.test"`},
		"node is a domain controller": {with(func(c *fciConfig) { c.Nodes = []string{model.DC1, model.App1} }),
			`(?s)HA Rule HA-3 Violated.*priv-dc1\.priv\.contoso\.test.*domain\s+controller`},
		"network name is a node": {with(func(c *fciConfig) { c.Network = model.App1 }),
			`(?s)Network Name Is A Node.*network_name is\s+"priv-app1\.priv\.contoso\.test"`},
		"data directory on the system drive": {with(func(c *fciConfig) { c.DataDir = `C:\MSSQL\Data` }),
			`(?s)Directory Not On Shared Storage.*data_directory is\s+"C:\\\\MSSQL\\\\Data".*system\s+drive`},
		"missing password for a domain account": {with(func(c *fciConfig) { c.AgentPassword = "" }),
			`(?s)Service Account Password Missing.*agent_service_account is\s+"PRIV\\\\svc-sqlagent"`},
		"password for a gMSA": {with(func(c *fciConfig) { c.SQLPassword = "x" }),
			`(?s)Password Given For A Managed Service Account.*sql_service_account is\s+"PRIV\\\\gmsa-sql\$"`},
		"features without the engine": {with(func(c *fciConfig) { c.Features = []string{"FULLTEXT"} }),
			`(?s)Database Engine Not In Features.*features is \[FULLTEXT\]`},
		"read through another name": {with(func(c *fciConfig) { c.Network = "priv-sql2.priv.contoso.test" }),
			`(?s)SQL Server Connection Not Through The Network Name.*priv-sql2\.priv\.contoso\.test`},
	}
	expectPlanErrors(t, l, cases)
}

// A node known only at apply (here from terraform_data) is asked of the
// directory before setup runs (Terraform plans the resource again once the
// value is known, and Create asks again): a domain controller stops the
// apply with no setup run at all.
// Setup refuses a service account and a sysadmin group AD does not have, as
// on Windows: the error carries setup's exit code, its message and the tail
// of Summary.txt, and no instance is left in the lab.
func TestAccSQLFailoverClusterInstance_unknownAccountsRefused(t *testing.T) {
	skipUnlessAcc(t)
	agentPw := model.RandomPassword()
	l := startFCILab(t, agentPw)
	gmsa := baseFCI(agentPw, model.App1, model.App2)
	gmsa.SQLAccount = `PRIV\gmsa-missing$`
	group := baseFCI(agentPw, model.App1, model.App2)
	group.Sysadmins = []string{model.AdminUser, `PRIV\SQL Operators`}
	expectErrors(t, l.ProviderHCL(), false, map[string]errorCase{
		"gmsa": {gmsa.hcl(), `(?s)` + words("exit code -2068578304: The SQL Server service account 'PRIV\\gmsa-missing$' could not be used: The account name is invalid or does not exist.") +
			`.*` + words("Overall summary:")},
		"sysadmin group": {group.hcl(), `(?s)` + words("exit code -2068578304: The following error has occurred: Windows NT user or group 'PRIV\\SQL Operators' not found. Check the name again.") +
			`.*` + words("Overall summary:")},
	})
	t.Cleanup(func() {
		_ = l.Env.Do(func(e *model.Env) error {
			if e.SQLInstanceByName(model.SQLNetwork) != nil {
				t.Errorf("a refused setup left the instance %s", model.SQLNetwork)
			}
			return nil
		})
	})
}

func TestAccSQLFailoverClusterInstance_dcKnownOnlyAtApply(t *testing.T) {
	skipUnlessAcc(t)
	agentPw := model.RandomPassword()
	l := startFCILab(t, agentPw)
	cfg := baseFCI(agentPw, "NODE_FROM_DATA", model.App1).hcl()
	cfg = strings.Replace(cfg, `"NODE_FROM_DATA"`, "terraform_data.node.output", 1)
	expectError(t, l.ProviderHCL()+"resource \"terraform_data\" \"node\" {\n  input = \""+model.DC1+"\"\n}\n"+cfg, false, `(?s)HA Rule HA-3 Violated.*priv-dc1\.priv\.contoso\.test.*domain\s+controller`)
	if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
		t.Fatalf("setup ran on a domain controller: the lab saw %d WinRM calls", n)
	}
}

// Hostile strings in every free-text attribute reach setup as exact values:
// the lab records them byte for byte, accepts the passwords only if they
// arrive unchanged, and rejects no script. A sysadmin added later reaches
// SQL Server only as a TDS parameter.
func TestAccSQLFailoverClusterInstance_hostileStrings(t *testing.T) {
	skipUnlessAcc(t)
	const svcSQL = `PRIV\svc-sql`
	// No double quote in a password: setup's configuration file cannot hold one (refused at plan time).
	sqlPw := `P@ss'; $(Invoke-Expression 'calc') ` + "`n" + `; exit 0 # & | > \\`
	agentPw := `a'b\ c\\ ; $(Stop-Computer) ` + "`whoami`" + ` %PATH% {{.}} \`
	admin := `PRIV\o'b $(Stop) ` + "`w`" + ` & x` // within sAMAccountName's 20 characters
	laterAdmin := `PRIV\x') DROP LOGIN sa --`
	share := `\\priv-fs.priv.contoso.test\sql$\it's $(calc); ` + "`whoami`" + ` & {x}`
	media := `C:\Sources\it's $(calc); ` + "`x`" + ` & {y}`
	group := `SQL 'x' $(calc); ` + "`y`" + ` & {z}`
	network := `Net 'x' $(calc) ` + "`y`" + ` & {z}`
	l := startFCILab(t, agentPw)
	// Both sysadmins' accounts exist, as setup and CREATE LOGIN ... FROM WINDOWS require.
	for _, account := range []string{admin, laterAdmin} {
		if err := l.Env.AddDomainUser(model.DomainNB, strings.TrimPrefix(account, `PRIV\`), model.RandomPassword()); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.Env.Do(func(e *model.Env) error {
		e.Credentials[strings.ToLower(svcSQL)] = sqlPw
		for _, h := range []string{model.App1, model.App2} {
			e.Host(h).WriteFile(media+`\setup.exe`, model.SQLMedia(model.DefaultSQLVersion))
		}
		return nil
	})
	cfg := fciConfig{
		Network: model.SQLNetwork, Nodes: []string{model.App1, model.App2},
		DataDir: share + `\Data`, LogDir: share + `\Log`, TempDir: share + `\TempDB`, BkDir: share + `\Backup`,
		IP: "10.0.0.51", ClusterNetwork: network, Group: group,
		Sysadmins:  []string{model.AdminUser, admin},
		SQLAccount: svcSQL, SQLPassword: sqlPw, AgentAccount: fciAgent, AgentPassword: agentPw, Media: media,
	}
	later := cfg
	later.Sysadmins = []string{model.AdminUser, admin, laterAdmin}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: l.ProviderHCL() + cfg.hcl(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("data_directory"), knownvalue.StringExact(share+`\Data`)),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("cluster_group_name"), knownvalue.StringExact(group)),
					statecheck.ExpectKnownValue(fciAddr, tfjsonpath.New("sql_service_password_wo"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					noRejectedScripts(l),
					func(*terraform.State) error {
						runs := fciRuns(l)
						if len(runs) != 2 || runs[0].ExitCode != 0 || runs[1].ExitCode != 0 {
							return fmt.Errorf("setup runs %+v: the passwords did not arrive exactly", runs)
						}
						admins := append([]string(nil), runs[0].Params["SQLSYSADMINACCOUNTS"]...)
						sort.Strings(admins)
						wantAdmins := []string{admin, model.AdminUser}
						sort.Strings(wantAdmins)
						if strings.Join(admins, "\x00") != strings.Join(wantAdmins, "\x00") {
							return fmt.Errorf("SQLSYSADMINACCOUNTS = %q, want %q", admins, wantAdmins)
						}
						for k, want := range map[string]string{
							"INSTALLSQLDATADIR": share + `\Data`, "SQLUSERDBDIR": share + `\Data`, "SQLUSERDBLOGDIR": share + `\Log`,
							"SQLTEMPDBDIR": share + `\TempDB`, "SQLBACKUPDIR": share + `\Backup`, "FAILOVERCLUSTERGROUP": group,
							"FAILOVERCLUSTERIPADDRESSES": "IPv4;10.0.0.51;" + network + ";255.255.255.0",
						} {
							if got := runs[0].Params[k]; len(got) != 1 || got[0] != want {
								return fmt.Errorf("/%s = %q, want %q", k, got, want)
							}
						}
						return nil
					},
					labCheck(l, func(e *model.Env) error {
						if lg := e.SQLInstanceByName(model.SQLNetwork).Logins[strings.ToLower(admin)]; lg == nil || lg.Name != admin || !lg.IsSysadmin() {
							return fmt.Errorf("the hostile sysadmin account is not a sysadmin login by its exact name: %+v", lg)
						}
						return nil
					}),
				),
			},
			{ // a sysadmin added later: in place, over TDS, the name as a parameter
				PreConfig:        func() { l.TDS.ResetLog() },
				Config:           l.ProviderHCL() + later.hcl(),
				ConfigPlanChecks: plannedAction(fciAddr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeTestCheckFunc(
					tdsOnlyParameters(l, laterAdmin),
					labCheck(l, func(e *model.Env) error {
						if lg := e.SQLInstanceByName(model.SQLNetwork).Logins[strings.ToLower(laterAdmin)]; lg == nil || lg.Name != laterAdmin || !lg.IsSysadmin() {
							return fmt.Errorf("the added sysadmin is not a sysadmin login by its exact name: %+v", lg)
						}
						return nil
					}),
				),
			},
		},
	})
}

// No service password reaches the plan, the state or a TF_LOG=trace log,
// though both go to setup on every node.
func TestAccSQLFailoverClusterInstance_secretsStayOut(t *testing.T) {
	skipUnlessAcc(t)
	const svcSQL = `PRIV\svc-sql`
	agentPw, sqlPw := model.RandomPassword(), model.RandomPassword()
	l := startFCILab(t, agentPw)
	_ = l.Env.Do(func(e *model.Env) error { e.Credentials[strings.ToLower(svcSQL)] = sqlPw; return nil })
	logFile := logTo(t, "trace")
	c := baseFCI("AGENT_PLACEHOLDER", model.App1, model.App2)
	c.SQLAccount, c.SQLPassword = svcSQL, "SQL_PLACEHOLDER"
	cfg := strings.NewReplacer(`"AGENT_PLACEHOLDER"`, "var.agent_password", `"SQL_PLACEHOLDER"`, "var.sql_password").Replace(l.ProviderHCL()+c.hcl()) +
		secretVariables("agent_password", "sql_password")
	secrets := secretsOf(agentPw, sqlPw)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:           cfg,
			ConfigVariables:  config.Variables{"agent_password": config.StringVariable(agentPw), "sql_password": config.StringVariable(sqlPw)},
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{secrets.plan()}},
			Check: resource.ComposeTestCheckFunc(
				secrets.state,
				lastRunIs(l, "AddNode", model.App2),
			),
		}},
	})
	// The setup runs show, with their passwords starred.
	secrets.traceLog(t, logFile, "sql_setup", "/AGTSVCPASSWORD=********")
}

// tdsOnlyParameters checks that the lab's TDS server saw only the adapter's
// own SQL texts, rejected none, and received each value as a parameter and
// never inside a SQL text.
func tdsOnlyParameters(l *lab.Lab, values ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if r := l.TDS.Rejected(); len(r) > 0 {
			return fmt.Errorf("the lab rejected %d SQL texts: %+v", len(r), r)
		}
		known := map[string]bool{}
		for _, s := range sqlserver.Statements {
			known[strings.Join(strings.Fields(s), " ")] = true
		}
		seen := map[string]bool{}
		for _, req := range l.TDS.Requests() {
			if !known[strings.Join(strings.Fields(req.Text), " ")] {
				return fmt.Errorf("the provider sent a SQL text that is not one of the adapter's: %q", req.Text)
			}
			for _, v := range values {
				if strings.Contains(req.Text, v) {
					return fmt.Errorf("a value was spliced into the SQL text %q", req.Text)
				}
				for _, p := range req.Params {
					if p == v {
						seen[v] = true
					}
				}
			}
		}
		for _, v := range values {
			if !seen[v] {
				return fmt.Errorf("the lab never received %q as a parameter value", v)
			}
		}
		return nil
	}
}

// Without ldap settings the domain controller half of rule HA-3 cannot be
// asked: the plan says so with a warning rather than silence.
func TestSQLFailoverClusterInstanceDCCheckWithoutDirectory(t *testing.T) {
	r := &sqlFailoverClusterInstanceResource{configuredResource{&providerData{}}}
	var diags diag.Diagnostics
	r.checkNodesNotDCs(context.Background(), []string{model.App1, model.App2}, []string{model.App2}, false, &diags)
	if diags.HasError() || len(diags.Warnings()) != 1 || diags.Warnings()[0].Summary() != "HA Rule HA-3 Not Checked" ||
		!strings.Contains(diags.Warnings()[0].Detail(), model.App2+" is a domain controller") {
		t.Fatalf("diagnostics %v, want one HA Rule HA-3 Not Checked warning naming %s", diags, model.App2)
	}
	diags = nil
	r.checkNodesNotDCs(context.Background(), []string{model.App1}, nil, false, &diags)
	if len(diags) != 0 {
		t.Fatalf("no fresh node, yet %v", diags)
	}
}
