package ldapsim

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// labEpoch is when the lab's forests were "created": the originating time of
// the metadata that is not about backups.
var labEpoch = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// GUIDs of the optional features (fixed in every forest).
var featureGUIDs = map[string]string{
	adnames.FeatureRecycleBin: "766ddcd8-acd0-445e-f3b9-a7f9b6744f2a",
	adnames.FeaturePAM:        "ec43e873-cce8-4640-b4ab-07ffe4ab5bcd",
}

// featureLevel is msDS-RequiredForestBehaviorVersion of each feature.
var featureLevel = map[string]int{adnames.FeatureRecycleBin: 4, adnames.FeaturePAM: 7}

// entry is one rendered directory object.
type entry struct {
	dn     string
	key    string // normalised DN
	parent string // normalised parent DN
	nc     string // normalised DN of the naming context head holding it
	attrs  []*attribute
	// fixed objects carry stamps that never change (the schema's).
	fixed bool
}

type attribute struct {
	name        string
	vals        []string
	constructed bool // returned only when asked for by name, like AD
}

func (e *entry) get(name string) *attribute {
	for _, a := range e.attrs {
		if strings.EqualFold(a.name, name) {
			return a
		}
	}
	return nil
}

func (e *entry) values(name string) []string {
	if a := e.get(name); a != nil {
		return a.vals
	}
	return nil
}

func (e *entry) set(name string, vals ...string) *entry {
	if a := e.get(name); a != nil {
		a.vals = vals
		return e
	}
	e.attrs = append(e.attrs, &attribute{name: name, vals: vals})
	return e
}

func (e *entry) constructed(name string, vals ...string) *entry {
	e.attrs = append(e.attrs, &attribute{name: name, vals: vals, constructed: true})
	return e
}

// view is the directory as one DC shows it: the forest's objects plus the
// rootDSE of that DC. It is built from the model under its lock and read
// without it.
type view struct {
	dom  *model.Domain
	self *model.DomainController

	base, config, schema, sites string
	domainZones, forestZones    string

	root      *entry
	byKey     map[string]*entry
	children  map[string][]*entry
	order     []*entry
	normCache map[string]string
}

func rdn(name string) string { return ldap.EscapeDN(name) }

// buildView renders the forest of host as host shows it; nil when host is
// not a DC. Callers hold the model's lock.
func buildView(e *model.Env, host string) *view { return buildStampedView(e, host, nil) }

// buildStampedView is buildView with each object's history from st (see
// stamps); a nil st leaves objects without it.
func buildStampedView(e *model.Env, host string, st *stamps) *view {
	d, self := e.DirectoryOf(host)
	if self == nil {
		return nil
	}
	base := adnames.DomainDN(d.DNSName)
	v := &view{
		dom: d, self: self,
		base:        base,
		config:      "CN=Configuration," + base,
		schema:      "CN=Schema,CN=Configuration," + base,
		sites:       "CN=Sites,CN=Configuration," + base,
		domainZones: "DC=DomainDnsZones," + base,
		forestZones: "DC=ForestDnsZones," + base,
		byKey:       map[string]*entry{},
		children:    map[string][]*entry{},
		normCache:   map[string]string{},
	}
	v.render(e)
	if st != nil {
		st.stamp(v, e.Now())
	}
	return v
}

// ownKey normalises a DN the lab rendered itself: its RDN values went
// through ldap.EscapeDN and it has no spaces around separators, so lower
// case is its normal form (what normDN would compute, without parsing).
func ownKey(dn string) string { return strings.ToLower(dn) }

// ownParent is the parent of a DN the lab rendered (first unescaped comma).
func ownParent(dn string) string {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[i+1:]
		}
	}
	return ""
}

// norm is normDN with a per-view cache: filters compare the same few DN
// values (objectCategory, role owners) over and over.
func (v *view) norm(dn string) string {
	if k, ok := v.normCache[dn]; ok {
		return k
	}
	k := adnames.NormDN(dn)
	v.normCache[dn] = k
	return k
}

func (v *view) add(dn, nc string) *entry {
	en := &entry{dn: dn, key: ownKey(dn), parent: ownKey(ownParent(dn)), nc: ownKey(nc)}
	en.set("distinguishedName", dn)
	v.byKey[en.key] = en
	v.children[en.parent] = append(v.children[en.parent], en)
	v.order = append(v.order, en)
	return en
}

func (v *view) category(cn string) string { return "CN=" + cn + "," + v.schema }

func (v *view) serverDN(dc *model.DomainController) string {
	return "CN=" + rdn(dc.ShortName()) + ",CN=Servers,CN=" + rdn(dc.Site) + "," + v.sites
}

func (v *view) ntdsDN(dc *model.DomainController) string { return "CN=NTDS Settings," + v.serverDN(dc) }

func (v *view) computerDN(dc *model.DomainController) string {
	return "CN=" + rdn(dc.ShortName()) + ",OU=Domain Controllers," + v.base
}

// holderDN is the fSMORoleOwner value for a role: the holder's NTDS
// Settings, or the mangled DN AD shows for a DSA deleted since.
func (v *view) holderDN(role string) string {
	h := v.dom.FSMOHolder(role)
	if dc := v.dom.DC(h); dc != nil {
		return v.ntdsDN(dc)
	}
	if h == "" {
		h = "unknown"
	}
	g := model.LabGUID("ntds", h)
	short := strings.ToUpper(strings.SplitN(h, ".", 2)[0])
	return `CN=NTDS Settings\0ADEL:` + g + ",CN=" + rdn(short) + `\0ADEL:` + g + ",CN=LostAndFoundConfig," + v.config
}

func (v *view) ncHeadMeta(kind string) string {
	invocation := ""
	if dcs := v.dom.SortedDCs(); len(dcs) > 0 {
		invocation = dcs[0].InvocationID
	}
	meta := []metaEntry{
		{attid: attidObjectClass, version: 1, changed: labEpoch, invocation: invocation, origUSN: 4100, localUSN: 4100},
		{attid: attidInstanceType, version: 1, changed: labEpoch, invocation: invocation, origUSN: 4100, localUSN: 4100},
	}
	if host, at, version, ok := v.dom.LastBackup(kind); ok {
		inv := model.LabGUID("invocationId", host)
		if dc := v.dom.DC(host); dc != nil {
			inv = dc.InvocationID
		}
		usn := 20000 + int64(version)
		meta = append(meta, metaEntry{attid: attidDSASignature, version: uint32(version), changed: at, invocation: inv, origUSN: usn, localUSN: usn})
	}
	meta = append(meta, metaEntry{attid: attidName, version: 1, changed: labEpoch, invocation: invocation, origUSN: 4100, localUSN: 4100})
	return string(replPropertyMetaData(meta))
}

func itoa(i int) string              { return strconv.Itoa(i) }
func utoa(u uint32) string           { return strconv.FormatUint(uint64(u), 10) }
func boolStr(b bool) string          { return strings.ToUpper(strconv.FormatBool(b)) }
func bin(b []byte) string            { return string(b) }
func guid(s string) string           { return bin(guidBytes(s)) }
func objClass(cs ...string) []string { return append([]string{"top"}, cs...) }

func (v *view) render(e *model.Env) {
	d, self := v.dom, v.self
	// A DC promoted or demoted through another DC reaches this one only
	// after replication.
	dcs := d.VisibleDCs(self.Host, e.Now())
	ncs := []string{v.base, v.config, v.schema}
	if d.DNSPartitions {
		ncs = append(ncs, v.domainZones, v.forestZones)
	}

	// rootDSE ([MS-ADTS] 3.1.1.3.2)
	root := &entry{dn: "", key: ""}
	root.set("configurationNamingContext", v.config)
	root.set("currentTime", generalizedTime(e.Now()))
	root.set("defaultNamingContext", v.base)
	root.set("dnsHostName", self.Host)
	root.set("domainControllerFunctionality", itoa(self.FunctionalLevel))
	root.set("domainFunctionality", itoa(d.DomainFunctionalLevel))
	root.set("dsServiceName", v.ntdsDN(self))
	root.set("forestFunctionality", itoa(d.ForestFunctionalLevel))
	root.set("highestCommittedUSN", strconv.FormatInt(d.HighestUSN(), 10))
	root.set("isGlobalCatalogReady", boolStr(self.GlobalCatalog))
	root.set("isSynchronized", "TRUE")
	root.set("ldapServiceName", d.DNSName+":"+strings.ToLower(self.ShortName())+"$@"+strings.ToUpper(d.DNSName))
	root.set("namingContexts", ncs...)
	root.set("rootDomainNamingContext", v.base)
	root.set("schemaNamingContext", v.schema)
	root.set("serverName", v.serverDN(self))
	root.set("subschemaSubentry", "CN=Aggregate,"+v.schema)
	caps := append([]string(nil), supportedCapabilities...)
	if self.ReadOnly {
		caps = append(caps, capPartialSecrets)
	}
	root.set("supportedCapabilities", caps...)
	root.set("supportedControl", supportedControls...)
	root.set("supportedExtension", supportedExtensions...)
	root.set("supportedLDAPPolicies", supportedLDAPPolicies...)
	root.set("supportedLDAPVersion", "3", "2")
	root.set("supportedSASLMechanisms", "GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5")
	v.root = root

	// Domain NC.
	sid, _ := sidBytes(d.SID)
	head := v.add(v.base, v.base)
	head.set("objectClass", objClass("domain", "domainDNS")...)
	head.set("objectCategory", v.category("Domain-DNS"))
	head.set("dc", strings.SplitN(d.DNSName, ".", 2)[0])
	head.set("name", strings.SplitN(d.DNSName, ".", 2)[0])
	head.set("objectGUID", guid(d.GUID))
	head.set("objectSid", bin(sid))
	head.set("instanceType", "5")
	head.set("fSMORoleOwner", v.holderDN(adnames.PDCEmulator))
	head.set("rIDManagerReference", "CN=RID Manager$,CN=System,"+v.base)
	head.set("msDS-Behavior-Version", itoa(d.DomainFunctionalLevel))
	head.set("nTMixedDomain", "0")
	head.set("replPropertyMetaData", v.ncHeadMeta(adnames.NCDomain))

	v.add("CN=Users,"+v.base, v.base).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "Users")
	v.add("CN=Computers,"+v.base, v.base).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "Computers")
	v.add("CN=System,"+v.base, v.base).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "System")
	v.add("OU=Domain Controllers,"+v.base, v.base).set("objectClass", objClass("organizationalUnit")...).set("objectCategory", v.category("Organizational-Unit")).set("ou", "Domain Controllers")
	v.add("CN=Infrastructure,"+v.base, v.base).set("objectClass", objClass("infrastructureUpdate")...).set("objectCategory", v.category("Infrastructure-Update")).set("cn", "Infrastructure").set("fSMORoleOwner", v.holderDN(adnames.InfrastructureMaster))
	v.add("CN=RID Manager$,CN=System,"+v.base, v.base).set("objectClass", objClass("rIDManager")...).set("objectCategory", v.category("RID-Manager")).set("cn", "RID Manager$").set("fSMORoleOwner", v.holderDN(adnames.RIDMaster)).set("rIDAvailablePool", "4611686014132423217")

	// Users the lab accepts for this domain (so the DN form of a bind works).
	var users []string
	prefix := strings.ToLower(d.NetBIOSName) + `\`
	for k := range e.Credentials {
		if strings.HasPrefix(k, prefix) {
			users = append(users, k[len(prefix):])
		}
	}
	sort.Strings(users)
	userDN := map[string]string{}
	addUser := func(name string, rid int) {
		usid, _ := sidBytes(d.SID + "-" + itoa(rid))
		dn := "CN=" + rdn(name) + ",CN=Users," + v.base
		userDN[strings.ToLower(name)] = dn
		v.add(dn, v.base).
			set("objectClass", objClass("person", "organizationalPerson", "user")...).
			set("objectCategory", v.category("Person")).
			set("cn", name).set("name", name).
			set("sAMAccountName", name).
			set("userPrincipalName", name+"@"+d.DNSName).
			set("objectSid", bin(usid)).
			set("userAccountControl", "66048")
	}
	for i, u := range users {
		name := u
		if u == "administrator" {
			name = "Administrator"
		}
		addUser(name, userRID(u, i))
	}
	v.renderGroups(userDN, addUser)
	v.renderManagedServiceAccounts()

	// Computer objects of the DCs.
	for i, dc := range dcs {
		uac, pgid := "532480", "516" // SERVER_TRUST_ACCOUNT | TRUSTED_FOR_DELEGATION
		if dc.ReadOnly {
			uac, pgid = "83890176", "521" // WORKSTATION_TRUST_ACCOUNT | PARTIAL_SECRETS_ACCOUNT | TRUSTED_TO_AUTH_FOR_DELEGATION
		}
		csid, _ := sidBytes(d.SID + "-" + itoa(1000+i))
		v.add(v.computerDN(dc), v.base).
			set("objectClass", objClass("person", "organizationalPerson", "user", "computer")...).
			set("objectCategory", v.category("Computer")).
			set("cn", dc.ShortName()).set("name", dc.ShortName()).
			set("sAMAccountName", dc.ShortName()+"$").
			set("dNSHostName", dc.Host).
			set("objectGUID", guid(dc.ComputerGUID)).
			set("objectSid", bin(csid)).
			set("userAccountControl", uac).
			set("primaryGroupID", pgid).
			set("operatingSystem", "Windows Server 2022 Datacenter").
			set("serverReferenceBL", v.serverDN(dc))
	}

	// Trusts ([MS-ADTS] 6.1.6.7).
	partners := slices.Sorted(maps.Keys(d.Trusts))
	for _, k := range partners {
		t := d.Trusts[k]
		tsid, _ := sidBytes(t.SID)
		v.add("CN="+rdn(t.Partner)+",CN=System,"+v.base, v.base).
			set("objectClass", objClass("leaf", "trustedDomain")...).
			set("objectCategory", v.category("Trusted-Domain")).
			set("cn", t.Partner).set("name", t.Partner).
			set("trustPartner", t.Partner).
			set("flatName", t.FlatName).
			set("trustDirection", itoa(t.Direction)).
			set("trustType", itoa(t.Type)).
			set("trustAttributes", utoa(t.Attributes)).
			set("securityIdentifier", bin(tsid)).
			set("instanceType", "4")
	}

	// Configuration NC.
	cfg := v.add(v.config, v.config)
	cfg.set("objectClass", objClass("configuration")...).set("objectCategory", v.category("Configuration")).set("cn", "Configuration").set("instanceType", "13")
	cfg.set("replPropertyMetaData", v.ncHeadMeta(adnames.NCConfiguration))

	parts := v.add("CN=Partitions,"+v.config, v.config)
	parts.set("objectClass", objClass("crossRefContainer")...).set("objectCategory", v.category("Cross-Ref-Container")).set("cn", "Partitions")
	parts.set("fSMORoleOwner", v.holderDN(adnames.DomainNamingMaster))
	parts.set("msDS-Behavior-Version", itoa(d.ForestFunctionalLevel))
	parts.set("systemFlags", "-2147483648")
	var enabled []string
	for _, f := range []string{adnames.FeatureRecycleBin, adnames.FeaturePAM} {
		if d.OptionalFeatures[f] {
			enabled = append(enabled, v.featureDN(f))
		}
	}
	if len(enabled) > 0 {
		parts.set("msDS-EnabledFeature", enabled...)
	}
	v.add("CN="+rdn(d.NetBIOSName)+",CN=Partitions,"+v.config, v.config).
		set("objectClass", objClass("crossRef")...).set("objectCategory", v.category("Cross-Ref")).
		set("cn", d.NetBIOSName).set("nCName", v.base).set("dnsRoot", d.DNSName).
		set("nETBIOSName", d.NetBIOSName).set("systemFlags", "3")
	v.add("CN=Enterprise Configuration,CN=Partitions,"+v.config, v.config).
		set("objectClass", objClass("crossRef")...).set("objectCategory", v.category("Cross-Ref")).
		set("cn", "Enterprise Configuration").set("nCName", v.config).set("dnsRoot", d.DNSName).set("systemFlags", "1")
	v.add("CN=Enterprise Schema,CN=Partitions,"+v.config, v.config).
		set("objectClass", objClass("crossRef")...).set("objectCategory", v.category("Cross-Ref")).
		set("cn", "Enterprise Schema").set("nCName", v.schema).set("dnsRoot", d.DNSName).set("systemFlags", "1")

	v.add(v.sites, v.config).set("objectClass", objClass("sitesContainer")...).set("objectCategory", v.category("Sites-Container")).set("cn", "Sites")
	for _, site := range d.AllSites() {
		sdn := "CN=" + rdn(site) + "," + v.sites
		v.add(sdn, v.config).set("objectClass", objClass("site")...).set("objectCategory", v.category("Site")).set("cn", site).set("name", site)
		v.add("CN=Servers,"+sdn, v.config).set("objectClass", objClass("serversContainer")...).set("objectCategory", v.category("Servers-Container")).set("cn", "Servers")
	}
	for _, dc := range dcs {
		v.add(v.serverDN(dc), v.config).
			set("objectClass", objClass("server")...).
			set("objectCategory", v.category("Server")).
			set("cn", dc.ShortName()).set("name", dc.ShortName()).
			set("dNSHostName", dc.Host).
			set("serverReference", v.computerDN(dc))
		ntds := v.add(v.ntdsDN(dc), v.config)
		if dc.ReadOnly {
			ntds.set("objectClass", objClass("applicationSettings", "nTDSDSA", "nTDSDSARO")...).set("objectCategory", v.category("NTDS-DSA-RO"))
			ntds.set("msDS-hasFullReplicaNCs", ncs...)
		} else {
			ntds.set("objectClass", objClass("applicationSettings", "nTDSDSA")...).set("objectCategory", v.category("NTDS-DSA"))
			ntds.set("hasMasterNCs", v.base, v.config, v.schema)
			ntds.set("msDS-hasMasterNCs", ncs...)
		}
		ntds.set("cn", "NTDS Settings").set("name", "NTDS Settings")
		if o := dc.NTDSOptions(); o != 0 {
			ntds.set("options", utoa(o)) // a DC that never had options set has none
		}
		ntds.set("invocationId", guid(dc.InvocationID))
		ntds.set("objectGUID", guid(dc.NTDSGUID))
		ntds.set("msDS-Behavior-Version", itoa(dc.FunctionalLevel))
		ntds.set("msDS-HasDomainNCs", v.base)
		ntds.set("dMDLocation", v.schema)
		ntds.constructed("msDS-isRODC", boolStr(dc.ReadOnly))
	}

	svc := "CN=Services," + v.config
	v.add(svc, v.config).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "Services")
	v.add("CN=Windows NT,"+svc, v.config).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "Windows NT")
	ds := v.add("CN=Directory Service,CN=Windows NT,"+svc, v.config)
	ds.set("objectClass", objClass("nTDSService")...).set("objectCategory", v.category("NTDS-Service")).set("cn", "Directory Service")
	if d.TombstoneLifetimeDays > 0 {
		ds.set("tombstoneLifetime", itoa(d.TombstoneLifetimeDays))
	}
	if d.DeletedObjectLifetimeDays > 0 {
		ds.set("msDS-deletedObjectLifetime", itoa(d.DeletedObjectLifetimeDays))
	}
	qp := "CN=Query-Policies,CN=Directory Service,CN=Windows NT," + svc
	v.add(qp, v.config).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "Query-Policies")
	v.add("CN=Default Query Policy,"+qp, v.config).
		set("objectClass", objClass("queryPolicy")...).set("objectCategory", v.category("Query-Policy")).
		set("cn", "Default Query Policy").set("lDAPAdminLimits", ldapAdminLimits...)
	of := "CN=Optional Features,CN=Directory Service,CN=Windows NT," + svc
	v.add(of, v.config).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "Optional Features")
	for _, f := range []string{adnames.FeatureRecycleBin, adnames.FeaturePAM} {
		v.add(v.featureDN(f), v.config).
			set("objectClass", objClass("msDS-OptionalFeature")...).
			set("objectCategory", v.category("ms-DS-Optional-Feature")).
			set("cn", f).set("name", f).
			set("msDS-OptionalFeatureGUID", guid(featureGUIDs[f])).
			set("msDS-OptionalFeatureFlags", "1").
			set("msDS-RequiredForestBehaviorVersion", itoa(featureLevel[f]))
	}

	// Schema NC: its head and AD's attributeSchema objects (no classSchema objects).
	sch := v.add(v.schema, v.schema)
	sch.set("objectClass", objClass("dMD")...).set("objectCategory", v.category("DMD")).set("cn", "Schema").set("instanceType", "13")
	sch.set("fSMORoleOwner", v.holderDN(adnames.SchemaMaster)).set("objectVersion", "88")
	sch.set("replPropertyMetaData", v.ncHeadMeta(adnames.NCSchema))
	v.renderSchema()

	// DNS application partitions, each with its own infrastructure object.
	if d.DNSPartitions {
		for _, z := range []struct{ dn, kind, name string }{{v.domainZones, adnames.NCDomainDNSZones, "DomainDnsZones"}, {v.forestZones, adnames.NCForestDNSZones, "ForestDnsZones"}} {
			zh := v.add(z.dn, z.dn)
			zh.set("objectClass", objClass("domainDNS")...).set("objectCategory", v.category("Domain-DNS")).set("dc", z.name).set("instanceType", "5")
			zh.set("replPropertyMetaData", v.ncHeadMeta(z.kind))
			v.add("CN=Infrastructure,"+z.dn, z.dn).set("objectClass", objClass("infrastructureUpdate")...).set("objectCategory", v.category("Infrastructure-Update")).set("cn", "Infrastructure").set("fSMORoleOwner", v.holderDN(adnames.InfrastructureMaster))
		}
		v.renderDNSZones()
	}
}

// zonePartition is the DNS application partition holding z: its
// CN=MicrosoftDNS container holds the dnsZone objects ([MS-DNSP] 2.3).
func (v *view) zonePartition(z *model.DNSZone) string {
	if z.Partition == model.ForestDNSZones {
		return v.forestZones
	}
	return v.domainZones
}

func (v *view) zoneDN(z *model.DNSZone) string {
	return "DC=" + rdn(z.Name) + ",CN=MicrosoftDNS," + v.zonePartition(z)
}

// renderDNSZones renders each zone as a dnsZone and its names as dnsNode
// objects holding the raw dnsRecord values.
func (v *view) renderDNSZones() {
	for _, nc := range []string{v.domainZones, v.forestZones} {
		v.add("CN=MicrosoftDNS,"+nc, nc).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "MicrosoftDNS")
	}
	names := slices.Sorted(maps.Keys(v.dom.DNSZones))
	for _, k := range names {
		z := v.dom.DNSZones[k]
		zdn := v.zoneDN(z)
		nc := v.zonePartition(z)
		v.add(zdn, nc).set("objectClass", objClass("dnsZone")...).set("objectCategory", v.category("Dns-Zone")).set("dc", z.Name).set("name", z.Name).
			set("dNSProperty", z.Properties()...)
		for _, n := range z.SortedNodes() {
			v.add("DC="+rdn(n.Name)+","+zdn, nc).
				set("objectClass", objClass("dnsNode")...).
				set("objectCategory", v.category("Dns-Node")).
				set("dc", n.Name).set("name", n.Name).
				set("dnsRecord", n.Records...).
				set("dNSTombstoned", "FALSE")
		}
	}
}

func (v *view) featureDN(f string) string {
	return "CN=" + rdn(f) + ",CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services," + v.config
}

// userRID gives the well-known RID to Administrator and stable RIDs to the rest.
func userRID(u string, i int) int {
	if u == "administrator" {
		return 500
	}
	return 1100 + i
}

// renderManagedServiceAccounts adds the model's group managed service
// accounts under CN=Managed Service Accounts, the container
// New-ADServiceAccount uses by default.
func (v *view) renderManagedServiceAccounts() {
	d := v.dom
	if len(d.ManagedServiceAccounts) == 0 {
		return
	}
	msa := "CN=Managed Service Accounts," + v.base
	v.add(msa, v.base).set("objectClass", objClass("container")...).set("objectCategory", v.category("Container")).set("cn", "Managed Service Accounts")
	for i, k := range slices.Sorted(maps.Keys(d.ManagedServiceAccounts)) {
		sam := d.ManagedServiceAccounts[k]
		name := strings.TrimSuffix(sam, "$")
		sid, _ := sidBytes(d.SID + "-" + itoa(4000+i))
		v.add("CN="+rdn(name)+","+msa, v.base).
			set("objectClass", objClass("person", "organizationalPerson", "user", "computer", "msDS-GroupManagedServiceAccount")...).
			set("objectCategory", v.category("ms-DS-Group-Managed-Service-Account")).
			set("cn", name).set("name", name).
			set("sAMAccountName", sam).
			set("objectSid", bin(sid)).
			set("userAccountControl", "4096") // WORKSTATION_TRUST_ACCOUNT
	}
}

// renderGroups adds the well-known groups and the model's groups under
// CN=Users, adding a user for each member that has no account yet.
func (v *view) renderGroups(userDN map[string]string, addUser func(string, int)) {
	d := v.dom
	names := slices.Sorted(maps.Keys(d.Groups))
	var extra []string
	seen := map[string]bool{}
	for _, g := range names {
		for _, m := range d.Groups[g] {
			k := strings.ToLower(m)
			if _, ok := userDN[k]; !ok && !seen[k] {
				seen[k] = true
				extra = append(extra, m)
			}
		}
	}
	sort.Strings(extra)
	for i, m := range extra {
		addUser(m, 3000+i)
	}
	group := func(name string, rid int, members []string) {
		gsid, _ := sidBytes(d.SID + "-" + itoa(rid))
		en := v.add("CN="+rdn(name)+",CN=Users,"+v.base, v.base).
			set("objectClass", objClass("group")...).
			set("objectCategory", v.category("Group")).
			set("cn", name).set("name", name).
			set("sAMAccountName", name).
			set("groupType", "-2147483646"). // ACCOUNT_GROUP | SECURITY_ENABLED
			set("objectSid", bin(gsid))
		if len(members) > 0 {
			en.set("member", members...)
		}
	}
	wellKnown := map[string]bool{}
	for _, g := range model.WellKnownGroups {
		wellKnown[g.Name] = true
		var members []string
		if dn, ok := userDN["administrator"]; ok && g.Admin {
			members = append(members, dn)
		}
		// Members the model adds to a well-known group (a second domain admin).
		for _, m := range d.Groups[g.Name] {
			members = append(members, userDN[strings.ToLower(m)])
		}
		group(g.Name, g.RID, members)
	}
	for i, g := range names {
		if wellKnown[g] {
			continue
		}
		members := make([]string, 0, len(d.Groups[g]))
		for _, m := range d.Groups[g] {
			members = append(members, userDN[strings.ToLower(m)])
		}
		group(g, 2000+i, members)
	}
}
