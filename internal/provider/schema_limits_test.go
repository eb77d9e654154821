package provider

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// stringAttr is one configurable string (or collection of strings) of a
// schema, found by walking it.
type stringAttr struct {
	path string
	// attr is the schema attribute (StringAttribute, or a list, set or
	// map of strings).
	attr reflect.Value
}

// walkSchemaStrings lists every configurable string attribute under v (a
// schema, attribute or block of any of the framework's schema packages),
// nested ones with dotted paths.
func walkSchemaStrings(prefix string, v reflect.Value, out *[]stringAttr) {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	field := func(name string) reflect.Value { return v.FieldByName(name) }
	configurable := func() bool {
		r, o := field("Required"), field("Optional")
		return (r.IsValid() && r.Bool()) || (o.IsValid() && o.Bool())
	}
	switch v.Type().Name() {
	case "StringAttribute":
		if configurable() {
			*out = append(*out, stringAttr{prefix, v})
		}
		return
	case "ListAttribute", "SetAttribute", "MapAttribute":
		if configurable() && fmt.Sprint(field("ElementType").Interface()) == "basetypes.StringType" {
			*out = append(*out, stringAttr{prefix, v})
		}
		return
	}
	for _, name := range []string{"Attributes", "Blocks"} {
		m := field(name)
		if !m.IsValid() || m.Kind() != reflect.Map {
			continue
		}
		for _, k := range m.MapKeys() {
			p := k.String()
			if prefix != "" {
				p = prefix + "." + p
			}
			walkSchemaStrings(p, m.MapIndex(k), out)
		}
	}
	if n := field("NestedObject"); n.IsValid() {
		walkSchemaStrings(prefix, n, out)
	}
}

// schemaStrings walks the provider's schema and every resource's and data
// source's, keyed "provider", "resource bastion_x" or "data bastion_x".
func schemaStrings(t *testing.T) map[string]reflect.Value {
	t.Helper()
	ctx := context.Background()
	p := New("test")()
	var all []stringAttr
	add := func(kind string, schema any) {
		var found []stringAttr
		walkSchemaStrings("", reflect.ValueOf(schema), &found)
		for _, a := range found {
			all = append(all, stringAttr{kind + " " + a.path, a.attr})
		}
	}
	var ps fwprovider.SchemaResponse
	p.Schema(ctx, fwprovider.SchemaRequest{}, &ps)
	add("provider", ps.Schema)
	for _, f := range p.Resources(ctx) {
		r := f()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "bastion"}, &md)
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		add("resource "+md.TypeName, sr.Schema)
	}
	for _, f := range p.DataSources(ctx) {
		d := f()
		var md datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "bastion"}, &md)
		var sr datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &sr)
		add("data "+md.TypeName, sr.Schema)
	}
	out := map[string]reflect.Value{}
	for _, a := range all {
		out[a.path] = a.attr
	}
	return out
}

// refusals runs an attribute's validators on value (for a collection, a
// collection holding value) and returns the diagnostics they report.
func refusals(a reflect.Value, value string) diag.Diagnostics {
	ctx := context.Background()
	p := path.Root("x")
	sv := types.StringValue(value)
	var diags diag.Diagnostics
	vs := a.FieldByName("Validators")
	for i := 0; i < vs.Len(); i++ {
		diags.Append(runValidator(ctx, p, sv, vs.Index(i).Interface())...)
	}
	return diags
}

// runValidator runs one validator without a configuration: a validator
// that reads other attributes of the configuration (a cross-attribute
// rule) cannot run so and gives no verdict.
func runValidator(ctx context.Context, p path.Path, sv types.String, v any) (diags diag.Diagnostics) {
	defer func() {
		if recover() != nil {
			diags = nil
		}
	}()
	{
		switch v := v.(type) {
		case validator.String:
			var resp validator.StringResponse
			v.ValidateString(ctx, validator.StringRequest{Path: p, ConfigValue: sv}, &resp)
			diags.Append(resp.Diagnostics...)
		case validator.List:
			var resp validator.ListResponse
			v.ValidateList(ctx, validator.ListRequest{Path: p, ConfigValue: types.ListValueMust(types.StringType, []attr.Value{sv})}, &resp)
			diags.Append(resp.Diagnostics...)
		case validator.Set:
			var resp validator.SetResponse
			v.ValidateSet(ctx, validator.SetRequest{Path: p, ConfigValue: types.SetValueMust(types.StringType, []attr.Value{sv})}, &resp)
			diags.Append(resp.Diagnostics...)
		case validator.Map:
			var resp validator.MapResponse
			v.ValidateMap(ctx, validator.MapRequest{Path: p, ConfigValue: types.MapValueMust(types.StringType, map[string]attr.Value{"k": sv})}, &resp)
			diags.Append(resp.Diagnostics...)
		}
	}
	return diags
}

// notReachingWindows are the configurable strings that never reach a
// Windows host as a value, each with why; every other configurable string
// must carry validators that refuse what Windows cannot take.
var notReachingWindows = map[string]string{
	"provider connect_to":                                "dial overrides on the machine that runs Terraform; Windows never sees them",
	"provider connect_timeout":                           "a Go duration the provider parses for its own dialer",
	"provider winrm.operation_timeout":                   "a Go duration the provider parses; WS-Management gets the OperationTimeout the provider writes from it",
	"provider winrm.ca_file":                             "a file on the machine that runs Terraform",
	"provider winrm.krb5_conf":                           "a file on the machine that runs Terraform",
	"provider winrm.kerberos_ccache":                     "a file on the machine that runs Terraform",
	"provider ldap.ca_file":                              "a file on the machine that runs Terraform",
	"provider ldap.krb5_conf":                            "a file on the machine that runs Terraform",
	"provider ldap.kerberos_ccache":                      "a file on the machine that runs Terraform",
	"provider ldap.kerberos_keytab":                      "a file on the machine that runs Terraform",
	"provider sql.ca_file":                               "a file on the machine that runs Terraform",
	"provider sql.krb5_conf":                             "a file on the machine that runs Terraform",
	"provider sql.kerberos_keytab":                       "a file on the machine that runs Terraform",
	"resource bastion_mim_service_node restart_triggers": "values Terraform compares between plans; no host receives them",
}

// Every configurable string that reaches Windows is bounded at plan time:
// its validators refuse a value longer than any Windows string (32767
// characters, the long-path limit) and a value with NUL, and the error
// quotes the value at most once, cut to 200 characters. Exempt strings are
// on the list above, each with a reason.
func TestEveryWindowsStringIsValidated(t *testing.T) {
	attrs := schemaStrings(t)
	if len(attrs) < 60 {
		t.Fatalf("the schema walk found %d configurable strings: it is not seeing the schemas", len(attrs))
	}
	long := strings.Repeat("a", 40000)
	withNUL := "priv\x00admin"
	var missing []string
	for _, p := range sortedKeys(attrs) {
		if _, exempt := notReachingWindows[p]; exempt || strings.Contains(p, " timeouts.") {
			// timeouts.*: Go durations the timeouts package parses, with its own validator.
			continue
		}
		var why []string
		for _, bad := range []struct{ name, value string }{{"a 40000-character value", long}, {"a value with NUL", withNUL}} {
			diags := refusals(attrs[p], bad.value)
			if !diags.HasError() {
				why = append(why, "accepts "+bad.name)
				continue
			}
			for _, d := range diags {
				text := d.Summary() + " " + d.Detail()
				if quotes := longRun.FindAllString(text, -1); len(quotes) > 1 || (len(quotes) == 1 && len(quotes[0]) > 200) {
					why = append(why, "quotes "+bad.name+" more than once or beyond 200 characters")
				}
			}
		}
		if len(why) > 0 {
			missing = append(missing, p+": "+strings.Join(why, ", "))
		}
	}
	for p, reason := range notReachingWindows {
		if _, ok := attrs[p]; !ok {
			t.Errorf("allow-list entry %q names no configurable string attribute (renamed or removed?)", p)
		}
		if strings.TrimSpace(reason) == "" {
			t.Errorf("allow-list entry %q gives no reason", p)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d configurable strings reach Windows unbounded (attach a validator from internal/validators, or list the attribute in notReachingWindows with why it never reaches Windows):\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
}

// longRun finds a quoted piece of the long test value in an error.
var longRun = regexp.MustCompile(`a{50,}`)

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// rawHCL is a configuration given as text, for expectPlanErrors.
type rawHCL string

func (h rawHCL) hcl() string { return string(h) }

// Windows' limits refused at plan, before any remote call, naming the
// attribute and the limit, and quoting the value at most once, cut to 200
// characters.
func TestAccWindowsLimits_planTimeErrors(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pw := l.Seed.MIMSvcPassword
	zone := model.DomainDNS
	long := strings.Repeat("a", 5000)
	cases := map[string]struct {
		cfg  rawHCL
		want string
	}{
		"partition name over 253": {rawHCL(mimNodeConfig{Host: model.App1, Password: pw, Partition: strings.Repeat("p", 300)}.hcl()),
			`(?s)service_partition_name\s+is\s+300\s+characters\s+long\s+\(at\s+most\s+253\)`},
		"service name with NUL": {rawHCL(strings.Replace(mimNodeConfig{Host: model.App1, Password: pw, ServiceName: "PRIV-APP1"}.hcl(), `"PRIV-APP1"`, `"PRIV\u0000APP1"`, 1)),
			`(?s)service_name\s+contains\s+a\s+NUL\s+character`},
		"record data over 253": {rawHCL(dnsRecordHCL("r", zone, "mim", "CNAME", 0, strings.Repeat("b", 300))),
			`(?s)an\s+element\s+of\s+records\s+is\s+300\s+characters\s+long`},
		"record type quoted once and cut": {rawHCL(dnsRecordHCL("r", zone, "mim", long, 0, "10.0.0.1")),
			`(?s)type\s+is\s+"a{200}"\s+\(cut:\s+5000\s+characters\s+in\s+all\)`},
		"feature name": {rawHCL(featureHCL("Recycle Bin")),
			`(?s)name\s+is\s+"Recycle\s+Bin";\s+value\s+must\s+be\s+one\s+of`},
	}
	expectPlanErrors(t, l, cases)
}
