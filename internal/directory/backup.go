package directory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// BackupStatus reads, on each DC (only the pinned one when PinnedDC is
// set), the replication metadata of dSASignature on every naming context
// head the DC holds (domain, Configuration, Schema, DomainDnsZones,
// ForestDnsZones): a backup writes dSASignature as an originating change,
// so its stamp's time is the NC's last backup and its originating DSA the
// DC that was backed up (repadmin /showbackup; PingCastle A-BackupMetadata).
// The stamp replicates: every DC reports the latest backup of any DC, and
// a DC that disagrees has not replicated it yet.
//
// The binary replPropertyMetaData is parsed (Samba has no
// msDS-ReplAttributeMetaData). A DC that cannot be read is listed in
// Unreadable; the call fails only when no DC could be read.
// Cost: the shared Inventory (3 searches sent at once, none when a read
// of the plan made it), then per DC its rootDSE and 1 search per naming
// context, sent at once (plus 1 bind per DC on a fresh pool); the first
// DC's batch also carries the tombstone lifetime (Tombstone).
func (c *Client) BackupStatus(ctx context.Context) (*BackupReport, error) {
	n, err := c.naming(ctx)
	if err != nil {
		return nil, err
	}
	// The DC list of the shared inventory: in a plan that also reads the
	// DCs or FSMO roles, it costs nothing more.
	inv, err := c.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	dcs := inv.DCs
	byInvocation := map[string]string{}
	for _, d := range dcs {
		if d.InvocationID != "" {
			byInvocation[strings.ToLower(d.InvocationID)] = d.Host
		}
	}
	var targets []string
	if c.cfg.PinnedDC != "" {
		targets = []string{c.cfg.PinnedDC}
	} else {
		for _, d := range dcs {
			if d.Host != "" {
				targets = append(targets, d.Host)
			}
		}
	}
	rep := &BackupReport{Unreadable: map[string]error{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, dc := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				got  []NCBackup
				tomb *tombstoneRead
			)
			if i == 0 {
				// The backup judgement needs the tombstone lifetime too: it
				// rides with the first DC's heads instead of a round trip of
				// its own.
				tomb = &tombstoneRead{}
			}
			err := c.do(ctx, dc, "read backup metadata", nil, func(ctx context.Context, s *session) error {
				var err error
				got, err = s.backupMetadata(n, byInvocation, tomb)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				rep.Unreadable[dc] = err
				return
			}
			rep.Backups = append(rep.Backups, got...)
			if tomb != nil && tomb.ok {
				rep.Tombstone, rep.TombstoneRead = tomb.lifetime, true
			}
		}()
	}
	wg.Wait()
	sort.Slice(rep.Backups, func(i, j int) bool {
		a, b := rep.Backups[i], rep.Backups[j]
		if !strings.EqualFold(a.DC, b.DC) {
			return strings.ToLower(a.DC) < strings.ToLower(b.DC)
		}
		return ncOrder(a.NamingContext) < ncOrder(b.NamingContext)
	})
	if len(rep.Backups) == 0 && len(rep.Unreadable) > 0 {
		var errs []error
		for _, dc := range slices.Sorted(maps.Keys(rep.Unreadable)) {
			errs = append(errs, rep.Unreadable[dc])
		}
		return rep, fmt.Errorf("no domain controller could be read for backup metadata: %w", errors.Join(errs...))
	}
	return rep, nil
}

func ncOrder(name string) int {
	for i, n := range []string{adnames.NCDomain, adnames.NCConfiguration, adnames.NCSchema, adnames.NCDomainDNSZones, adnames.NCForestDNSZones} {
		if n == name {
			return i
		}
	}
	return 99
}

// backupMetadata reads the dSASignature stamp of each NC head this DC holds.
// tombstoneRead is the tombstone lifetime read beside the NC heads; ok is
// false when that search failed (the caller reads it on its own then).
type tombstoneRead struct {
	lifetime TombstoneLifetime
	ok       bool
}

// backupMetadata reads the DC's NC heads; with tomb non-nil, the tombstone
// lifetime in the same round trip.
func (s *session) backupMetadata(n *namingContexts, byInvocation map[string]string, tomb *tombstoneRead) ([]NCBackup, error) {
	// The rootDSE and the NC heads are independent reads: sent at once,
	// they share one round trip on the connection (LDAP messages carry their
	// own IDs, RFC 4511 4.1.1.1) instead of one each. A head the DC does not
	// hold (not in its rootDSE's namingContexts) is dropped, whatever its
	// search answered (a referral, noSuchObject).
	type head struct {
		dn, name string
		e        *ldap.Entry
		err      error
	}
	heads := []*head{
		{dn: n.domain, name: adnames.NCDomain},
		{dn: n.config, name: adnames.NCConfiguration},
		{dn: n.schema, name: adnames.NCSchema},
		{dn: "DC=DomainDnsZones," + n.domain, name: adnames.NCDomainDNSZones},
		{dn: "DC=ForestDnsZones," + n.root, name: adnames.NCForestDNSZones},
	}
	var (
		root    *ldap.Entry
		rootErr error
		wg      sync.WaitGroup
	)
	wg.Add(1 + len(heads))
	go func() {
		defer wg.Done()
		root, rootErr = s.searchBase("", "namingContexts")
	}()
	if tomb != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if t, err := s.tombstoneLifetime(n); err == nil {
				tomb.lifetime, tomb.ok = t, true
			}
		}()
	}
	for _, h := range heads {
		go func() {
			defer wg.Done()
			h.e, h.err = s.searchBase(h.dn, "replPropertyMetaData")
		}()
	}
	wg.Wait()
	if rootErr != nil {
		return nil, rootErr
	}
	held := map[string]bool{}
	for _, nc := range root.GetAttributeValues("namingContexts") {
		held[adnames.NormDN(nc)] = true
	}
	kept := heads[:0]
	for _, h := range heads {
		if held[adnames.NormDN(h.dn)] {
			kept = append(kept, h)
		}
	}
	heads = kept
	var out []NCBackup
	for _, h := range heads {
		if h.err != nil {
			return nil, h.err
		}
		e, name := h.e, h.name
		b := NCBackup{DC: s.dc, NamingContext: name, DN: e.DN}
		meta, err := ParseReplPropertyMetaData(e.GetRawAttributeValue("replPropertyMetaData"))
		if err != nil {
			return nil, fmt.Errorf("replPropertyMetaData of %s: %w", e.DN, err)
		}
		for _, m := range meta {
			if m.AttributeID != AttidDSASignature || m.OriginatingChangeTime.IsZero() {
				continue
			}
			b.Backed = true
			b.LastBackup = m.OriginatingChangeTime
			b.Version = m.Version
			b.OriginatingInvocationID = m.OriginatingInvocationID
			b.OriginatingDC = byInvocation[strings.ToLower(m.OriginatingInvocationID)]
		}
		out = append(out, b)
	}
	return out, nil
}
