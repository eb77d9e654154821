package ldapsim

import (
	"strconv"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/jimlambrt/gldap"
)

// AD's diagnostic messages, so clients that parse them see what they would
// see against a Windows DC.
const (
	diagNeedBind      = "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563"
	diagInvalidCreds  = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563"
	diagBusy          = "00000033: LdapErr: DSID-0C0906E8, comment: The server is busy, data 0, v4563"
	diagInsuffAccess  = "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0"
	diagOwnerDown     = "000020AF: SvcErr: DSID-03210F70, problem 5002 (UNAVAILABLE), data 1722"
	diagWillNotModify = "00002035: SvcErr: DSID-03152D2C, problem 5003 (WILL_NOT_PERFORM), data 0"
)

func diagNoObject(matched string) string {
	return "0000208D: NameErr: DSID-0310028B, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'" + matched + "'\n"
}

func diagNoAttr(attr string) string {
	return "00002085: AtrErr: DSID-03152D2C, #1:\n\t0: 00002085: DSID-03152D2C, problem 1001 (NO_ATTRIBUTE_OR_VAL), data 0, Att 3 (" + attr + ")\n"
}

func diagAttrExists(attr string) string {
	return "00002083: AtrErr: DSID-03151904, #1:\n\t0: 00002083: DSID-03151904, problem 1006 (ATT_OR_VALUE_EXISTS), data 0, Att 3 (" + attr + ")\n"
}

func diagReferral(to string) string {
	return "0000202B: RefErr: DSID-0310082F, data 0, 1 access points\n\tref 1: '" + to + "'\n"
}

// result is the outcome of a search before paging.
type result struct {
	entries []*entry
	code    int
	diag    string
	matched string
}

// search runs one search over the view: base lookup, scope, filter. A
// subtree search does not cross into another naming context, like AD
// without the phantom root control.
func (v *view) search(baseDN string, scope gldap.Scope, filter string) result {
	f, err := compileFilter(filter)
	if err != nil {
		return result{code: gldap.ResultFilterError, diag: err.Error()}
	}
	key := adnames.NormDN(baseDN)
	if key == "" {
		if scope != gldap.BaseObject {
			return result{}
		}
		// The rootDSE answers (objectClass=*) and any filter over its own attributes.
		ok, err := v.matches(v.root, f)
		if err != nil {
			return result{code: gldap.ResultFilterError, diag: err.Error()}
		}
		if ok {
			return result{entries: []*entry{v.root}}
		}
		return result{}
	}
	base := v.byKey[key]
	if base == nil {
		return result{code: gldap.ResultNoSuchObject, matched: v.bestMatch(baseDN), diag: diagNoObject(v.bestMatch(baseDN))}
	}
	var cands []*entry
	switch scope {
	case gldap.BaseObject:
		cands = []*entry{base}
	case gldap.SingleLevel:
		for _, c := range v.children[base.key] {
			if c.nc == base.nc {
				cands = append(cands, c)
			}
		}
	default:
		var walk func(*entry)
		walk = func(en *entry) {
			cands = append(cands, en)
			for _, c := range v.children[en.key] {
				if c.nc == base.nc {
					walk(c)
				}
			}
		}
		walk(base)
	}
	var out []*entry
	for _, c := range cands {
		ok, err := v.matches(c, f)
		if err != nil {
			return result{code: gldap.ResultFilterError, diag: err.Error()}
		}
		if ok {
			out = append(out, c)
		}
	}
	return result{entries: out}
}

// bestMatch is the longest existing ancestor of dn (AD's matchedDN).
func (v *view) bestMatch(dn string) string {
	for p := adnames.ParentDN(dn); p != ""; p = adnames.ParentDN(p) {
		if en := v.byKey[adnames.NormDN(p)]; en != nil {
			return en.dn
		}
	}
	return ""
}

// selectAttributes applies the requested attribute list: none or "*" means
// every stored attribute, "1.1" none, and a constructed attribute only when
// named. An attribute with more than MaxValRange values, or asked for with a
// range option ("member;range=1500-*"), is returned with range retrieval
// ([MS-ADTS] 3.1.1.3.1.3.3): at most MaxValRange values, named
// "member;range=low-high", high being "*" for the last value.
func selectAttributes(en *entry, req []string, typesOnly bool) map[string][]string {
	all := len(req) == 0
	named := map[string]bool{}
	ranged := map[string][2]int{} // attribute -> low, high (-1 = *)
	for _, r := range req {
		switch r {
		case "*":
			all = true
		case "1.1":
		default:
			name, opt, hasOpt := strings.Cut(r, ";")
			if lo, hi, ok := rangeOption(opt); hasOpt && ok {
				ranged[strings.ToLower(name)] = [2]int{lo, hi}
				continue
			}
			named[strings.ToLower(r)] = true
		}
	}
	out := map[string][]string{}
	for _, a := range en.attrs {
		lname := strings.ToLower(a.name)
		rg, isRanged := ranged[lname]
		want := named[lname] || (all && !a.constructed) || isRanged
		if !want || len(a.vals) == 0 {
			continue
		}
		name, vals := a.name, a.vals
		if isRanged || len(vals) > MaxValRange {
			lo, hi := 0, -1
			if isRanged {
				lo, hi = rg[0], rg[1]
			}
			if lo >= len(vals) {
				continue
			}
			end := len(vals) - 1
			if hi >= 0 && hi < end {
				end = hi
			}
			if end-lo+1 > MaxValRange {
				end = lo + MaxValRange - 1
			}
			high := strconv.Itoa(end)
			if end == len(vals)-1 {
				high = "*"
			}
			name = a.name + ";range=" + strconv.Itoa(lo) + "-" + high
			vals = vals[lo : end+1]
		}
		if typesOnly {
			out[name] = []string{}
			continue
		}
		out[name] = append([]string(nil), vals...)
	}
	return out
}

// rangeOption parses "range=low-high" (high a number or "*", -1 returned).
func rangeOption(opt string) (int, int, bool) {
	spec, ok := strings.CutPrefix(strings.ToLower(opt), "range=")
	if !ok {
		return 0, 0, false
	}
	l, h, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false
	}
	lo, err := strconv.Atoi(l)
	if err != nil || lo < 0 {
		return 0, 0, false
	}
	if h == "*" {
		return lo, -1, true
	}
	hi, err := strconv.Atoi(h)
	if err != nil || hi < lo {
		return 0, 0, false
	}
	return lo, hi, true
}

// page cuts a result for the paged results control (RFC 2696). The cookie
// is the offset of the next entry; the lab recomputes the result for each
// page, which is fine for a tree that changes only when a test changes it.
func page(entries []*entry, size uint32, cookie []byte) ([]*entry, []byte) {
	off := 0
	if len(cookie) > 0 {
		if n, err := strconv.Atoi(string(cookie)); err == nil && n >= 0 && n <= len(entries) {
			off = n
		}
	}
	if size == 0 {
		return nil, nil
	}
	end := off + int(size)
	if end >= len(entries) {
		return entries[off:], nil
	}
	return entries[off:end], []byte(strconv.Itoa(end))
}
