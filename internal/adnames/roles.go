package adnames

import "strings"

// FSMO role names, as Microsoft spells them
// (Move-ADDirectoryServerOperationMasterRole -OperationMasterRole).
const (
	SchemaMaster         = "SchemaMaster"
	DomainNamingMaster   = "DomainNamingMaster"
	PDCEmulator          = "PDCEmulator"
	RIDMaster            = "RIDMaster"
	InfrastructureMaster = "InfrastructureMaster"
)

// FSMORoles lists the five roles in the order Microsoft documents them.
func FSMORoles() []string {
	return []string{SchemaMaster, DomainNamingMaster, PDCEmulator, RIDMaster, InfrastructureMaster}
}

// CanonicalRole returns Microsoft's spelling of a role name given in any
// case, and false when name is not one of the five roles.
func CanonicalRole(name string) (string, bool) {
	for _, r := range FSMORoles() {
		if strings.EqualFold(r, strings.TrimSpace(name)) {
			return r, true
		}
	}
	return "", false
}

// ForestWideRole reports whether a role is held once per forest (schema and
// domain naming master) rather than once per domain.
func ForestWideRole(role string) bool { return role == SchemaMaster || role == DomainNamingMaster }

// RoleObjectDN is the DN of the object whose fSMORoleOwner names a role's
// holder (MS-ADTS 3.1.1.1.11): the schema NC head, CN=Partitions in the
// configuration NC, the domain NC head, CN=RID Manager$ and CN=Infrastructure.
// It returns "" for an unknown role.
func RoleObjectDN(role string, nc NamingContexts) string {
	switch role {
	case SchemaMaster:
		return nc.Schema
	case DomainNamingMaster:
		return "CN=Partitions," + nc.Configuration
	case PDCEmulator:
		return nc.Domain
	case RIDMaster:
		return "CN=RID Manager$,CN=System," + nc.Domain
	case InfrastructureMaster:
		return "CN=Infrastructure," + nc.Domain
	}
	return ""
}
