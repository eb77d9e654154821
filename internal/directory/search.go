package directory

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// observeSearch, when set (tests), sees the base, filter and attributes of
// every search the adapter sends.
var observeSearch func(base, filter string, attrs []string)

func observe(base, filter string, attrs []string) {
	if f := observeSearch; f != nil {
		f(base, filter, attrs)
	}
}

// searchBase reads one object. A missing object is an *ldap.Error with
// noSuchObject, which classify turns into transport.ErrNotFound.
func (s *session) searchBase(dn string, attrs ...string) (*ldap.Entry, error) {
	s.c.count(s.dc, func(st *OpStats) { st.Searches++ })
	observe(dn, "(objectClass=*)", attrs)
	res, err := s.conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", attrs, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) == 0 {
		return nil, ldap.NewError(ldap.LDAPResultNoSuchObject, fmt.Errorf("no object %s", dn))
	}
	if err := s.completeRanges(res.Entries); err != nil {
		return nil, err
	}
	return res.Entries[0], nil
}

// searchPaged runs a one-level or subtree search with the paged results
// control (RFC 2696), one request per page, so large results never hit the
// DC's MaxPageSize.
func (s *session) searchPaged(base string, scope int, filter string, attrs ...string) ([]*ldap.Entry, error) {
	paging := ldap.NewControlPaging(uint32(s.c.cfg.PageSize)) //nolint:gosec // G115: the page size is a small positive setting
	var out []*ldap.Entry
	for {
		s.c.count(s.dc, func(st *OpStats) { st.Searches++ })
		observe(base, filter, attrs)
		req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, []ldap.Control{paging})
		res, err := s.conn.Search(req)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Entries...)
		ctrl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			return out, s.completeRanges(out)
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// completeRanges follows range retrieval ([MS-ADTS] 3.1.1.3.1.3.3): a DC
// returns an attribute with more values than its MaxValRange policy as
// "member;range=0-1499", and the rest only when asked for
// "member;range=1500-*", and so on until a range ends in "*". Each such
// attribute is completed in place and renamed to its plain name, so callers
// read every value of any multi-valued attribute.
func (s *session) completeRanges(entries []*ldap.Entry) error {
	for _, e := range entries {
		for _, a := range e.Attributes {
			name, high, ok := rangedAttribute(a.Name)
			if !ok {
				continue
			}
			for high != "*" {
				last, err := strconv.Atoi(high)
				if err != nil {
					return fmt.Errorf("ldap range retrieval of %s on %s: bad range end %q", name, e.DN, high)
				}
				s.c.count(s.dc, func(st *OpStats) { st.Searches++ })
				ask := fmt.Sprintf("%s;range=%d-*", name, last+1)
				observe(e.DN, "(objectClass=*)", []string{name})
				res, err := s.conn.Search(ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{ask}, nil))
				if err != nil {
					return err
				}
				var next *ldap.EntryAttribute
				if len(res.Entries) == 1 {
					for _, na := range res.Entries[0].Attributes {
						if n, _, ok := rangedAttribute(na.Name); ok && strings.EqualFold(n, name) {
							next = na
						}
					}
				}
				if next == nil {
					return fmt.Errorf("ldap range retrieval of %s on %s: no values after %d", name, e.DN, last)
				}
				a.Values = append(a.Values, next.Values...)
				a.ByteValues = append(a.ByteValues, next.ByteValues...)
				_, high, _ = rangedAttribute(next.Name)
			}
			a.Name = name
		}
	}
	return nil
}

// rangedAttribute splits "member;range=0-1499" into member and 1499.
func rangedAttribute(desc string) (name, high string, ok bool) {
	name, opts, found := strings.Cut(desc, ";")
	if !found {
		return "", "", false
	}
	for _, o := range strings.Split(opts, ";") {
		if spec, ok := strings.CutPrefix(strings.ToLower(o), "range="); ok {
			if _, h, ok := strings.Cut(spec, "-"); ok && h != "" {
				return name, h, true
			}
		}
	}
	return "", "", false
}

// modify sends one modify request.
func (s *session) modify(req *ldap.ModifyRequest) error {
	s.c.count(s.dc, func(st *OpStats) { st.Modifies++ })
	return s.conn.Modify(req)
}

// Filter building: every value goes through ldap.EscapeFilter.

func eq(attr, value string) string { return "(" + attr + "=" + ldap.EscapeFilter(value) + ")" }

func or(parts ...string) string { return "(|" + strings.Join(parts, "") + ")" }

func and(parts ...string) string { return "(&" + strings.Join(parts, "") + ")" }

// Attribute helpers.

func attrInt(e *ldap.Entry, name string) (int, bool) {
	v := e.GetAttributeValue(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

func attrBool(e *ldap.Entry, name string) bool {
	return strings.EqualFold(e.GetAttributeValue(name), "TRUE")
}

func hasValue(e *ldap.Entry, name, value string) bool {
	for _, v := range e.GetAttributeValues(name) {
		if strings.EqualFold(v, value) {
			return true
		}
	}
	return false
}

// parentOf drops the first RDN of dn, keeping the rest as the server wrote it.
func parentOf(dn string) string {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++ // skip the escaped character (or the first hex digit of a pair)
		case ',', ';':
			return strings.TrimSpace(dn[i+1:])
		}
	}
	return ""
}
