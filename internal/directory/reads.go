package directory

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

var rootDSEAttrs = []string{
	"dnsHostName", "dsServiceName", "serverName", "defaultNamingContext", "configurationNamingContext",
	"schemaNamingContext", "rootDomainNamingContext", "namingContexts", "domainFunctionality",
	"forestFunctionality", "domainControllerFunctionality", "isGlobalCatalogReady", "isSynchronized",
	"supportedControl", "supportedCapabilities", "supportedSASLMechanisms", "highestCommittedUSN", "currentTime",
	"supportedExtension", "supportedLDAPPolicies",
}

// objectMetadataAttrs are the attributes every AD object carries.
var objectMetadataAttrs = []string{"objectGUID", "objectSid", "objectCategory", "instanceType", "whenCreated", "whenChanged", "uSNCreated", "uSNChanged"}

// RootDSE reads the rootDSE of the DC serving this client. Cost: 1 search.
func (c *Client) RootDSE(ctx context.Context) (RootDSE, error) {
	var out RootDSE
	err := c.do(ctx, "", "read rootDSE", nil, func(ctx context.Context, s *session) error {
		var err error
		out, err = s.rootDSE()
		return err
	})
	return out, err
}

func (s *session) rootDSE() (RootDSE, error) {
	e, err := s.searchBase("", rootDSEAttrs...)
	if err != nil {
		return RootDSE{}, err
	}
	r := RootDSE{
		DC:                         s.dc,
		DNSHostName:                e.GetAttributeValue("dnsHostName"),
		DSServiceName:              e.GetAttributeValue("dsServiceName"),
		ServerName:                 e.GetAttributeValue("serverName"),
		DefaultNamingContext:       e.GetAttributeValue("defaultNamingContext"),
		ConfigurationNamingContext: e.GetAttributeValue("configurationNamingContext"),
		SchemaNamingContext:        e.GetAttributeValue("schemaNamingContext"),
		RootDomainNamingContext:    e.GetAttributeValue("rootDomainNamingContext"),
		NamingContexts:             e.GetAttributeValues("namingContexts"),
		IsGlobalCatalogReady:       attrBool(e, "isGlobalCatalogReady"),
		IsSynchronized:             attrBool(e, "isSynchronized"),
		SupportedControls:          e.GetAttributeValues("supportedControl"),
		SupportedExtensions:        e.GetAttributeValues("supportedExtension"),
		SupportedLDAPPolicies:      e.GetAttributeValues("supportedLDAPPolicies"),
		SupportedCapabilities:      e.GetAttributeValues("supportedCapabilities"),
		SupportedSASLMechanisms:    e.GetAttributeValues("supportedSASLMechanisms"),
	}
	r.DomainFunctionality, _ = attrInt(e, "domainFunctionality")
	r.ForestFunctionality, _ = attrInt(e, "forestFunctionality")
	r.DomainControllerFunctionality, _ = attrInt(e, "domainControllerFunctionality")
	if n, ok := attrInt(e, "highestCommittedUSN"); ok {
		r.HighestCommittedUSN = int64(n)
	}
	if t, err := ber.ParseGeneralizedTime([]byte(e.GetAttributeValue("currentTime"))); err == nil {
		r.CurrentTime = t
	}
	return r, nil
}

// dcFilter selects NTDS Settings objects of writable and read-only DCs
// (objectCategory, not objectClass: an nTDSDSARO is also an nTDSDSA).
var dcFilter = or(eq("objectCategory", "nTDSDSA"), eq("objectCategory", "nTDSDSARO"))

var dcAttrs = []string{"objectClass", "objectCategory", "dNSHostName", "serverReference", "options", "invocationId", "msDS-Behavior-Version"}

// DomainControllers lists the forest's DCs from the nTDSDSA and nTDSDSARO
// objects under CN=Sites and their server objects, sorted by host. Cost: 1
// search (plus 1 bind on a fresh pool).
func (c *Client) DomainControllers(ctx context.Context) ([]DomainController, error) {
	return readAny(ctx, c, "list domain controllers", (*session).domainControllers)
}

func (s *session) domainControllers(n *namingContexts) ([]DomainController, error) {
	entries, err := s.searchPaged("CN=Sites,"+n.config, ldap.ScopeWholeSubtree, or(eq("objectCategory", "server"), dcFilter), dcAttrs...)
	if err != nil {
		return nil, err
	}
	return joinDCs(entries), nil
}

// joinDCs pairs each NTDS Settings object with its parent server object.
func joinDCs(entries []*ldap.Entry) []DomainController {
	servers := map[string]*ldap.Entry{}
	for _, e := range entries {
		if hasValue(e, "objectClass", "server") {
			servers[adnames.NormDN(e.DN)] = e
		}
	}
	var out []DomainController
	for _, e := range entries {
		if !hasValue(e, "objectClass", "nTDSDSA") && !hasValue(e, "objectClass", "nTDSDSARO") {
			continue
		}
		serverDN := parentOf(e.DN)
		srv := servers[adnames.NormDN(serverDN)]
		dc := DomainController{
			Name:           adnames.RDNValue(serverDN),
			Site:           adnames.RDNValue(parentOf(parentOf(serverDN))),
			ReadOnly:       hasValue(e, "objectClass", "nTDSDSARO") || strings.HasPrefix(strings.ToUpper(e.GetAttributeValue("objectCategory")), "CN=NTDS-DSA-RO,"),
			ServerDN:       serverDN,
			NTDSSettingsDN: e.DN,
			InvocationID:   guidString(e.GetRawAttributeValue("invocationId")),
		}
		if srv != nil {
			dc.Host = srv.GetAttributeValue("dNSHostName")
			dc.ComputerDN = srv.GetAttributeValue("serverReference")
		}
		if v, ok := attrInt(e, "options"); ok {
			dc.Options = uint32(v) //nolint:gosec // G115: options is a 32-bit flags attribute; AD returns it as a signed integer
			dc.optionsSet = true
		}
		dc.GlobalCatalog = dc.Options&adnames.NTDSOptIsGC != 0
		dc.FunctionalLevel, _ = attrInt(e, "msDS-Behavior-Version")
		out = append(out, dc)
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.ToLower(out[i].Host+"\x00"+out[i].Name) < strings.ToLower(out[j].Host+"\x00"+out[j].Name)
	})
	return out
}

// forestDC is the forest's DC named host, with the whole list it was found
// in; transport.ErrNotFound when host is none of them.
func (s *session) forestDC(n *namingContexts, host string) (DomainController, []DomainController, error) {
	dcs, err := s.domainControllers(n)
	if err != nil {
		return DomainController{}, nil, err
	}
	for _, d := range dcs {
		if adnames.SameHost(d.Host, host) {
			return d, dcs, nil
		}
	}
	return DomainController{}, nil, fmt.Errorf("%w: %s is not a domain controller of the forest", transport.ErrNotFound, host)
}

// IsDomainController reports whether host is a DC of the forest: a server
// object with that dNSHostName under CN=Sites that has NTDS Settings.
// Cost: 1 search.
func (c *Client) IsDomainController(ctx context.Context, host string) (bool, error) {
	return c.IsDomainControllerOn(ctx, "", host)
}

// IsDomainControllerOn is IsDomainController asked of one DC (dc; "" is
// the home DC): a DC promoted through another DC shows there only after
// replication. Cost: 1 search.
func (c *Client) IsDomainControllerOn(ctx context.Context, dc, host string) (bool, error) {
	n, err := c.naming(ctx)
	if err != nil {
		return false, err
	}
	host = strings.TrimSuffix(strings.TrimSpace(host), ".")
	if host == "" {
		return false, nil
	}
	var found bool
	err = c.do(ctx, dc, "find domain controller "+host, nil, func(ctx context.Context, s *session) error {
		entries, err := s.searchPaged("CN=Sites,"+n.config, ldap.ScopeWholeSubtree,
			or(and(eq("objectCategory", "server"), eq("dNSHostName", host)), dcFilter), dcAttrs...)
		if err != nil {
			return err
		}
		for _, dc := range joinDCs(entries) {
			if adnames.SameHost(dc.Host, host) {
				found = true
			}
		}
		return nil
	})
	return found, err
}

// roleObjects maps each role to the DN of the object whose fSMORoleOwner
// names its holder (MS-ADCAP 3.4.4.6.2.3.2). The RID master's is the object
// named by the domain head's rIDManagerReference, resolved by the caller.
func roleObjects(n *namingContexts) map[string]string {
	return map[string]string{
		adnames.SchemaMaster:         n.schema,
		adnames.DomainNamingMaster:   "CN=Partitions," + n.config,
		adnames.PDCEmulator:          n.domain,
		adnames.RIDMaster:            "CN=RID Manager$,CN=System," + n.domain,
		adnames.InfrastructureMaster: "CN=Infrastructure," + n.domain,
	}
}

// FSMORoles reads the five role holders and resolves each to its DC.
// Cost: 3 searches: the domain NC's role objects (domain head, RID manager,
// infrastructure), the Configuration NC's Partitions container with every
// server and NTDS Settings object (to resolve holders to hosts), and the
// Schema NC head.
func (c *Client) FSMORoles(ctx context.Context) (FSMORoles, error) {
	return readAny(ctx, c, "read FSMO roles", (*session).fsmoRoles)
}

func (s *session) fsmoRoles(n *namingContexts) (FSMORoles, error) {
	roles, _, _, err := s.fsmoRolesWithConfig(n)
	return roles, err
}

// fsmoRolesWithConfig also returns the Configuration NC entries it searched
// (every server and NTDS Settings object), from which joinDCs lists the DCs.
func (s *session) fsmoRolesWithConfig(n *namingContexts) (FSMORoles, []*ldap.Entry, FunctionalLevels, error) {
	// The three reads are independent: sent at once, they share one round
	// trip on the connection (LDAP messages carry their own IDs, RFC 4511
	// 4.1.1.1) instead of one each.
	var (
		dom, cfg []*ldap.Entry
		schema   *ldap.Entry
		errs     [3]error
		wg       sync.WaitGroup
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		dom, errs[0] = s.searchPaged(n.domain, ldap.ScopeWholeSubtree,
			or(eq("objectCategory", "domainDNS"), eq("objectCategory", "rIDManager"), eq("objectCategory", "infrastructureUpdate")),
			"objectClass", "fSMORoleOwner", "rIDManagerReference", "msDS-Behavior-Version")
	}()
	go func() {
		defer wg.Done()
		cfg, errs[1] = s.searchPaged(n.config, ldap.ScopeWholeSubtree,
			or(eq("objectCategory", "crossRefContainer"), eq("objectCategory", "server"), dcFilter),
			append([]string{"fSMORoleOwner", "msDS-Behavior-Version"}, dcAttrs...)...)
	}()
	go func() {
		defer wg.Done()
		schema, errs[2] = s.searchBase(n.schema, "fSMORoleOwner")
	}()
	wg.Wait()
	var levels FunctionalLevels
	for _, err := range errs {
		if err != nil {
			return nil, nil, levels, err
		}
	}
	dcs := joinDCs(cfg)
	hostOf := func(ntds string) string {
		for _, d := range dcs {
			if adnames.SameDN(d.NTDSSettingsDN, ntds) {
				return d.Host
			}
		}
		return ""
	}
	out := FSMORoles{}
	set := func(role string, e *ldap.Entry) {
		owner := e.GetAttributeValue("fSMORoleOwner")
		out[role] = FSMOHolder{Role: role, RoleObjectDN: e.DN, NTDSSettingsDN: owner, Host: hostOf(owner)}
	}
	set(adnames.SchemaMaster, schema)
	var ridRef string
	for _, e := range dom {
		if adnames.SameDN(e.DN, n.domain) {
			set(adnames.PDCEmulator, e)
			ridRef = e.GetAttributeValue("rIDManagerReference")
			levels.Domain, _ = attrInt(e, "msDS-Behavior-Version")
		}
	}
	for _, e := range dom {
		switch {
		case hasValue(e, "objectClass", "rIDManager") && (ridRef == "" || adnames.SameDN(e.DN, ridRef)):
			set(adnames.RIDMaster, e)
		case hasValue(e, "objectClass", "infrastructureUpdate") && adnames.SameDN(e.DN, "CN=Infrastructure,"+n.domain):
			set(adnames.InfrastructureMaster, e)
		}
	}
	for _, e := range cfg {
		if hasValue(e, "objectClass", "crossRefContainer") {
			set(adnames.DomainNamingMaster, e)
			levels.Forest, _ = attrInt(e, "msDS-Behavior-Version")
		}
	}
	for _, r := range adnames.FSMORoles() {
		if _, ok := out[r]; !ok {
			return nil, nil, levels, fmt.Errorf("%w: the %s role object was not found", transport.ErrNotFound, r)
		}
	}
	return out, cfg, levels, nil
}

// FunctionalLevels reads msDS-Behavior-Version on CN=Partitions (forest)
// and on the domain NC head (domain). Cost: 2 searches.
func (c *Client) FunctionalLevels(ctx context.Context) (FunctionalLevels, error) {
	return readAny(ctx, c, "read functional levels", func(s *session, n *namingContexts) (FunctionalLevels, error) {
		var out FunctionalLevels
		p, err := s.searchBase("CN=Partitions,"+n.config, "msDS-Behavior-Version")
		if err != nil {
			return out, err
		}
		d, err := s.searchBase(n.domain, "msDS-Behavior-Version")
		if err != nil {
			return out, err
		}
		out.Forest, _ = attrInt(p, "msDS-Behavior-Version")
		out.Domain, _ = attrInt(d, "msDS-Behavior-Version")
		return out, nil
	})
}

// TombstoneLifetime reads tombstoneLifetime on CN=Directory Service; unset
// means 60 days. Cost: 1 search.
func (c *Client) TombstoneLifetime(ctx context.Context) (TombstoneLifetime, error) {
	return readAny(ctx, c, "read tombstone lifetime", func(s *session, n *namingContexts) (TombstoneLifetime, error) {
		return s.tombstoneLifetime(n)
	})
}

func (s *session) tombstoneLifetime(n *namingContexts) (TombstoneLifetime, error) {
	out := TombstoneLifetime{Days: DefaultTombstoneLifetimeDays}
	e, err := s.searchBase("CN=Directory Service,CN=Windows NT,CN=Services,"+n.config, "tombstoneLifetime", "msDS-deletedObjectLifetime")
	if err != nil {
		return out, err
	}
	if v, ok := attrInt(e, "tombstoneLifetime"); ok {
		out.Days, out.Set = v, true
	}
	out.DeletedObjectLifetimeDays, _ = attrInt(e, "msDS-deletedObjectLifetime")
	return out, nil
}

var trustAttrs = []string{"trustPartner", "flatName", "trustDirection", "trustType", "trustAttributes", "securityIdentifier"}

// Trusts lists the domain's trustedDomain objects under CN=System, sorted
// by partner. Cost: 1 search.
func (c *Client) Trusts(ctx context.Context) ([]Trust, error) {
	ts, _, err := c.trusts(ctx, eq("objectCategory", "trustedDomain"), "list trusts")
	return ts, err
}

// Trust reads the trust with a partner given by DNS or NetBIOS name;
// transport.ErrNotFound when there is none. Cost: 1 search.
func (c *Client) Trust(ctx context.Context, partner string) (Trust, error) {
	partner = strings.TrimSuffix(strings.TrimSpace(partner), ".")
	if partner == "" {
		return Trust{}, fmt.Errorf("ldap read trust: %w: empty partner name", transport.ErrNotFound)
	}
	ts, dc, err := c.trusts(ctx, and(eq("objectCategory", "trustedDomain"), or(eq("trustPartner", partner), eq("flatName", partner))), "read trust with "+partner)
	if err != nil {
		return Trust{}, err
	}
	for _, t := range ts {
		if strings.EqualFold(t.Partner, partner) || strings.EqualFold(t.FlatName, partner) {
			return t, nil
		}
	}
	return Trust{}, transport.AtHost(dc, fmt.Errorf("ldap read trust on %s: %w: no trust with %q", dc, transport.ErrNotFound, partner))
}

// trusts also returns the DC that answered.
func (c *Client) trusts(ctx context.Context, filter, what string) ([]Trust, string, error) {
	n, err := c.naming(ctx)
	if err != nil {
		return nil, "", err
	}
	var out []Trust
	var dc string
	err = c.do(ctx, "", what, nil, func(ctx context.Context, s *session) error {
		dc = s.dc
		entries, err := s.searchPaged("CN=System,"+n.domain, ldap.ScopeSingleLevel, filter, trustAttrs...)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, e := range entries {
			t := Trust{DN: e.DN, Partner: e.GetAttributeValue("trustPartner"), FlatName: e.GetAttributeValue("flatName")}
			t.Direction, _ = attrInt(e, "trustDirection")
			t.Type, _ = attrInt(e, "trustType")
			a, _ := attrInt(e, "trustAttributes")
			t.Attributes = uint32(a) //nolint:gosec // G115: trustAttributes is a 32-bit flags attribute; AD returns it as a signed integer
			t.AttributeNames = adnames.TrustAttributeNames(t.Attributes)
			if raw := e.GetRawAttributeValue("securityIdentifier"); len(raw) > 0 {
				sid, err := sidString(raw)
				if err != nil {
					return fmt.Errorf("securityIdentifier of %s: %w", e.DN, err)
				}
				t.SID = sid
			}
			out = append(out, t)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Partner) < strings.ToLower(out[j].Partner) })
	return out, dc, err
}

// OptionalFeatures lists the forest's optional features and whether each is
// enabled (Recycle Bin, Privileged Access Management, ...). Cost: 2 searches.
func (c *Client) OptionalFeatures(ctx context.Context) ([]OptionalFeature, error) {
	return readAny(ctx, c, "read optional features", func(s *session, n *namingContexts) ([]OptionalFeature, error) {
		var out []OptionalFeature
		features, err := s.searchPaged("CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,"+n.config,
			ldap.ScopeSingleLevel, eq("objectCategory", "msDS-OptionalFeature"),
			"cn", "msDS-OptionalFeatureGUID", "msDS-RequiredForestBehaviorVersion")
		if err != nil {
			return nil, err
		}
		parts, err := s.searchBase("CN=Partitions,"+n.config, "msDS-EnabledFeature")
		if err != nil {
			return nil, err
		}
		enabled := parts.GetAttributeValues("msDS-EnabledFeature")
		for _, e := range features {
			f := OptionalFeature{Name: e.GetAttributeValue("cn"), DN: e.DN, GUID: guidString(e.GetRawAttributeValue("msDS-OptionalFeatureGUID"))}
			if f.Name == "" {
				f.Name = adnames.RDNValue(e.DN)
			}
			f.RequiredForestLevel, _ = attrInt(e, "msDS-RequiredForestBehaviorVersion")
			for _, dn := range enabled {
				if adnames.SameDN(dn, e.DN) {
					f.Enabled = true
				}
			}
			out = append(out, f)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	})
}

// ObjectMetadata reads the metadata of the object dn from the home DC (the
// USNs are that DC's). A missing object is transport.ErrNotFound.
func (c *Client) ObjectMetadata(ctx context.Context, dn string) (ObjectMetadata, error) {
	var out ObjectMetadata
	err := c.do(ctx, "", "read object metadata", nil, func(ctx context.Context, s *session) error {
		e, err := s.searchBase(dn, objectMetadataAttrs...)
		if err != nil {
			return err
		}
		out = objectMetadata(e)
		return nil
	})
	return out, err
}

func objectMetadata(e *ldap.Entry) ObjectMetadata {
	m := ObjectMetadata{DN: e.DN, GUID: guidString(e.GetRawAttributeValue("objectGUID")), ObjectCategory: e.GetAttributeValue("objectCategory")}
	if raw := e.GetRawAttributeValue("objectSid"); len(raw) > 0 {
		m.SID, _ = sidString(raw)
	}
	m.InstanceType, _ = attrInt(e, "instanceType")
	if t, err := ber.ParseGeneralizedTime([]byte(e.GetAttributeValue("whenCreated"))); err == nil {
		m.WhenCreated = t
	}
	if t, err := ber.ParseGeneralizedTime([]byte(e.GetAttributeValue("whenChanged"))); err == nil {
		m.WhenChanged = t
	}
	m.USNCreated, _ = strconv.ParseInt(e.GetAttributeValue("uSNCreated"), 10, 64)
	m.USNChanged, _ = strconv.ParseInt(e.GetAttributeValue("uSNChanged"), 10, 64)
	return m
}

// GroupMembers returns the member DNs of the domain's group whose
// sAMAccountName is name, sorted; a group of more members than the DC's
// MaxValRange (1500 on Windows) is read with range retrieval. A missing
// group is transport.ErrNotFound.
func (c *Client) GroupMembers(ctx context.Context, name string) ([]string, error) {
	return readAny(ctx, c, "read group members", func(s *session, n *namingContexts) ([]string, error) {
		groups, err := s.searchPaged(n.domain, ldap.ScopeWholeSubtree, and(eq("objectCategory", "group"), eq("sAMAccountName", name)), "member")
		if err != nil {
			return nil, err
		}
		if len(groups) == 0 {
			return nil, ldap.NewError(ldap.LDAPResultNoSuchObject, fmt.Errorf("no group %q in %s", name, n.domain))
		}
		out := append([]string(nil), groups[0].GetAttributeValues("member")...)
		sort.Strings(out)
		return out, nil
	})
}
