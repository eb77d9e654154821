package model

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"
)

// Names of the default lab bastion: the seed's minimal HA topology (two DCs,
// two servers that are SQL FCI nodes and MIM Service hosts) plus spare servers
// for recovery, promotion and a third SQL node.
const (
	DomainDNS  = "priv.contoso.test"
	DomainNB   = "PRIV"
	DomainSID  = "S-1-5-21-3623811015-3361044348-30300820"
	DC1        = "priv-dc1.priv.contoso.test"
	DC2        = "priv-dc2.priv.contoso.test"
	App1       = "priv-app1.priv.contoso.test"
	App2       = "priv-app2.priv.contoso.test"
	App3       = "priv-app3.priv.contoso.test"
	Spare1     = "priv-spare1.priv.contoso.test"
	SQLNetwork = "priv-sql.priv.contoso.test"
	// DC1Address and DC2Address are the seeded PRIV DCs' addresses,
	// CorpDC1Address the CORP DC's.
	DC1Address     = "10.0.0.11"
	DC2Address     = "10.0.0.12"
	CorpDC1Address = "10.1.0.11"
	// DC3 is a member server ready to become the domain's third DC (the
	// domain controller example promotes it); in TopologyBastionMultiSite it
	// and App4 are the second site's servers.
	DC3  = "priv-dc3.priv.contoso.test"
	App4 = "priv-app4.priv.contoso.test"
	// FileServer is the bastion's file server: the installation media on
	// InstallShare, read over SMB, so a step that reaches it from a WinRM
	// session makes the second hop (hop.go).
	FileServer = "priv-fs.priv.contoso.test"
	// ClusterName is the Windows failover cluster of the bastion topologies.
	ClusterName = "priv-clu.priv.contoso.test"
	// BranchSite is the second site of TopologyBastionMultiSite.
	BranchSite   = "Branch"
	MIMAlias     = "pam.priv.contoso.test"
	AdminUser    = `PRIV\Administrator`
	MIMSvcUser   = `PRIV\svc-mim`
	SQLLoginUser = "bastion_reader"
	// SQLServiceGMSA and SQLAgentGMSA are the group managed service accounts
	// the SQL Server FCI examples run the services as, and SQLAdminsGroup the
	// group they make sysadmin: setup refuses an account AD does not have.
	SQLServiceGMSA = `PRIV\gmsa-sql$`
	SQLAgentGMSA   = `PRIV\gmsa-sqlagent$`
	SQLAdminsGroup = `PRIV\SQL Admins`
	DefaultSite    = "Default-First-Site-Name"
)

// Seed describes the secrets a seeded lab uses; empty fields get random values.
type Seed struct {
	AdminPassword  string
	MIMSvcPassword string
	SQLPassword    string
	// SQLVersion is the ProductVersion of the setup media and of the
	// pre-created instance (default DefaultSQLVersion, SQL Server 2019).
	SQLVersion string
	// LocalAdminPassword is every member server's local Administrator
	// password (a DC has no local accounts).
	LocalAdminPassword string
	// WithSQL pre-creates the SQL FCI on App1 and App2 (the baseline the MIM
	// Service installs against). Tests of the FCI resource start without it.
	WithSQL bool
	// Topology chooses what exists before Terraform runs: "" is the default
	// bastion above; TopologyBastion and TopologyBastionMultiSite are the
	// servers examples/bastion and examples/bastion-multi-site build on.
	Topology string
}

// Topologies of the seed (Seed.Topology, bastion-lab serve -topology).
const (
	// TopologyBastion: the forest's first DC (priv-dc1, every FSMO role)
	// and domain-joined member servers: priv-dc2 (to be promoted),
	// priv-app1 and priv-app2 (nodes of the Windows failover cluster
	// priv-clu, with the SQL Server and MIM media),
	// priv-app3 (a third cluster node, the spare for a lost application
	// server) and priv-spare1 (a spare member server). No SQL instance, no
	// MIM Service, no trust.
	TopologyBastion = "bastion"
	// TopologyBastionMultiSite: TopologyBastion plus the site Branch with
	// two member servers, priv-dc3 (to be promoted there) and priv-app4 (its
	// MIM Service node).
	TopologyBastionMultiSite = "bastion-multi-site"
)

// NewDefault builds the default lab bastion.
func NewDefault(s Seed) (*Env, Seed) {
	if s.AdminPassword == "" {
		s.AdminPassword = RandomPassword()
	}
	if s.MIMSvcPassword == "" {
		s.MIMSvcPassword = RandomPassword()
	}
	if s.SQLPassword == "" {
		s.SQLPassword = RandomPassword()
	}
	if s.SQLVersion == "" {
		s.SQLVersion = DefaultSQLVersion
	}
	if s.LocalAdminPassword == "" {
		s.LocalAdminPassword = RandomPassword()
	}
	e := New()
	e.Credentials[strings.ToLower(AdminUser)] = s.AdminPassword
	e.Credentials[strings.ToLower(MIMSvcUser)] = s.MIMSvcPassword
	e.Credentials[strings.ToLower(SQLLoginUser)] = s.SQLPassword
	e.Domain = &Domain{DNSName: DomainDNS, NetBIOSName: DomainNB, SID: DomainSID, DCs: map[string]*DomainController{}}
	seedSQLAccounts(e.Domain)
	hosts, dcs := []string{DC1, DC2, App1, App2, App3, Spare1, FileServer}, []string{DC1, DC2}
	switch s.Topology {
	case "":
		hosts = append(hosts, DC3)
	case TopologyBastion, TopologyBastionMultiSite:
		dcs = []string{DC1}
		if s.Topology == TopologyBastionMultiSite {
			hosts = append(hosts, DC3, App4)
			e.Domain.Sites = []string{BranchSite}
		}
		s.WithSQL = false
		e.Cluster = &WindowsCluster{Name: ClusterName, Nodes: []string{App1, App2, App3}}
	default:
		panic("model: unknown seed topology " + s.Topology)
	}
	isDC := func(name string) bool { return name == DC1 || (name == DC2 && len(dcs) == 2) }
	for _, name := range hosts {
		h := e.addHost(name)
		if name == FileServer {
			seedInstallShare(h)
		} else {
			h.WriteFile(DefaultMIMMSIPath, []byte("simulated MSI"))
			h.WriteFile(DefaultSQLSetupPath, SQLMedia(s.SQLVersion))
		}
		if !isDC(name) {
			e.Credentials[LocalAccountKey(name, "Administrator")] = s.LocalAdminPassword
		}
	}
	for _, dc := range dcs {
		e.Domain.DCs[Key(dc)] = &DomainController{Host: Key(dc), Site: DefaultSite, GlobalCatalog: true, Addresses: SeedAddresses(dc)}
	}
	if s.WithSQL {
		e.SQL[Key(SQLNetwork)] = &SQLInstance{
			NetworkName:  Key(SQLNetwork),
			InstanceName: "MSSQLSERVER",
			Clustered:    true,
			Nodes:        []*SQLNode{{Host: Key(App1), Owner: true}, {Host: Key(App2)}},
			Databases:    map[string]bool{"master": true},
			Version:      s.SQLVersion,
			// Online for an hour before anything the tests build.
			StartedAt: e.Now().Add(-time.Hour),
		}
	}
	e.SeedDirectory()
	return e, s
}

// seedSQLAccounts creates the accounts SQL Server setup is given for the
// FCI (SQLServiceGMSA, SQLAgentGMSA, SQLAdminsGroup), as an administrator
// does in AD before running setup.
func seedSQLAccounts(d *Domain) {
	d.ManagedServiceAccounts = map[string]string{}
	for _, account := range []string{SQLServiceGMSA, SQLAgentGMSA} {
		_, sam, _ := strings.Cut(account, `\`)
		d.ManagedServiceAccounts[strings.ToLower(sam)] = sam
	}
	_, group, _ := strings.Cut(SQLAdminsGroup, `\`)
	d.Groups = map[string][]string{group: nil}
}

// InstallShare is the file server's share of installation media; every
// domain computer may read it, as Microsoft's deployment guides stage media.
const InstallShare = `\\` + FileServer + `\install`

// Media on InstallShare.
const (
	ShareMIMMSIPath = InstallShare + `\MIM\Service and Portal\Service and Portal.msi`
	ShareSQL2019    = InstallShare + `\SQL2019`
	ShareSQL2022    = InstallShare + `\SQL2022`
)

// seedInstallShare puts the MIM Service and Portal MSI and each SQL Server
// release's setup media on the file server's share (kept in its Files under
// the UNC path, as ReadPath finds them).
func seedInstallShare(h *Host) {
	h.WriteFile(ShareMIMMSIPath, []byte("simulated MSI"))
	h.WriteFile(ShareSQL2019+`\setup.exe`, SQLMedia(SQL2019Version))
	h.WriteFile(ShareSQL2022+`\setup.exe`, SQLMedia(SQL2022Version))
}

// RandomPassword returns a strong random password that meets AD complexity.
func RandomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "Lab!" + base64.RawURLEncoding.EncodeToString(b) + "9a"
}

// SeedAddresses returns the address the seed gives a DC, if any.
func SeedAddresses(host string) []string {
	switch Key(host) {
	case DC1:
		return []string{DC1Address}
	case DC2:
		return []string{DC2Address}
	case CorpDC1:
		return []string{CorpDC1Address}
	}
	return nil
}
