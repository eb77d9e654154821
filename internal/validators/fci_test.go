package validators

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestSharedStoragePath(t *testing.T) {
	cases := []struct {
		value   types.String
		summary string // "" = accepted
		detail  string
	}{
		{types.StringValue(`E:\MSSQL\Data`), "", ""},
		{types.StringValue(`C:\ClusterStorage\Volume1\MSSQL`), "", ""},
		{types.StringValue(`\\priv-fs.priv.contoso.test\sql$\it's $(calc); ` + "`whoami`"), "", ""},
		{types.StringNull(), "", ""},
		{types.StringUnknown(), "", ""},
		{types.StringValue(`C:\MSSQL\Data`), "Directory Not On Shared Storage", `attr is "C:\\MSSQL\\Data": C:\MSSQL\Data is on the system drive C:`},
		{types.StringValue(`c:\mssql`), "Directory Not On Shared Storage", "system drive"},
		{types.StringValue(`c:/mssql`), "Invalid Attribute Value", "not an absolute Windows path"},
		{types.StringValue(`MSSQL\Data`), "Invalid Attribute Value", "not an absolute Windows path"},
		{types.StringValue(`\\server`), "Invalid Attribute Value", "not an absolute Windows path"},
		{types.StringValue(`E:\a"b`), "Invalid Attribute Value", "cannot hold"},
	}
	for _, c := range cases {
		t.Run(c.value.String(), func(t *testing.T) {
			resp := &validator.StringResponse{}
			SharedStoragePath().ValidateString(context.Background(), validator.StringRequest{Path: path.Root("attr"), ConfigValue: c.value}, resp)
			errs := resp.Diagnostics.Errors()
			if c.summary == "" {
				if len(errs) > 0 {
					t.Fatalf("rejected: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Summary() != c.summary || !strings.Contains(errs[0].Detail(), c.detail) {
				t.Fatalf("got %v, want %q containing %q", errs, c.summary, c.detail)
			}
		})
	}
}

// nodesConfig builds the configuration a list validator sees: nodes and ha.
func nodesConfig(t *testing.T, ha tftypes.Value) tfsdk.Config {
	t.Helper()
	s := schema.Schema{Attributes: map[string]schema.Attribute{
		"nodes": schema.ListAttribute{ElementType: types.StringType, Required: true},
		"ha":    schema.BoolAttribute{Optional: true},
	}}
	raw := tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"nodes": tftypes.List{ElementType: tftypes.String}, "ha": tftypes.Bool}},
		map[string]tftypes.Value{"nodes": tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, nil), "ha": ha})
	return tfsdk.Config{Schema: s, Raw: raw}
}

func TestFCINodes(t *testing.T) {
	const app1, app2 = "priv-app1.priv.contoso.test", "priv-app2.priv.contoso.test"
	list := func(vals ...attr.Value) types.List { return types.ListValueMust(types.StringType, vals) }
	str := types.StringValue
	haTrue, haFalse, haUnset, haUnknown := tftypes.NewValue(tftypes.Bool, true), tftypes.NewValue(tftypes.Bool, false),
		tftypes.NewValue(tftypes.Bool, nil), tftypes.NewValue(tftypes.Bool, tftypes.UnknownValue)
	cases := []struct {
		name    string
		nodes   types.List
		ha      tftypes.Value
		summary []string // expected error summaries, in order
		detail  string
	}{
		{"two nodes", list(str(app1), str(app2)), haTrue, nil, ""},
		{"one node, ha", list(str(app1)), haTrue, []string{"HA Rule HA-3 Violated"}, `nodes is ["priv-app1.priv.contoso.test"] and ha is true`},
		{"one node, ha by default", list(str(app1)), haUnset, []string{"HA Rule HA-3 Violated"}, "HA-3: a SQL Server failover cluster instance needs at least two nodes"},
		{"one node, ha unknown", list(str(app1)), haUnknown, nil, ""},
		{"one node, not ha", list(str(app1)), haFalse, nil, ""},
		{"duplicate", list(str(app1), str("PRIV-APP1.priv.contoso.test.")), haFalse, []string{"Duplicate Failover Cluster Node"}, `nodes[1] is "PRIV-APP1.priv.contoso.test.", the same server as nodes[0]`},
		{"duplicate is one node", list(str(app1), str(app1)), haTrue, []string{"Duplicate Failover Cluster Node", "HA Rule HA-3 Violated"}, ""},
		{"short name duplicate", list(str(app1), str("priv-app1"), str(app2)), haTrue, []string{"Duplicate Failover Cluster Node"}, ""},
		{"unknown element skips the count", list(str(app1), types.StringUnknown()), haTrue, nil, ""},
		{"null list", types.ListNull(types.StringType), haTrue, nil, ""},
		{"unknown list", types.ListUnknown(types.StringType), haTrue, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := &validator.ListResponse{}
			FCINodes(path.Root("ha")).ValidateList(context.Background(), validator.ListRequest{
				Path: path.Root("nodes"), ConfigValue: c.nodes, Config: nodesConfig(t, c.ha),
			}, resp)
			errs := resp.Diagnostics.Errors()
			if len(errs) != len(c.summary) {
				t.Fatalf("got %d errors %v, want %v", len(errs), errs, c.summary)
			}
			for i, s := range c.summary {
				if errs[i].Summary() != s {
					t.Errorf("error %d: %q, want %q", i, errs[i].Summary(), s)
				}
			}
			if c.detail != "" && !strings.Contains(errs[0].Detail(), c.detail) {
				t.Errorf("detail %q lacks %q", errs[0].Detail(), c.detail)
			}
		})
	}
}

func TestFCIStringValidators(t *testing.T) {
	cases := []struct {
		name  string
		v     validator.String
		value string
		ok    bool
	}{
		{"default instance", SQLInstanceName(), "MSSQLSERVER", true},
		{"named instance", SQLInstanceName(), "PAM_01$", true},
		{"instance too long", SQLInstanceName(), "ABCDEFGHIJKLMNOPQ", false},
		{"instance leading digit", SQLInstanceName(), "1PAM", false},
		{"instance reserved", SQLInstanceName(), "Default", false},
		{"instance hostile", SQLInstanceName(), "PAM;DROP", false},
		{"ip", ClusterIPv4(), "10.0.0.50", true},
		{"ip v6", ClusterIPv4(), "fe80::1", false},
		{"ip mapped v6", ClusterIPv4(), "::ffff:10.0.0.5", false},
		{"ip zero", ClusterIPv4(), "0.0.0.0", false},
		{"ip text", ClusterIPv4(), "ten", false},
		{"mask", SubnetMask(), "255.255.255.0", true},
		{"mask holes", SubnetMask(), "255.0.255.0", false},
		{"mask zero", SubnetMask(), "0.0.0.0", false},
		{"network", ClusterNetworkName(), "Cluster Network 1", true},
		{"network hostile but single field", ClusterNetworkName(), `it's $(calc) ` + "`x`", true},
		{"network semicolon", ClusterNetworkName(), "Net;255.0.0.0", false},
		{"network newline", ClusterNetworkName(), "Net\n1", false},
		{"role", SQLServerRole(), "sysadmin", true},
		{"role user-defined", SQLServerRole(), "MIM Readers", true},
		{"role public", SQLServerRole(), "Public", false},
		{"role long", SQLServerRole(), strings.Repeat("r", 129), false},
		{"role newline", SQLServerRole(), "a\nb", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, c.v, types.StringValue(c.value), c.ok)
			if len(run(c.v, types.StringNull())) > 0 || len(run(c.v, types.StringUnknown())) > 0 {
				t.Fatal("null or unknown value rejected")
			}
		})
	}
}
