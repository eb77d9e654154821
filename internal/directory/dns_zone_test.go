package directory_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// TestDNSPropertyLayout pins [MS-DNSP] 2.3.2.1 (DataLength, NameLength,
// Flag, Version 1, Id, Data, Name) and the two address arrays a
// conditional forwarder's master servers are stored as: IP4_ARRAY
// (2.2.3.2.1) and DNS_ADDR_ARRAY (2.2.3.2.3, 32-byte header, 64-byte
// entries).
func TestDNSPropertyLayout(t *testing.T) {
	typ := directory.MarshalDNSProperty(directory.DNSProperty{ID: 0x01, Data: []byte{4, 0, 0, 0}})
	want, _ := hex.DecodeString("04000000" + "01000000" + "00000000" + "01000000" + "01000000" + "04000000" + "00")
	if !bytes.Equal(typ, want) {
		t.Fatalf("DSPROPERTY_ZONE_TYPE\n got %x\nwant %x", typ, want)
	}
	ip4, err := directory.MarshalIP4Array([]string{"10.0.0.11", "10.0.0.12"})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := hex.DecodeString("02000000" + "0a00000b" + "0a00000c"); !bytes.Equal(ip4, want) {
		t.Fatalf("IP4_ARRAY\n got %x\nwant %x", ip4, want)
	}
	da, err := directory.MarshalDNSAddrArray([]string{"10.0.0.11", "2001:db8::53"})
	if err != nil {
		t.Fatal(err)
	}
	if len(da) != 32+2*64 || da[4] != 2 || da[32] != 2 || !bytes.Equal(da[36:40], []byte{10, 0, 0, 11}) || da[96] != 23 {
		t.Fatalf("DNS_ADDR_ARRAY layout: %x", da)
	}
	if _, err := directory.MarshalIP4Array([]string{"2001:db8::1"}); !errors.Is(err, directory.ErrMalformedDNSProperty) {
		t.Errorf("IPv6 in an IP4_ARRAY: %v", err)
	}
	for name, b := range map[string][]byte{"short header": typ[:12], "data cut": typ[:22]} {
		if _, err := directory.ParseDNSProperty(b); !errors.Is(err, directory.ErrMalformedDNSProperty) {
			t.Errorf("%s: ParseDNSProperty = %v, want ErrMalformedDNSProperty", name, err)
		}
	}
}

// TestZoneForwardingsAgainstLab reads CORP's conditional forwarders for the
// PRIV zone over LDAP with the CORP credential: the forest-wide one, a
// domain-wide one for the parent domain, and no primary zone.
func TestZoneForwardingsAgainstLab(t *testing.T) {
	l := startLab(t)
	must(t, l.env.Do(func(e *model.Env) error {
		corp := e.Forests[model.CorpDomainDNS]
		if err := corp.AddConditionalForwarder(model.DomainDNS, []string{model.DC1Address}, model.ForestDNSZones); err != nil {
			return err
		}
		return corp.AddConditionalForwarder("contoso.test", []string{"192.0.2.53", "2001:db8::53"}, model.DomainDNSZones)
	}))
	must(t, l.srv.Sync())
	c := l.client(t, func(c *directory.Config) {
		c.Servers = []string{model.CorpDC1}
		c.Domain = model.CorpDomainDNS
		c.Username = model.CorpAdminUser
		_ = l.env.Do(func(e *model.Env) error {
			c.Password = e.Credentials[strings.ToLower(model.CorpAdminUser)]
			return nil
		})
	})
	before := l.calls(model.CorpDC1)
	got, err := c.ZoneForwardings(ctxT(t), model.DomainDNS)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %+v, want the PRIV zone's forwarder and the parent's", got)
	}
	if got[0].Zone != model.DomainDNS || got[0].Type != directory.DNSZoneTypeForwarder || got[0].Partition != "ForestDnsZones" ||
		!slices.Equal(got[0].MasterServers, []string{model.DC1Address}) {
		t.Errorf("PRIV zone forwarder: %+v", got[0])
	}
	if got[1].Zone != "contoso.test" || got[1].Partition != "DomainDnsZones" || !slices.Equal(got[1].MasterServers, []string{"192.0.2.53", "2001:db8::53"}) {
		t.Errorf("parent forwarder: %+v", got[1])
	}
	// bind + one search per place (forest, domain, CN=System)
	if n := l.calls(model.CorpDC1) - before; n != 4 {
		t.Errorf("%d LDAP operations, want 4", n)
	}
	// The PRIV directory's own zone is primary: no forwarding.
	own, err := l.client(t).ZoneForwardings(ctxT(t), model.DomainDNS)
	if err != nil || len(own) != 0 {
		t.Errorf("PRIV's own zone: %+v, %v", own, err)
	}
}

// TestHostAddressesAgainstLab reads the DCs' A records from the PRIV zone
// in one search; a host outside the zone or without records is absent.
func TestHostAddressesAgainstLab(t *testing.T) {
	l := startLab(t)
	c := l.client(t)
	got, err := c.HostAddresses(ctxT(t), model.DomainDNS, []string{model.DC1, strings.ToUpper(model.DC2), model.App1, model.CorpDC1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{model.DC1: {model.DC1Address}, strings.ToUpper(model.DC2): {model.DC2Address}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for h, a := range want {
		if !slices.Equal(got[h], a) {
			t.Errorf("%s: %v, want %v", h, got[h], a)
		}
	}
}
