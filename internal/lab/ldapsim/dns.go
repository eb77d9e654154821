package ldapsim

import (
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/jimlambrt/gldap"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// diagEntryExists is AD's answer to an add of a DN that exists.
const diagEntryExists = "00000524: UpdErr: DSID-031A11E0, problem 6005 (ENTRY_EXISTS), data 0"

// dnsNodeAt finds the zone and node a DN names (node nil when the DN is a
// zone's child that does not exist yet; zone nil when the parent is no zone).
func (v *view) dnsNodeAt(dn string) (*model.DNSZone, *model.DNSNode, string) {
	parent := adnames.NormDN(adnames.ParentDN(dn))
	for _, z := range v.dom.DNSZones {
		if adnames.NormDN(v.zoneDN(z)) != parent {
			continue
		}
		name := firstRDNValue(dn)
		return z, z.Nodes[strings.ToLower(name)], name
	}
	return nil, nil, ""
}

func firstRDNValue(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 || len(p.RDNs[0].Attributes) == 0 {
		return ""
	}
	return p.RDNs[0].Attributes[0].Value
}

// add creates dnsNode objects in an AD-integrated zone: the only objects
// the lab creates.
func (b *backend) add(w *gldap.ResponseWriter, r *gldap.Request) {
	update(b, w, r, gldap.ApplicationAddResponse, r.GetAddMessage, func(account string, m *gldap.AddMessage) (code int, diag string) {
		_ = b.s.env.Do(func(e *model.Env) error {
			code, diag = addDNSNode(e, b.host, account, m.DN, m.Attributes)
			return nil
		})
		return code, diag
	})
}

func addDNSNode(e *model.Env, host, account, dn string, attrs []gldap.Attribute) (int, string) {
	v := buildView(e, host)
	if v == nil {
		return gldap.ResultUnavailable, "not a domain controller any more"
	}
	if v.self.ReadOnly {
		return gldap.ResultReferral, diagReferral(writableDC(v.dom))
	}
	if v.byKey[adnames.NormDN(dn)] != nil {
		return gldap.ResultEntryAlreadyExists, diagEntryExists
	}
	if v.byKey[adnames.NormDN(adnames.ParentDN(dn))] == nil {
		return gldap.ResultNoSuchObject, diagNoObject(v.bestMatch(dn))
	}
	if !isAdmin(account) {
		return gldap.ResultInsufficientAccessRights, diagInsuffAccess
	}
	z, _, name := v.dnsNodeAt(dn)
	isNode := false
	var records []string
	for _, a := range attrs {
		switch strings.ToLower(a.Type) {
		case "objectclass":
			for _, c := range a.Vals {
				if strings.EqualFold(c, "dnsNode") {
					isNode = true
				}
			}
		case "dnsrecord":
			records = a.Vals
		}
	}
	if z == nil || !isNode {
		return gldap.ResultUnwillingToPerform, "the lab creates only dnsNode objects in an AD-integrated zone"
	}
	z.Serial++
	z.Nodes[strings.ToLower(name)] = &model.DNSNode{Name: name, Records: append([]string(nil), records...)}
	v.dom.NextUSN()
	e.Record(v.self.Host, "dns-node", fmt.Sprintf("added %s.%s (%d records)", name, z.Name, len(records)))
	return gldap.ResultSuccess, ""
}

// del deletes dnsNode objects: the only objects the lab deletes.
func (b *backend) del(w *gldap.ResponseWriter, r *gldap.Request) {
	update(b, w, r, gldap.ApplicationDelResponse, r.GetDeleteMessage, func(account string, m *gldap.DeleteMessage) (code int, diag string) {
		_ = b.s.env.Do(func(e *model.Env) error {
			code, diag = deleteDNSNode(e, b.host, account, m.DN)
			return nil
		})
		return code, diag
	})
}

// deleteDNSNode deletes the dnsNode at dn as DC host would. Callers hold
// the lock.
func deleteDNSNode(e *model.Env, host, account, dn string) (int, string) {
	v := buildView(e, host)
	switch {
	case v == nil:
		return gldap.ResultUnavailable, "not a domain controller any more"
	case v.byKey[adnames.NormDN(dn)] == nil:
		return gldap.ResultNoSuchObject, diagNoObject(v.bestMatch(dn))
	case v.self.ReadOnly:
		return gldap.ResultReferral, diagReferral(writableDC(v.dom))
	case !isAdmin(account):
		return gldap.ResultInsufficientAccessRights, diagInsuffAccess
	}
	z, node, name := v.dnsNodeAt(dn)
	if node == nil {
		return gldap.ResultUnwillingToPerform, "the lab deletes only dnsNode objects"
	}
	z.Serial++
	delete(z.Nodes, strings.ToLower(name))
	v.dom.NextUSN()
	e.Record(v.self.Host, "dns-node", "deleted "+name+"."+z.Name)
	return gldap.ResultSuccess, ""
}

// modifyDNSNode changes dnsRecord (add, delete of a value, replace) and
// dNSTombstoned (FALSE only) of a dnsNode, atomically.
func modifyDNSNode(e *model.Env, v *view, z *model.DNSZone, node *model.DNSNode, changes []change) (int, string) {
	records := append([]string(nil), node.Records...)
	for _, c := range changes {
		switch strings.ToLower(c.attr) {
		case "dnstombstoned":
			if c.op != gldap.ReplaceAttribute || len(c.vals) != 1 || !strings.EqualFold(c.vals[0], "FALSE") {
				return gldap.ResultUnwillingToPerform, "the lab sets dNSTombstoned only to FALSE"
			}
		case "dnsrecord":
			switch c.op {
			case gldap.ReplaceAttribute:
				records = append([]string(nil), c.vals...)
			case gldap.AddAttribute:
				for _, val := range c.vals {
					for _, r := range records {
						if r == val {
							return gldap.ResultAttributeOrValueExists, diagAttrExists("dnsRecord")
						}
					}
					records = append(records, val)
				}
			case gldap.DeleteAttribute:
				if len(c.vals) == 0 {
					records = nil
					continue
				}
				for _, val := range c.vals {
					i := indexOf(records, val)
					if i < 0 {
						return gldap.ResultNoSuchAttribute, diagNoAttr("dnsRecord")
					}
					records = append(records[:i], records[i+1:]...)
				}
			default:
				return gldap.ResultUnwillingToPerform, diagWillNotModify
			}
		default:
			return gldap.ResultUnwillingToPerform, "the lab changes only dnsRecord and dNSTombstoned on a dnsNode"
		}
	}
	node.Records = records
	z.Serial++
	v.dom.NextUSN()
	e.Record(v.self.Host, "dns-node", fmt.Sprintf("modified %s.%s (%d records)", node.Name, z.Name, len(records)))
	return gldap.ResultSuccess, ""
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
