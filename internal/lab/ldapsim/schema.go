package ldapsim

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// schemaAttributesTSV is AD's attribute schema (Windows Server 2016), from
// Microsoft's published schema LDIF: the lab's schema NC holds one
// attributeSchema object per line, as a DC does.
//
//go:embed schema_attributes.tsv
var schemaAttributesTSV string

// schemaAttribute is one attributeSchema object.
type schemaAttribute struct {
	ldapName, cn, id, syntax, omSyntax, single, systemFlags string
}

var schemaOnce struct {
	sync.Once
	attrs  []schemaAttribute
	byName map[string]schemaAttribute
}

// schemaAttributes parses the embedded table once.
func schemaAttributes() ([]schemaAttribute, map[string]schemaAttribute) {
	schemaOnce.Do(func() {
		schemaOnce.byName = map[string]schemaAttribute{}
		for _, line := range strings.Split(schemaAttributesTSV, "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Split(line, "\t")
			if len(f) != 7 {
				continue
			}
			a := schemaAttribute{ldapName: f[0], cn: f[1], id: f[2], syntax: f[3], omSyntax: f[4], single: f[5], systemFlags: f[6]}
			schemaOnce.attrs = append(schemaOnce.attrs, a)
			schemaOnce.byName[strings.ToLower(a.ldapName)] = a
		}
	})
	return schemaOnce.attrs, schemaOnce.byName
}

// SchemaHasAttribute reports whether the lab's schema defines an attribute
// of that lDAPDisplayName (case-insensitive, as LDAP compares them).
func SchemaHasAttribute(name string) bool {
	_, by := schemaAttributes()
	_, ok := by[strings.ToLower(name)]
	return ok
}

// schemaEntries caches the rendered attributeSchema objects per schema NC
// and replica kind: they never change, and every search renders a view.
// The cached entries are shared by views and never modified (stamp skips
// fixed entries; the lab refuses writes to the schema).
var schemaEntries = struct {
	sync.Mutex
	m map[string][]*entry
}{m: map[string][]*entry{}}

// renderSchema adds the attributeSchema objects under the schema NC head.
// Like AD's, they date from the forest's creation; they never change here,
// so their stamps are fixed (the lab does not extend the schema).
func (v *view) renderSchema() {
	key := ownKey(v.schema) + "|" + strconv.FormatBool(v.self.ReadOnly)
	schemaEntries.Lock()
	ents, ok := schemaEntries.m[key]
	if !ok {
		ents = v.buildSchemaEntries()
		schemaEntries.m[key] = ents
	}
	schemaEntries.Unlock()
	for _, en := range ents {
		v.byKey[en.key] = en
		v.children[en.parent] = append(v.children[en.parent], en)
		v.order = append(v.order, en)
	}
}

func (v *view) buildSchemaEntries() []*entry {
	attrs, _ := schemaAttributes()
	cat := v.category("Attribute-Schema")
	it := "4"
	if v.self.ReadOnly {
		it = "0"
	}
	created := generalizedTime(labEpoch)
	out := make([]*entry, 0, len(attrs))
	for i, a := range attrs {
		dn := "CN=" + rdn(a.cn) + "," + v.schema
		en := &entry{dn: dn, key: ownKey(dn), parent: ownKey(v.schema), nc: ownKey(v.schema), fixed: true}
		en.set("distinguishedName", dn)
		en.set("objectClass", objClass("attributeSchema")...)
		en.set("objectCategory", cat)
		en.set("cn", a.cn).set("name", a.cn)
		en.set("lDAPDisplayName", a.ldapName)
		en.set("attributeID", a.id)
		en.set("attributeSyntax", a.syntax)
		en.set("oMSyntax", a.omSyntax)
		en.set("isSingleValued", a.single)
		en.set("systemFlags", a.systemFlags)
		en.set("objectGUID", guid(model.LabGUID("attributeSchema", a.ldapName)))
		en.set("instanceType", it)
		usn := strconv.Itoa(100 + i) // loaded with the schema, before the DC's own objects
		en.set("whenCreated", created).set("whenChanged", created)
		en.set("uSNCreated", usn).set("uSNChanged", usn)
		out = append(out, en)
	}
	return out
}
