package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestImportBlockFor(t *testing.T) {
	cases := []struct{ typ, id, want string }{
		{"bastion_domain_controller", "priv-dc2.priv.contoso.test", "import {\n  to = bastion_domain_controller.<name>\n  id = \"priv-dc2.priv.contoso.test\"\n}"},
		{"bastion_sql_login", `PRIV\svc-mim`, "import {\n  to = bastion_sql_login.<name>\n  id = \"PRIV\\\\svc-mim\"\n}"},
		{"bastion_sql_login", `a"${b}%{c}`, "import {\n  to = bastion_sql_login.<name>\n  id = \"a\\\"$${b}%%{c}\"\n}"},
	}
	for _, c := range cases {
		if got := importBlockFor(c.typ, c.id); got != c.want {
			t.Errorf("importBlockFor(%q, %q) = %q, want %q", c.typ, c.id, got, c.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"priv-dc2.priv.contoso.test": "priv-dc2.priv.contoso.test",
		`PRIV\svc-mim`:               `'PRIV\svc-mim'`,
		"it's":                       `'it'\''s'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRequireAttributes(t *testing.T) {
	var diags diag.Diagnostics
	requireAttributes(&diags, "bastion_x",
		neededAttribute{"set", types.StringValue("v"), "to work"},
		neededAttribute{"unknown", types.StringUnknown(), "to work"},
		neededAttribute{"missing", types.StringNull(), "to work"})
	if diags.ErrorsCount() != 1 {
		t.Fatalf("want one error, for the null attribute; got %v", diags)
	}
	d, ok := diags[0].(diag.DiagnosticWithPath)
	if !ok || !d.Path().Equal(path.Root("missing")) {
		t.Fatalf("the error is not on the null attribute's path: %v", diags[0])
	}
}
