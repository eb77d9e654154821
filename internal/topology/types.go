package topology

import (
	"time"
)

// Topology is the bastion as the operator describes it: the PRIV domain and
// its DCs, the SQL Server holding the FIMService database, the MIM Service
// nodes, and what Evaluate needs to judge backups and DNS.
type Topology struct {
	Domain            Domain
	DomainControllers []DomainController
	// SQL is the SQL Server instance holding the FIMService database; nil
	// when there is none.
	SQL      *SQLInstance
	MIMNodes []MIMNode
	// DNSServers maps a computer (FQDN or short name) to its DNS server list,
	// as IP addresses or host names, in order. Used by HA-7 and the
	// readiness simulation. Computers outside the bastion (CORP DCs with a
	// trust to it) may be listed too.
	DNSServers map[string][]string
	// Backups holds the last backup of each naming context of each DC
	// (repadmin /showbackup). Empty means unknown: HA-9 is skipped.
	Backups []Backup
	// TombstoneLifetimeDays is tombstoneLifetime on CN=Directory Service;
	// nil means the attribute is unset, which means 60 days.
	TombstoneLifetimeDays *int
	// Now is the time backups are aged against; zero means time.Now().
	Now time.Time
	// LongLivedRequests is true when the PAM scenario includes manual
	// approvals or other long-lived request processing (HA-5).
	LongLivedRequests bool
	// HAFunctions are the functions that must survive the loss of any one
	// server (rule 10). The other rules apply only for these.
	HAFunctions []Function
}

// Domain is the PRIV (bastion) domain.
type Domain struct {
	DNSName string
	// ForestFunctionalLevel is msDS-Behavior-Version on
	// CN=Partitions,CN=Configuration: 0 W2000, 2 W2003, 3 W2008, 4 W2008R2,
	// 5 W2012, 6 W2012R2, 7 W2016 and later. Values above 7 mean "newer".
	ForestFunctionalLevel int
}

// DomainController is one DC of the PRIV domain.
type DomainController struct {
	Host          string // FQDN
	Site          string
	GlobalCatalog bool
	ReadOnly      bool
	// FSMORoles held by this DC, by Microsoft's names (SchemaMaster, ...).
	FSMORoles []string
	// Addresses are the DC's IP addresses, optional; they let HA-7 and the
	// readiness simulation recognise a DNS server entry given as an address.
	Addresses []string
}

// SQLInstance is the SQL Server holding the FIMService database.
type SQLInstance struct {
	// NetworkName is the FCI's network name (FAILOVERCLUSTERNETWORKNAME), or
	// the server's name for a standalone instance.
	NetworkName string
	Clustered   bool
	// Nodes are the servers that can own the instance: the FCI nodes, or the
	// one server of a standalone instance (empty: NetworkName is that server).
	Nodes           []string
	DataDirectories []string
	LogDirectories  []string
	// StartedAt is when the instance last came online (sys.dm_os_sys_info
	// sqlserver_start_time); zero when unknown.
	StartedAt time.Time
}

// MIMNode is one computer running the MIM Service (FIMService).
type MIMNode struct {
	Host string // FQDN of the computer, never the load-balancer alias
	// ServiceName, ServicePartitionName and ExternalHostName are the
	// resourceManagementService attributes of the service's config file.
	ServiceName          string
	ServicePartitionName string
	ExternalHostName     string
	// PAMComponents is true when the PAM components (MIMPAM module, PAM
	// Monitoring and PAM Component services) were installed with the MIM
	// Service; they "cannot be added subsequently" (HA and disaster recovery considerations).
	PAMComponents bool
	Site          string
	// ServiceStartedAt is when FIMService last started; zero when unknown.
	// A service started before SQL.StartedAt needs a restart (HA-8).
	ServiceStartedAt time.Time
}

// Backup is the last backup of one naming context on one DC: the
// originating time of dSASignature on the NC head.
type Backup struct {
	DC            string
	NamingContext string // e.g. DC=priv,DC=contoso,DC=com
	// LastBackup is zero when the NC was never backed up on that DC.
	LastBackup time.Time
}

// Severity of a violation.
type Severity int

const (
	// Warning: wrong or risky, but no function marked for HA depends on it.
	Warning Severity = iota
	// Error: a function marked for HA would not survive, or the
	// configuration is not supported.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Violation is one broken rule.
type Violation struct {
	RuleID   string // "HA-1" .. "HA-10", see Rules
	Severity Severity
	// Functions whose availability the violation affects.
	Functions []Function
	// Hosts involved, as the caller spelled them.
	Hosts []string
	// Path points at the offending input (empty when none fits); the
	// provider maps it step by step to its own attribute path.
	Path Path
	// Attribute is Path for people ("sql.nodes", "mim_nodes[1].host").
	Attribute string
	// Message says what is wrong, with which hosts, and what to do.
	Message string
}

// FunctionReadiness says whether a function survives the loss of any one
// server, found by taking each server offline in turn.
type FunctionReadiness struct {
	Function    Function
	DisplayName string
	Priority    Priority
	// NeedsHA is true when the function is in Topology.HAFunctions.
	NeedsHA bool
	// Available is false when the function cannot work even with every
	// server online (no DC, no SQL Server, no MIM Service host).
	Available bool
	// SurvivesSingleLoss is true when the function keeps working whichever
	// one server is lost.
	SurvivesSingleLoss bool
	// Losses lists each server whose loss alone stops the function.
	Losses []Loss
	// Summary is one sentence, e.g. "privileged role activation: survives
	// the loss of any one server".
	Summary string
}

// Loss is one server whose loss stops a function, and why.
type Loss struct {
	Host   string
	Reason string // "it is the only MIM Service host"
}

// RecoveryStep is one step of the recovery runbook (rule 8).
type RecoveryStep struct {
	Order  int // 1-based
	Action string
	// Hosts the step acts on. For "at least one of" steps, any of them.
	Hosts []string
	// Command is what to run, when Microsoft's document names one.
	Command string
	// Reason quotes Microsoft's document.
	Reason string
}

// Result is what Evaluate finds.
type Result struct {
	Violations    []Violation
	Readiness     []FunctionReadiness
	RecoveryOrder []RecoveryStep
}

// HasErrors reports whether any violation is an Error.
func (r Result) HasErrors() bool {
	for _, v := range r.Violations {
		if v.Severity == Error {
			return true
		}
	}
	return false
}

// ByRule returns the violations of one rule.
func (r Result) ByRule(id string) []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.RuleID == id {
			out = append(out, v)
		}
	}
	return out
}

// ReadinessOf returns the readiness of one function.
func (r Result) ReadinessOf(f Function) (FunctionReadiness, bool) {
	for _, fr := range r.Readiness {
		if fr.Function == f {
			return fr, true
		}
	}
	return FunctionReadiness{}, false
}
