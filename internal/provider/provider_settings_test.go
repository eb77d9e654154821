package provider

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestProviderSettingsReportOnTheAttribute: a malformed environment
// fallback is an error on the attribute it stands for, and an insecure
// transport opt-in is a warning there, for each of the three blocks.
func TestProviderSettingsReportOnTheAttribute(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "BASTION_") {
			t.Setenv(k, "")
		}
	}
	type want struct {
		at       path.Path
		severity diag.Severity
		summary  string
	}
	cases := []struct {
		env, value string
		want       []want
	}{
		{"BASTION_WINRM_HTTPS", "maybe", []want{{path.Root("winrm").AtName("https"), diag.SeverityError, "Invalid WinRM Setting"}}},
		{"BASTION_WINRM_PORT", "59.85", []want{{path.Root("winrm").AtName("port"), diag.SeverityError, "Invalid WinRM Setting"}}},
		{"BASTION_WINRM_MAX_CONCURRENCY_PER_HOST", "four", []want{{path.Root("winrm").AtName("max_concurrency_per_host"), diag.SeverityError, "Invalid WinRM Setting"}}},
		{"BASTION_WINRM_CA_FILE", "/nonexistent/ca.pem", []want{{path.Root("winrm").AtName("ca_file"), diag.SeverityError, "Invalid WinRM CA File"}}},
		{"BASTION_WINRM_INSECURE", "true", []want{{path.Root("winrm").AtName("insecure"), diag.SeverityWarning, "Insecure WinRM Transport"}}},
		{"BASTION_LDAP_PORT", "ldaps", []want{{path.Root("ldap").AtName("port"), diag.SeverityError, "Invalid LDAP Setting"}}},
		{"BASTION_LDAP_CA_FILE", "/nonexistent/ca.pem", []want{{path.Root("ldap").AtName("ca_file"), diag.SeverityError, "Invalid LDAP CA File"}}},
		{"BASTION_LDAP_INSECURE_SKIP_VERIFY", "yes please", []want{{path.Root("ldap").AtName("insecure_skip_verify"), diag.SeverityError, "Invalid LDAP Setting"}}},
		{"BASTION_LDAP_INSECURE_SKIP_VERIFY", "1", []want{{path.Root("ldap").AtName("insecure_skip_verify"), diag.SeverityWarning, "Insecure LDAP Transport"}}},
		{"BASTION_SQL_PORT", "-", []want{{path.Root("sql").AtName("port"), diag.SeverityError, "Invalid SQL Setting"}}},
		// A malformed encrypt reads as false, so the connection is unencrypted too.
		{"BASTION_SQL_ENCRYPT", "strict", []want{{path.Root("sql").AtName("encrypt"), diag.SeverityError, "Invalid SQL Setting"}, {path.Root("sql").AtName("encrypt"), diag.SeverityWarning, "Unencrypted SQL Server Connection"}}},
		{"BASTION_SQL_ENCRYPT", "false", []want{{path.Root("sql").AtName("encrypt"), diag.SeverityWarning, "Unencrypted SQL Server Connection"}}},
		{"BASTION_SQL_CA_FILE", "/nonexistent/ca.pem", []want{{path.Root("sql").AtName("ca_file"), diag.SeverityError, "Invalid SQL CA File"}}},
		{"BASTION_SQL_TRUST_SERVER_CERTIFICATE", "T", []want{{path.Root("sql").AtName("trust_server_certificate"), diag.SeverityWarning, "Unverified SQL Server Certificate"}}},
	}
	for _, c := range cases {
		t.Run(c.env+"="+c.value, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			_, dw := winrmConfig(&winrmModel{}, nil)
			_, dl := ldapConfig(context.Background(), &ldapModel{Domain: types.StringValue("priv.example.test")}, nil)
			_, ds := sqlConfig(&sqlModel{}, nil)
			var got []want
			for _, d := range append(append(dw, dl...), ds...) {
				at := path.Empty()
				if wp, ok := d.(diag.DiagnosticWithPath); ok {
					at = wp.Path()
				}
				got = append(got, want{at, d.Severity(), d.Summary()})
				if d.Severity() == diag.SeverityError && !strings.Contains(d.Detail(), c.env) && !strings.Contains(d.Detail(), c.value) {
					t.Errorf("%s: the detail %q names neither %s nor its value", d.Summary(), d.Detail(), c.env)
				}
			}
			same := len(got) == len(c.want)
			for i := 0; same && i < len(got); i++ {
				same = got[i].at.Equal(c.want[i].at) && got[i].severity == c.want[i].severity && got[i].summary == c.want[i].summary
			}
			if !same {
				t.Errorf("diagnostics %v, want exactly %v", got, c.want)
			}
		})
	}
}
