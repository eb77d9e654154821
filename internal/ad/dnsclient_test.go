package ad

import (
	"context"
	"slices"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/fakerunner"
)

func TestDNSClientServers(t *testing.T) {
	f := &fakerunner.Runner{Reply: `{"computer_name":"PRIV-APP1","servers":["10.0.0.11","10.0.0.12"]}`}
	got, err := DNSClientServers(context.Background(), f, "priv-app1.priv.test")
	if err != nil || !slices.Equal(got, []string{"10.0.0.11", "10.0.0.12"}) || f.Script != "dns_client_read" || f.Raw != "{}" {
		t.Fatalf("got %v, %v (script %s, input %s)", got, err, f.Script, f.Raw)
	}
	f.Reply = `{"computer_name":"PRIV-APP1","servers":null}`
	if got, err := DNSClientServers(context.Background(), f, "priv-app1.priv.test"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no servers: %v, %v; want an empty list", got, err)
	}
}
