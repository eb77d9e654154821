package directory

import (
	"context"
	"fmt"
	"strconv"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// maxConflicts bounds the re-reads of a read-modify-write that keeps
// losing to concurrent changes.
const maxConflicts = 4

// SetGlobalCatalog makes dc a global catalog or not by flipping only bit
// 0x1 (NTDSDSA_OPT_IS_GC) of its NTDS Settings options, and returns the DC
// as read back from the DC that took the write (the pinned or home DC).
//
// The write is a compare-and-swap: one modify deleting the value just read
// and adding the new one. LDAP applies a modify atomically (RFC 4511 4.6),
// so if anything changed options in between (repadmin /options, another
// run) the delete fails with noSuchAttribute and nothing is written; the
// value is then re-read and the swap retried. A replace would silently undo
// that concurrent change of the other bits, the flaw of ActiveDirectoryDsc's
// GC toggle. When options is absent the write is a bare add, which fails with
// attributeOrValueExists if a value appeared meanwhile.
//
// Cost: 1 search (DC list) + 1 modify + 1 search (read-back); no modify
// when the bit is already right; 1 more search and modify per conflict.
func (c *Client) SetGlobalCatalog(ctx context.Context, dc string, enable bool) (DomainController, error) {
	defer c.Invalidate()
	n, err := c.naming(ctx)
	if err != nil {
		return DomainController{}, err
	}
	var out DomainController
	err = c.do(ctx, "", "set global catalog on "+dc, nil, func(ctx context.Context, s *session) error {
		target, _, err := s.forestDC(n, dc)
		if err != nil {
			return err
		}
		old, present := target.Options, target.optionsSet
		for attempt := 0; ; attempt++ {
			want := old &^ adnames.NTDSOptIsGC
			if enable {
				want |= adnames.NTDSOptIsGC
			}
			if present && want == old || !present && want == 0 {
				break
			}
			req := ldap.NewModifyRequest(target.NTDSSettingsDN, nil)
			if present {
				req.Delete("options", []string{strconv.FormatUint(uint64(old), 10)})
			}
			req.Add("options", []string{strconv.FormatUint(uint64(want), 10)})
			err := s.modify(req)
			if err == nil {
				break
			}
			code, _ := ldapCode(err)
			if code != ldap.LDAPResultNoSuchAttribute && code != ldap.LDAPResultAttributeOrValueExists {
				return err
			}
			if attempt+1 >= maxConflicts {
				return fmt.Errorf("%w: options of %s kept changing while setting the global catalog bit: %w", ErrConflict, target.NTDSSettingsDN, err)
			}
			c.log.DebugContext(ctx, "options changed concurrently; re-reading", "dc", s.dc, "ntds_settings", target.NTDSSettingsDN)
			if old, present, err = s.readOptions(target.NTDSSettingsDN); err != nil {
				return err
			}
		}
		// Read back from the same DC.
		v, set, err := s.readOptions(target.NTDSSettingsDN)
		if err != nil {
			return err
		}
		if (v&adnames.NTDSOptIsGC != 0) != enable {
			return fmt.Errorf("options of %s read back as 0x%x after setting the global catalog bit to %t", target.NTDSSettingsDN, v, enable)
		}
		target.Options, target.optionsSet, target.GlobalCatalog = v, set, v&adnames.NTDSOptIsGC != 0
		out = target
		return nil
	})
	return out, err
}

func (s *session) readOptions(dn string) (uint32, bool, error) {
	e, err := s.searchBase(dn, "options")
	if err != nil {
		return 0, false, err
	}
	v, ok := attrInt(e, "options")
	return uint32(v), ok, nil //nolint:gosec // G115: options is a 32-bit flags attribute; AD returns it as a signed integer
}

// becomeAttr is the rootDSE operational attribute that transfers a role to
// the DC it is written on ([MS-ADTS] 3.1.1.3.3).
var becomeAttr = map[string]string{
	adnames.SchemaMaster:         "becomeSchemaMaster",
	adnames.DomainNamingMaster:   "becomeDomainMaster",
	adnames.PDCEmulator:          "becomePdc",
	adnames.RIDMaster:            "becomeRidMaster",
	adnames.InfrastructureMaster: "becomeInfrastructureMaster",
}

// retryBusy retries what transient does except unavailable (52): on a role
// change it means the current holder cannot be reached, which waiting within
// one apply rarely fixes.
func retryBusy(err error) bool {
	if code, ok := ldapCode(err); ok && code == ldap.LDAPResultUnavailable {
		return false
	}
	return transient(err)
}

// TransferFSMO moves a role to target by writing the role's become*
// operational attribute to target's rootDSE (becomePdc carries the domain's
// objectSid). Every request goes to target itself, whatever PinnedDC says:
// the rootDSE operation acts on the DC that receives it, which then pulls
// the role from the current holder, so the holder must be online
// (ErrRoleOwnerUnavailable otherwise; see SeizeFSMO). Returns the holder as
// read back on target. Already held: no write.
// Cost: 1 search (DC list) + 1 search (role object) [+1 for the RID
// manager's DN] + 1 modify + 1 search (read-back).
func (c *Client) TransferFSMO(ctx context.Context, role, target string) (FSMOHolder, error) {
	return c.changeRole(ctx, role, target, false)
}

// SeizeFSMO takes a role for target without the current holder by writing
// target's NTDS Settings DN into fSMORoleOwner on the role object, on target
// itself (what Move-ADDirectoryServerOperationMasterRole -Force does). The
// old holder must never come back online. Cost as TransferFSMO.
func (c *Client) SeizeFSMO(ctx context.Context, role, target string) (FSMOHolder, error) {
	return c.changeRole(ctx, role, target, true)
}

func (c *Client) changeRole(ctx context.Context, role, target string, seize bool) (FSMOHolder, error) {
	defer c.Invalidate()
	attr, ok := becomeAttr[role]
	if !ok {
		return FSMOHolder{}, fmt.Errorf("%w: %q (want one of %v)", ErrUnknownRole, role, adnames.FSMORoles())
	}
	n, err := c.naming(ctx)
	if err != nil {
		return FSMOHolder{}, err
	}
	verb := "transfer"
	if seize {
		verb = "seize"
	}
	var out FSMOHolder
	err = c.do(ctx, target, verb+" "+role+" to "+target, retryBusy, func(ctx context.Context, s *session) error {
		t, dcs, err := s.forestDC(n, target)
		if err != nil {
			return err
		}
		if t.ReadOnly {
			return fmt.Errorf("%w: %s cannot hold the %s role", ErrReadOnlyDC, target, role)
		}
		roleDN := roleObjects(n)[role]
		if role == adnames.RIDMaster {
			d, err := s.searchBase(n.domain, "rIDManagerReference")
			if err != nil {
				return err
			}
			if ref := d.GetAttributeValue("rIDManagerReference"); ref != "" {
				roleDN = ref
			}
		}
		obj, err := s.searchBase(roleDN, "fSMORoleOwner", "objectSid")
		if err != nil {
			return err
		}
		before := obj.GetAttributeValue("fSMORoleOwner")
		if !adnames.SameDN(before, t.NTDSSettingsDN) {
			var req *ldap.ModifyRequest
			if seize {
				req = ldap.NewModifyRequest(roleDN, nil)
				req.Replace("fSMORoleOwner", []string{t.NTDSSettingsDN})
			} else {
				value := "1"
				if role == adnames.PDCEmulator {
					value = string(obj.GetRawAttributeValue("objectSid"))
					if value == "" {
						return fmt.Errorf("becomePdc needs the domain's objectSid, which %s did not return", n.domain)
					}
				}
				req = ldap.NewModifyRequest("", nil)
				req.Replace(attr, []string{value})
			}
			if err := s.modify(req); err != nil {
				if code, ok := ldapCode(err); ok && code == ldap.LDAPResultUnavailable && !seize {
					holder := before
					for _, d := range dcs {
						if adnames.SameDN(d.NTDSSettingsDN, before) {
							holder = d.Host
						}
					}
					return fmt.Errorf("%w: %s could not get the %s role from %s (transfer needs the holder online; seize only if it will never return): %w",
						ErrRoleOwnerUnavailable, target, role, holder, err)
				}
				return err
			}
		}
		after, err := s.searchBase(roleDN, "fSMORoleOwner")
		if err != nil {
			return err
		}
		owner := after.GetAttributeValue("fSMORoleOwner")
		if !adnames.SameDN(owner, t.NTDSSettingsDN) {
			return fmt.Errorf("after the %s of %s, fSMORoleOwner on %s is still %s", verb, role, roleDN, owner)
		}
		out = FSMOHolder{Role: role, RoleObjectDN: after.DN, NTDSSettingsDN: owner, Host: t.Host}
		return nil
	})
	return out, err
}
