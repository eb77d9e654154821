package provider

import (
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// A server that refuses WinRM before the promotion's command starts (down,
// or still restarting from an earlier step) was not promoted: the create
// fails at once with the promotion's error, instead of waiting out the
// create timeout for a DC that a lost connection seemed to announce.
func TestAccDomainController_refusedPromotionFails(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t, func(l *lab.Lab) error { return l.Env.SetReachable(model.Spare1, false) })
	cfg := dcConfig{Host: model.Spare1}.hcl()
	cut := strings.LastIndex(cfg, "}")
	// Long enough that a wait for the DC would end in the timeout's error instead.
	cfg = cfg[:cut] + "  timeouts = { create = \"10m\" }\n}\n"
	expectError(t, l.ProviderHCL()+cfg, false, `(?s)Domain Controller Not Promoted.*Install-ADDSDomainController`)
}
