package validators

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestNetBIOSDomainNameValidator(t *testing.T) {
	checkCases(t, []stringCase{
		{"netbios ok", NetBIOSDomainName(), types.StringValue("CORP"), true},
		{"netbios lower", NetBIOSDomainName(), types.StringValue("contoso"), true},
		{"netbios dns name", NetBIOSDomainName(), types.StringValue("corp.contoso.test"), false},
		{"netbios too long", NetBIOSDomainName(), types.StringValue("ABCDEFGHIJKLMNOP"), false},
		{"netbios backslash", NetBIOSDomainName(), types.StringValue(`CORP\x`), false},
		{"netbios null skipped", NetBIOSDomainName(), types.StringNull(), true},
	})
}
