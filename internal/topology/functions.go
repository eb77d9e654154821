package topology

import (
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Function is one function of the bastion forest, by stable id. The six come
// from the priority table of Microsoft's HA and disaster recovery considerations ("Bastion forest function").
type Function string

const (
	TrustEstablishment       Function = "trust_establishment"
	UserGroupMigration       Function = "user_group_migration"
	MIMAdministration        Function = "mim_administration"
	PrivilegedRoleActivation Function = "privileged_role_activation"
	ResourceManagement       Function = "resource_management"
	Monitoring               Function = "monitoring"
)

// Priority is Microsoft's "relative priority during recovery".
type Priority int

const (
	Low Priority = iota + 1
	Medium
	High
)

func (p Priority) String() string {
	switch p {
	case Low:
		return "Low"
	case Medium:
		return "Medium"
	case High:
		return "High"
	}
	return fmt.Sprintf("Priority(%d)", int(p))
}

// FunctionInfo is one row of Microsoft's priority table plus what the
// function's own section says it needs online.
type FunctionInfo struct {
	ID          Function
	DisplayName string
	Priority    Priority
	// Mitigation is Microsoft's "mitigation if function unavailable".
	Mitigation string
	// Requires quotes Microsoft's sentence on what must be online.
	Requires string
}

const waitMitigation = "Wait until bastion environment is restored"
const smartcardMitigation = "Dedicated smartcard-backed accounts to manually add users to administrative groups"

// Microsoft's table calls the second row "User and group mitigation"; its
// section heading and text say "User and group migration", which is meant.
var functionTable = []FunctionInfo{
	{TrustEstablishment, "Trust establishment", Low, waitMitigation,
		"Trust establishment requires that the existing forest domain controllers be online, as well as the MIM and AD components of the bastion environment."},
	{UserGroupMigration, "User and group migration", Low, waitMitigation,
		"User and group migration requires that the existing forest domain controllers be online, as well as the MIM and AD components of the bastion environment."},
	{MIMAdministration, "MIM administration", Low, waitMitigation,
		"MIM administration requires that the MIM and AD components of the bastion environment be online."},
	{PrivilegedRoleActivation, "Privileged role activation", Medium, smartcardMitigation,
		"Privileged role activation requires that the MIM and AD components of the bastion environment be online."},
	{ResourceManagement, "Resource management", High, smartcardMitigation,
		"Resource management requires that a domain controller for the resource domain be online, as well as a domain controller in the bastion environment. Once a user is activated, issuing their Kerberos ticket does not require MIM or SQL to be online in the bastion environment. Note that this requires MIM PAM and Windows Server to be using Windows Server 2016 or later as the functional level for the bastion environment."},
	{Monitoring, "Monitoring of users and groups in existing forest", Low, waitMitigation,
		"Monitoring requires that the existing forest domain controllers be online, as well as the MIM and AD components of the bastion environment."},
}

// Functions returns Microsoft's six functions in the order of its table.
func Functions() []FunctionInfo {
	out := make([]FunctionInfo, len(functionTable))
	copy(out, functionTable)
	return out
}

// AllFunctions returns the six function ids, in the order of Microsoft's table.
func AllFunctions() []Function {
	out := make([]Function, len(functionTable))
	for i, f := range functionTable {
		out[i] = f.ID
	}
	return out
}

// Info returns the table row of f; ok is false for an unknown id.
func (f Function) Info() (FunctionInfo, bool) {
	for _, fi := range functionTable {
		if fi.ID == f {
			return fi, true
		}
	}
	return FunctionInfo{}, false
}

// DisplayName is Microsoft's name for f, or the id itself when unknown.
func (f Function) DisplayName() string {
	if fi, ok := f.Info(); ok {
		return fi.DisplayName
	}
	return string(f)
}

// Priority is Microsoft's recovery priority of f (0 when unknown).
func (f Function) Priority() Priority {
	fi, _ := f.Info()
	return fi.Priority
}

// ParseFunction accepts the stable id ("privileged_role_activation").
func ParseFunction(s string) (Function, error) {
	f := Function(strings.TrimSpace(s))
	if _, ok := f.Info(); ok {
		return f, nil
	}
	return "", fmt.Errorf("unknown bastion function %q: use one of %s", s, strings.Join(functionIDs(), ", "))
}

func functionIDs() []string {
	var ids []string
	for _, f := range functionTable {
		ids = append(ids, string(f.ID))
	}
	return ids
}

// lowerName is the display name for use inside a sentence.
func (f Function) lowerName() string {
	n := f.DisplayName()
	if n == "" {
		return n
	}
	// Keep "MIM administration" as is; lower only a leading capital word.
	if strings.HasPrefix(n, "MIM") {
		return n
	}
	return strings.ToLower(n[:1]) + n[1:]
}

// Components a function may need online in the bastion.
type component int

const (
	compDC component = iota
	compSQL
	compMIM
)

// requirements reads each function's section of Microsoft's HA and disaster recovery considerations. Every function but
// resource management needs "the MIM and AD components of the bastion
// environment", and the MIM Service needs its SQL Server. Resource
// management needs only a bastion DC, but only at forest level 2016 or later
// ("Note that this requires ... Windows Server 2016 or later as the
// functional level"); below that the PAM Component service on a MIM Service
// host expires the memberships, so MIM and SQL are needed too. PAM functions
// run through the PAM components (MIMPAM module, REST API, PAM services), so
// a MIM host counts only when it has them.
func requirements(f Function, forestLevel int) []component {
	if f == ResourceManagement && forestLevel >= adnames.ModernForestLevel {
		return []component{compDC}
	}
	return []component{compDC, compSQL, compMIM}
}

func needs(f Function, forestLevel int, c component) bool {
	for _, r := range requirements(f, forestLevel) {
		if r == c {
			return true
		}
	}
	return false
}
