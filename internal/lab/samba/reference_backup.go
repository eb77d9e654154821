package samba

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// attidDSASignature is the ATTRTYP of dSASignature (1.2.840.113556.1.2.74), as
// Samba's NDR printer shows it: it has no name for it ("UNKNOWN_ENUM_VALUE (0x2004A)").
const attidDSASignature = 0x2004A

// BackupStamp is the replication stamp of dSASignature on one naming context head,
// as Samba's own NDR printer decodes replPropertyMetaData (ldbsearch
// --show-binary): the reference for the provider's backup metadata, which parses
// the same binary attribute itself. A Windows backup writes dSASignature on each
// NC head as an originating change, so the stamp's time and originating
// invocationId say when and which DC was last backed up (repadmin /showbackup).
type BackupStamp struct {
	NamingContext string // the NC head's DN
	Backed        bool   // dSASignature has replication metadata
	Version       uint32
	Time          time.Time // originating_change_time (UTC, 1 s resolution)
	InvocationID  string    // originating_invocation_id, lower case
}

// BackupStamps returns the dSASignature stamp of every naming context DC dc holds
// (its rootDSE namingContexts), read from its own database.
func (l *Lab) BackupStamps(ctx context.Context, dc string) ([]BackupStamp, error) {
	root, err := l.searchOne(ctx, dc, "rootDSE of "+dc, "-s", "base", "-b", "", "namingContexts")
	if err != nil {
		return nil, err
	}
	var out []BackupStamp
	for _, nc := range root.Attrs["namingcontexts"] {
		// TZ=UTC: the printer formats times in the local zone.
		meta, err := l.Exec(ctx, dc, "env", "TZ=UTC", "ldbsearch", "--show-binary", "-H", samLDB, "-s", "base", "-b", nc, "replPropertyMetaData")
		if err != nil {
			return nil, err
		}
		st, err := parseDSASignatureStamp(meta)
		if err != nil {
			return nil, fmt.Errorf("replPropertyMetaData of %s on %s: %w", nc, dc, err)
		}
		st.NamingContext = nc
		out = append(out, st)
	}
	return out, nil
}

const samLDB = "/var/lib/samba/private/sam.ldb"

var (
	ndrField    = regexp.MustCompile(`^\s*(\w+)\s*: (.*)$`)
	ndrAttid    = regexp.MustCompile(`\(0x([0-9A-Fa-f]+)\)\s*$`)
	ndrNumber   = regexp.MustCompile(`^0x[0-9A-Fa-f]+ \((\d+)\)$`)
	ndrTimeForm = []string{"Mon Jan 02 15:04:05 2006 MST", "Mon Jan _2 15:04:05 2006 MST"}
)

// parseDSASignatureStamp finds the dSASignature entry in ldbsearch --show-binary's
// print of one replPropertyMetaData value.
func parseDSASignatureStamp(out string) (BackupStamp, error) {
	var st BackupStamp
	if !strings.Contains(out, "struct replPropertyMetaDataBlob") {
		return st, fmt.Errorf("no replPropertyMetaData in the output: %w", ErrNotFound)
	}
	in := false
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "struct replPropertyMetaData1") {
			if in {
				break // the entry after dSASignature's
			}
			continue
		}
		m := ndrField.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key, val := m[1], strings.TrimSpace(m[2])
		if key == "attid" {
			a := ndrAttid.FindStringSubmatch(val)
			if a == nil {
				return st, fmt.Errorf("attid %q: %w", val, ErrNotFound)
			}
			n, _ := strconv.ParseUint(a[1], 16, 32)
			if in {
				break
			}
			in = n == attidDSASignature
			continue
		}
		if !in {
			continue
		}
		switch key {
		case "version":
			n := ndrNumber.FindStringSubmatch(val)
			if n == nil {
				return st, fmt.Errorf("version %q", val)
			}
			v, _ := strconv.ParseUint(n[1], 10, 32)
			st.Version = uint32(v)
		case "originating_change_time":
			var err error
			for _, form := range ndrTimeForm {
				var t time.Time
				if t, err = time.Parse(form, val); err == nil {
					st.Time = t.UTC()
					break
				}
			}
			if err != nil {
				return st, fmt.Errorf("originating_change_time %q: %w", val, err)
			}
		case "originating_invocation_id":
			st.InvocationID = strings.ToLower(val)
			st.Backed = true
		}
	}
	if st.Backed && (st.Version == 0 || st.Time.IsZero()) {
		return st, fmt.Errorf("incomplete dSASignature entry %+v", st)
	}
	return st, nil
}

// StampBackup does to DC dc's directory what a Windows backup does and a Samba
// backup does not: it writes dSASignature on the naming context heads ncs (DNs)
// as an originating change on dc (the value is dc's invocationId, the DSA-Signature
// of MS-ADA1), then makes every other running DC of dc's forest pull those naming
// contexts from dc, so each reports the same stamp.
func (l *Lab) StampBackup(ctx context.Context, dc string, ncs ...string) error {
	d, ok := l.DC(dc)
	if !ok {
		return fmt.Errorf("stamp backup on %q: %w", dc, ErrUnknownDC)
	}
	dcs, err := l.DCs(ctx, dc)
	if err != nil {
		return err
	}
	var inv string
	for _, x := range dcs {
		if strings.EqualFold(x.DNSHostName, d.FQDN) {
			inv = x.InvocationID
		}
	}
	value, err := guidBytes(inv)
	if err != nil {
		return fmt.Errorf("invocationId of %s: %w", dc, err)
	}
	for _, nc := range ncs {
		ldif := fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: dSASignature\ndSASignature:: %s\n", nc, base64.StdEncoding.EncodeToString(value))
		if _, err := l.Exec(ctx, dc, "sh", "-c", `printf '%s' "$1" | ldbmodify -H `+samLDB, "_", ldif); err != nil {
			return fmt.Errorf("write dSASignature on %s: %w", nc, err)
		}
	}
	return l.Replicate(ctx, dc, ncs...)
}

// Replicate makes every other running DC of dc's forest pull the naming contexts
// ncs (DNs) from dc now (`samba-tool drs replicate`).
func (l *Lab) Replicate(ctx context.Context, dc string, ncs ...string) error {
	d, ok := l.DC(dc)
	if !ok {
		return fmt.Errorf("replicate from %q: %w", dc, ErrUnknownDC)
	}
	f, _ := l.Forest(d.Forest)
	for _, other := range l.DCNamespaces() {
		if other.Forest != d.Forest || other.Name == dc || !other.Running() {
			continue
		}
		for _, nc := range ncs {
			if _, err := l.Exec(ctx, other.Name, "samba-tool", "drs", "replicate", other.FQDN, d.FQDN, nc,
				"-U", f.AdminNetBIOS, "--password="+f.AdminPassword); err != nil {
				return fmt.Errorf("replicate %s from %s to %s: %w", nc, dc, other.Name, err)
			}
		}
	}
	return nil
}

// guidBytes encodes a GUID string in its wire form (the first three fields little-endian).
func guidBytes(s string) ([]byte, error) {
	h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(h) != 16 {
		return nil, fmt.Errorf("GUID %q: %w", s, ErrNotFound)
	}
	b := make([]byte, 16)
	b[0], b[1], b[2], b[3] = h[3], h[2], h[1], h[0]
	b[4], b[5] = h[5], h[4]
	b[6], b[7] = h[7], h[6]
	copy(b[8:], h[8:])
	return b, nil
}

// EnabledOptionalFeatures returns the names (cn) of the optional features enabled
// in dc's forest: the msDS-EnabledFeature values of CN=Partitions, read from dc's
// own database. Empty, not nil, when none is.
func (l *Lab) EnabledOptionalFeatures(ctx context.Context, dc string) ([]string, error) {
	d, ok := l.DC(dc)
	if !ok {
		return nil, fmt.Errorf("optional features on %q: %w", dc, ErrUnknownDC)
	}
	e, err := l.searchOne(ctx, dc, "CN=Partitions", "-s", "base", "-b", "CN=Partitions,CN=Configuration,"+d.BaseDN, "msDS-EnabledFeature")
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, dn := range e.Attrs["msds-enabledfeature"] {
		// The RDN of the feature's DN is its name.
		if parts := splitDN(plainDN(dn)); len(parts) > 0 {
			_, cn, _ := strings.Cut(parts[0], "=")
			names = append(names, cn)
		}
	}
	return names, nil
}
