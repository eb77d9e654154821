package validators

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The validators item 8 of the Windows realism work attached: each bounds
// its value's length, refuses NUL, and checks its form.
func TestWindowsLimitValidators(t *testing.T) {
	long := func(n int) types.String { return types.StringValue(strings.Repeat("a", n)) }
	checkCases(t, []stringCase{
		{"one of ok", OneOf("A", "AAAA"), types.StringValue("AAAA"), true},
		{"one of case", OneOf("A", "AAAA"), types.StringValue("a"), false},
		{"one of other", OneOf("A", "AAAA"), types.StringValue("MX"), false},
		{"one of null skipped", OneOf("A"), types.StringNull(), true},
		{"text ok", Text(10, "a name"), types.StringValue("Cluster 1"), true},
		{"text at limit", Text(10, "a name"), long(10), true},
		{"text over limit", Text(10, "a name"), long(11), false},
		{"text empty", Text(10, "a name"), types.StringValue(""), false},
		{"text NUL", Text(10, "a name"), types.StringValue("a\x00b"), false},
		{"text line break", Text(10, "a name"), types.StringValue("a\nb"), false},
		{"logon domain", LogonName(), types.StringValue(`PRIV\tf-bastion`), true},
		{"logon upn", LogonName(), types.StringValue("tf@priv.contoso.test"), true},
		{"logon dn", LogonName(), types.StringValue("CN=tf,CN=Users,DC=priv,DC=contoso,DC=test"), true},
		{"logon at 1024", LogonName(), long(1024), true},
		{"logon over 1024", LogonName(), long(1025), false},
		{"logon NUL", LogonName(), types.StringValue("PRIV\\a\x00"), false},
		{"logon empty", LogonName(), types.StringValue(""), false},
		{"site ok", SiteName(), types.StringValue("Default-First-Site-Name"), true},
		{"site 63", SiteName(), long(63), true},
		{"site 64", SiteName(), long(64), false},
		{"mim service name", MIMServiceName(), types.StringValue("PRIV-APP1"), true},
		{"mim partition 253", MIMServiceName(), long(253), true},
		{"mim partition 254", MIMServiceName(), long(254), false},
		{"dn ok", DistinguishedName(), types.StringValue("DC=priv,DC=contoso,DC=test"), true},
		{"dn too long", DistinguishedName(), long(1025), false},
		{"client instance default", ClientSQLInstanceName(), types.StringValue(""), true},
		{"client instance named", ClientSQLInstanceName(), types.StringValue("MIM"), true},
		{"client instance 17", ClientSQLInstanceName(), long(17), false},
		{"relative @", DNSRelativeName(), types.StringValue("@"), true},
		{"relative labels", DNSRelativeName(), types.StringValue("_ldap._tcp.mim"), true},
		{"relative label 64", DNSRelativeName(), long(64), false},
		{"relative over 253", DNSRelativeName(), types.StringValue(strings.Repeat("a.", 127) + "a"), false},
		{"relative zone dot", DNSRelativeName(), types.StringValue("mim."), false},
		{"record address", DNSRecordData(), types.StringValue("10.0.0.21"), true},
		{"record target", DNSRecordData(), types.StringValue("lb.priv.contoso.test"), true},
		{"record over 253", DNSRecordData(), long(254), false},
		{"cluster disk", ClusterResourceName(), types.StringValue("Cluster Disk 1"), true},
		{"cluster disk 257", ClusterResourceName(), long(257), false},
		{"cluster network 257", ClusterNetworkName(), long(257), false},
		{"cluster network ok", ClusterNetworkName(), types.StringValue("Cluster Network 1"), true},
		{"setup feature", SetupFeature(), types.StringValue("SQLENGINE"), true},
		{"setup feature bad", SetupFeature(), types.StringValue("SQL ENGINE"), false},
		{"setup feature 129", SetupFeature(), long(129), false},
		{"sync account 21", SyncAccount(), long(21), false},
		{"sync account ok", SyncAccount(), types.StringValue("svc-dsrm"), true},
		{"ip NUL", IPAddress(), types.StringValue("10.0.0.1\x00"), false},
		{"timestamp long", RFC3339(), long(40000), false},
	})
}

// An error quotes the value at most once, cut to 200 characters, also for
// an element of a set, whose path would otherwise hold the whole value.
func TestErrorsQuoteTheValueOnceAndCut(t *testing.T) {
	value := "x" + strings.Repeat("y", 5000)
	for name, v := range map[string]validator.String{
		"one of": OneOf("A"), "relative name": DNSRelativeName(), "feature": SetupFeature(), "fqdn": FQDN(), "timestamp": RFC3339(),
	} {
		for _, errText := range run(v, types.StringValue(value)) {
			if n := strings.Count(errText, "xyyy"); n > 1 || strings.Contains(errText, strings.Repeat("y", 201)) {
				t.Errorf("%s: the error quotes the value %d times or beyond 200 characters: %.300q", name, n, errText)
			}
		}
	}
	set := types.SetValueMust(types.StringType, []attr.Value{types.StringValue(value)})
	resp := &validator.SetResponse{}
	setvalidator.ValueStringsAre(SetupFeature()).ValidateSet(context.Background(), validator.SetRequest{Path: path.Root("features"), ConfigValue: set}, resp)
	if !resp.Diagnostics.HasError() {
		t.Fatal("a 5001-character feature name was accepted")
	}
	for _, d := range resp.Diagnostics {
		if n := strings.Count(d.Detail(), "xyyy"); n > 1 || strings.Contains(d.Detail(), strings.Repeat("y", 201)) {
			t.Errorf("a set element's error quotes it %d times or beyond 200 characters: %.300q", n, d.Detail())
		}
		if !strings.Contains(d.Detail(), "an element of features") {
			t.Errorf("a set element's error does not name the attribute: %.300q", d.Detail())
		}
	}
}
