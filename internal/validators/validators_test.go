package validators

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func run(v validator.String, value types.String) []string {
	resp := &validator.StringResponse{}
	v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("attr"), ConfigValue: value}, resp)
	var out []string
	for _, d := range resp.Diagnostics.Errors() {
		out = append(out, d.Detail())
	}
	return out
}

func TestValidators(t *testing.T) {
	cases := []struct {
		name  string
		v     validator.String
		value types.String
		ok    bool
	}{
		{"fqdn ok", FQDN(), types.StringValue("priv-app1.priv.contoso.test"), true},
		{"fqdn trailing dot", FQDN(), types.StringValue("priv-app1.priv.contoso.test."), true},
		{"fqdn short name", FQDN(), types.StringValue("priv-app1"), false},
		{"fqdn long first label", FQDN(), types.StringValue("a-very-long-computer-name.priv.test"), false},
		{"fqdn hostile", FQDN(), types.StringValue("x$(calc).priv.test"), false},
		{"fqdn null skipped", FQDN(), types.StringNull(), true},
		{"fqdn unknown skipped", FQDN(), types.StringUnknown(), true},
		{"alias ok", HostName(), types.StringValue("pam.priv.contoso.test"), true},
		{"alias bad", HostName(), types.StringValue("pam priv"), false},
		{"account ok", WindowsAccount(), types.StringValue(`PRIV\svc-mim`), true},
		{"account upn", WindowsAccount(), types.StringValue("svc-mim@priv.test"), false},
		{"account bad char", WindowsAccount(), types.StringValue(`PRIV\svc"mim`), false},
		{"account bad domain", WindowsAccount(), types.StringValue(`PR IV\svc`), false},
		{"path drive", WindowsPath(), types.StringValue(`C:\Sources\MIM\Service and Portal.msi`), true},
		{"path unc", WindowsPath(), types.StringValue(`\\files\media\mim.msi`), true},
		{"path relative", WindowsPath(), types.StringValue(`Sources\mim.msi`), false},
		{"path quote", WindowsPath(), types.StringValue(`C:\a"b.msi`), false},
		{"path newline", WindowsPath(), types.StringValue("C:\\a\nb.msi"), false},
		{"single line ok", SingleLine(), types.StringValue(`x"; Remove-Item C:\ -Recurse; $(calc) ` + "`whoami`"), true},
		{"single line newline", SingleLine(), types.StringValue("a\nb"), false},
		{"single line padded", SingleLine(), types.StringValue(" a"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := run(c.v, c.value)
			if c.ok && len(errs) > 0 {
				t.Fatalf("rejected: %v", errs)
			}
			if !c.ok {
				if len(errs) == 0 {
					t.Fatal("accepted")
				}
				if !strings.Contains(errs[0], "attr") || !strings.Contains(errs[0], "must be") {
					t.Fatalf("diagnostic does not name the attribute and what is allowed: %q", errs[0])
				}
			}
		})
	}
}
