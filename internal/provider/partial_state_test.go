package provider

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// keepPlanned turns every unknown value of the plan into null and keeps the
// known ones, nested ones included.
func TestKeepPlannedNullsUnknowns(t *testing.T) {
	obj := tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"host": tftypes.String, "id": tftypes.String,
		"nodes":    tftypes.List{ElementType: tftypes.String},
		"timeouts": tftypes.Object{AttributeTypes: map[string]tftypes.Type{"create": tftypes.String}},
	}}
	plan := tfsdk.Plan{Raw: tftypes.NewValue(obj, map[string]tftypes.Value{
		"host":     tftypes.NewValue(tftypes.String, "priv-app1"),
		"id":       tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		"nodes":    tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, tftypes.UnknownValue),
		"timeouts": tftypes.NewValue(obj.AttributeTypes["timeouts"], map[string]tftypes.Value{"create": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)}),
	})}
	var state tfsdk.State
	if d := keepPlanned(plan, &state); d.HasError() {
		t.Fatalf("keepPlanned: %v", d)
	}
	if !state.Raw.IsFullyKnown() {
		t.Fatalf("state still holds unknowns: %s", state.Raw)
	}
	got := map[string]tftypes.Value{}
	if err := state.Raw.As(&got); err != nil {
		t.Fatal(err)
	}
	var host string
	if err := got["host"].As(&host); err != nil || host != "priv-app1" {
		t.Errorf("host = %q (%v), want the planned priv-app1", host, err)
	}
	for _, k := range []string{"id", "nodes"} {
		if !got[k].IsNull() {
			t.Errorf("%s = %s, want null", k, got[k])
		}
	}
	inner := map[string]tftypes.Value{}
	if err := got["timeouts"].As(&inner); err != nil || !inner["create"].IsNull() {
		t.Errorf("timeouts.create = %v (%v), want null", inner["create"], err)
	}
}

// A promotion that runs but is not verified within the create timeout
// leaves the DC in the state as tainted: the next plan replaces it rather
// than forgetting a server that may now be a domain controller.
func TestAccDomainController_unverifiedPromotionIsTainted(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	// The pinned DC (priv-dc1) sees the new DC only when the test lets
	// replication happen, after the create timed out: the timeout is
	// spent waiting for it whatever the machine's load, never on the
	// promotion itself.
	_ = l.Env.Do(func(e *model.Env) error {
		e.RestartWindow, e.ReplicationDelay = time.Second, 24*time.Hour
		return nil
	})
	cfg := dcConfig{Host: model.Spare1, ReplicationSource: model.DC2}.hcl()
	cut := strings.LastIndex(cfg, "}")
	short := cfg[:cut] + "  timeouts = { create = \"20s\" }\n}\n"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: l.ProviderHCL() + short,
				// The promotion ran; only its verification on the pinned DC timed out.
				ExpectError: regexp.MustCompile(`(?s)Domain Controller Not Promoted.*on\s+the\s+pinned\s+DC\s+within\s+the\s+create\s+timeout`),
			},
			{
				// Once replication caught up, the saved DC reads back, and
				// the taint plans a replacement.
				PreConfig: func() {
					if visibleOn(l.Env, model.DC1, model.Spare1) {
						t.Fatalf("%s replicated to %s before the test let it", model.Spare1, model.DC1)
					}
					_ = l.Env.Do(func(e *model.Env) error {
						dc := e.Domain.DC(model.Spare1)
						if dc == nil {
							t.Fatalf("%s is not a DC: the promotion did not run", model.Spare1)
						}
						dc.VisibleAt = e.Now()
						e.ReplicationDelay = time.Second // the destroy's demotion
						return nil
					})
					if !visibleOn(l.Env, model.DC1, model.Spare1) {
						t.Fatalf("%s does not see %s after replication", model.DC1, model.Spare1)
					}
				},
				Config:             l.ProviderHCL() + cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectResourceAction("bastion_domain_controller.dc", plancheck.ResourceActionReplace)},
				},
			},
		},
	})
}

// The warning of a promotion cut off by the create timeout says plainly that
// its end on the host is unknown, what the next plan does and how to check.
// (Terraform prints warnings apart from the error the test above matches.)
func TestUnverifiedPromotionWarning(t *testing.T) {
	got := unverifiedPromotion(model.Spare1)
	for _, want := range []string{
		"The promotion of " + model.Spare1 + " ran, but it was not verified within the create timeout.",
		"the promotion may or may not have run to completion there.",
		"The next plan replaces the resource (the apply demotes the server, then promotes it again)",
		"Get-ADDomainController -Identity " + model.Spare1,
		`%SYSTEMROOT%\debug\dcpromo.log`,
		`"Troubleshooting Domain Controller Deployment"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the warning lacks %q:\n%s", want, got)
		}
	}
}

// visibleOn reports whether the DC host has replicated to the DC on.
func visibleOn(env *model.Env, on, host string) bool {
	seen := false
	_ = env.Do(func(e *model.Env) error {
		for _, dc := range e.Domain.VisibleDCs(on, e.Now()) {
			seen = seen || model.Key(dc.Host) == model.Key(host)
		}
		return nil
	})
	return seen
}

// Before setup's first run, a network name where something answers but
// cannot be read (here a certificate the provider does not trust) stops the
// create: it may be an instance, and setup must not run over it.
func TestAccSQLFailoverClusterInstance_unreadableNameRefused(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t, func(l *lab.Lab) error {
		return l.Env.SetCertificateFlaw(model.SQLNetwork, model.TDS, labca.UnknownAuthority)
	})
	hcl := labFCIConfig()
	events := len(l.Env.Events())
	expectError(t, l.ProviderHCL()+hcl, false, `(?s)Failover Cluster Instance Not Checked.*setup\s+was\s+not\s+run`)
	if runs := writeScriptRuns(l); len(runs) != 0 {
		t.Errorf("setup ran over an unreadable network name: %v", runs)
	}
	if ev := l.Env.Events()[events:]; len(ev) != 0 {
		t.Errorf("the refused create changed the lab: %v", ev)
	}
}
