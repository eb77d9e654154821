package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim"
)

const loginAddr = "bastion_sql_login.mim"

func sqlLoginHCL(name string, roles ...string) string {
	return fmt.Sprintf("resource \"bastion_sql_login\" \"mim\" {\n  name  = %s\n  roles = %s\n}\n", fciHCLString(name), fciHCLList(roles))
}

// labLogin checks a login in the seed's instance: its exact name and roles ("" = absent).
func labLogin(l *lab.Lab, name, wantRoles string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		lg, ok := l.Env.SQLLoginSnapshot(model.SQLNetwork, name)
		switch {
		case wantRoles == "" && ok:
			return fmt.Errorf("login %q still exists", name)
		case wantRoles == "":
			return nil
		case !ok:
			return fmt.Errorf("no login %q in the lab", name)
		case lg.Name != name:
			return fmt.Errorf("login named %q, want %q", lg.Name, name)
		}
		if got := strings.Join(lg.RoleNames(), ","); got != wantRoles {
			return fmt.Errorf("login %q has roles %q, want %q", name, got, wantRoles)
		}
		return nil
	}
}

func TestAccSQLLogin_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	// The MIM Service installer needs its account's login first: the node depends on it.
	node := strings.Replace(mimNodeConfig{Host: model.App1, Password: l.Seed.MIMSvcPassword}.hcl(),
		"resource \"bastion_mim_service_node\" \"node\" {\n", "resource \"bastion_mim_service_node\" \"node\" {\n  depends_on = [bastion_sql_login.mim]\n", 1)
	both := l.ProviderHCL() + sqlLoginHCL(model.MIMSvcUser, "dbcreator", "securityadmin") + node
	fewer := l.ProviderHCL() + sqlLoginHCL(model.MIMSvcUser, "dbcreator")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             labLogin(l, model.MIMSvcUser, ""),
		Steps: []resource.TestStep{
			{ // the login first, then the MIM Service node that uses it
				Config: both,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(loginAddr, tfjsonpath.New("id"), knownvalue.StringExact(model.MIMSvcUser)),
					statecheck.ExpectKnownValue(loginAddr, tfjsonpath.New("type"), knownvalue.StringExact(model.LoginWindows)),
					statecheck.ExpectKnownValue(loginAddr, tfjsonpath.New("roles"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("dbcreator"), knownvalue.StringExact("securityadmin"),
					})),
				},
				Check: resource.ComposeTestCheckFunc(
					labLogin(l, model.MIMSvcUser, "dbcreator,securityadmin"),
					func(*terraform.State) error {
						// Creation order: the login's event comes before the MIM install touched SQL Server.
						created, installed := -1, -1
						for i, ev := range l.Env.Events() {
							if ev.Kind == "sql-login-created" && ev.Detail == model.MIMSvcUser && created < 0 {
								created = i
							}
							if ev.Host == model.Key(model.App1) && strings.Contains(strings.ToLower(ev.Kind), "install") && installed < 0 {
								installed = i
							}
						}
						if created < 0 || installed < 0 || created > installed {
							return fmt.Errorf("login created at event %d, MIM installed at event %d: the node must wait for the login", created, installed)
						}
						return nil
					},
				),
			},
			{ // a role removed from the configuration: in place
				Config:           fewer,
				ConfigPlanChecks: plannedAction(loginAddr, plancheck.ResourceActionUpdate),
				Check:            labLogin(l, model.MIMSvcUser, "dbcreator"),
			},
			{ // drift: the role was removed and another added out of band; apply puts them back
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error {
						lg := e.SQLInstanceByName(model.SQLNetwork).Logins[strings.ToLower(model.MIMSvcUser)]
						delete(lg.Roles, "dbcreator")
						lg.Roles["sysadmin"] = true
						return nil
					})
				},
				Config:           fewer,
				ConfigPlanChecks: plannedAction(loginAddr, plancheck.ResourceActionUpdate),
				Check:            labLogin(l, model.MIMSvcUser, "dbcreator"),
			},
			// import by login name
			importStep(fewer, loginAddr, model.MIMSvcUser),
			{ // drift: the login was dropped out of band; the plan creates it again
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error {
						delete(e.SQLInstanceByName(model.SQLNetwork).Logins, strings.ToLower(model.MIMSvcUser))
						return nil
					})
				},
				Config:           fewer,
				ConfigPlanChecks: plannedAction(loginAddr, plancheck.ResourceActionCreate),
				Check:            resource.ComposeTestCheckFunc(labLogin(l, model.MIMSvcUser, "dbcreator"), noRejectedScripts(l)),
			},
			{Config: fewer, PlanOnly: true},
		},
	})
}

// A login name full of SQL metacharacters reaches SQL Server only as a
// parameter: the lab stores it byte for byte and sees no other SQL text.
func TestAccSQLLogin_hostileName(t *testing.T) {
	skipUnlessAcc(t)
	// At most 20 characters after PRIV\: the sAMAccountName limit. The
	// account exists in the lab's directory, as SQL Server requires.
	name := `PRIV\o'b') DROP--$(x)` + "`y`"
	l := startLab(t, func(l *lab.Lab) error {
		return l.Env.AddDomainUser(model.DomainNB, strings.TrimPrefix(name, `PRIV\`), model.RandomPassword())
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             labLogin(l, name, ""),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { l.TDS.ResetLog() },
				Config:    l.ProviderHCL() + sqlLoginHCL(name, "bulkadmin"),
				Check: resource.ComposeTestCheckFunc(
					labLogin(l, name, "bulkadmin"),
					labLogin(l, "sa", "sysadmin"),
					tdsOnlyParameters(l, name),
				),
			},
		},
	})
}

func TestAccSQLLogin_errors(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	expectErrors(t, l.ProviderHCL(), false, map[string]errorCase{
		"exists already":  {sqlLoginHCL(model.AdminUser, "sysadmin"), `(?s)SQL Login Already Exists.*terraform\s+import`},
		"no domain":       {sqlLoginHCL("svc-mim"), `(?s)name "svc-mim" is not in the form\s+DOMAIN\\name`},
		"public role":     {sqlLoginHCL(model.MIMSvcUser, "public"), `(?s)roles.*implicitly`},
		"unknown role":    {sqlLoginHCL(model.MIMSvcUser, "nosuchrole"), `(?s)SQL Login Not Created.*nosuchrole`},
		"not a user here": {sqlLoginHCL(`CORP\Administrator`), `(?s)SQL Login Not Created.*not\s+found`},
		// SQL Server's lookup of the account fails (error 15401): the
		// diagnostic names the account and says to create it in AD first.
		"no such account": {sqlLoginHCL(`PRIV\svc-nobody`), `(?s)SQL Login Not Created.*found no Windows\s+account\s+'PRIV\\svc-nobody'.*error\s+15401.*Create\s+the\s+account\s+in\s+Active\s+Directory\s+first`},
	})
}

// The instance fails over in the middle of an apply: right after CREATE
// LOGIN the group moves to priv-app2, the network name is offline for two
// seconds (connections refused, the pooled one dropped) and the next two
// logins fail with 18456. The role changes that follow ride through it.
func TestAccSQLLogin_duringFailover(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	failedOver := make(chan error, 1)
	var once sync.Once
	l.TDS.OnRequest(func(r tdssim.Request) {
		if r.Error == 0 && strings.Contains(r.Text, "CREATE LOGIN") {
			once.Do(func() {
				failedOver <- l.Env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{Outage: 2 * time.Second, FailedLogins: 2})
			})
		}
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: l.ProviderHCL() + sqlLoginHCL(model.MIMSvcUser, "dbcreator", "securityadmin"),
			Check: resource.ComposeTestCheckFunc(
				labLogin(l, model.MIMSvcUser, "dbcreator,securityadmin"),
				func(*terraform.State) error {
					select {
					case err := <-failedOver:
						if err != nil {
							return fmt.Errorf("failover: %w", err)
						}
					default:
						return fmt.Errorf("the failover never ran: no CREATE LOGIN seen")
					}
					var owner string
					_ = l.Env.Do(func(e *model.Env) error {
						owner = e.ServerProperties(e.SQLInstanceByName(model.SQLNetwork)).PhysicalNode
						return nil
					})
					if owner != "PRIV-APP2" {
						return fmt.Errorf("owner %q after the failover, want PRIV-APP2", owner)
					}
					// The role changes were sent after the failover, on a new connection.
					after := false
					for _, r := range l.TDS.Requests() {
						if strings.Contains(r.Text, "ADD MEMBER") && r.Error == 0 {
							after = true
						}
					}
					if !after {
						return fmt.Errorf("no ALTER SERVER ROLE ... ADD MEMBER succeeded")
					}
					return nil
				},
			),
		}},
	})
}

// Without the provider's sql settings every CRUD method stops at its first
// step with one error that says what to set.
func TestSQLLoginNeedsSQLSettings(t *testing.T) {
	ctx := context.Background()
	r := &sqlLoginResource{configuredResource{&providerData{}}}
	var sr fwresource.SchemaResponse
	r.Schema(ctx, fwresource.SchemaRequest{}, &sr)
	st := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(sr.Schema.Type().TerraformType(ctx), nil)}
	m := sqlLoginResourceModel{
		ID: types.StringValue(model.MIMSvcUser), Name: types.StringValue(model.MIMSvcUser), Roles: types.SetNull(types.StringType),
		Type: types.StringNull(), PrincipalID: types.Int64Null(), Timeouts: timeoutsNull,
	}
	if d := st.Set(ctx, &m); d.HasError() {
		t.Fatalf("state: %v", d)
	}
	plan := tfsdk.Plan(st)
	create, read := fwresource.CreateResponse{State: st}, fwresource.ReadResponse{State: st}
	update, del := fwresource.UpdateResponse{State: st}, fwresource.DeleteResponse{State: st}
	r.Create(ctx, fwresource.CreateRequest{Plan: plan, Config: tfsdk.Config(st)}, &create)
	r.Read(ctx, fwresource.ReadRequest{State: st}, &read)
	r.Update(ctx, fwresource.UpdateRequest{Plan: plan, State: st, Config: tfsdk.Config(st)}, &update)
	r.Delete(ctx, fwresource.DeleteRequest{State: st}, &del)
	for op, d := range map[string]diag.Diagnostics{"Create": create.Diagnostics, "Read": read.Diagnostics, "Update": update.Diagnostics, "Delete": del.Diagnostics} {
		if got := strings.Join(summaries(d), "; "); got != "Error: SQL Server Not Configured" || !strings.Contains(d[0].Detail(), "sql.server") {
			t.Errorf("%s: %s %v", op, got, d)
		}
	}
}
