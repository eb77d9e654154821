package samba

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Reference answers: what Samba's own tools say, to compare with what the
// provider reads over LDAP. Each runs inside a DC's namespaces against its local
// database, so it does not share the code path under test.

// FSMORole is an operations master role, by Microsoft's name (the
// adnames constants).
type FSMORole = string

// FSMORoles lists the five roles (MS-ADTS 3.1.1.1.11).
var FSMORoles = adnames.FSMORoles()

var sambaRoleNames = map[string]FSMORole{
	"SchemaMasterRole":         adnames.SchemaMaster,
	"DomainNamingMasterRole":   adnames.DomainNamingMaster,
	"PdcEmulationMasterRole":   adnames.PDCEmulator,
	"RidAllocationMasterRole":  adnames.RIDMaster,
	"InfrastructureMasterRole": adnames.InfrastructureMaster,
}

// FSMOHolders returns, from `samba-tool fsmo show` on DC dc, the five roles of
// dc's forest mapped to the holder's NTDS Settings DN
// (CN=NTDS Settings,CN=<DC>,CN=Servers,...). ServerOf gives the DC name.
func (l *Lab) FSMOHolders(ctx context.Context, dc string) (map[FSMORole]string, error) {
	out, err := l.Exec(ctx, dc, "samba-tool", "fsmo", "show")
	if err != nil {
		return nil, err
	}
	return parseFSMOShow(out)
}

func parseFSMOShow(out string) (map[FSMORole]string, error) {
	holders := map[FSMORole]string{}
	for _, line := range strings.Split(out, "\n") {
		name, dn, ok := strings.Cut(strings.TrimSpace(line), " owner: ")
		if !ok {
			continue
		}
		if role, known := sambaRoleNames[name]; known {
			holders[role] = strings.TrimSpace(dn)
		}
	}
	for _, r := range FSMORoles {
		if holders[r] == "" {
			return nil, fmt.Errorf("samba-tool fsmo show: no owner for %s: %w", r, ErrNotFound)
		}
	}
	return holders, nil
}

// ServerOf returns the DC name in an NTDS Settings DN
// ("CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,..." gives "PRIV-DC1").
func ServerOf(ntdsSettingsDN string) string {
	parts := splitDN(ntdsSettingsDN)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "CN=NTDS Settings") {
		return ""
	}
	_, v, _ := strings.Cut(parts[1], "=")
	return v
}

// splitDN splits a DN into RDNs, honouring backslash escapes.
func splitDN(dn string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c == '\\' && i+1 < len(dn):
			cur.WriteByte(c)
			cur.WriteByte(dn[i+1])
			i++
		case c == ',':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		parts = append(parts, strings.TrimSpace(cur.String()))
	}
	return parts
}

// DirectoryDC is a DC as the directory lists it (MS-ADTS 3.1.1.3.2; domain-facts §1).
type DirectoryDC struct {
	Name            string // server object RDN, e.g. PRIV-DC1
	DNSHostName     string
	ServerDN        string
	NTDSSettingsDN  string
	ServerReference string // the computer object
	Site            string
	Options         int // nTDSDSA options; bit 0x1 = global catalog
	BehaviorVersion int // nTDSDSA msDS-Behavior-Version: the DC's functional level
	InvocationID    string
	ReadOnly        bool // objectCategory NTDS-DSA-RO (an RODC)
}

// DCs returns the DCs of dc's forest from dc's own database: every nTDSDSA
// object under CN=Sites with its parent server object, sorted by name.
func (l *Lab) DCs(ctx context.Context, dc string) ([]DirectoryDC, error) {
	d, ok := l.DC(dc)
	if !ok {
		return nil, fmt.Errorf("DCs on %q: %w", dc, ErrUnknownDC)
	}
	out, err := l.Exec(ctx, dc, "ldbsearch", "-H", "/var/lib/samba/private/sam.ldb",
		"-b", "CN=Sites,CN=Configuration,"+d.BaseDN,
		"(|(objectClass=server)(objectClass=nTDSDSA))",
		"objectClass", "objectCategory", "dNSHostName", "serverReference", "options", "msDS-Behavior-Version", "invocationId")
	if err != nil {
		return nil, err
	}
	return parseDirectoryDCs(out)
}

func parseDirectoryDCs(ldif string) ([]DirectoryDC, error) {
	entries, err := parseLDIF(ldif)
	if err != nil {
		return nil, err
	}
	servers := map[string]ldifEntry{}
	for _, e := range entries {
		if e.has("objectClass", "server") {
			servers[strings.ToLower(e.DN)] = e
		}
	}
	var dcs []DirectoryDC
	for _, e := range entries {
		if !e.has("objectClass", "nTDSDSA") {
			continue
		}
		parts := splitDN(e.DN)
		if len(parts) < 5 {
			return nil, fmt.Errorf("unexpected nTDSDSA DN %q", e.DN)
		}
		serverDN := strings.Join(parts[1:], ",")
		s := servers[strings.ToLower(serverDN)]
		dc := DirectoryDC{
			Name:            ServerOf(e.DN),
			DNSHostName:     s.first("dNSHostName"),
			ServerDN:        serverDN,
			NTDSSettingsDN:  e.DN,
			ServerReference: s.first("serverReference"),
		}
		// CN=NTDS Settings,CN=<DC>,CN=Servers,CN=<Site>,CN=Sites,...
		_, dc.Site, _ = strings.Cut(parts[3], "=")
		dc.Options, _ = strconv.Atoi(e.first("options"))
		dc.BehaviorVersion, _ = strconv.Atoi(e.first("msDS-Behavior-Version"))
		dc.InvocationID = strings.ToLower(e.first("invocationId"))
		dc.ReadOnly = strings.HasPrefix(strings.ToUpper(e.first("objectCategory")), "CN=NTDS-DSA-RO,")
		dcs = append(dcs, dc)
	}
	sort.Slice(dcs, func(i, j int) bool { return dcs[i].Name < dcs[j].Name })
	return dcs, nil
}

// Trust is a trust as `samba-tool domain trust show` reports it; the numbers are
// the trustedDomain object's trustType, trustDirection and trustAttributes
// (MS-ADTS 6.1.6.7.9, 6.1.6.7.12).
type Trust struct {
	Name           string // the partner's DNS name
	NetBIOSName    string
	SID            string
	Type           uint32
	TypeName       string // e.g. UPLEVEL
	Direction      uint32
	DirectionName  string // e.g. BOTH
	Attributes     uint32
	AttributeNames []string // e.g. FOREST_TRANSITIVE
	Transitive     bool     // from `trust list`
	ListType       string   // from `trust list`: Forest, External, ...
}

// Trusts returns the trusts of dc's domain: `samba-tool domain trust list`, then
// `samba-tool domain trust show` for each, sorted by name.
func (l *Lab) Trusts(ctx context.Context, dc string) ([]Trust, error) {
	out, err := l.Exec(ctx, dc, "samba-tool", "domain", "trust", "list")
	if err != nil {
		return nil, err
	}
	trusts, err := parseTrustList(out)
	if err != nil {
		return nil, err
	}
	for i := range trusts {
		show, err := l.Exec(ctx, dc, "samba-tool", "domain", "trust", "show", trusts[i].Name)
		if err != nil {
			return nil, err
		}
		if err := parseTrustShow(show, &trusts[i]); err != nil {
			return nil, fmt.Errorf("trust %s: %w", trusts[i].Name, err)
		}
	}
	return trusts, nil
}

var trustListLine = regexp.MustCompile(`Type\[([^\]]*)\]\s+Transitive\[([^\]]*)\]\s+Direction\[([^\]]*)\]\s+Name\[([^\]]*)\]`)

func parseTrustList(out string) ([]Trust, error) {
	var trusts []Trust
	for _, line := range strings.Split(out, "\n") {
		m := trustListLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		trusts = append(trusts, Trust{ListType: m[1], Transitive: m[2] == "Yes", DirectionName: m[3], Name: m[4]})
	}
	sort.Slice(trusts, func(i, j int) bool { return trusts[i].Name < trusts[j].Name })
	return trusts, nil
}

// "Type:           0x2 (UPLEVEL)"
var trustShowField = regexp.MustCompile(`^(\w+):\s+(\S+)(?:\s+\((.*)\))?\s*$`)

func parseTrustShow(out string, t *Trust) error {
	inTrusted := false
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "TrustedDomain:" {
			inTrusted = true
			continue
		}
		if !inTrusted {
			continue
		}
		m := trustShowField.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key, val, names := m[1], m[2], m[3]
		switch key {
		case "NetbiosName":
			t.NetBIOSName = val
		case "DnsName":
			t.Name = val
		case "SID":
			t.SID = val
		case "Type", "Direction", "Attributes":
			n, err := strconv.ParseUint(val, 0, 32)
			if err != nil {
				return fmt.Errorf("%s %q: %w", key, val, err)
			}
			switch key {
			case "Type":
				t.Type, t.TypeName = uint32(n), names
			case "Direction":
				t.Direction, t.DirectionName = uint32(n), names
			case "Attributes":
				t.Attributes = uint32(n)
				t.AttributeNames = nil
				for _, a := range strings.Split(names, ",") {
					if a = strings.TrimSpace(a); a != "" {
						t.AttributeNames = append(t.AttributeNames, a)
					}
				}
			}
		}
		seen[key] = true
	}
	for _, k := range []string{"NetbiosName", "DnsName", "Type", "Direction", "Attributes"} {
		if !seen[k] {
			return fmt.Errorf("samba-tool domain trust show: no %s: %w", k, ErrNotFound)
		}
	}
	return nil
}

// FunctionalLevels are the forest, domain and lowest-DC functional levels, as
// names ("2016", "2008 R2") and as msDS-Behavior-Version numbers (MS-ADTS 6.1.4.2-4).
type FunctionalLevels struct {
	Forest, Domain, LowestDC                      string
	ForestVersion, DomainVersion, LowestDCVersion int
}

// FunctionalLevels returns `samba-tool domain level show` on DC dc.
func (l *Lab) FunctionalLevels(ctx context.Context, dc string) (FunctionalLevels, error) {
	out, err := l.Exec(ctx, dc, "samba-tool", "domain", "level", "show")
	if err != nil {
		return FunctionalLevels{}, err
	}
	return parseLevelShow(out)
}

// Windows version name -> msDS-Behavior-Version.
var behaviorVersions = map[string]int{
	"2000": 0, "2003 with mixed domains/interim": 1, "2003": 2, "2008": 3, "2008 R2": 4,
	"2012": 5, "2012 R2": 6, "2016": 7,
}

// BehaviorVersion maps a level name as samba-tool prints it ("2008 R2") to its
// msDS-Behavior-Version number.
func BehaviorVersion(name string) (int, bool) {
	v, ok := behaviorVersions[strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "(Windows)"))]
	return v, ok
}

func parseLevelShow(out string) (FunctionalLevels, error) {
	var lv FunctionalLevels
	found := 0
	for _, line := range strings.Split(out, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(val), "(Windows)"))
		v, known := BehaviorVersion(val)
		if !known {
			continue
		}
		switch strings.TrimSpace(key) {
		case "Forest function level":
			lv.Forest, lv.ForestVersion = val, v
		case "Domain function level":
			lv.Domain, lv.DomainVersion = val, v
		case "Lowest function level of a DC":
			lv.LowestDC, lv.LowestDCVersion = val, v
		default:
			continue
		}
		found++
	}
	if found != 3 {
		return lv, fmt.Errorf("samba-tool domain level show: %d of 3 levels recognised in %q: %w", found, out, ErrNotFound)
	}
	return lv, nil
}

// DefaultTombstoneLifetime applies when tombstoneLifetime is unset (Microsoft dd392260).
const DefaultTombstoneLifetime = 60

// TombstoneLifetime returns tombstoneLifetime (days) on
// CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,<forest>, read
// with ldbsearch from dc's database; DefaultTombstoneLifetime when it is unset.
func (l *Lab) TombstoneLifetime(ctx context.Context, dc string) (int, error) {
	d, ok := l.DC(dc)
	if !ok {
		return 0, fmt.Errorf("tombstoneLifetime on %q: %w", dc, ErrUnknownDC)
	}
	out, err := l.Exec(ctx, dc, "ldbsearch", "-H", "/var/lib/samba/private/sam.ldb", "-s", "base",
		"-b", "CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,"+d.BaseDN, "tombstoneLifetime")
	if err != nil {
		return 0, err
	}
	return parseTombstoneLifetime(out)
}

func parseTombstoneLifetime(ldif string) (int, error) {
	entries, err := parseLDIF(ldif)
	if err != nil {
		return 0, err
	}
	if len(entries) != 1 {
		return 0, fmt.Errorf("directory service object: %d entries: %w", len(entries), ErrNotFound)
	}
	v := entries[0].first("tombstoneLifetime")
	if v == "" {
		return DefaultTombstoneLifetime, nil
	}
	return strconv.Atoi(v)
}

// ---------------------------------------------------------------- LDIF

type ldifEntry struct {
	DN    string
	Attrs map[string][]string // keys lower-cased
}

func (e ldifEntry) first(attr string) string {
	if v := e.Attrs[strings.ToLower(attr)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (e ldifEntry) has(attr, value string) bool {
	for _, v := range e.Attrs[strings.ToLower(attr)] {
		if strings.EqualFold(v, value) {
			return true
		}
	}
	return false
}

// parseLDIF reads ldbsearch output: records separated by blank lines, "#"
// comments, folded lines (a continuation starts with one space) and base64
// values ("attr:: ...") (RFC 2849).
func parseLDIF(s string) ([]ldifEntry, error) {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, " ") && len(lines) > 0 && lines[len(lines)-1] != "" {
			lines[len(lines)-1] += line[1:]
			continue
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var entries []ldifEntry
	var cur *ldifEntry
	flush := func() {
		if cur != nil {
			entries = append(entries, *cur)
			cur = nil
		}
	}
	for _, line := range lines {
		if line == "" {
			flush()
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		attr, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("LDIF line without a colon: %q", line)
		}
		switch {
		case strings.HasPrefix(val, ":"):
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val[1:]))
			if err != nil {
				return nil, fmt.Errorf("LDIF base64 value of %s: %w", attr, err)
			}
			val = string(b)
		default:
			val = strings.TrimPrefix(val, " ")
		}
		if strings.EqualFold(attr, "ref") && cur == nil {
			continue // a subtree search's referral to another partition (DomainDnsZones, ...)
		}
		if strings.EqualFold(attr, "dn") {
			flush()
			cur = &ldifEntry{DN: val, Attrs: map[string][]string{}}
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("LDIF attribute %s before any dn", attr)
		}
		k := strings.ToLower(attr)
		cur.Attrs[k] = append(cur.Attrs[k], val)
	}
	flush()
	return entries, nil
}

// FindObject returns the first attribute values (keys lower-cased) of the one
// object under base that filter matches, read with ldbsearch from dc's own
// database. ldb prints objectGUID and objectSid as strings.
func (l *Lab) FindObject(ctx context.Context, dc, base, filter string, attrs ...string) (map[string]string, error) {
	if _, ok := l.DC(dc); !ok {
		return nil, fmt.Errorf("find object on %q: %w", dc, ErrUnknownDC)
	}
	e, err := l.searchOne(ctx, dc, filter+" under "+base, append([]string{"-b", base, filter}, attrs...)...)
	if err != nil {
		return nil, err
	}
	m := map[string]string{"dn": e.DN}
	for k, v := range e.Attrs {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m, nil
}

// searchOne runs ldbsearch with args on dc's own database and returns the
// one entry it must find; what names the search in the error.
func (l *Lab) searchOne(ctx context.Context, dc, what string, args ...string) (ldifEntry, error) {
	out, err := l.Exec(ctx, dc, append([]string{"ldbsearch", "-H", samLDB}, args...)...)
	if err != nil {
		return ldifEntry{}, err
	}
	entries, err := parseLDIF(out)
	if err != nil {
		return ldifEntry{}, err
	}
	if len(entries) != 1 {
		return ldifEntry{}, fmt.Errorf("%s: %d entries: %w", what, len(entries), ErrNotFound)
	}
	return entries[0], nil
}

// plainDN drops the extended components ldbsearch may show before a DN
// (<GUID=...>;<SID=...>;CN=...).
func plainDN(dn string) string {
	if i := strings.LastIndex(dn, ">;"); strings.HasPrefix(dn, "<") && i >= 0 {
		return dn[i+2:]
	}
	return dn
}

// GroupMembers returns the member DNs of the group with that sAMAccountName
// in dc's domain, from dc's own database.
func (l *Lab) GroupMembers(ctx context.Context, dc, name string) ([]string, error) {
	d, ok := l.DC(dc)
	if !ok {
		return nil, fmt.Errorf("group members on %q: %w", dc, ErrUnknownDC)
	}
	e, err := l.searchOne(ctx, dc, fmt.Sprintf("group %q", name), "-b", d.BaseDN, "(&(objectClass=group)(sAMAccountName="+name+"))", "member")
	if err != nil {
		return nil, err
	}
	var members []string
	for _, dn := range e.Attrs["member"] {
		members = append(members, plainDN(dn))
	}
	return members, nil
}
