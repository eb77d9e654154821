package adnames

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/go-ldap/ldap/v3"
)

// Naming context kinds a DC of a single-domain forest holds.
const (
	NCDomain         = "Domain"
	NCConfiguration  = "Configuration"
	NCSchema         = "Schema"
	NCDomainDNSZones = "DomainDnsZones"
	NCForestDNSZones = "ForestDnsZones"
)

// NamingContexts are the NC heads' DNs of a single-domain forest.
type NamingContexts struct {
	Domain, Configuration, Schema, DomainDNSZones, ForestDNSZones string
}

// NamingContextsOf derives the NC heads of the forest whose root domain is
// the DNS name dns (MS-ADTS 3.1.1.1.4).
func NamingContextsOf(dns string) NamingContexts {
	base := DomainDN(dns)
	return NamingContexts{
		Domain:         base,
		Configuration:  "CN=Configuration," + base,
		Schema:         "CN=Schema,CN=Configuration," + base,
		DomainDNSZones: "DC=DomainDnsZones," + base,
		ForestDNSZones: "DC=ForestDnsZones," + base,
	}
}

// ByKind returns the head of an NC kind (NCDomain, ...); "" for an unknown kind.
func (n NamingContexts) ByKind(kind string) string {
	switch kind {
	case NCDomain:
		return n.Domain
	case NCConfiguration:
		return n.Configuration
	case NCSchema:
		return n.Schema
	case NCDomainDNSZones:
		return n.DomainDNSZones
	case NCForestDNSZones:
		return n.ForestDNSZones
	}
	return ""
}

// DomainDN is the DN of a domain DNS name (priv.contoso.test gives
// DC=priv,DC=contoso,DC=test), each label escaped.
func DomainDN(dns string) string {
	labels := strings.Split(strings.TrimSuffix(strings.TrimSpace(dns), "."), ".")
	for i, l := range labels {
		labels[i] = "DC=" + ldap.EscapeDN(l)
	}
	return strings.Join(labels, ",")
}

// DNSNameOfDN turns the DC= components of a DN into a lower-case DNS name
// (CN=X,OU=Domain Controllers,DC=priv,DC=contoso,DC=test gives
// priv.contoso.test); "" when the DN has none or does not parse.
func DNSNameOfDN(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return ""
	}
	var labels []string
	for _, rdn := range p.RDNs {
		for _, a := range rdn.Attributes {
			if strings.EqualFold(a.Type, "DC") {
				labels = append(labels, a.Value)
			}
		}
	}
	return strings.ToLower(strings.Join(labels, "."))
}

// NormDN normalises a DN for comparison and map keys: lower case, canonical
// escaping, no spaces around separators. A DN that does not parse is only
// trimmed and lower-cased.
func NormDN(dn string) string {
	dn = strings.TrimSpace(dn)
	if dn == "" {
		return ""
	}
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	return strings.ToLower(formatRDNs(p.RDNs, true))
}

// SameDN compares DNs the way AD does: case-insensitively, ignoring spacing
// and escaping differences.
func SameDN(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	da, err1 := ldap.ParseDN(a)
	db, err2 := ldap.ParseDN(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return da.EqualFold(db)
}

// ParentDN drops the first RDN; "" for a DN of one RDN or one that does not parse.
func ParentDN(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 {
		return ""
	}
	return formatRDNs(p.RDNs[1:], false)
}

// RDNValue is the value of the first RDN of dn ("" when it does not parse).
func RDNValue(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 || len(p.RDNs[0].Attributes) == 0 {
		return ""
	}
	return p.RDNs[0].Attributes[0].Value
}

// ServerOfNTDSSettings is the DC name in an NTDS Settings DN
// ("CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,..." gives "PRIV-DC1"); "" when
// dn is not an NTDS Settings DN.
func ServerOfNTDSSettings(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) < 2 || len(p.RDNs[0].Attributes) != 1 || len(p.RDNs[1].Attributes) == 0 {
		return ""
	}
	first := p.RDNs[0].Attributes[0]
	if !strings.EqualFold(first.Type, "CN") || !strings.EqualFold(first.Value, "NTDS Settings") {
		return ""
	}
	return p.RDNs[1].Attributes[0].Value
}

func formatRDNs(rdns []*ldap.RelativeDN, lowerTypes bool) string {
	var b strings.Builder
	for i, rdn := range rdns {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			t := a.Type
			if lowerTypes {
				t = strings.ToLower(t)
			}
			b.WriteString(t)
			b.WriteByte('=')
			b.WriteString(ldap.EscapeDN(a.Value))
		}
	}
	return b.String()
}

// ntdsutilAccount is a sAMAccountName (at most 20 characters) that ntdsutil
// takes as one word of "sync from domain account NAME": letters, digits,
// dot, underscore and hyphen.
var ntdsutilAccount = regexp.MustCompile(`^[A-Za-z0-9._-]{1,20}$`)

// CheckSyncAccount checks the account name of ntdsutil's "sync from domain
// account": a sAMAccountName alone, without domain, spaces or quotes.
func CheckSyncAccount(name string) error {
	if !ntdsutilAccount.MatchString(name) {
		return fmt.Errorf("%q is not a sAMAccountName ntdsutil can take: 1 to 20 letters, digits, dots, underscores or hyphens, without the domain", name)
	}
	return nil
}

// PasswordClasses are the character categories of the domain password
// complexity rule ("Password must meet complexity requirements": upper case,
// lower case, base-10 digits, non-alphanumeric characters) that a password uses.
type PasswordClasses struct {
	Upper, Lower, Digit, Other bool
}

// ClassesOf reports which complexity categories p uses.
func ClassesOf(p string) PasswordClasses {
	var c PasswordClasses
	for _, r := range p {
		switch {
		case unicode.IsUpper(r):
			c.Upper = true
		case unicode.IsLower(r):
			c.Lower = true
		case unicode.IsDigit(r):
			c.Digit = true
		default:
			c.Other = true
		}
	}
	return c
}

// Count is how many of the four categories are used.
func (c PasswordClasses) Count() int {
	n := 0
	for _, b := range []bool{c.Upper, c.Lower, c.Digit, c.Other} {
		if b {
			n++
		}
	}
	return n
}
