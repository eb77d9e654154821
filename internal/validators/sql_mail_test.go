package validators

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestSQLAndMailValidators(t *testing.T) {
	long := strings.Repeat("a", 129)
	cases := []struct {
		name  string
		v     validator.String
		value types.String
		want  string // "" = accepted; else a part of the error detail
	}{
		{"sql server fqdn", SQLServerName(), types.StringValue("priv-sql.priv.contoso.com"), ""},
		{"sql server short", SQLServerName(), types.StringValue("PRIV-SQL"), ""},
		{"sql server named instance", SQLServerName(), types.StringValue(`priv-sql.priv.contoso.com\MIM`), ""},
		{"sql server null", SQLServerName(), types.StringNull(), ""},
		{"sql server unknown", SQLServerName(), types.StringUnknown(), ""},
		{"sql server port form", SQLServerName(), types.StringValue("priv-sql,1433"), `host part "priv-sql,1433"`},
		{"sql server space", SQLServerName(), types.StringValue("priv sql"), "invalid label"},
		{"sql server bad instance", SQLServerName(), types.StringValue(`priv-sql\9x`), "not a SQL Server instance name"},
		{"sql server reserved instance", SQLServerName(), types.StringValue(`priv-sql\DEFAULT`), "reserved"},
		{"sql server empty", SQLServerName(), types.StringValue(""), "invalid label"},

		{"database", SQLDatabaseName(), types.StringValue("FIMService"), ""},
		{"database underscore digits", SQLDatabaseName(), types.StringValue("_FIM_2$"), ""},
		{"database 128", SQLDatabaseName(), types.StringValue(long[:128]), ""},
		{"database 129", SQLDatabaseName(), types.StringValue(long), "129 characters long (at most 128)"},
		{"database digit first", SQLDatabaseName(), types.StringValue("1FIM"), "not a regular SQL Server identifier"},
		{"database temp", SQLDatabaseName(), types.StringValue("#FIM"), "not a regular SQL Server identifier"},
		{"database bracket", SQLDatabaseName(), types.StringValue("FIM]; DROP DATABASE x"), "not a regular SQL Server identifier"},
		{"database space", SQLDatabaseName(), types.StringValue("FIM Service"), "not a regular SQL Server identifier"},
		{"database empty", SQLDatabaseName(), types.StringValue(""), "not a regular SQL Server identifier"},

		{"email", EmailAddress(), types.StringValue("svc-mim@contoso.com"), ""},
		{"email plus", EmailAddress(), types.StringValue("svc.mim+pam@priv.contoso.com"), ""},
		{"email display name", EmailAddress(), types.StringValue("MIM <svc-mim@contoso.com>"), "not an e-mail address"},
		{"email no at", EmailAddress(), types.StringValue("svc-mim"), "not an e-mail address"},
		{"email short domain", EmailAddress(), types.StringValue("svc-mim@contoso"), "not a DNS domain name"},
		{"email bad domain", EmailAddress(), types.StringValue("svc-mim@contoso_.com"), "not a DNS domain name"},
		{"email two", EmailAddress(), types.StringValue("a@contoso.com, b@contoso.com"), "not an e-mail address"},

		{"smtp", SMTPHost(), types.StringValue("mail.corp.contoso.com"), ""},
		{"smtp short", SMTPHost(), types.StringValue("exchange01"), ""},
		{"smtp url", SMTPHost(), types.StringValue("smtp://mail.contoso.com"), "invalid label"},
		{"smtp port", SMTPHost(), types.StringValue("mail.contoso.com:25"), "invalid label"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := &validator.StringResponse{}
			c.v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("attr"), ConfigValue: c.value}, resp)
			errs := resp.Diagnostics.Errors()
			if c.want == "" {
				if len(errs) != 0 {
					t.Fatalf("%s refused: %s", c.value, errs[0].Detail())
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("%s accepted, want an error with %q", c.value, c.want)
			}
			if d := errs[0].Detail(); !strings.HasPrefix(d, "attr ") || !strings.Contains(d, c.want) {
				t.Errorf("detail %q: want the attribute named and %q", d, c.want)
			}
		})
	}
}
