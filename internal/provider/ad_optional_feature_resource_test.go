package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

func featureHCL(name string) string {
	return fmt.Sprintf("resource \"bastion_ad_optional_feature\" \"f\" {\n  name = %q\n}\n", name)
}

func labFeatureEnabled(l *lab.Lab, name string) bool {
	var on bool
	_ = l.Env.Do(func(e *model.Env) error { on = e.Domain.OptionalFeatures[name]; return nil })
	return on
}

// featureEvents lists the lab's record of enableOptionalFeature writes, as
// "host: detail".
func featureEvents(l *lab.Lab) []string {
	var out []string
	for _, ev := range labEvents(l, "optional-feature", "") {
		out = append(out, ev.Host+": "+ev.Detail)
	}
	return out
}

// TestAccADOptionalFeature_lifecycle enables the Recycle Bin while the domain
// naming master is priv-dc2 and the provider is pinned to priv-dc1: the
// write must go to the naming master, the only DC that accepts it.
func TestAccADOptionalFeature_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t, func(l *lab.Lab) error { return l.Env.TransferFSMO(adnames.DomainNamingMaster, model.DC2) })
	addr := "bastion_ad_optional_feature.f"
	cfg := l.ProviderHCL() + featureHCL(adnames.FeatureRecycleBin)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			// Destroy forgets: AD cannot disable an optional feature.
			if !labFeatureEnabled(l, adnames.FeatureRecycleBin) {
				return fmt.Errorf("the Recycle Bin was disabled on destroy")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // create: enabled on the naming master
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(adnames.FeatureRecycleBin)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("guid"), knownvalue.StringExact("766ddcd8-acd0-445e-f3b9-a7f9b6744f2a")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("required_forest_level"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("forest_functional_level"), knownvalue.Int64Exact(7)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("enabled_by"), knownvalue.StringExact(model.DC2)),
				},
				Check: func(*terraform.State) error {
					if !labFeatureEnabled(l, adnames.FeatureRecycleBin) {
						return fmt.Errorf("the lab's forest has no Recycle Bin after apply")
					}
					if ev := featureEvents(l); len(ev) != 1 || ev[0] != model.DC2+": enabled "+adnames.FeatureRecycleBin {
						return fmt.Errorf("enableOptionalFeature writes = %q, want one on %s", ev, model.DC2)
					}
					return nil
				},
			},
			{ // read again: nothing to do
				Config:           cfg,
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionNoop),
			},
			// import by the feature's name
			importStep(cfg, addr, adnames.FeatureRecycleBin),
			{ // drift: the forest was recovered from a backup older than the feature; the plan enables it again
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { e.Domain.OptionalFeatures[adnames.FeatureRecycleBin] = false; return nil })
				},
				Config:           cfg,
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionCreate),
				Check: func(*terraform.State) error {
					if !labFeatureEnabled(l, adnames.FeatureRecycleBin) || len(featureEvents(l)) != 2 {
						return fmt.Errorf("after the drift apply: enabled=%t, writes %q", labFeatureEnabled(l, adnames.FeatureRecycleBin), featureEvents(l))
					}
					return nil
				},
			},
		},
	})
}

// TestAccADOptionalFeature_adoptsEnabled: the lab's PRIV forest has the PAM
// feature on already; create adopts it without a write.
func TestAccADOptionalFeature_adoptsEnabled(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	addr := "bastion_ad_optional_feature.f"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: l.ProviderHCL() + featureHCL(adnames.FeaturePAM),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("required_forest_level"), knownvalue.Int64Exact(7)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("enabled_by"), knownvalue.StringExact(model.DC1)),
			},
			Check: func(*terraform.State) error {
				if ev := featureEvents(l); len(ev) != 0 {
					return fmt.Errorf("an enabled feature was written again: %q", ev)
				}
				return nil
			},
		}},
	})
}

// TestAccADOptionalFeature_rules: a forest below the feature's level fails
// the plan, naming both levels; an unknown name fails validation.
func TestAccADOptionalFeature_rules(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	_ = l.Env.Do(func(e *model.Env) error {
		e.Domain.ForestFunctionalLevel = 6
		e.Domain.OptionalFeatures[adnames.FeaturePAM] = false
		return nil
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      l.ProviderHCL() + featureHCL(adnames.FeaturePAM),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Forest Functional Level Too Low.*needs\s+forest\s+functional\s+level\s+7\s+\(Windows\s+Server\s+2016\)\s+or\s+higher;\s+the\s+forest\s+is\s+at\s+6\s+\(Windows\s+Server\s+2012\s+R2\)`),
			},
			{
				Config:      l.ProviderHCL() + featureHCL("Recycle Bin"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)name\s+is\s+"Recycle Bin";\s+value\s+must\s+be\s+one\s+of`),
			},
		},
	})
	if ev := featureEvents(l); len(ev) != 0 {
		t.Fatalf("a refused plan wrote: %q", ev)
	}
}
