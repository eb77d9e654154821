package ldapsim

// The lab's directory as OpenLDAP's ldapsearch sees it: an independent LDAP
// client, installed with apt (ldap-utils) when missing. The expected answers
// come from Microsoft's documentation of AD, not from the lab: the rootDSE
// ([MS-ADTS] 3.1.1.3.2, 3.1.1.3.4), paged results against MaxPageSize
// ([MS-ADTS] 3.1.1.3.4.6, RFC 2696), range retrieval ([MS-ADTS]
// 3.1.1.3.1.3.3) and the metadata every object carries (3.1.1.1.9).

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/aptpkg"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// ldapsearchClient runs ldapsearch against one DC of the lab over LDAPS,
// verifying the lab CA (the listener is 127.0.0.1, a SAN of the lab's
// certificates), bound as the domain's Administrator with the password in a
// 0600 file (-y), never on the command line.
type ldapsearchClient struct {
	bin, url, caFile, pwFile string
}

func newLdapsearch(t *testing.T, f *fixture, host string) *ldapsearchClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := aptpkg.NeedCommand(ctx, t, "ldapsearch", "ldap-utils")
	dir := t.TempDir()
	c := &ldapsearchClient{bin: bin, url: "ldaps://" + f.addr(host, PortLDAPS), caFile: filepath.Join(dir, "ca.pem"), pwFile: filepath.Join(dir, "pw")}
	if !strings.HasPrefix(f.addr(host, PortLDAPS), "127.0.0.1:") {
		t.Fatalf("LDAPS of %s listens on %s, not 127.0.0.1", host, f.addr(host, PortLDAPS))
	}
	if err := os.WriteFile(c.caFile, f.ca.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.pwFile, []byte(f.seed.AdminPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// search runs ldapsearch (-LLL, unwrapped LDIF) and returns its output and
// exit status; bind false searches anonymously.
func (c *ldapsearchClient) search(t *testing.T, bind bool, args ...string) (string, int) {
	t.Helper()
	all := []string{"-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=20", "-x", "-H", c.url}
	if bind {
		all = append(all, "-D", model.AdminUser, "-y", c.pwFile)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(all, args...)...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+c.caFile, "LDAPTLS_REQCERT=demand", "LDAPRC=/dev/null", "LDAPCONF=/dev/null")
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("ldapsearch: %v", err)
	}
	return string(out), code
}

// values collects "attr: value" lines of LDIF by attribute description.
func values(ldif string) map[string][]string {
	out := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(ldif))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		if a, v, ok := strings.Cut(sc.Text(), ": "); ok && !strings.HasPrefix(a, "#") {
			out[a] = append(out[a], v)
		}
	}
	return out
}

func TestLdapsearchRootDSE(t *testing.T) {
	f := start(t)
	c := newLdapsearch(t, f, model.DC1)
	out, code := c.search(t, false, "-b", "", "-s", "base", "(objectClass=*)",
		"supportedControl", "supportedExtension", "supportedCapabilities", "supportedLDAPPolicies", "highestCommittedUSN", "dnsHostName")
	if code != 0 {
		t.Fatalf("ldapsearch rootDSE: exit %d\n%s", code, out)
	}
	v := values(out)
	want := map[string][]string{
		// LDAP_PAGED_RESULT_OID_STRING, LDAP_SERVER_RANGE_OPTION_OID, LDAP_SERVER_RANGE_RETRIEVAL_NOERR_OID,
		// LDAP_SERVER_DIRSYNC_OID, LDAP_SERVER_SD_FLAGS_OID ([MS-ADTS] 3.1.1.3.4.1)
		"supportedControl": {"1.2.840.113556.1.4.319", "1.2.840.113556.1.4.802", "1.2.840.113556.1.4.1948", "1.2.840.113556.1.4.841", "1.2.840.113556.1.4.801"},
		// StartTLS, Who am I ([MS-ADTS] 3.1.1.3.4.2)
		"supportedExtension": {"1.3.6.1.4.1.1466.20037", "1.3.6.1.4.1.4203.1.11.3"},
		// LDAP_CAP_ACTIVE_DIRECTORY_OID and the Windows Server 2012 capability ([MS-ADTS] 3.1.1.3.4.3)
		"supportedCapabilities": {"1.2.840.113556.1.4.800", "1.2.840.113556.1.4.2237"},
		"supportedLDAPPolicies": {"MaxPageSize", "MaxValRange", "MaxConnIdleTime", "MaxQueryDuration"},
		"dnsHostName":           {model.DC1},
	}
	for attr, ws := range want {
		have := strings.Join(v[attr], "|")
		for _, w := range ws {
			if !strings.Contains("|"+have+"|", "|"+w+"|") {
				t.Errorf("rootDSE %s lacks %s: %v", attr, w, v[attr])
			}
		}
	}
	if n := len(v["supportedControl"]); n < 30 {
		t.Errorf("rootDSE lists %d controls; a Windows Server 2016 DC lists about 40", n)
	}
	if u := v["highestCommittedUSN"]; len(u) != 1 || strings.Trim(u[0], "0123456789") != "" {
		t.Errorf("highestCommittedUSN %v", u)
	}
}

// TestLdapsearchDCComputerObject: "ldapsearch for whenChanged uSNChanged on a
// DC's computer object returns both", and everything else every object has.
func TestLdapsearchDCComputerObject(t *testing.T) {
	f := start(t)
	c := newLdapsearch(t, f, model.DC1)
	dn := "CN=PRIV-DC1,OU=Domain Controllers," + privBase
	out, code := c.search(t, true, "-b", dn, "-s", "base", "(objectClass=computer)", "whenChanged", "uSNChanged")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	v := values(out)
	if len(v["whenChanged"]) != 1 || len(v["uSNChanged"]) != 1 {
		t.Fatalf("whenChanged %v, uSNChanged %v\n%s", v["whenChanged"], v["uSNChanged"], out)
	}
	if _, err := time.Parse("20060102150405.0Z", v["whenChanged"][0]); err != nil {
		t.Errorf("whenChanged %q is not AD's GeneralizedTime: %v", v["whenChanged"][0], err)
	}
	out, _ = c.search(t, true, "-b", dn, "-s", "base", "(objectClass=*)")
	v = values(out)
	for _, a := range []string{"whenCreated", "whenChanged", "uSNCreated", "uSNChanged", "instanceType", "objectCategory", "dNSHostName"} {
		if len(v[a]) != 1 {
			t.Errorf("%s with *: %s %v", dn, a, v[a])
		}
	}
	// Binary values come base64-encoded ("objectGUID:: ..."): present, 16 bytes.
	for _, a := range []string{"objectGUID:", "objectSid:"} {
		if len(v[a]) != 1 {
			t.Errorf("%s with *: %s missing", dn, strings.TrimSuffix(a, ":"))
		}
	}
	if it := v["instanceType"]; len(it) == 1 && it[0] != "4" {
		t.Errorf("instanceType %s on a writable DC, want 4 (IT_WRITE)", it[0])
	}
	if oc := v["objectCategory"]; len(oc) == 1 && !strings.EqualFold(oc[0], "CN=Computer,CN=Schema,CN=Configuration,"+privBase) {
		t.Errorf("objectCategory %s", oc[0])
	}
}

// TestLdapsearchPagedAndRanged: 3200 users and a group holding them all.
func TestLdapsearchPagedAndRanged(t *testing.T) {
	f := start(t)
	bigGroup(f, "PAM Operators", 3200)
	c := newLdapsearch(t, f, model.DC1)
	users := "CN=Users," + privBase

	// Without paging AD stops at MaxPageSize (1000) with sizeLimitExceeded (4).
	out, code := c.search(t, true, "-b", users, "-s", "one", "(objectClass=user)", "1.1")
	if n := strings.Count(out, "dn: "); code != 4 || n != 1000 {
		t.Errorf("unpaged: exit %d with %d entries, want 4 (sizeLimitExceeded) after 1000", code, n)
	}
	// Paged results (RFC 2696), pages of 500: every user.
	out, code = c.search(t, true, "-E", "pr=500/noprompt", "-b", users, "-s", "one", "(objectClass=user)", "1.1")
	if n := strings.Count(out, "dn: "); code != 0 || n < 3200 {
		t.Errorf("paged: exit %d with %d entries, want all 3200+", code, n)
	}
	// Asking for pages larger than MaxPageSize still gets 1000 per page.
	out, code = c.search(t, true, "-E", "pr=5000/noprompt", "-b", users, "-s", "one", "(objectClass=user)", "1.1")
	if n := strings.Count(out, "dn: "); code != 0 || n < 3200 {
		t.Errorf("paged by 5000: exit %d with %d entries", code, n)
	}

	group := "CN=PAM Operators," + users
	for _, tc := range walkRanges {
		out, code := c.search(t, true, "-b", group, "-s", "base", "(objectClass=group)", tc.ask)
		v := values(out)
		if code != 0 || len(v[tc.name]) != tc.n || len(v["member"]) != 0 {
			t.Errorf("ask %s: exit %d, %s has %d values (want %d), plain member %d", tc.ask, code, tc.name, len(v[tc.name]), tc.n, len(v["member"]))
		}
	}
}
