package topology

import (
	"fmt"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Example topologies for the deployment options of Microsoft's HA and disaster recovery considerations ("Minimal high
// availability topologies" and "Deployments supporting multiple sites"). Each
// evaluates without violations for the functions it marks for HA; docs and
// examples tests build on them. They are fixed in time (ExampleNow) so their
// backups stay fresh.

// ExampleNow is the Now of every example topology.
var ExampleNow = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

// bastionSpec parametrises one bastion site's servers.
type bastionSpec struct {
	domain string // priv.contoso.com
	site   string
	prefix string // host name prefix, e.g. "priv-" or "priv-a-"
	subnet string // "10.0.0." for the DC addresses
}

func (s bastionSpec) host(name string) string { return s.prefix + name + "." + s.domain }

// dc returns a DC of the spec with address subnet+octet.
func (s bastionSpec) dc(name string, octet int, roles ...string) DomainController {
	return DomainController{Host: s.host(name), Site: s.site, GlobalCatalog: true, FSMORoles: roles,
		Addresses: []string{fmt.Sprintf("%s%d", s.subnet, octet)}}
}

func (s bastionSpec) mim(name, partition string) MIMNode {
	return MIMNode{Host: s.host(name), ServiceName: s.prefix + name, ServicePartitionName: partition,
		ExternalHostName: partition, PAMComponents: true, Site: s.site}
}

func freshBackups(domain string, dcs ...DomainController) []Backup {
	var out []Backup
	for _, d := range dcs {
		out = append(out, Backup{DC: d.Host, NamingContext: domainNC(domain), LastBackup: ExampleNow.Add(-26 * time.Hour)})
	}
	return out
}

// domainNC turns priv.contoso.com into DC=priv,DC=contoso,DC=com.
func domainNC(dns string) string {
	out := ""
	start := 0
	for i := 0; i <= len(dns); i++ {
		if i == len(dns) || dns[i] == '.' {
			if out != "" {
				out += ","
			}
			out += "DC=" + dns[start:i]
			start = i + 1
		}
	}
	return out
}

// minimalBastion is Microsoft's smallest HA topology for all functions: two
// DCs, and two member servers that are both SQL Server FCI nodes and MIM
// Service hosts, plus shared storage.
func minimalBastion(s bastionSpec) Topology {
	dc1 := s.dc("dc1", 11, adnames.SchemaMaster, adnames.DomainNamingMaster, adnames.PDCEmulator)
	dc2 := s.dc("dc2", 12, adnames.RIDMaster, adnames.InfrastructureMaster)
	partition := "pam." + s.domain
	app1, app2 := s.mim("app1", partition), s.mim("app2", partition)
	a1, a2 := dc1.Addresses[0], dc2.Addresses[0]
	return Topology{
		Domain:            Domain{DNSName: s.domain, ForestFunctionalLevel: 7},
		DomainControllers: []DomainController{dc1, dc2},
		SQL: &SQLInstance{
			NetworkName:     s.host("sql"),
			Clustered:       true,
			Nodes:           []string{app1.Host, app2.Host},
			DataDirectories: []string{`C:\ClusterStorage\Volume1\MSSQL\Data`},
			LogDirectories:  []string{`L:\MSSQL\Log`},
		},
		MIMNodes: []MIMNode{app1, app2},
		DNSServers: map[string][]string{
			dc1.Host:  {a2, "127.0.0.1"},
			dc2.Host:  {a1, "127.0.0.1"},
			app1.Host: {a1, a2},
			app2.Host: {a2, a1},
		},
		Backups:           freshBackups(s.domain, dc1, dc2),
		Now:               ExampleNow,
		LongLivedRequests: true,
		HAFunctions:       AllFunctions(),
	}
}

// MinimalHATopology is Microsoft's minimal HA topology in one site: "at least
// four servers, and shared storage. Two of the servers must be configured as
// domain controllers ... The other two servers can be configured as a
// failover cluster providing SQL Server, and provide the MIM Service." Every
// function is marked for HA.
func MinimalHATopology() Topology {
	return minimalBastion(bastionSpec{domain: "priv.contoso.com", site: "Default-First-Site-Name", prefix: "priv-", subnet: "10.0.0."})
}

// SingleBastionMultiSiteTopology hosts the bastion at one site (HQ) and
// serves every site from there: "users would connect to the MIM deployment
// in that site's bastion environment and request activation, and the
// activations would have effect across resources at each site." Branch
// sites hold no bastion server; if they lose the link they fall back to
// offline credentials. Every function is marked for HA, within HQ.
func SingleBastionMultiSiteTopology() Topology {
	return minimalBastion(bastionSpec{domain: "priv.contoso.com", site: "HQ", prefix: "priv-", subnet: "10.0.0."})
}

// BastionPerSiteTopology deploys "the components of the bastion environment
// in each site, sharing a common PRIV directory and common SQL database": a
// DC and a server that is both FCI node and MIM Service host in each of two
// sites, the FCI stretched across both sites on an SMB share dedicated to
// the bastion, one servicePartitionName for every MIM Service. Every
// function is marked for HA.
func BastionPerSiteTopology() Topology {
	a := bastionSpec{domain: "priv.contoso.com", site: "SiteA", prefix: "priv-a-", subnet: "10.1.0."}
	b := bastionSpec{domain: "priv.contoso.com", site: "SiteB", prefix: "priv-b-", subnet: "10.2.0."}
	dcA := a.dc("dc1", 11, adnames.SchemaMaster, adnames.DomainNamingMaster, adnames.PDCEmulator)
	dcB := b.dc("dc1", 11, adnames.RIDMaster, adnames.InfrastructureMaster)
	partition := "pam.priv.contoso.com"
	appA, appB := a.mim("app1", partition), b.mim("app1", partition)
	return Topology{
		Domain:            Domain{DNSName: "priv.contoso.com", ForestFunctionalLevel: 7},
		DomainControllers: []DomainController{dcA, dcB},
		SQL: &SQLInstance{
			NetworkName:     "priv-sql.priv.contoso.com",
			Clustered:       true,
			Nodes:           []string{appA.Host, appB.Host},
			DataDirectories: []string{`\\priv-store.priv.contoso.com\pamsql\Data`},
			LogDirectories:  []string{`\\priv-store.priv.contoso.com\pamsql\Log`},
		},
		MIMNodes: []MIMNode{appA, appB},
		DNSServers: map[string][]string{
			dcA.Host:  {dcB.Addresses[0], "127.0.0.1"},
			dcB.Host:  {dcA.Addresses[0], "127.0.0.1"},
			appA.Host: {dcA.Addresses[0], dcB.Addresses[0]},
			appB.Host: {dcB.Addresses[0], dcA.Addresses[0]},
		},
		Backups:           freshBackups("priv.contoso.com", dcA, dcB),
		Now:               ExampleNow,
		LongLivedRequests: true,
		HAFunctions:       AllFunctions(),
	}
}

// ReplicatedDirectoryTopology replicates only the PRIV directory to the
// second site, Microsoft's alternative when a SQL cluster spanning sites is
// too complex: site A holds a DC and one server with a standalone SQL Server
// and the MIM Service; site B holds a second DC. "Users in site B who have
// previously already activated their privileged roles would be able to
// continue to operate for administering resources in site B": only resource
// management is marked for HA, which needs forest level 7 (2016) so that
// AD, not MIM, expires the memberships.
func ReplicatedDirectoryTopology() Topology {
	a := bastionSpec{domain: "priv.contoso.com", site: "SiteA", prefix: "priv-a-", subnet: "10.1.0."}
	b := bastionSpec{domain: "priv.contoso.com", site: "SiteB", prefix: "priv-b-", subnet: "10.2.0."}
	dcA := a.dc("dc1", 11, adnames.SchemaMaster, adnames.DomainNamingMaster, adnames.PDCEmulator, adnames.RIDMaster, adnames.InfrastructureMaster)
	dcB := b.dc("dc1", 11)
	app := a.mim("app1", "pam.priv.contoso.com")
	return Topology{
		Domain:            Domain{DNSName: "priv.contoso.com", ForestFunctionalLevel: 7},
		DomainControllers: []DomainController{dcA, dcB},
		SQL: &SQLInstance{
			NetworkName:     app.Host,
			Nodes:           []string{app.Host},
			DataDirectories: []string{`D:\MSSQL\Data`},
			LogDirectories:  []string{`L:\MSSQL\Log`},
		},
		MIMNodes: []MIMNode{app},
		DNSServers: map[string][]string{
			dcA.Host: {dcB.Addresses[0], "127.0.0.1"},
			dcB.Host: {dcA.Addresses[0], "127.0.0.1"},
			app.Host: {dcA.Addresses[0], dcB.Addresses[0]},
		},
		Backups:           freshBackups("priv.contoso.com", dcA, dcB),
		Now:               ExampleNow,
		LongLivedRequests: true,
		HAFunctions:       []Function{ResourceManagement},
	}
}

// IndependentBastionTopologies are "multiple independent bastion
// environments", one per administrative boundary: same software, different
// domain names, "no commonality between the directories and databases".
// Each is Microsoft's minimal HA topology with every function marked.
func IndependentBastionTopologies() []Topology {
	return []Topology{
		minimalBastion(bastionSpec{domain: "priv-a.contoso.com", site: "SiteA", prefix: "priv-a-", subnet: "10.1.0."}),
		minimalBastion(bastionSpec{domain: "priv-b.contoso.com", site: "SiteB", prefix: "priv-b-", subnet: "10.2.0."}),
	}
}
