package ldapsim

import (
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// LDAP policies of the Default Query Policy ([MS-ADTS] 3.1.1.3.4.6, the
// defaults of Windows Server 2008 and later), enforced by the lab.
const (
	// MaxPageSize is the most entries one search response page holds; a
	// search without the paged results control that matches more stops
	// there with sizeLimitExceeded.
	MaxPageSize = 1000
	// MaxValRange is the most values of one attribute returned at once;
	// more are returned with range retrieval ([MS-ADTS] 3.1.1.3.1.3.3).
	MaxValRange = 1500
)

// ldapAdminLimits is lDAPAdminLimits of CN=Default Query Policy: the
// defaults [MS-ADTS] 3.1.1.3.4.6 lists for Windows Server 2008 and later.
var ldapAdminLimits = []string{
	"MaxValRange=" + strconv.Itoa(MaxValRange),
	"MaxReceiveBuffer=10485760",
	"MaxDatagramRecv=4096",
	"MaxPoolThreads=4",
	"MaxResultSetSize=262144",
	"MaxTempTableSize=10000",
	"MaxQueryDuration=120",
	"MaxPageSize=" + strconv.Itoa(MaxPageSize),
	"MaxNotificationPerConn=5",
	"MaxActiveQueries=20",
	"MaxConnIdleTime=900",
	"InitRecvTimeout=120",
	"MaxConnections=5000",
}

// supportedLDAPPolicies is the rootDSE's list of policy names (Windows
// Server 2016 and later; [MS-ADTS] 3.1.1.3.4.6).
var supportedLDAPPolicies = []string{
	"MaxPoolThreads", "MaxPercentDirSyncRequests", "MaxDatagramRecv", "MaxReceiveBuffer",
	"InitRecvTimeout", "MaxConnections", "MaxConnIdleTime", "MaxPageSize",
	"MaxBatchReturnMessages", "MaxQueryDuration", "MaxDirSyncDuration", "MaxTempTableSize",
	"MaxResultSetSize", "MinResultSets", "MaxResultSetsPerConn", "MaxNotificationPerConn",
	"MaxValRange", "MaxValRangeTransitive", "ThreadMemoryLimit", "SystemMemoryLimitPercent",
}

// supportedControls are the LDAP controls a Windows Server 2016+ DC lists
// ([MS-ADTS] 3.1.1.3.4.1, "LDAP Extended Controls").
var supportedControls = []string{
	"1.2.840.113556.1.4.319",   // LDAP_PAGED_RESULT_OID_STRING
	"1.2.840.113556.1.4.801",   // LDAP_SERVER_SD_FLAGS_OID
	"1.2.840.113556.1.4.473",   // LDAP_SERVER_SORT_OID
	"1.2.840.113556.1.4.528",   // LDAP_SERVER_NOTIFICATION_OID
	"1.2.840.113556.1.4.417",   // LDAP_SERVER_SHOW_DELETED_OID
	"1.2.840.113556.1.4.619",   // LDAP_SERVER_LAZY_COMMIT_OID
	"1.2.840.113556.1.4.841",   // LDAP_SERVER_DIRSYNC_OID
	"1.2.840.113556.1.4.529",   // LDAP_SERVER_EXTENDED_DN_OID
	"1.2.840.113556.1.4.805",   // LDAP_SERVER_TREE_DELETE_OID
	"1.2.840.113556.1.4.521",   // LDAP_SERVER_CROSSDOM_MOVE_TARGET_OID
	"1.2.840.113556.1.4.970",   // LDAP_SERVER_GET_STATS_OID
	"1.2.840.113556.1.4.1338",  // LDAP_SERVER_VERIFY_NAME_OID
	"1.2.840.113556.1.4.474",   // LDAP_SERVER_RESP_SORT_OID
	"1.2.840.113556.1.4.1339",  // LDAP_SERVER_DOMAIN_SCOPE_OID
	"1.2.840.113556.1.4.1340",  // LDAP_SERVER_SEARCH_OPTIONS_OID
	"1.2.840.113556.1.4.1413",  // LDAP_SERVER_PERMISSIVE_MODIFY_OID
	"2.16.840.1.113730.3.4.9",  // LDAP_CONTROL_VLVREQUEST
	"2.16.840.1.113730.3.4.10", // LDAP_CONTROL_VLVRESPONSE
	"1.2.840.113556.1.4.1504",  // LDAP_SERVER_ASQ_OID
	"1.2.840.113556.1.4.1852",  // LDAP_SERVER_QUOTA_CONTROL_OID
	"1.2.840.113556.1.4.802",   // LDAP_SERVER_RANGE_OPTION_OID
	"1.2.840.113556.1.4.1907",  // LDAP_SERVER_SHUTDOWN_NOTIFY_OID
	"1.2.840.113556.1.4.1948",  // LDAP_SERVER_RANGE_RETRIEVAL_NOERR_OID
	"1.2.840.113556.1.4.1974",  // LDAP_SERVER_FORCE_UPDATE_OID
	"1.2.840.113556.1.4.1341",  // LDAP_SERVER_RODC_DCPROMO_OID
	"1.2.840.113556.1.4.2026",  // LDAP_SERVER_INPUT_DN_OID
	"1.2.840.113556.1.4.2064",  // LDAP_SERVER_SHOW_RECYCLED_OID
	"1.2.840.113556.1.4.2065",  // LDAP_SERVER_SHOW_DEACTIVATED_LINK_OID
	"1.2.840.113556.1.4.2066",  // LDAP_SERVER_POLICY_HINTS_DEPRECATED_OID
	"1.2.840.113556.1.4.2090",  // LDAP_SERVER_DIRSYNC_EX_OID
	"1.2.840.113556.1.4.2205",  // LDAP_SERVER_UPDATE_STATS_OID
	"1.2.840.113556.1.4.2204",  // LDAP_SERVER_TREE_DELETE_EX_OID
	"1.2.840.113556.1.4.2206",  // LDAP_SERVER_SEARCH_HINTS_OID
	"1.2.840.113556.1.4.2211",  // LDAP_SERVER_EXPECTED_ENTRY_COUNT_OID
	"1.2.840.113556.1.4.2239",  // LDAP_SERVER_POLICY_HINTS_OID
	"1.2.840.113556.1.4.2255",  // LDAP_SERVER_SET_OWNER_OID
	"1.2.840.113556.1.4.2256",  // LDAP_SERVER_BYPASS_QUOTA_OID
	"1.2.840.113556.1.4.2309",  // LDAP_SERVER_LINK_TTL_OID
	"1.2.840.113556.1.4.2330",  // LDAP_SERVER_SET_CORRELATION_ID_OID
	"1.2.840.113556.1.4.2354",  // LDAP_SERVER_THREAD_TRACE_OVERRIDE_OID
}

// supportedExtensions are the LDAP extended operations ([MS-ADTS]
// 3.1.1.3.4.2).
var supportedExtensions = []string{
	"1.3.6.1.4.1.1466.20037",     // LDAP_SERVER_START_TLS_OID
	"1.3.6.1.4.1.1466.101.119.1", // LDAP_TTL_EXTENDED_OP_OID
	"1.2.840.113556.1.4.1781",    // LDAP_SERVER_FAST_BIND_OID
	"1.3.6.1.4.1.4203.1.11.3",    // LDAP_SERVER_WHO_AM_I_OID
	"1.2.840.113556.1.4.2212",    // LDAP_SERVER_BATCH_REQUEST_OID
}

// supportedCapabilities ([MS-ADTS] 3.1.1.3.4.3): AD DS, Windows Server
// 2003 (V51), LDAP integration, 2008 (V60), 2008 R2 (V61R2), 2012 (W8).
// An RODC adds LDAP_CAP_ACTIVE_DIRECTORY_PARTIAL_SECRETS_OID.
var supportedCapabilities = []string{
	"1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670", "1.2.840.113556.1.4.1791",
	"1.2.840.113556.1.4.1935", "1.2.840.113556.1.4.2080", "1.2.840.113556.1.4.2237",
}

const capPartialSecrets = "1.2.840.113556.1.4.1920"

// Instance type bits (Instance-Type attribute, learn.microsoft.com/windows/win32/adschema/a-instancetype):
// the head of a naming context, writable on this DC, and a head whose parent NC this DC holds.
const (
	itNCHead  = 0x1
	itWrite   = 0x4
	itNCAbove = 0x8
)

// firstUSN is where a DC's update sequence numbers start for the objects it
// was promoted with (AD's first USNs are in the low thousands).
const firstUSN = 4100

// stamps keeps what AD records of each object's history, which the lab's
// model does not: whenCreated (replicated, one per forest), and per DC the
// local uSNCreated, uSNChanged and whenChanged (not replicated), and each
// DC's highestCommittedUSN. A change is what makes an object render
// differently from the last time that DC rendered it: every write the lab
// accepts, whatever its path (LDAP, a promotion over WinRM, a trust), gets
// the next USN of each DC that shows it.
type stamps struct {
	mu      sync.Mutex
	created map[string]map[string]time.Time // domain -> object key -> whenCreated
	dcs     map[string]*dcStamps            // DC host -> its local stamps
	// writes counts the LDAP writes to each object (key): a write that
	// leaves the object as it was (or that a later write undoes before
	// anyone reads) is still an originating write that takes a USN.
	writes map[string]int64
}

type dcStamps struct {
	usn  int64
	objs map[string]*objStamp
}

type objStamp struct {
	hash                   uint64
	writes                 int64
	usnCreated, usnChanged int64
	changed                time.Time
}

func newStamps() *stamps {
	return &stamps{created: map[string]map[string]time.Time{}, dcs: map[string]*dcStamps{}, writes: map[string]int64{}}
}

// wrote records an accepted LDAP write to the object dn.
func (s *stamps) wrote(dn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes[adnames.NormDN(dn)]++
}

// stamp completes v with what every AD object carries ([MS-ADTS] 3.1.1.1.3
// and 3.1.1.1.9): objectGUID, instanceType, whenCreated, whenChanged,
// uSNCreated and uSNChanged, and the rootDSE's highestCommittedUSN.
func (s *stamps) stamp(v *view, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dom := strings.ToLower(v.dom.DNSName)
	created := s.created[dom]
	initial := created == nil
	if initial {
		created = map[string]time.Time{}
		s.created[dom] = created
	}
	ds := s.dcs[v.self.Host]
	if ds == nil {
		ds = &dcStamps{usn: firstUSN - 1, objs: map[string]*objStamp{}}
		s.dcs[v.self.Host] = ds
	}
	firstSight := len(ds.objs) == 0
	seen := make(map[string]bool, len(v.order))
	for _, en := range v.order {
		if en.fixed {
			continue
		}
		seen[en.key] = true
		if en.get("objectGUID") == nil {
			en.set("objectGUID", guid(model.LabGUID("object", en.key)))
		}
		en.set("instanceType", itoa(v.instanceType(en)))
		when, ok := created[en.key]
		if !ok {
			when = now
			if initial {
				when = labEpoch
			}
			created[en.key] = when
		}
		h := contentHash(en)
		st := ds.objs[en.key]
		switch {
		case st == nil:
			ds.usn++
			changed := now
			if firstSight {
				changed = when // arrived with the DC's promotion
			}
			st = &objStamp{hash: h, writes: s.writes[en.key], usnCreated: ds.usn, usnChanged: ds.usn, changed: changed}
			ds.objs[en.key] = st
		case st.hash != h || st.writes != s.writes[en.key]:
			ds.usn++
			st.hash, st.writes, st.usnChanged, st.changed = h, s.writes[en.key], ds.usn, now
		}
		en.set("whenCreated", generalizedTime(when))
		en.set("whenChanged", generalizedTime(st.changed))
		en.set("uSNCreated", strconv.FormatInt(st.usnCreated, 10))
		en.set("uSNChanged", strconv.FormatInt(st.usnChanged, 10))
	}
	for k := range ds.objs {
		if !seen[k] {
			delete(ds.objs, k) // deleted: a new object of that name is a new object
			delete(created, k)
		}
	}
	v.root.set("highestCommittedUSN", strconv.FormatInt(ds.usn, 10))
}

// instanceType of an object on this DC: a naming context head carries
// IT_NC_HEAD, and IT_NC_ABOVE when its parent is a naming context the DC
// holds (Configuration, Schema and the DNS partitions under the domain);
// everything on a writable DC carries IT_WRITE, nothing on an RODC does.
func (v *view) instanceType(en *entry) int {
	it := 0
	if !v.self.ReadOnly {
		it |= itWrite
	}
	if en.key == en.nc {
		it |= itNCHead
		if en.key != ownKey(v.base) {
			it |= itNCAbove
		}
	}
	return it
}

// contentHash identifies what an object holds, for change detection.
func contentHash(en *entry) uint64 {
	h := fnv.New64a()
	for _, a := range en.attrs {
		if a.constructed {
			continue
		}
		switch strings.ToLower(a.name) {
		case "whencreated", "whenchanged", "usncreated", "usnchanged":
			continue
		}
		_, _ = h.Write([]byte(a.name))
		for _, val := range a.vals {
			_, _ = h.Write([]byte{0})
			_, _ = h.Write([]byte(val))
		}
		_, _ = h.Write([]byte{1})
	}
	return h.Sum64()
}
