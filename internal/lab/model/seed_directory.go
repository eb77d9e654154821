package model

import (
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// The CORP forest of the default lab: the production forest a PAM trust
// will point at. It has no trust with PRIV until one is created.
const (
	CorpDomainDNS = "corp.contoso.test"
	CorpDomainNB  = "CORP"
	CorpDomainSID = "S-1-5-21-2715327094-1497282519-1930270633"
	CorpDC1       = "corp-dc1.corp.contoso.test"
	CorpAdminUser = `CORP\Administrator`

	// FunctionalLevel2016 is msDS-Behavior-Version for Windows Server 2016
	// (also 2019 and 2022), the level PAM needs.
	FunctionalLevel2016 = 7
	// SeedTombstoneLifetimeDays is what forests created since Windows
	// Server 2003 SP1 get.
	SeedTombstoneLifetimeDays = 180
)

// SeedDirectory gives the directory of every domain in the model the
// default lab's facts, once: functional level 2016, tombstone lifetime 180
// days, every FSMO role on the first DC by name (priv-dc1), DNS application
// partitions, the PAM optional feature enabled in PRIV, and a fresh backup of
// every DC (priv-dc1 three hours ago, priv-dc2 two hours ago). It adds the
// CORP forest (corp.contoso.test, one DC, no trust) with a CORP\Administrator
// credential when the model has none. Values already set are kept, so a test
// may change the model before or after seeding. The LDAP simulator calls it
// at start.
func (e *Env) SeedDirectory() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.Forests[CorpDomainDNS]; !ok && (e.Domain == nil || !strings.EqualFold(e.Domain.DNSName, CorpDomainDNS)) {
		e.Forests[CorpDomainDNS] = &Domain{
			DNSName: CorpDomainDNS, NetBIOSName: CorpDomainNB, SID: CorpDomainSID,
			DCs: map[string]*DomainController{
				CorpDC1: {Host: CorpDC1, Site: DefaultSite, GlobalCatalog: true, Addresses: SeedAddresses(CorpDC1)},
			},
		}
		if _, ok := e.Credentials[strings.ToLower(CorpAdminUser)]; !ok {
			e.Credentials[strings.ToLower(CorpAdminUser)] = RandomPassword()
		}
	}
	now := e.Now().UTC().Truncate(time.Second)
	for _, d := range e.Directories() {
		if d.dirSeeded {
			continue
		}
		seedDomain(d, d == e.Domain, now)
	}
	e.normalizeDirectory()
}

func seedDomain(d *Domain, priv bool, now time.Time) {
	if d.ForestFunctionalLevel == 0 {
		d.ForestFunctionalLevel = FunctionalLevel2016
	}
	if d.DomainFunctionalLevel == 0 {
		d.DomainFunctionalLevel = FunctionalLevel2016
	}
	if d.TombstoneLifetimeDays == 0 {
		d.TombstoneLifetimeDays = SeedTombstoneLifetimeDays
	}
	d.DNSPartitions = true
	d.normalize()
	d.seedDNSZone()
	dcs := d.SortedDCs()
	for _, dc := range dcs {
		if dc.GlobalCatalog {
			dc.Options |= adnames.NTDSOptIsGC
		}
	}
	if len(dcs) > 0 {
		for _, r := range adnames.FSMORoles() {
			if d.FSMO[r] == "" {
				d.FSMO[r] = dcs[0].Host
			}
		}
	}
	if priv {
		if _, set := d.OptionalFeatures[adnames.FeaturePAM]; !set {
			d.OptionalFeatures[adnames.FeaturePAM] = true
		}
	}
	for i, dc := range dcs {
		at := now.Add(-time.Duration(len(dcs)+1-i) * time.Hour)
		for _, nc := range d.NamingContexts() {
			if _, set := dc.Backups[nc]; !set {
				dc.Backups[nc] = at
				d.backupVersion[nc]++
			}
		}
	}
	d.dirSeeded = true
}
