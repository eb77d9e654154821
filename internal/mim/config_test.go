package mim

import (
	"bytes"
	"strings"
	"testing"
)

const sample = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration>\r\n  <!-- <resourceManagementService externalHostName=\"commented-out\" /> -->\r\n" +
	"  <resourceManagementService externalHostName=\"pam.priv.test\"   dataReadTimeoutInSeconds='58'\r\n     servicePartitionName=\"PAM.PRIV.TEST\" />\r\n" +
	"  <other serviceName=\"not-this\"/>\r\n</configuration>\r\n"

func TestParseNamesSkipsComments(t *testing.T) {
	n, err := ParseNames([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := Names{ExternalHostName: "pam.priv.test", ServicePartitionName: "PAM.PRIV.TEST"}
	if n != want {
		t.Fatalf("ParseNames = %+v, want %+v", n, want)
	}
	eff := n.Effective("PRIV-APP1")
	if eff.ServiceName != "PRIV-APP1" {
		t.Fatalf("serviceName default = %q, want computer name", eff.ServiceName)
	}
	if (Names{ExternalHostName: "pam.x"}).Effective("H").ServicePartitionName != "PAM.X" {
		t.Fatal("partition name must default to externalHostName, upper case")
	}
}

func TestSetAttributesKeepsEverythingElse(t *testing.T) {
	cases := []struct {
		name string
		set  map[string]string
		want string // expected full output
	}{
		{
			name: "no change is byte identical",
			set:  map[string]string{AttrExternalHostName: "pam.priv.test"},
			want: sample,
		},
		{
			name: "change one value in place",
			set:  map[string]string{AttrServicePartitionName: "NEW"},
			want: strings.Replace(sample, `servicePartitionName="PAM.PRIV.TEST"`, `servicePartitionName="NEW"`, 1),
		},
		{
			name: "insert a missing attribute after the last one",
			set:  map[string]string{AttrServiceName: "PRIV-APP2"},
			want: strings.Replace(sample, `servicePartitionName="PAM.PRIV.TEST" />`, `servicePartitionName="PAM.PRIV.TEST" serviceName="PRIV-APP2" />`, 1),
		},
		{
			name: "hostile value is escaped, not interpreted",
			set:  map[string]string{AttrServiceName: `a"b<c>&d'e` + "\n$(x)"},
			want: strings.Replace(sample, `servicePartitionName="PAM.PRIV.TEST" />`, `servicePartitionName="PAM.PRIV.TEST" serviceName="a&quot;b&lt;c&gt;&amp;d'e&#xA;$(x)" />`, 1),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SetAttributes([]byte(sample), c.set)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("got\n%q\nwant\n%q", got, c.want)
			}
			n, err := ParseNames(got)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.set {
				m := map[string]string{AttrExternalHostName: n.ExternalHostName, AttrServiceName: n.ServiceName, AttrServicePartitionName: n.ServicePartitionName}
				if m[k] != v {
					t.Fatalf("%s reads back %q, want %q", k, m[k], v)
				}
			}
		})
	}
}

func TestSetAttributesSingleQuoted(t *testing.T) {
	in := []byte(`<c><resourceManagementService externalHostName='a"b'/></c>`)
	out, err := SetAttributes(in, map[string]string{AttrExternalHostName: `x'y"z`})
	if err != nil {
		t.Fatal(err)
	}
	if want := `<c><resourceManagementService externalHostName='x&apos;y"z'/></c>`; string(out) != want {
		t.Fatalf("got %s want %s", out, want)
	}
}

func TestSetAttributesErrors(t *testing.T) {
	for name, in := range map[string]string{
		"no element":   `<configuration><x/></configuration>`,
		"malformed":    `<configuration><resourceManagementService a="1"></configuration>`,
		"not xml":      `hello`,
		"only comment": `<c><!-- <resourceManagementService a="1"/> --></c>`,
	} {
		if _, err := SetAttributes([]byte(in), map[string]string{AttrServiceName: "x"}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzSetAttributes(f *testing.F) {
	f.Add("PRIV-APP1", "PAM.PRIV.TEST")
	f.Add(`"'<>&`, "\r\n\t")
	f.Fuzz(func(t *testing.T, service, partition string) {
		if !utf8Valid(service) || !utf8Valid(partition) {
			t.Skip()
		}
		out, err := SetAttributes([]byte(sample), map[string]string{AttrServiceName: service, AttrServicePartitionName: partition})
		if err != nil {
			// Only characters XML 1.0 cannot carry may fail.
			if xmlCarries(service) && xmlCarries(partition) {
				t.Fatalf("SetAttributes(%q,%q): %v", service, partition, err)
			}
			return
		}
		// Everything before the element is untouched.
		head := sample[:strings.Index(sample, "  <resourceManagementService")]
		if !bytes.HasPrefix(out, []byte(head)) {
			t.Fatal("bytes before the element changed")
		}
		if !bytes.HasSuffix(out, []byte("  <other serviceName=\"not-this\"/>\r\n</configuration>\r\n")) {
			t.Fatal("bytes after the element changed")
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func xmlCarries(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}
