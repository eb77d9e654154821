package provider

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// documentedDefaults reads every default the provider schema documents:
// "Defaults to X." or "`X` (default", keyed by block.attribute.
func documentedDefaults(t *testing.T) map[string]string {
	t.Helper()
	var resp provider.SchemaResponse
	New("test")().Schema(context.Background(), provider.SchemaRequest{}, &resp)
	attrs := map[string]schema.Attribute{}
	for name, a := range resp.Schema.Attributes {
		attrs[name] = a
	}
	for block, b := range resp.Schema.Blocks {
		nb, ok := b.(schema.SingleNestedBlock)
		if !ok {
			t.Fatalf("block %s is a %T; teach this test to read it", block, b)
		}
		for name, a := range nb.Attributes {
			attrs[block+"."+name] = a
		}
	}
	defaultsTo := regexp.MustCompile(`Defaults to (.+?)(?:\.(?:\s|$)| \()`)
	markedDefault := regexp.MustCompile("`([^`]+)` \\(default")
	out := map[string]string{}
	for name, a := range attrs {
		desc := a.GetMarkdownDescription()
		if m := defaultsTo.FindStringSubmatch(desc); m != nil {
			out[name] = strings.ReplaceAll(m[1], "`", "")
		} else if m := markedDefault.FindStringSubmatch(desc); m != nil {
			out[name] = m[1]
		} else if strings.Contains(strings.ToLower(desc), "default") && !strings.Contains(desc, "Windows' default") && !strings.Contains(desc, "the default instance") {
			t.Errorf("%s mentions a default this test cannot read; write it as \"Defaults to X.\": %s", name, desc)
		}
	}
	return out
}

// TestProviderDocumentedDefaults holds every default the provider settings'
// descriptions state to what the code does when the setting and its
// environment variable are unset.
func TestProviderDocumentedDefaults(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "BASTION_") || k == "KRB5_CONFIG" {
			t.Setenv(k, "")
		}
	}
	ctx := context.Background()
	winrm, d := winrmConfig(&winrmModel{}, nil)
	ldap, d2 := ldapConfig(ctx, &ldapModel{Domain: types.StringValue("priv.example.test")}, nil)
	sqlDefault, d3 := sqlConfig(&sqlModel{}, nil)
	sqlLogin, d4 := sqlConfig(&sqlModel{Username: types.StringValue("reader"), Password: types.StringValue("x")}, nil)
	sqlDomainUser, d5 := sqlConfig(&sqlModel{Username: types.StringValue(`PRIV\reader`), Password: types.StringValue("x")}, nil)
	for _, diags := range []diag.Diagnostics{d, d2, d3, d4, d5} {
		if diags.HasError() {
			t.Fatalf("resolving the empty configuration: %v", diags)
		}
	}
	krbDefault := winrmexec.KrbConfPath(winrm.Kerberos.KrbConfPath)
	t.Setenv("KRB5_CONFIG", "/from/env/krb5.conf")
	krbFromEnv := winrmexec.KrbConfPath(winrm.Kerberos.KrbConfPath)

	// What the code does, in the words the descriptions use. A setting the
	// provider leaves at zero is defaulted by the adapter.
	ifZero := func(zero bool, v string) string {
		if !zero {
			return fmt.Sprintf("(the provider sets a value: %s is not the adapter's default)", v)
		}
		return v
	}
	code := map[string]string{
		"winrm.port":                     ifZero(winrm.Port == 0, fmt.Sprintf("%d with HTTPS and %d without", winrmexec.DefaultPort(true), winrmexec.DefaultPort(false))),
		"winrm.https":                    strconv.FormatBool(winrm.HTTPS),
		"winrm.auth":                     winrm.Auth,
		"winrm.second_hop":               winrm.SecondHop,
		"winrm.ca_file":                  ifZero(winrm.CACertPEM == nil, "the system roots"),
		"winrm.operation_timeout":        winrm.OperationTimeout.String(),
		"winrm.max_concurrency_per_host": strconv.Itoa(winrm.MaxConcurrencyPerHost),
		"winrm.krb5_conf":                ifZero(krbFromEnv == "/from/env/krb5.conf", "$KRB5_CONFIG, then "+krbDefault),
		"ldap.servers":                   ifZero(len(ldap.Servers) == 1 && ldap.Servers[0] == ldap.Domain, "the domain name itself"),
		"ldap.port":                      ifZero(ldap.Port == 0, fmt.Sprintf("%d for %s and %d otherwise", directory.DefaultPort(ldap.TLSMode), ldap.TLSMode, directory.DefaultPort(directory.TLSModeStartTLS))),
		"ldap.tls_mode":                  ldap.TLSMode,
		"ldap.bind_mode":                 ifZero(ldap.BindMode == "", directory.BindSimple),
		"ldap.kerberos_protection":       ifZero(ldap.Kerberos.Protection == "", directory.ProtectionSeal),
		"sql.port":                       ifZero(sqlDefault.Port == 0, strconv.Itoa(sqlserver.DefaultPort)),
		"sql.encrypt":                    strconv.FormatBool(sqlDefault.Encrypt == sqlserver.EncryptOn),
		"connect_timeout":                ifZero(directory.DefaultDialTimeout == transport.DefaultConnectTimeout, transport.DefaultConnectTimeout.String()),
		"sql.auth":                       ifZero(sqlDomainUser.Auth == sqlDefault.Auth, fmt.Sprintf("%s when a password is set for a login name without a domain, else %s", sqlLogin.Auth, sqlDefault.Auth)),
	}

	docs := documentedDefaults(t)
	names := slices.Sorted(maps.Keys(docs))
	for _, name := range names {
		doc := docs[name]
		want, ok := code[name]
		if !ok {
			t.Errorf("%s documents the default %q; add what the code does to this test", name, doc)
			continue
		}
		if dd, err := time.ParseDuration(doc); err == nil {
			if cd, err := time.ParseDuration(want); err == nil && cd == dd {
				continue
			}
		}
		if doc != want {
			t.Errorf("%s: the description says the default is %q, the code does %q", name, doc, want)
		}
	}
	for name := range code {
		if _, ok := docs[name]; !ok {
			t.Errorf("%s has a default in the code but its description states none", name)
		}
	}
}

// TestAccProvider_connectTimeout: connect_timeout is checked at configure
// time, and a valid one reaches every adapter without changing the answers.
func TestAccProvider_connectTimeout(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	withTimeout := func(v string) string {
		return strings.Replace(l.ProviderHCL(), `provider "bastion" {`, "provider \"bastion\" {\n  connect_timeout = \""+v+"\"", 1) +
			"data \"bastion_domain_controllers\" \"priv\" {}\n"
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: withTimeout("soon"), ExpectError: regexp.MustCompile(`(?s)Invalid Connect Timeout.*"soon" is not a positive Go duration`)},
			{Config: withTimeout("2s"), Check: resource.TestCheckResourceAttr("data.bastion_domain_controllers.priv", "domain_controllers.#", "2")},
		},
	})
}
