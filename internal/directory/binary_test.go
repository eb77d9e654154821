package directory

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// A replPropertyMetaData value written out byte by byte from [MS-DRSR]
// 5.16.4, independently of the lab's encoder: two entries, objectClass and
// dSASignature.
const metaHex = "" +
	"01000000" + "00000000" + "02000000" + "00000000" + // dwVersion 1, reserved, cNumProps 2, reserved
	// objectClass (attid 0), version 1, 2025-01-06 09:00:00 UTC, invocation, USNs 4100
	"00000000" + "01000000" + "902c8c1d03000000" +
	"78563412" + "3412" + "7856" + "0102030405060708" +
	"0410000000000000" + "0410000000000000" +
	// dSASignature (0x0002004A), version 3, 2026-03-01 12:34:56 UTC
	"4a000200" + "03000000" + "70c3b41f03000000" +
	"dddddddd" + "cccc" + "bbbb" + "aaaaaaaaaaaaaaaa" +
	"2a4e000000000000" + "2b4e000000000000"

func TestParseReplPropertyMetaData(t *testing.T) {
	b, err := hex.DecodeString(metaHex)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseReplPropertyMetaData(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []PropertyMetaData{
		{AttributeID: 0, Version: 1, OriginatingChangeTime: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC),
			OriginatingInvocationID: "12345678-1234-5678-0102-030405060708", OriginatingUSN: 4100, LocalUSN: 4100},
		{AttributeID: AttidDSASignature, Version: 3, OriginatingChangeTime: time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC),
			OriginatingInvocationID: "dddddddd-cccc-bbbb-aaaa-aaaaaaaaaaaa", OriginatingUSN: 20010, LocalUSN: 20011},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", got, want)
	}
	for name, bad := range map[string][]byte{
		"empty":             nil,
		"short header":      b[:12],
		"wrong version":     append([]byte{2, 0, 0, 0}, b[4:]...),
		"truncated entries": b[:len(b)-1],
	} {
		if _, err := ParseReplPropertyMetaData(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestSIDAndGUID(t *testing.T) {
	// S-1-5-21-3623811015-3361044348-30300820 in binary.
	b, _ := hex.DecodeString("010400000000000515000000c7f7fed77c7755c8945ace01")
	s, err := sidString(b)
	if err != nil || s != "S-1-5-21-3623811015-3361044348-30300820" {
		t.Errorf("sidString = %q, %v", s, err)
	}
	if _, err := sidString(b[:10]); !errors.Is(err, ErrMalformed) {
		t.Errorf("short SID: %v", err)
	}
	if g := guidString([]byte{0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 1, 2, 3, 4, 5, 6, 7, 8}); g != "12345678-1234-5678-0102-030405060708" {
		t.Errorf("guidString = %q", g)
	}
	if guidString([]byte{1}) != "" {
		t.Error("short GUID rendered")
	}
}

func TestTrustAttributeNames(t *testing.T) {
	for attrs, want := range map[uint32]string{
		0:          "",
		0x8:        "FOREST_TRANSITIVE",
		0x48:       "FOREST_TRANSITIVE,TREAT_AS_EXTERNAL",
		0x408:      "FOREST_TRANSITIVE,PIM_TRUST",
		0x1004:     "QUARANTINED_DOMAIN,DISABLE_AUTH_TARGET_VALIDATION",
		0x80000008: "FOREST_TRANSITIVE,0x80000000",
	} {
		if got := strings.Join(adnames.TrustAttributeNames(attrs), ","); got != want {
			t.Errorf("TrustAttributeNames(0x%x) = %q, want %q", attrs, got, want)
		}
	}
	tr := Trust{Direction: adnames.TrustDirectionOutbound, Attributes: 0x408}
	if tr.DirectionName() != "Outbound" || !tr.Has(adnames.TrustAttrPIMTrust) || tr.Has(adnames.TrustAttrQuarantinedDomain) {
		t.Errorf("Trust helpers: %s %t", tr.DirectionName(), tr.Has(adnames.TrustAttrPIMTrust))
	}
}
