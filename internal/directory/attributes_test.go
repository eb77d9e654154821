package directory_test

import (
	"crypto/tls"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory/directorytest"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// filterAttr finds the attribute descriptions of an RFC 4515 filter.
var filterAttr = regexp.MustCompile(`\(([A-Za-z][A-Za-z0-9-]*)(?::[0-9.]+:)?[~<>]?=`)

// adapterAttributes runs every read and write of the adapter against the lab
// and returns the attributes it asked for or filtered on, outside the
// rootDSE (whose attributes are operational, not schema objects), sorted.
func adapterAttributes(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var mu sync.Mutex
	restore := directory.ObserveSearches(func(base, filter string, attrs []string) {
		mu.Lock()
		defer mu.Unlock()
		if base == "" {
			return
		}
		for _, a := range attrs {
			name, _, _ := strings.Cut(a, ";")
			seen[name] = true
		}
		for _, m := range filterAttr.FindAllStringSubmatch(filter, -1) {
			seen[m[1]] = true
		}
	})
	defer restore()
	l := startLab(t)
	c := l.client(t)
	ctx := ctxT(t)
	ref := labReference{env: l.env, domain: model.DomainDNS}
	for _, tc := range directorytest.Cases {
		if err := tc.Run(ctx, c, ref); err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
	}
	if _, err := c.BackupStatus(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetGlobalCatalog(ctx, model.DC2, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TransferFSMO(ctx, adnames.PDCEmulator, model.DC2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SeizeFSMO(ctx, adnames.PDCEmulator, model.DC1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	out := slices.Sorted(maps.Keys(seen))
	if len(out) < 20 {
		t.Fatalf("only %d attributes observed: %v", len(out), out)
	}
	return out
}

// TestAdapterAttributesExistInLabSchema: every attribute the adapter reads
// or filters on is an attributeSchema object of the lab's schema NC (AD's
// Windows Server 2016 schema), found over LDAP by lDAPDisplayName, so a
// misspelt or invented attribute fails here and not on the first real DC.
func TestAdapterAttributesExistInLabSchema(t *testing.T) {
	attrs := adapterAttributes(t)
	l := startLab(t)
	conn, err := ldap.DialURL("ldaps://"+l.srv.ConnectTo().Resolve(model.DC1+":636"), ldap.DialWithTLSConfig(&tls.Config{RootCAs: l.ca.Pool(), ServerName: model.DC1, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.Bind(model.AdminUser, l.seed.AdminPassword); err != nil {
		t.Fatal(err)
	}
	missing := missingFromSchema(t, conn, "CN=Schema,CN=Configuration,"+adnames.DomainDN(model.DomainDNS), append(attrs, "uSNChangd"))
	if len(missing) != 1 || missing[0] != "uSNChangd" {
		t.Errorf("not in the lab's schema: %v (only the planted misspelling uSNChangd should be)", missing)
	}
	t.Logf("%d attributes the adapter uses, all in the lab's schema: %s", len(attrs), strings.Join(attrs, " "))
}

// missingFromSchema asks the schema NC for each name's attributeSchema.
func missingFromSchema(t *testing.T, conn *ldap.Conn, schemaDN string, names []string) []string {
	t.Helper()
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = "(lDAPDisplayName=" + ldap.EscapeFilter(n) + ")"
	}
	res, err := conn.SearchWithPaging(ldap.NewSearchRequest(schemaDN, ldap.ScopeSingleLevel, 0, 0, 0, false,
		"(&(objectClass=attributeSchema)(|"+strings.Join(parts, "")+"))", []string{"lDAPDisplayName"}, nil), 500)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, e := range res.Entries {
		found[strings.ToLower(e.GetAttributeValue("lDAPDisplayName"))] = true
	}
	var missing []string
	for _, n := range names {
		if !found[strings.ToLower(n)] {
			missing = append(missing, n)
		}
	}
	return missing
}
