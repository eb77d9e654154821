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
	DomainDNS    = "priv.contoso.test"
	DomainNB     = "PRIV"
	DomainSID    = "S-1-5-21-3623811015-3361044348-30300820"
	DC1          = "priv-dc1.priv.contoso.test"
	DC2          = "priv-dc2.priv.contoso.test"
	App1         = "priv-app1.priv.contoso.test"
	App2         = "priv-app2.priv.contoso.test"
	App3         = "priv-app3.priv.contoso.test"
	Spare1       = "priv-spare1.priv.contoso.test"
	SQLNetwork   = "priv-sql.priv.contoso.test"
	MIMAlias     = "pam.priv.contoso.test"
	AdminUser    = `PRIV\Administrator`
	MIMSvcUser   = `PRIV\svc-mim`
	SQLLoginUser = "bastion_reader"
	DefaultSite  = "Default-First-Site-Name"
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
}

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
	for _, name := range []string{DC1, DC2, App1, App2, App3, Spare1} {
		h := e.addHost(name)
		h.WriteFile(DefaultMIMMSIPath, []byte("simulated MSI"))
		h.WriteFile(DefaultSQLSetupPath, SQLMedia(s.SQLVersion))
		if name != DC1 && name != DC2 {
			e.Credentials[LocalAccountKey(name, "Administrator")] = s.LocalAdminPassword
		}
	}
	for _, dc := range []string{DC1, DC2} {
		e.Domain.DCs[Key(dc)] = &DomainController{Host: Key(dc), Site: DefaultSite, GlobalCatalog: true}
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

// RandomPassword returns a strong random password that meets AD complexity.
func RandomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "Lab!" + base64.RawURLEncoding.EncodeToString(b) + "9a"
}
