package directory

import (
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// DefaultTombstoneLifetimeDays applies when tombstoneLifetime is unset
// (Microsoft dd392260).
const DefaultTombstoneLifetimeDays = 60

// RootDSE is the rootDSE of the DC that answered (MS-ADTS 3.1.1.3.2).
type RootDSE struct {
	// DC is the server the client asked (its FQDN, as configured).
	DC                            string
	DNSHostName                   string
	DSServiceName                 string // the DC's own NTDS Settings DN
	ServerName                    string // its server object DN
	DefaultNamingContext          string
	ConfigurationNamingContext    string
	SchemaNamingContext           string
	RootDomainNamingContext       string
	NamingContexts                []string
	DomainFunctionality           int
	ForestFunctionality           int
	DomainControllerFunctionality int
	IsGlobalCatalogReady          bool
	IsSynchronized                bool
	SupportedControls             []string
	SupportedExtensions           []string
	SupportedCapabilities         []string
	SupportedSASLMechanisms       []string
	// SupportedLDAPPolicies names the DC's LDAP policies (MaxPageSize,
	// MaxValRange, ...); their values are on the query policy object.
	SupportedLDAPPolicies []string
	HighestCommittedUSN   int64
	CurrentTime           time.Time
}

// ObjectMetadata is what AD records of every object ([MS-ADTS] 3.1.1.1.3,
// 3.1.1.1.9): identity, where it sits, and when and at which update
// sequence number (local to the DC read) it was created and last changed.
// Comparing USNChanged with a value read earlier from the same DC tells
// whether the object changed since, without reading it whole.
type ObjectMetadata struct {
	DN             string
	GUID           string
	SID            string // security principals only
	ObjectCategory string
	InstanceType   int
	WhenCreated    time.Time
	WhenChanged    time.Time
	USNCreated     int64
	USNChanged     int64
}

// SupportsControl reports whether the DC lists a control OID.
func (r RootDSE) SupportsControl(oid string) bool { return contains(r.SupportedControls, oid) }

// ReadOnly reports an RODC: it announces LDAP_CAP_ACTIVE_DIRECTORY_PARTIAL_SECRETS_OID.
func (r RootDSE) ReadOnly() bool {
	return contains(r.SupportedCapabilities, "1.2.840.113556.1.4.1920")
}

// DomainController is one DC as the Configuration NC lists it: an nTDSDSA
// (or nTDSDSARO) object and its parent server object.
type DomainController struct {
	// Host is dNSHostName of the server object.
	Host string
	// Name is the server object's RDN (PRIV-DC1).
	Name string
	// Site is the RDN two levels above the server object.
	Site string
	// GlobalCatalog is bit 0x1 of Options.
	GlobalCatalog bool
	// ReadOnly: the NTDS Settings object is an nTDSDSARO.
	ReadOnly bool
	// Options is the nTDSDSA options value (0 when unset).
	Options uint32
	// InvocationID identifies the DSA's database replica (GUID string).
	InvocationID string
	// FunctionalLevel is msDS-Behavior-Version on nTDSDSA.
	FunctionalLevel int
	ServerDN        string
	NTDSSettingsDN  string
	// ComputerDN is the server object's serverReference: the DC's computer account.
	ComputerDN string

	optionsSet bool // options present on the object (absent reads as 0)
}

// FSMOHolder is the holder of one operations master role.
type FSMOHolder struct {
	Role string
	// RoleObjectDN is the object carrying fSMORoleOwner.
	RoleObjectDN string
	// NTDSSettingsDN is the holder's nTDSDSA DN (fSMORoleOwner).
	NTDSSettingsDN string
	// Host is the holder's FQDN; empty when fSMORoleOwner names a DSA that
	// is not in the directory any more (a deleted DC: seize the role).
	Host string
}

// FSMORoles are the five holders by role name.
type FSMORoles map[string]FSMOHolder

// HeldBy lists the roles a host holds, in Roles() order.
func (f FSMORoles) HeldBy(host string) []string {
	var out []string
	for _, r := range adnames.FSMORoles() {
		if h, ok := f[r]; ok && adnames.SameHost(h.Host, host) {
			out = append(out, r)
		}
	}
	return out
}

// FunctionalLevels are msDS-Behavior-Version of the forest (on
// CN=Partitions) and of the domain (on the domain NC head): 7 is Windows
// Server 2016 and later.
type FunctionalLevels struct {
	Forest int
	Domain int
}

// TombstoneLifetime is tombstoneLifetime on CN=Directory Service.
type TombstoneLifetime struct {
	// Days is the effective lifetime: the attribute, or 60 when unset.
	Days int
	// Set is false when the attribute is absent.
	Set bool
	// DeletedObjectLifetimeDays is msDS-deletedObjectLifetime (0: unset).
	DeletedObjectLifetimeDays int
}

// NCBackup is the last backup of one naming context as one DC's replica
// records it: the replication metadata of dSASignature on the NC head.
type NCBackup struct {
	// DC is the DC whose replica was read.
	DC string
	// NamingContext is the NC's name (NCDomain, ...) and DN its head's DN.
	NamingContext string
	DN            string
	// Backed is false when the metadata has no dSASignature stamp.
	Backed bool
	// LastBackup is the stamp's originating time (1-second resolution).
	LastBackup time.Time
	// Version is the stamp's version: how many times it changed.
	Version uint32
	// OriginatingInvocationID is the DSA that wrote it (the DC backed up),
	// and OriginatingDC that DSA's host when it is still a DC.
	OriginatingInvocationID string
	OriginatingDC           string
}

// BackupReport is BackupStatus's answer.
type BackupReport struct {
	// Backups has one entry per DC read and naming context it holds.
	Backups []NCBackup
	// Unreadable lists DCs that could not be read, with why.
	Unreadable map[string]error
	// Tombstone is the tombstone lifetime, read with the first DC's naming
	// context heads when TombstoneRead (see BackupStatus).
	Tombstone     TombstoneLifetime
	TombstoneRead bool
}

// Latest returns, per naming context, the most recent backup any DC's
// replica records (what repadmin /showbackup reports).
func (b BackupReport) Latest() map[string]NCBackup {
	out := map[string]NCBackup{}
	for _, x := range b.Backups {
		cur, ok := out[x.NamingContext]
		if !ok || (x.Backed && (!cur.Backed || x.LastBackup.After(cur.LastBackup))) {
			out[x.NamingContext] = x
		}
	}
	return out
}

// Trust is one trustedDomain object under CN=System.
type Trust struct {
	DN string
	// Partner is trustPartner: the other domain's DNS name.
	Partner string
	// FlatName is the other domain's NetBIOS name.
	FlatName   string
	Direction  int
	Type       int
	Attributes uint32
	// AttributeNames names the set bits (FOREST_TRANSITIVE, PIM_TRUST, ...).
	AttributeNames []string
	// SID is securityIdentifier: the other domain's SID.
	SID string
}

// DirectionName is Inbound, Outbound, Bidirectional or Disabled.
func (t Trust) DirectionName() string {
	return adnames.TrustDirectionName(t.Direction)
}

// Has reports whether an attribute bit is set.
func (t Trust) Has(bit uint32) bool { return t.Attributes&bit == bit }

// OptionalFeature is an msDS-OptionalFeature object and whether the forest
// enabled it (msDS-EnabledFeature on CN=Partitions).
type OptionalFeature struct {
	Name                string
	DN                  string
	GUID                string
	Enabled             bool
	RequiredForestLevel int
}

// OpStats counts the remote operations a Client made to one DC.
type OpStats struct {
	Dials    int
	Binds    int
	Searches int // one per request, so a paged search counts each page
	Modifies int
}

// Total is the number of LDAP operations (binds, searches, modifies).
func (s OpStats) Total() int { return s.Binds + s.Searches + s.Modifies }

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
