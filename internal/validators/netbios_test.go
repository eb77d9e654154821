package validators

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestNetBIOSDomainNameValidator(t *testing.T) {
	cases := []struct {
		name  string
		v     validator.String
		value types.String
		ok    bool
	}{
		{"netbios ok", NetBIOSDomainName(), types.StringValue("CORP"), true},
		{"netbios lower", NetBIOSDomainName(), types.StringValue("contoso"), true},
		{"netbios dns name", NetBIOSDomainName(), types.StringValue("corp.contoso.test"), false},
		{"netbios too long", NetBIOSDomainName(), types.StringValue("ABCDEFGHIJKLMNOP"), false},
		{"netbios backslash", NetBIOSDomainName(), types.StringValue(`CORP\x`), false},
		{"netbios null skipped", NetBIOSDomainName(), types.StringNull(), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := run(c.v, c.value)
			if c.ok && len(errs) > 0 {
				t.Fatalf("rejected: %v", errs)
			}
			if !c.ok && len(errs) == 0 {
				t.Fatal("accepted")
			}
		})
	}
}
