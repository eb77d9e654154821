package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/mim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

const pamTrustAddr = "bastion_pam_trust.corp"

// newCorpTrust builds the one-way PAM trust with the CORP forest in the
// lab, as New-PAMTrust run outside Terraform would.
func newCorpTrust(l *lab.Lab) error {
	return l.Env.Do(func(e *model.Env) error { return e.NewPAMTrust(e.Forests[model.CorpDomainDNS], false) })
}

// pamPrepareHost makes host a MIM Service node with the PAM components (the
// MIMPAM module).
func pamPrepareHost(t *testing.T, l *lab.Lab, host string) {
	t.Helper()
	props, secrets, err := mim.InstallSpec{
		InstallerPath: model.DefaultMIMMSIPath, ServiceAccount: model.MIMSvcUser, ServiceAccountPassword: l.Seed.MIMSvcPassword,
		SQLServer: model.SQLNetwork, SQLDatabase: "FIMService", ExternalHostName: model.MIMAlias, PAMComponents: true,
	}.MSIProperties()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range secrets {
		props[k] = v
	}
	err = l.Env.Do(func(e *model.Env) error {
		h := e.Host(host)
		return e.InstallMIM(h, model.DefaultMIMMSIPath, props)
	})
	if err != nil {
		t.Fatalf("preparing %s: %v", host, err)
	}
}

type pamTrustConfig struct {
	Host, Forest, User, Password string
	Extra                        []string
}

func (c pamTrustConfig) hcl() string {
	if c.Forest == "" {
		c.Forest = model.CorpDomainDNS
	}
	if c.User == "" {
		c.User = model.CorpAdminUser
	}
	var b strings.Builder
	b.WriteString("resource \"bastion_pam_trust\" \"corp\" {\n")
	fmt.Fprintf(&b, "  host = %q\n  source_forest = %q\n  corp_username = %q\n  corp_password_wo = %q\n", c.Host, c.Forest, c.User, c.Password)
	for _, x := range c.Extra {
		b.WriteString("  " + x + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// trustSides returns PRIV's and CORP's trustedDomain objects (copies).
func trustSides(l *lab.Lab) (priv, corp *model.Trust) {
	_ = l.Env.Do(func(e *model.Env) error {
		p, c := e.PAMTrustSides(e.Forests[model.CorpDomainDNS])
		if p != nil {
			x := *p
			priv = &x
		}
		if c != nil {
			x := *c
			corp = &x
		}
		return nil
	})
	return priv, corp
}

func expectTrust(l *lab.Lab, privDir, corpDir int, corpAttrs uint32) resource.TestCheckFunc {
	return func(*terraform.State) error {
		p, c := trustSides(l)
		if p == nil || c == nil {
			return fmt.Errorf("trust sides in the lab: PRIV %v, CORP %v; want both", p != nil, c != nil)
		}
		if p.Direction != privDir || p.Attributes != adnames.TrustAttrForestTransitive {
			return fmt.Errorf("PRIV side: direction %d attributes 0x%x, want %d and 0x8", p.Direction, p.Attributes, privDir)
		}
		if c.Direction != corpDir || c.Attributes != corpAttrs {
			return fmt.Errorf("CORP side: direction %d attributes 0x%x, want %d and 0x%x", c.Direction, c.Attributes, corpDir, corpAttrs)
		}
		return nil
	}
}

// lsaSets lists the LsaSetTrustedDomainInfoByName calls the lab recorded
// (one event each, on the DC the call went to).
func lsaSets(l *lab.Lab) []model.Event {
	return labEvents(l, "lsa-trust-set", "")
}

// expectLSASets checks the LSA writes made since *before: one per apply
// that changed something, each on CORP's PDC as the CORP account, turning
// the CORP side's trustAttributes as want says ("0x8 -> 0x448"); and that
// no recorded command line holds a secret.
func expectLSASets(l *lab.Lab, before *int, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		sets := lsaSets(l)[*before:]
		if len(sets) != len(want) {
			return fmt.Errorf("%d LSA sets %+v, want %d (%q)", len(sets), sets, len(want), want)
		}
		for i, w := range want {
			if sets[i].Host != model.CorpDC1 || !strings.Contains(sets[i].Detail, ` as corp\administrator: `) || !strings.HasSuffix(sets[i].Detail, "trustAttributes "+w) {
				return fmt.Errorf("LSA set %d is %+v, want one on %s as the CORP account ending in %q", i, sets[i], model.CorpDC1, w)
			}
		}
		if leaks := model.CommandLineLeaks(l.Env.ProcessStarts(), l.Env.Secrets()); len(leaks) > 0 {
			return fmt.Errorf("a secret (%d characters) is on the command line %q", len(leaks[0].Secret), strings.ReplaceAll(leaks[0].Process.CommandLine, leaks[0].Secret, "********"))
		}
		return nil
	}
}

func TestAccPAMTrust_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	base := pamTrustConfig{Host: model.App1, Password: l.CorpAdminPassword()}
	quarantined := base
	quarantined.Extra = []string{"quarantine = true"}
	var setsBefore int
	mark := func() { setsBefore = len(lsaSets(l)) }

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			// No BASTION_PAM_CORP_PASSWORD: destroy deletes PRIV's side and leaves CORP's.
			p, c := trustSides(l)
			if p != nil {
				return fmt.Errorf("PRIV's side of the trust is still there after destroy")
			}
			if c == nil {
				return fmt.Errorf("CORP's side is gone, but destroy had no CORP credential to remove it with")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // create: New-PAMTrust, then the three settings through LSA on CORP's PDC
				PreConfig: mark,
				Config:    l.ProviderHCL() + base.hcl(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("id"), knownvalue.StringExact(model.CorpDomainDNS)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("bidirectional"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("trust_direction"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("trust_type"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("trust_attributes"), knownvalue.Int64Exact(0x8)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("forest_transitive"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("flat_name"), knownvalue.StringExact(model.CorpDomainNB)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("partner_sid"), knownvalue.StringExact(model.CorpDomainSID)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("corp_trust_direction"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("corp_trust_attributes"), knownvalue.Int64Exact(0x448)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("sid_history_enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("quarantined"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("pim_trust_enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("verified"), knownvalue.Null()),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("corp_password_wo"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					expectTrust(l, adnames.TrustDirectionInbound, adnames.TrustDirectionOutbound, 0x448),
					// The quarantine bit is already clear on a new trust: one set for the two bits that differ.
					expectLSASets(l, &setsBefore, "0x8 -> 0x448"),
					noRejectedScripts(l),
				),
			},
			{ // quarantine flipped in place: one LSA set, nothing recreated
				PreConfig: mark,
				Config:    l.ProviderHCL() + quarantined.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pamTrustAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(pamTrustAddr, tfjsonpath.New("quarantined")),
					plancheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("trust_direction"), knownvalue.Int64Exact(1)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("quarantined"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("corp_trust_attributes"), knownvalue.Int64Exact(0x44c)),
				},
				Check: resource.ComposeTestCheckFunc(
					expectTrust(l, adnames.TrustDirectionInbound, adnames.TrustDirectionOutbound, 0x44c),
					expectLSASets(l, &setsBefore, "0x448 -> 0x44C"),
				),
			},
			// import by <host>/<source_forest>: the CORP credential and the CORP side cannot be imported
			importStep(l.ProviderHCL()+quarantined.hcl(), pamTrustAddr, model.App1+"/"+model.CorpDomainDNS,
				"corp_username", "corp_password_wo_version", "sid_history", "quarantine", "pim_trust",
				"corp_trust_direction", "corp_trust_attributes", "sid_history_enabled", "quarantined", "pim_trust_enabled"),
			// with pam_corp_password and the CORP account in the ID, the import reads the CORP side too:
			// only the secret and its version trigger are missing
			importStep(providerWithCorpPassword(l)+quarantined.hcl(), pamTrustAddr, model.App1+"/"+model.CorpDomainDNS+"/"+model.CorpAdminUser,
				"corp_password_wo_version"),
			{ // a malformed CORP account in the ID is refused
				Config:        l.ProviderHCL() + quarantined.hcl(),
				ResourceName:  pamTrustAddr,
				ImportState:   true,
				ImportStateId: model.App1 + "/" + model.CorpDomainDNS + "/not an account/x",
				ExpectError:   regexp.MustCompile(`(?s)Invalid Import ID.*<host>/<source_forest>\[/<corp_username>\]`),
			},
			{ // a plan (plugin-testing runs two: without and with refresh): the CORP side read over LDAP from a CORP DC, no script
				PreConfig: l.Env.ResetCounters,
				Config:    l.ProviderHCL() + quarantined.hcl(),
				PlanOnly:  true,
			},
			{ // drift: the PIM bit cleared on the CORP side outside Terraform
				PreConfig: func() {
					if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
						t.Errorf("two plans made %d WinRM calls, want none: the CORP side is read over LDAP (%v)", n, l.Env.Calls())
					}
					if n := l.Env.CallCount(model.LDAP, model.CorpDC1); n != 4 {
						t.Errorf("two plans made %d LDAP operations on %s, want a bind and a search each (%v)", n, model.CorpDC1, l.Env.Calls())
					}
					t.Logf("two plans cost: %v", l.Env.Calls())
					mark()
					_ = l.Env.Do(func(e *model.Env) error {
						_, c := e.PAMTrustSides(e.Forests[model.CorpDomainDNS])
						c.Attributes &^= adnames.TrustAttrPIMTrust
						return nil
					})
				},
				Config: l.ProviderHCL() + quarantined.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pamTrustAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(pamTrustAddr, tfjsonpath.New("pim_trust_enabled")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("pim_trust_enabled"), knownvalue.Bool(true)),
				},
				Check: resource.ComposeTestCheckFunc(
					expectTrust(l, adnames.TrustDirectionInbound, adnames.TrustDirectionOutbound, 0x44c),
					expectLSASets(l, &setsBefore, "0x4C -> 0x44C"),
				),
			},
			{ // drift: the trust removed outside Terraform (both sides): the refresh drops it, the plan creates it
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { e.RemovePAMTrust(e.Forests[model.CorpDomainDNS]); return nil })
				},
				Config:           l.ProviderHCL() + quarantined.hcl(),
				ConfigPlanChecks: plannedAction(pamTrustAddr, plancheck.ResourceActionCreate),
				Check:            expectTrust(l, adnames.TrustDirectionInbound, adnames.TrustDirectionOutbound, 0x44c),
			},
			{ // drift: only CORP's side removed: the trust cannot work, so the plan replaces it
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error {
						delete(e.Forests[model.CorpDomainDNS].Trusts, model.Key(model.DomainDNS))
						return nil
					})
				},
				Config:           l.ProviderHCL() + quarantined.hcl(),
				ConfigPlanChecks: plannedAction(pamTrustAddr, plancheck.ResourceActionDestroyBeforeCreate),
				Check: resource.ComposeTestCheckFunc(
					expectTrust(l, adnames.TrustDirectionInbound, adnames.TrustDirectionOutbound, 0x44c),
					noRejectedScripts(l),
				),
			},
		},
	})
}

// Changing the direction needs the explicit opt-in; with it the trust is
// rebuilt both ways. The half trust a destroy without the CORP password
// leaves is cleared by the create that follows.
func TestAccPAMTrust_recreation(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	oneWay := pamTrustConfig{Host: model.App1, Password: l.CorpAdminPassword(), Extra: []string{"verify_on_plan = true"}}
	twoWay := oneWay
	twoWay.Extra = append(twoWay.Extra, "bidirectional = true")
	allowed := twoWay
	allowed.Extra = append(allowed.Extra, "allow_trust_recreation = true")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: l.ProviderHCL() + oneWay.hcl(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("verified"), knownvalue.Bool(true)),
				},
			},
			{
				Config:      l.ProviderHCL() + twoWay.hcl(),
				ExpectError: regexp.MustCompile(`(?s)Trust\s+Recreation\s+Not\s+Allowed.*deleted\s+and\s+recreated.*allow_trust_recreation\s+=\s+true`),
			},
			{
				Config:           l.ProviderHCL() + allowed.hcl(),
				ConfigPlanChecks: plannedAction(pamTrustAddr, plancheck.ResourceActionDestroyBeforeCreate),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("bidirectional"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("trust_direction"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("corp_trust_direction"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("verified"), knownvalue.Bool(true)),
				},
				Check: resource.ComposeTestCheckFunc(
					expectTrust(l, adnames.TrustDirectionBidirectional, adnames.TrustDirectionBidirectional, 0x448),
					noRejectedScripts(l),
				),
			},
			{ // the direction changed outside Terraform shows as the same refused change
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error {
						p, c := e.PAMTrustSides(e.Forests[model.CorpDomainDNS])
						p.Direction, c.Direction = adnames.TrustDirectionInbound, adnames.TrustDirectionOutbound
						return nil
					})
				},
				Config:      l.ProviderHCL() + twoWay.hcl(),
				ExpectError: regexp.MustCompile(`Trust\s+Recreation\s+Not\s+Allowed`),
			},
		},
	})
}

// Windows-like failures at create: no MIMPAM module on the host, a wrong
// CORP password, an unknown forest, a trust that already exists.
func TestAccPAMTrust_createErrors(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	pw := l.CorpAdminPassword()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      l.ProviderHCL() + pamTrustConfig{Host: model.App2, Password: pw}.hcl(),
				ExpectError: regexp.MustCompile(`(?s)MIMPAM\s+Module\s+Not\s+Found.*priv-app2`),
			},
			{
				Config:      l.ProviderHCL() + pamTrustConfig{Host: model.App1, Password: pw + "x"}.hcl(),
				ExpectError: regexp.MustCompile(`(?s)CORP\s+Credential\s+Refused.*user\s+name\s+or\s+password\s+is\s+incorrect`),
			},
			{
				Config:      l.ProviderHCL() + pamTrustConfig{Host: model.App1, Forest: "nowhere.contoso.test", Password: pw}.hcl(),
				ExpectError: regexp.MustCompile(`(?s)PAM\s+Trust\s+Not\s+Created.*specified\s+forest\s+does\s+not\s+exist`),
			},
			{
				PreConfig: func() {
					_ = newCorpTrust(l)
				},
				Config:      l.ProviderHCL() + pamTrustConfig{Host: model.App1, Password: pw}.hcl(),
				ExpectError: regexp.MustCompile(`(?s)PAM\s+Trust\s+Not\s+Created.*already\s+exists`),
			},
		},
	})
	if r := l.Env.Rejected(); len(r) > 0 {
		t.Fatalf("the lab rejected scripts: %+v", r)
	}
	if sets := lsaSets(l); len(sets) != 0 {
		t.Fatalf("the CORP side was written although every create failed before it: %+v", sets)
	}
}

// With CORP's PDC role held by a DC that is gone, New-PAMTrust succeeds and
// the settings step fails (LsaOpenPolicy on that PDC: RPC_S_SERVER_UNAVAILABLE):
// the resource is saved tainted. Once the role is back on a live DC, the
// replacement deletes PRIV's side, the create clears the CORP half left over
// and builds the whole trust again.
func TestAccPAMTrust_settingsFailTaint(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	setPDC := func(host string) {
		_ = l.Env.Do(func(e *model.Env) error { e.Forests[model.CorpDomainDNS].FSMO[adnames.PDCEmulator] = host; return nil })
	}
	setPDC("corp-dc9." + model.CorpDomainDNS)
	cfg := l.ProviderHCL() + pamTrustConfig{Host: model.App1, Password: l.CorpAdminPassword()}.hcl()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)PAM\s+Trust\s+Settings\s+Not\s+Applied.*LsaOpenPolicy\s+on\s+\\\\corp-dc9.*error\s+1722:\s+The\s+RPC\s+server\s+is\s+unavailable`),
			},
			{
				PreConfig:        func() { setPDC(model.CorpDC1) },
				Config:           cfg,
				ConfigPlanChecks: plannedAction(pamTrustAddr, plancheck.ResourceActionDestroyBeforeCreate),
				Check: resource.ComposeTestCheckFunc(
					expectTrust(l, adnames.TrustDirectionInbound, adnames.TrustDirectionOutbound, 0x448),
					func(*terraform.State) error {
						if len(labEvents(l, "pam-trust-removed", "")) == 0 {
							return fmt.Errorf("the create did not clear the half trust with Remove-PAMTrust")
						}
						return nil
					},
					noRejectedScripts(l),
				),
			},
		},
	})
}

// Hostile text in the CORP account name and password reaches the lab as data:
// the lab accepts the credential (so both arrived byte for byte), the LSA
// calls on CORP's PDC ran as that account, and no script was rejected.
func TestAccPAMTrust_hostileCredentials(t *testing.T) {
	skipUnlessAcc(t)
	user := `CORP\o'brien$(calc)` + "`" + `&{x}`
	password := `P@ss'"; $(Invoke-Expression 'calc') ` + "`n" + `; exit 0 # /domain:evil.test \"`
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	_ = l.Env.Do(func(e *model.Env) error {
		e.Credentials[strings.ToLower(user)] = password
		// A CORP domain administrator, as the LSA calls on CORP's PDC need.
		corp := e.Forests[model.CorpDomainDNS]
		_, sam, _ := strings.Cut(user, `\`)
		if corp.Groups == nil {
			corp.Groups = map[string][]string{}
		}
		corp.Groups[model.DomainAdminsGroup] = append(corp.Groups[model.DomainAdminsGroup], sam)
		return nil
	})
	cfg := l.ProviderHCL() + pamTrustConfig{Host: model.App1, User: user, Password: password}.hcl() +
		pamDomainConfigHCL(model.App1, user, password, "depends_on = [bastion_pam_trust.corp]")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("corp_username"), knownvalue.StringExact(user)),
					statecheck.ExpectKnownValue(pamTrustAddr, tfjsonpath.New("pim_trust_enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(pamDomainAddr, tfjsonpath.New("configured"), knownvalue.Bool(true)),
				},
				Check: resource.ComposeTestCheckFunc(
					noRejectedScripts(l),
					func(*terraform.State) error {
						sets := lsaSets(l)
						if len(sets) == 0 {
							return fmt.Errorf("the CORP side was never set through LSA")
						}
						for _, ev := range sets {
							if !strings.Contains(ev.Detail, " as "+strings.ToLower(user)+": ") {
								return fmt.Errorf("LSA set %q, want the account name as the NEW_CREDENTIALS logon's, as data", ev.Detail)
							}
						}
						return nil
					},
				),
			},
		},
	})
}

// No CORP password reaches the state, the plan or a TF_LOG=trace log; with
// BASTION_PAM_CORP_PASSWORD in the environment, destroy removes both sides
// of the trust and the domain configuration.
func TestAccPAMTrust_secretsStayOut(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	logFile := logTo(t, "trace")
	pw := l.CorpAdminPassword()
	t.Setenv("BASTION_PAM_CORP_PASSWORD", pw)
	secrets := secretsOf(pw, l.Seed.AdminPassword)
	// The provider's own credentials come from BASTION_* as a pipeline gives them
	// (plugin-testing logs the configuration file at trace level).
	cfg := providerFromEnv(t, l) + secretVariables("corp_password") +
		strings.Replace(pamTrustConfig{Host: model.App1, Password: "PLACEHOLDER", Extra: []string{"verify_on_plan = true"}}.hcl(), `"PLACEHOLDER"`, "var.corp_password", 1) +
		strings.Replace(pamDomainConfigHCL(model.App1, model.CorpAdminUser, "PLACEHOLDER", "depends_on = [bastion_pam_trust.corp]"), `"PLACEHOLDER"`, "var.corp_password", 1)
	planHasNoSecret := secrets.plan()
	vars := config.Variables{"corp_password": config.StringVariable(pw)}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if p, c := trustSides(l); p != nil || c != nil {
				return fmt.Errorf("after destroy with %s: PRIV side %v, CORP side %v; want both gone", pamCorpPasswordEnv, p != nil, c != nil)
			}
			return l.Env.Do(func(e *model.Env) error {
				if e.CorpFacts(e.Forests[model.CorpDomainDNS]).Configured {
					return fmt.Errorf("the PAM domain configuration is still in CORP after destroy with %s", pamCorpPasswordEnv)
				}
				return nil
			})
		},
		Steps: []resource.TestStep{
			{
				Config:           cfg,
				ConfigVariables:  vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{planHasNoSecret}},
				Check:            secrets.state,
			},
			{ // a plan of the existing resources uses the credential and keeps it out of the plan too
				Config:           cfg,
				ConfigVariables:  vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{planHasNoSecret, plancheck.ExpectEmptyPlan()}},
			},
		},
	})
	// pam_trust_settings shows the PAM script runs: the log bridge is wired.
	secrets.traceLog(t, logFile, "pam_trust_settings")
}

func TestAccPAMTrust_planTimeErrors(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pw := "not-used"
	cases := map[string]struct {
		cfg  pamTrustConfig
		want string
	}{
		"pim without sid history": {pamTrustConfig{Host: model.App1, Password: pw, Extra: []string{"sid_history = false"}}, `(?s)PIM\s+Trust\s+Needs\s+SID\s+History.*TREAT_AS_EXTERNAL`},
		"netbios forest":          {pamTrustConfig{Host: model.App1, Forest: "CORP", Password: pw}, `(?s)source_forest.*single\s+label`},
		"upn account":             {pamTrustConfig{Host: model.App1, User: "administrator@corp.contoso.test", Password: pw}, `(?s)corp_username.*DOMAIN\\name`},
		"short host":              {pamTrustConfig{Host: "priv-app1", Password: pw}, `(?s)host.*fully\s+qualified`},
	}
	expectPlanErrors(t, l, cases)
}

// labProviderData builds the adapters the provider's Configure would, for
// the lab, so a test can call a resource's methods directly.
func labProviderData(t *testing.T, l *lab.Lab) *providerData {
	t.Helper()
	data := &providerData{lostHosts: map[string]bool{}}
	wc, err := winrmexec.New(winrmexec.Config{ConnectTo: l.ConnectTo(), HTTPS: true, Auth: winrmexec.AuthNTLM,
		Username: model.AdminUser, Password: l.Seed.AdminPassword, CACertPEM: l.CA.CertPEM()})
	if err != nil {
		t.Fatal(err)
	}
	data.winrm = remoteExec{client: wc}
	ldap := &ldapModel{
		Domain:   types.StringValue(model.DomainDNS),
		Servers:  types.ListValueMust(types.StringType, []attr.Value{types.StringValue(model.DC1)}),
		PinnedDC: types.StringValue(model.DC1), Username: types.StringValue(model.AdminUser),
		Password: types.StringValue(l.Seed.AdminPassword), CAFile: types.StringValue(l.CAFile),
	}
	if d := configureDirectory(context.Background(), ldap, l.ConnectTo(), data); d.HasError() {
		t.Fatalf("%v", d)
	}
	return data
}

var timeoutsNull = timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
	"create": types.StringType, "read": types.StringType, "update": types.StringType, "delete": types.StringType,
})}

// readOnce runs r.Read on a state holding m and returns the new state (nil
// when Read removed the resource) and the lab's calls during it.
func readOnce(t *testing.T, l *lab.Lab, r fwresource.Resource, m any) (*tfsdk.State, map[string]map[string]int) {
	t.Helper()
	ctx := context.Background()
	var sr fwresource.SchemaResponse
	r.Schema(ctx, fwresource.SchemaRequest{}, &sr)
	st := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(sr.Schema.Type().TerraformType(ctx), nil)}
	if d := st.Set(ctx, m); d.HasError() {
		t.Fatalf("state: %v", d)
	}
	l.Env.ResetCounters()
	resp := fwresource.ReadResponse{State: st}
	r.Read(ctx, fwresource.ReadRequest{State: st}, &resp)
	calls := l.Env.Calls()
	if resp.Diagnostics.HasError() {
		t.Fatalf("Read: %v", resp.Diagnostics)
	}
	if resp.State.Raw.IsNull() {
		return nil, calls
	}
	return &resp.State, calls
}

// What a refresh (ReadResource) costs, by protocol: the trust is read over
// LDAP only (one bind and one search on a new connection) and the domain
// configuration with no remote call at all. A plan of the trust costs a
// bind and a search on a CORP DC more (see the plan step of the lifecycle test).
func TestPAMRefreshCost(t *testing.T) {
	l := startLab(t)
	err := l.Env.Do(func(e *model.Env) error {
		corp := e.Forests[model.CorpDomainDNS]
		if err := e.NewPAMTrust(corp, false); err != nil {
			return err
		}
		e.CorpFacts(corp).Configured = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data := labProviderData(t, l)
	trust := pamTrustResourceModel{
		ID: types.StringValue(model.CorpDomainDNS), Host: types.StringValue(model.App1), SourceForest: newCaseInsensitiveString(model.CorpDomainDNS),
		Bidirectional: types.BoolValue(false), AllowTrustRecreation: types.BoolValue(false), CorpUsername: types.StringValue(model.CorpAdminUser),
		SIDHistory: types.BoolValue(true), Quarantine: types.BoolValue(false), PIMTrust: types.BoolValue(true), VerifyOnPlan: types.BoolValue(false),
		Timeouts: timeoutsNull,
	}
	st, calls := readOnce(t, l, &pamTrustResource{configuredResource{data}}, &trust)
	if len(calls[model.WinRM]) != 0 || len(calls[model.TDS]) != 0 {
		t.Errorf("reading the trust made WinRM or TDS calls: %v", calls)
	}
	if n := calls[model.LDAP][model.DC1]; n != 2 {
		t.Errorf("reading the trust made %d LDAP operations on %s (%v), want 2: a bind and a search", n, model.DC1, calls)
	}
	var got pamTrustResourceModel
	if st == nil {
		t.Fatal("Read dropped an existing trust")
	}
	st.Get(context.Background(), &got)
	if got.TrustDirection.ValueInt64() != 1 || got.TrustAttributes.ValueInt64() != 8 || got.PartnerSID.ValueString() != model.CorpDomainSID || got.FlatName.ValueString() != "CORP" {
		t.Errorf("Read filled %+v", got)
	}
	t.Logf("refresh of bastion_pam_trust: %v", calls)

	domain := pamDomainConfigurationResourceModel{
		ID: types.StringValue("CORP"), Host: types.StringValue(model.App1), SourceDomain: newCaseInsensitiveString("CORP"),
		CorpUsername: types.StringValue(model.CorpAdminUser), Configured: types.BoolValue(true), Timeouts: timeoutsNull,
	}
	if _, calls := readOnce(t, l, &pamDomainConfigurationResource{configuredResource{data}}, &domain); len(calls) != 0 {
		t.Errorf("reading the domain configuration made remote calls: %v", calls)
	}

	// A trust gone from PRIV is dropped from the state, still with LDAP only.
	_ = l.Env.Do(func(e *model.Env) error { e.RemovePAMTrust(e.Forests[model.CorpDomainDNS]); return nil })
	st, calls = readOnce(t, l, &pamTrustResource{configuredResource{data}}, &trust)
	if st != nil {
		t.Error("Read kept a trust that is gone")
	}
	if len(calls[model.WinRM]) != 0 {
		t.Errorf("reading a removed trust made WinRM calls: %v", calls)
	}
}
