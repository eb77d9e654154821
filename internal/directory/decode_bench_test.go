package directory

import (
	"bytes"
	"fmt"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// searchResultEntry encodes one LDAP SearchResultEntry message as a DC
// sends it (RFC 4511 section 4.5.2).
func searchResultEntry(id int64, dn string, attrs map[string][]string) []byte {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP message")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "message ID"))
	entry := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "entry")
	entry.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "DN"))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for name, vals := range attrs {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, "type"))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "values")
		for _, v := range vals {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "value"))
		}
		a.AppendChild(set)
		list.AppendChild(a)
	}
	entry.AppendChild(list)
	msg.AppendChild(entry)
	return msg.Bytes()
}

// dcSearchReply is the DC search's answer for n DCs: each server object and
// its NTDS Settings object, as the Configuration NC holds them.
func dcSearchReply(n int) []byte {
	var buf bytes.Buffer
	const config = "CN=Configuration,DC=priv,DC=contoso,DC=com"
	for i := 0; i < n; i++ {
		server := fmt.Sprintf("CN=PRIV-DC%04d,CN=Servers,CN=Site-%02d,CN=Sites,%s", i, i%25, config)
		buf.Write(searchResultEntry(int64(2*i+1), server, map[string][]string{
			"objectClass":     {"top", "server"},
			"objectCategory":  {"CN=Server,CN=Schema," + config},
			"dNSHostName":     {fmt.Sprintf("priv-dc%04d.priv.contoso.com", i)},
			"serverReference": {fmt.Sprintf("CN=PRIV-DC%04d,OU=Domain Controllers,DC=priv,DC=contoso,DC=com", i)},
		}))
		buf.Write(searchResultEntry(int64(2*i+2), "CN=NTDS Settings,"+server, map[string][]string{
			"objectClass":           {"top", "applicationSettings", "nTDSDSA"},
			"objectCategory":        {"CN=NTDS-DSA,CN=Schema," + config},
			"options":               {"1"},
			"invocationId":          {string([]byte{0x9d, 0x1f, 0x4e, 0x2a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, byte(i), byte(i >> 8)})},
			"msDS-Behavior-Version": {"7"},
		}))
	}
	return buf.Bytes()
}

// BenchmarkDecodeDCSearch decodes the DC search's reply for 1,000 DCs (BER
// messages to entries, as go-ldap's reader does) and joins them into DCs.
func BenchmarkDecodeDCSearch(b *testing.B) {
	reply := dcSearchReply(1000)
	b.SetBytes(int64(len(reply)))
	b.ReportAllocs()
	for b.Loop() {
		r := bytes.NewReader(reply)
		var entries []*ldap.Entry
		for r.Len() > 0 {
			p, err := ber.ReadPacket(r)
			if err != nil {
				b.Fatal(err)
			}
			e := p.Children[1]
			attrs := map[string][]string{}
			for _, a := range e.Children[1].Children {
				var vals []string
				for _, v := range a.Children[1].Children {
					vals = append(vals, v.Data.String())
				}
				attrs[a.Children[0].Data.String()] = vals
			}
			entries = append(entries, ldap.NewEntry(e.Children[0].Data.String(), attrs))
		}
		if dcs := joinDCs(entries); len(dcs) != 1000 || dcs[999].Host == "" {
			b.Fatalf("decoded %d DCs", len(dcs))
		}
	}
}
