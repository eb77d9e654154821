package directory

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// TestDNSRecordLayout pins the byte layout of [MS-DNSP] 2.3.2.2: DataLength
// and Type little-endian, Version 5, Rank 0xF0, Serial little-endian,
// TtlSeconds big-endian, Reserved and TimeStamp zero, then the data.
func TestDNSRecordLayout(t *testing.T) {
	b, err := MarshalDNSRecord(DNSRecord{Type: DNSTypeA, Serial: 0x01020304, TTL: 3600, Value: "10.0.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("0400" + "0100" + "05" + "f0" + "0000" + "04030201" + "00000e10" + "00000000" + "00000000" + "0a000005")
	if !bytes.Equal(b, want) {
		t.Fatalf("A record\n got %x\nwant %x", b, want)
	}
	// DNS_COUNT_NAME of "mim.priv.test": Length 15 (raw name with its
	// terminating zero), LabelCount 3, then the labels.
	b, err = MarshalDNSRecord(DNSRecord{Type: DNSTypeCNAME, TTL: 300, Value: "mim.priv.test"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ = hex.DecodeString("1100" + "0500" + "05f00000" + "00000000" + "0000012c" + "00000000" + "00000000" + "0f03" + "036d696d" + "0470726976" + "0474657374" + "00")
	if !bytes.Equal(b, want) {
		t.Fatalf("CNAME record\n got %x\nwant %x", b, want)
	}
}

func TestDNSRecordRoundTrip(t *testing.T) {
	for _, r := range []DNSRecord{
		{Type: DNSTypeA, TTL: 1, Value: "192.0.2.1"},
		{Type: DNSTypeAAAA, TTL: 86400, Serial: 7, Value: "2001:db8::10"},
		{Type: DNSTypeCNAME, TTL: 3600, Value: "mim-nlb.priv.contoso.com"},
	} {
		b, err := MarshalDNSRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseDNSRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != r.Type || got.TTL != r.TTL || got.Serial != r.Serial || got.Value != r.Value || got.Rank != 0xF0 {
			t.Errorf("round trip of %+v gave %+v", r, got)
		}
	}
}

func TestDNSRecordRefusals(t *testing.T) {
	for _, r := range []DNSRecord{
		{Type: DNSTypeA, Value: "2001:db8::1"},
		{Type: DNSTypeAAAA, Value: "192.0.2.1"},
		{Type: DNSTypeA, Value: "not-an-address"},
		{Type: DNSTypeCNAME, Value: ""},
		{Type: DNSTypeCNAME, Value: "a..b"},
	} {
		if _, err := MarshalDNSRecord(r); !errors.Is(err, ErrMalformedDNSRecord) {
			t.Errorf("MarshalDNSRecord(%+v) = %v, want ErrMalformedDNSRecord", r, err)
		}
	}
	good, _ := MarshalDNSRecord(DNSRecord{Type: DNSTypeA, Value: "192.0.2.1"})
	for name, b := range map[string][]byte{
		"short header":       good[:20],
		"data cut":           good[:26],
		"version 4":          append(append([]byte{}, good[:4]...), append([]byte{4}, good[5:]...)...),
		"A with 3 bytes":     append(append([]byte{3, 0}, good[2:24]...), 1, 2, 3),
		"label count is off": append(append([]byte{5, 0, 5, 0}, good[4:24]...), 3, 2, 1, 'a', 0),
	} {
		if _, err := ParseDNSRecord(b); !errors.Is(err, ErrMalformedDNSRecord) {
			t.Errorf("%s: ParseDNSRecord = %v, want ErrMalformedDNSRecord", name, err)
		}
	}
}
