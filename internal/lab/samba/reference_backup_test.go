package samba

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// Captured from Samba 4.22.6 in this lab (ldbsearch --show-binary, TZ=UTC) after
// StampBackup on priv-dc2; shortened to the entries around dSASignature.
const stampedMetaData = `# record 1
dn: DC=priv,DC=contoso,DC=test
replPropertyMetaData:     NDR: struct replPropertyMetaDataBlob
        version                  : 0x00000001 (1)
        reserved                 : 0x00000000 (0)
        ctr                      : union replPropertyMetaDataCtr(case 1)
        ctr1: struct replPropertyMetaDataCtr1
            count                    : 0x00000003 (3)
            reserved                 : 0x00000000 (0)
            array: ARRAY(3)
                array: struct replPropertyMetaData1
                    attid                    : DRSUAPI_ATTID_objectClass (0x0)
                    version                  : 0x00000001 (1)
                    originating_change_time  : Sat Nov 21 10:43:26 2026 UTC
                    originating_invocation_id: 2dd83e63-2e99-4bb8-9bfd-ce1affe4b1b8
                    originating_usn          : 0x000000000000000a (10)
                    local_usn                : 0x000000000000000a (10)
                array: struct replPropertyMetaData1
                    attid                    : UNKNOWN_ENUM_VALUE (0x2004A)
                    version                  : 0x00000002 (2)
                    originating_change_time  : Sat Nov  7 10:44:00 2026 UTC
                    originating_invocation_id: DB914AA7-91f0-4115-b7eb-6f301da6056b
                    originating_usn          : 0x0000000000000ff0 (4080)
                    local_usn                : 0x0000000000000ff0 (4080)
                array: struct replPropertyMetaData1
                    attid                    : DRSUAPI_ATTID_ntSecurityDescriptor (0x20119)
                    version                  : 0x00000003 (3)
                    originating_change_time  : Sat Nov 21 10:43:30 2026 UTC
                    originating_invocation_id: 2dd83e63-2e99-4bb8-9bfd-ce1affe4b1b8
                    originating_usn          : 0x000000000000105c (4188)
                    local_usn                : 0x0000000000000e1b (3611)


# returned 1 records
# 1 entries
# 0 referrals
`

func TestParseDSASignatureStamp(t *testing.T) {
	st, err := parseDSASignatureStamp(stampedMetaData)
	if err != nil {
		t.Fatal(err)
	}
	want := BackupStamp{Backed: true, Version: 2, Time: time.Date(2026, 11, 7, 10, 44, 0, 0, time.UTC), InvocationID: "db914aa7-91f0-4115-b7eb-6f301da6056b"}
	if st != want {
		t.Errorf("parseDSASignatureStamp = %+v, want %+v", st, want)
	}

	// Never backed up: no dSASignature entry.
	i := strings.Index(stampedMetaData, "                array: struct replPropertyMetaData1\n                    attid                    : UNKNOWN_ENUM_VALUE (0x2004A)")
	j := strings.Index(stampedMetaData, "                array: struct replPropertyMetaData1\n                    attid                    : DRSUAPI_ATTID_ntSecurityDescriptor")
	never := stampedMetaData[:i] + stampedMetaData[j:]
	if st, err := parseDSASignatureStamp(never); err != nil || st.Backed {
		t.Errorf("parseDSASignatureStamp(no dSASignature) = %+v, %v; want not backed", st, err)
	}

	if _, err := parseDSASignatureStamp("# returned 0 records\n"); !errors.Is(err, ErrNotFound) {
		t.Errorf("parseDSASignatureStamp(nothing): err = %v, want ErrNotFound", err)
	}
	bad := strings.Replace(stampedMetaData, "Sat Nov  7 10:44:00 2026 UTC", "yesterday", 1)
	if _, err := parseDSASignatureStamp(bad); err == nil {
		t.Error("parseDSASignatureStamp accepted an unreadable time")
	}
}

func TestGUIDBytes(t *testing.T) {
	b, err := guidBytes("db914aa7-91f0-4115-b7eb-6f301da6056b")
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != "a74a91dbf0911541b7eb6f301da6056b" {
		t.Errorf("guidBytes = %s", got)
	}
	if _, err := guidBytes(""); err == nil {
		t.Error("guidBytes(\"\") succeeded")
	}
}
