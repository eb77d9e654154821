package directory_test

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

// samLDB is each Samba DC's own database, written without LDAP.
const sambaSamLDB = "/var/lib/samba/private/sam.ldb"

// TestSambaZoneForwardings holds ZoneForwardings and HostAddresses to
// Samba AD. Samba cannot make a conditional forwarder itself: `samba-tool dns
// zonecreate` creates primary zones only (Samba 4.17's netcmd/dns.py sets
// DNS_ZONE_TYPE_PRIMARY, and its DNS server keeps server-level forwarders in
// smb.conf, not in the directory). So the test stores one as Windows' DNS
// server does, a dnsZone in CORP's ForestDnsZones with DSPROPERTY_ZONE_TYPE =
// forwarder and both master-server properties, written with ldbadd into
// corp-dc1's own database (not through LDAP or this package), then reads it
// over LDAPS with the CORP credentials; and it reads the A record Samba
// registered for priv-dc1 in the PRIV zone. The zone is named apart from the
// lab's domains so Samba's own DNS answers are not disturbed.
func TestSambaZoneForwardings(t *testing.T) {
	l := sambaLab.Lab(t)
	ctx := sambaCtx(t)
	corp, ok := l.DC(corpDC1)
	if !ok {
		t.Fatal("no corp-dc1 in the Samba lab")
	}
	priv, ok := l.DC(privDC1)
	if !ok {
		t.Fatal("no priv-dc1 in the Samba lab")
	}
	const zone = "bastion-forwarding.test"
	typ := binary.LittleEndian.AppendUint32(nil, directory.DNSZoneTypeForwarder)
	ip4, err := directory.MarshalIP4Array([]string{priv.IP})
	if err != nil {
		t.Fatal(err)
	}
	da, err := directory.MarshalDNSAddrArray([]string{priv.IP})
	if err != nil {
		t.Fatal(err)
	}
	dn := "DC=" + zone + ",CN=MicrosoftDNS,DC=ForestDnsZones," + corp.BaseDN
	b64 := func(id uint32, data []byte) string {
		return base64.StdEncoding.EncodeToString(directory.MarshalDNSProperty(directory.DNSProperty{ID: id, Data: data}))
	}
	ldif := fmt.Sprintf("dn: %s\nobjectClass: top\nobjectClass: dnsZone\ndnsProperty:: %s\ndnsProperty:: %s\ndnsProperty:: %s\n",
		dn, b64(0x01, typ), b64(0x81, ip4), b64(0x91, da))
	if _, err := l.Exec(ctx, corpDC1, "sh", "-c", `printf '%s' "$1" | ldbadd -H `+sambaSamLDB, "_", ldif); err != nil {
		t.Fatalf("storing the conditional forwarder on corp-dc1: %v", err)
	}
	t.Cleanup(func() { _, _ = l.Exec(ctx, corpDC1, "ldbdel", "-H", sambaSamLDB, dn) })

	c := sambaClient(t, sambaConfig(t, l, "corp", corpDC1))
	got, err := c.ZoneForwardings(ctx, "pam."+zone)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.EqualFold(got[0].Zone, zone) || got[0].Type != directory.DNSZoneTypeForwarder ||
		got[0].Partition != "ForestDnsZones" || !slices.Equal(got[0].MasterServers, []string{priv.IP}) {
		t.Fatalf("forwardings for pam.%s on Samba: %+v", zone, got)
	}
	// Samba's own zones (the domain's, _msdcs) are primary: nothing forwards.
	own, err := c.ZoneForwardings(ctx, corp.Realm)
	if err != nil || len(own) != 0 {
		t.Errorf("CORP's own zone on Samba: %+v, %v", own, err)
	}

	addrs, err := sambaClient(t, sambaConfig(t, l, "priv", privDC1)).HostAddresses(ctx, strings.ToLower(priv.Realm), []string{priv.FQDN})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(addrs[priv.FQDN], priv.IP) {
		t.Errorf("priv-dc1's addresses in its zone on Samba: %v, want %s among them", addrs, priv.IP)
	}
}
