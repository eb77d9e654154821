package model

import (
	"fmt"
	"strings"
)

// WellKnownGroup is a global group every domain has.
type WellKnownGroup struct {
	Name string
	RID  int
	// Admin: the built-in Administrator is a member.
	Admin bool
}

// WellKnownGroups are the domain's global groups the lab renders, with their
// RIDs ([MS-DTYP] 2.4.2.4) and whether the built-in Administrator is a member.
var WellKnownGroups = []WellKnownGroup{
	{DomainAdminsGroup, 512, true},
	{"Domain Users", 513, false}, // members by primaryGroupID, never in member
	{"Domain Controllers", 516, false},
	{"Schema Admins", 518, true},
	{"Enterprise Admins", 519, true},
}

// AddDomainUser creates the user account name (sAMAccountName) in the domain
// named domain (NetBIOS or DNS name) with a password, as New-ADUser does. Tests
// and the lab CLI use it to prepare an account before Terraform refers to it.
func (e *Env) AddDomainUser(domain, name, password string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.domainNamed(domain)
	if err != nil {
		return err
	}
	e.Credentials[strings.ToLower(d.NetBIOSName+`\`+name)] = password
	e.NoteSecret(password)
	e.Record(d.DNSName, "user-created", d.NetBIOSName+`\`+name)
	return nil
}

// AddManagedServiceAccount creates the group managed service account name
// (its sAMAccountName ends in $) in the domain named domain, as
// New-ADServiceAccount does.
func (e *Env) AddManagedServiceAccount(domain, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.domainNamed(domain)
	if err != nil {
		return err
	}
	if !IsManagedServiceAccount(name) {
		return fmt.Errorf("model: a managed service account's name ends in $, not %q", name)
	}
	if d.ManagedServiceAccounts == nil {
		d.ManagedServiceAccounts = map[string]string{}
	}
	d.ManagedServiceAccounts[strings.ToLower(name)] = name
	e.Record(d.DNSName, "gmsa-created", d.NetBIOSName+`\`+name)
	return nil
}

// HasAccount reports whether sam is the sAMAccountName of a security
// principal of d: a user, a group (well-known or the model's), a member the
// model lists in a group, a group managed service account, or the computer
// account NAME$ of a DC or a domain-joined server. Callers hold the lock.
func (e *Env) HasAccount(d *Domain, sam string) bool {
	if _, ok := e.Credentials[strings.ToLower(d.NetBIOSName+`\`+sam)]; ok {
		return true
	}
	for _, g := range WellKnownGroups {
		if strings.EqualFold(g.Name, sam) {
			return true
		}
	}
	for g, members := range d.Groups {
		if strings.EqualFold(g, sam) {
			return true
		}
		for _, m := range members {
			if strings.EqualFold(m, sam) {
				return true
			}
		}
	}
	if _, ok := d.ManagedServiceAccounts[strings.ToLower(sam)]; ok {
		return true
	}
	computer, ok := strings.CutSuffix(strings.ToLower(sam), "$")
	if !ok {
		return false
	}
	for _, dc := range d.DCs {
		if strings.EqualFold(dc.ShortName(), computer) {
			return true
		}
	}
	for k := range e.Hosts {
		name, dom, _ := strings.Cut(k, ".")
		if name == computer && dom == Key(d.DNSName) {
			return true
		}
	}
	return false
}
