package validators

import (
	"context"
	"fmt"
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

// check runs v on value: ok says whether it must be accepted; a rejection
// must name the attribute and say what is allowed.
func check(t *testing.T, v validator.String, value types.String, ok bool) {
	t.Helper()
	errs := run(v, value)
	if ok && len(errs) > 0 {
		t.Fatalf("rejected: %v", errs)
	}
	if !ok {
		if len(errs) == 0 {
			t.Fatal("accepted")
		}
		if !strings.Contains(errs[0], "attr") || !strings.Contains(errs[0], "must be") {
			t.Fatalf("diagnostic does not name the attribute and what is allowed: %q", errs[0])
		}
	}
}

// stringCase is a row of a validator's table test: ok says whether value
// must be accepted.
type stringCase struct {
	name  string
	v     validator.String
	value types.String
	ok    bool
}

// checkCases runs check on every row, each as a subtest.
func checkCases(t *testing.T, cases []stringCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, c.v, c.value, c.ok) })
	}
}

func TestValidators(t *testing.T) {
	checkCases(t, []stringCase{
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
		{"sync account ok", SyncAccount(), types.StringValue("svc-dsrm"), true},
		{"sync account with domain", SyncAccount(), types.StringValue(`PRIV\svc-dsrm`), false},
		{"sync account space", SyncAccount(), types.StringValue("svc dsrm"), false},
		{"sync account quote", SyncAccount(), types.StringValue(`svc"q`), false},
		{"sync account too long", SyncAccount(), types.StringValue("svc-dsrm-sync-account1"), false},
		{"sync account null skipped", SyncAccount(), types.StringNull(), true},
		{"single line ok", SingleLine(), types.StringValue(`x"; Remove-Item C:\ -Recurse; $(calc) ` + "`whoami`"), true},
		{"single line newline", SingleLine(), types.StringValue("a\nb"), false},
		{"single line padded", SingleLine(), types.StringValue(" a"), false},
	})
}

func TestLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	label := func(n int) string { return strings.Repeat("b", n) }
	cases := []struct {
		name  string
		check func(string) error
		value string
		ok    bool
	}{
		{"sAMAccountName 20", CheckWindowsAccount, `PRIV\` + long(20), true},
		{"sAMAccountName 21", CheckWindowsAccount, `PRIV\` + long(21), false},
		{"NetBIOS 15", CheckNetBIOSDomainName, "ABCDEFGHIJKLMNO", true},
		{"NetBIOS 16", CheckNetBIOSDomainName, "ABCDEFGHIJKLMNOP", false},
		{"DNS label 63", CheckFQDN, "host." + label(63) + ".test", true},
		{"DNS label 64", CheckFQDN, "host." + label(64) + ".test", false},
		{"FQDN 253", CheckFQDN, "host." + strings.Repeat(label(60)+".", 4)[:243] + ".test", true},
		{"FQDN 254", CheckFQDN, "host." + strings.Repeat(label(60)+".", 4)[:244] + ".test", false},
		{"path 259", CheckWindowsPath, `C:\` + long(256), true},
		{"path 260", CheckWindowsPath, `C:\` + long(257), false},
		{"long path 1000", CheckWindowsLongPath, `C:\` + long(1000), true},
		{"password 256", CheckPassword, long(256), true},
		{"password 257", CheckPassword, long(257), false},
		{"password empty", CheckPassword, "", false},
		{"password NUL", CheckPassword, "a\x00b", false},
		{"setup password", CheckSetupPassword, `P@ss'w0rd$\`, true},
		{"setup password with a double quote", CheckSetupPassword, `pa"ss`, false},
		{"setup password NUL", CheckSetupPassword, "a\x00b", false},
		{"path NUL", CheckWindowsPath, "C:\\a\x00b", false},
	}
	for _, tc := range cases {
		err := tc.check(tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), long(201)) {
			t.Errorf("%s: the error shows more than 200 characters of the value", tc.name)
		}
	}
	// A megabyte value is quoted once and cut.
	err := CheckWindowsPath(`C:\` + long(1<<20))
	if err == nil || len(err.Error()) > 600 || strings.Count(err.Error(), `"C:\\aaa`) > 1 {
		t.Errorf("megabyte path: %d characters: %.300v", len(fmt.Sprint(err)), err)
	}
	if err := CheckPassword(long(300)); err == nil || strings.Contains(err.Error(), long(20)) {
		t.Errorf("a password error shows the value: %v", err)
	}
}
