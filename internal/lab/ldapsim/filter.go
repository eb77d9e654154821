package ldapsim

import (
	"bytes"
	"cmp"
	"fmt"
	"strconv"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Attribute syntaxes the filter evaluator compares by, as AD does: DN values
// case-insensitively after normalisation, integers numerically, binary values
// byte for byte, everything else as case-ignore strings.
var (
	dnSyntax = set("distinguishedName", "objectCategory", "fSMORoleOwner", "rIDManagerReference", "member",
		"serverReference", "serverReferenceBL", "hasMasterNCs", "msDS-hasMasterNCs", "msDS-HasDomainNCs",
		"msDS-hasFullReplicaNCs", "dMDLocation", "nCName", "msDS-EnabledFeature")
	intSyntax = set("options", "msDS-Behavior-Version", "trustDirection", "trustType", "trustAttributes",
		"tombstoneLifetime", "msDS-deletedObjectLifetime", "userAccountControl", "primaryGroupID", "systemFlags",
		"instanceType", "nTMixedDomain", "msDS-OptionalFeatureFlags", "msDS-RequiredForestBehaviorVersion",
		"objectVersion", "domainFunctionality", "forestFunctionality", "domainControllerFunctionality",
		"highestCommittedUSN", "rIDAvailablePool", "uSNCreated", "uSNChanged", "groupType")
	binSyntax = set("objectGUID", "objectSid", "invocationId", "securityIdentifier", "replPropertyMetaData",
		"msDS-OptionalFeatureGUID")
	sidSyntax = set("objectSid", "securityIdentifier")
)

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// classCategory maps a class's lDAPDisplayName (and its schema CN) to the
// CN of its defaultObjectCategory, for the objectCategory shorthand AD
// accepts in filters: (objectCategory=nTDSDSA) means
// (objectCategory=CN=NTDS-DSA,CN=Schema,CN=Configuration,...).
var classCategory = map[string]string{
	"domaindns":            "Domain-DNS",
	"domain":               "Domain-DNS",
	"configuration":        "Configuration",
	"dmd":                  "DMD",
	"container":            "Container",
	"organizationalunit":   "Organizational-Unit",
	"user":                 "Person",
	"person":               "Person",
	"organizationalperson": "Person",
	"computer":             "Computer",
	"ridmanager":           "RID-Manager",
	"infrastructureupdate": "Infrastructure-Update",
	"trusteddomain":        "Trusted-Domain",
	"crossrefcontainer":    "Cross-Ref-Container",
	"crossref":             "Cross-Ref",
	"sitescontainer":       "Sites-Container",
	"site":                 "Site",
	"serverscontainer":     "Servers-Container",
	"server":               "Server",
	"ntdsdsa":              "NTDS-DSA",
	"ntdsdsaro":            "NTDS-DSA-RO",
	"ntdsservice":          "NTDS-Service",
	"msds-optionalfeature": "ms-DS-Optional-Feature",
	"group":                "Group",
	"querypolicy":          "Query-Policy",
}

// Bitwise matching rules of AD ([MS-ADTS] 3.1.1.3.4.4).
const (
	ruleBitAnd  = "1.2.840.113556.1.4.803"
	ruleBitOr   = "1.2.840.113556.1.4.804"
	ruleInChain = "1.2.840.113556.1.4.1941"
)

// compileFilter parses an RFC 4515 filter string (gldap hands the server the
// filter re-encoded as a string, with every value escaped).
func compileFilter(s string) (*ber.Packet, error) {
	if strings.TrimSpace(s) == "" {
		s = "(objectClass=*)"
	}
	return ldap.CompileFilter(s)
}

// matches evaluates a compiled filter against an entry.
func (v *view) matches(en *entry, f *ber.Packet) (bool, error) {
	switch f.Tag {
	case ldap.FilterAnd:
		for _, c := range f.Children {
			ok, err := v.matches(en, c)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case ldap.FilterOr:
		for _, c := range f.Children {
			ok, err := v.matches(en, c)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	case ldap.FilterNot:
		if len(f.Children) != 1 {
			return false, fmt.Errorf("malformed NOT filter")
		}
		ok, err := v.matches(en, f.Children[0])
		return !ok, err
	case ldap.FilterPresent:
		name := f.Data.String()
		if strings.EqualFold(name, "objectClass") {
			return true, nil
		}
		return len(en.values(name)) > 0, nil
	case ldap.FilterEqualityMatch, ldap.FilterApproxMatch:
		name, val, err := ava(f)
		if err != nil {
			return false, err
		}
		for _, have := range en.values(name) {
			if v.equal(name, have, val) {
				return true, nil
			}
		}
		return false, nil
	case ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual:
		name, val, err := ava(f)
		if err != nil {
			return false, err
		}
		for _, have := range en.values(name) {
			c := compare(name, have, val)
			if (f.Tag == ldap.FilterGreaterOrEqual && c >= 0) || (f.Tag == ldap.FilterLessOrEqual && c <= 0) {
				return true, nil
			}
		}
		return false, nil
	case ldap.FilterSubstrings:
		if len(f.Children) != 2 {
			return false, fmt.Errorf("malformed substring filter")
		}
		name := f.Children[0].Data.String()
		for _, have := range en.values(name) {
			if substrMatch(strings.ToLower(have), f.Children[1].Children) {
				return true, nil
			}
		}
		return false, nil
	case ldap.FilterExtensibleMatch:
		var rule, name, val string
		for _, c := range f.Children {
			switch c.Tag {
			case 1:
				rule = c.Data.String()
			case 2:
				name = c.Data.String()
			case 3:
				val = c.Data.String()
			}
		}
		want, err := strconv.ParseUint(val, 10, 64)
		switch rule {
		case ruleBitAnd, ruleBitOr:
			if err != nil {
				return false, nil
			}
			for _, have := range en.values(name) {
				h, err := strconv.ParseInt(have, 10, 64)
				if err != nil {
					continue
				}
				bits := uint64(uint32(h))
				if (rule == ruleBitAnd && bits&want == want) || (rule == ruleBitOr && bits&want != 0) {
					return true, nil
				}
			}
			return false, nil
		case ruleInChain, "":
			for _, have := range en.values(name) {
				if v.equal(name, have, val) {
					return true, nil
				}
			}
			return false, nil
		}
		return false, nil
	}
	return false, fmt.Errorf("unsupported filter choice %d", f.Tag)
}

func ava(f *ber.Packet) (string, string, error) {
	if len(f.Children) != 2 {
		return "", "", fmt.Errorf("malformed attribute value assertion")
	}
	return f.Children[0].Data.String(), f.Children[1].Data.String(), nil
}

// equal compares one stored value with an asserted one by the attribute's syntax.
func (v *view) equal(name, have, want string) bool {
	ln := strings.ToLower(name)
	switch {
	case ln == "objectcategory":
		return v.norm(have) == v.categoryKey(want)
	case dnSyntax[ln]:
		return v.norm(have) == v.norm(want)
	case intSyntax[ln]:
		a, err1 := strconv.ParseInt(strings.TrimSpace(have), 10, 64)
		b, err2 := strconv.ParseInt(strings.TrimSpace(want), 10, 64)
		return err1 == nil && err2 == nil && a == b
	case sidSyntax[ln] && strings.HasPrefix(strings.ToUpper(want), "S-1-"):
		b, err := sidBytes(want)
		return err == nil && bytes.Equal([]byte(have), b)
	case binSyntax[ln]:
		return have == want
	}
	return strings.EqualFold(have, want)
}

// categoryKey resolves an objectCategory assertion: a DN, or the shorthand
// of a class name that AD expands to its defaultObjectCategory.
func (v *view) categoryKey(want string) string {
	if strings.Contains(want, "=") {
		return v.norm(want)
	}
	cn, ok := classCategory[strings.ToLower(want)]
	if !ok {
		for _, c := range classCategory {
			if strings.EqualFold(c, want) {
				cn, ok = c, true
				break
			}
		}
	}
	if !ok {
		return "\x00unknown class " + want
	}
	return v.norm(v.category(cn))
}

func compare(name, have, want string) int {
	if intSyntax[strings.ToLower(name)] {
		a, err1 := strconv.ParseInt(strings.TrimSpace(have), 10, 64)
		b, err2 := strconv.ParseInt(strings.TrimSpace(want), 10, 64)
		if err1 == nil && err2 == nil {
			return cmp.Compare(a, b)
		}
	}
	return strings.Compare(strings.ToLower(have), strings.ToLower(want))
}

// substrMatch matches initial/any/final components in order.
func substrMatch(have string, parts []*ber.Packet) bool {
	pos := 0
	for i, p := range parts {
		s := strings.ToLower(p.Data.String())
		switch p.Tag {
		case ldap.FilterSubstringsInitial:
			if i != 0 || !strings.HasPrefix(have, s) {
				return false
			}
			pos = len(s)
		case ldap.FilterSubstringsAny:
			j := strings.Index(have[pos:], s)
			if j < 0 {
				return false
			}
			pos += j + len(s)
		case ldap.FilterSubstringsFinal:
			if !strings.HasSuffix(have[pos:], s) {
				return false
			}
			pos = len(have)
		}
	}
	return true
}
