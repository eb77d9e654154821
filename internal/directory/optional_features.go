package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// ErrFunctionalLevel: the forest functional level is below what an optional
// feature needs (msDS-RequiredForestBehaviorVersion).
var ErrFunctionalLevel = errors.New("forest functional level too low")

// OptionalFeatureState is one optional feature as the forest's domain naming
// master sees it: the feature object, the forest level and which DC holds
// the role that may enable forest-wide features.
type OptionalFeatureState struct {
	OptionalFeature
	// ForestLevel is msDS-Behavior-Version on CN=Partitions.
	ForestLevel int
	// NamingMaster is the DNS name of the domain naming master.
	NamingMaster string
}

// OptionalFeature reads one optional feature by name (cn, case-insensitive),
// with the forest level and the domain naming master. transport.ErrNotFound
// when the forest has no such feature object (Samba has no Privileged Access
// Management feature, for one). Cost: 3 searches on the home DC.
func (c *Client) OptionalFeature(ctx context.Context, name string) (OptionalFeatureState, error) {
	return readAny(ctx, c, "read optional feature "+name, func(s *session, n *namingContexts) (OptionalFeatureState, error) {
		return s.optionalFeature(n, name)
	})
}

func (s *session) optionalFeature(n *namingContexts, name string) (OptionalFeatureState, error) {
	var out OptionalFeatureState
	parts, err := s.searchBase("CN=Partitions,"+n.config, "msDS-EnabledFeature", "msDS-Behavior-Version", "fSMORoleOwner")
	if err != nil {
		return out, err
	}
	out.ForestLevel, _ = attrInt(parts, "msDS-Behavior-Version")
	features, err := s.searchPaged(optionalFeaturesDN(n), ldap.ScopeSingleLevel,
		and(eq("objectCategory", "msDS-OptionalFeature"), eq("cn", name)),
		"cn", "msDS-OptionalFeatureGUID", "msDS-RequiredForestBehaviorVersion")
	if err != nil {
		return out, err
	}
	if len(features) == 0 {
		return out, fmt.Errorf("%w: the forest has no optional feature %q under %s", transport.ErrNotFound, name, optionalFeaturesDN(n))
	}
	e := features[0]
	out.Name, out.DN = e.GetAttributeValue("cn"), e.DN
	out.GUID = guidString(e.GetRawAttributeValue("msDS-OptionalFeatureGUID"))
	out.RequiredForestLevel, _ = attrInt(e, "msDS-RequiredForestBehaviorVersion")
	for _, dn := range parts.GetAttributeValues("msDS-EnabledFeature") {
		if adnames.SameDN(dn, e.DN) {
			out.Enabled = true
		}
	}
	// fSMORoleOwner is the naming master's NTDS Settings; its parent, the
	// server object, carries the DC's DNS name.
	if owner := parts.GetAttributeValue("fSMORoleOwner"); owner != "" {
		srv, err := s.searchBase(parentOf(owner), "dNSHostName")
		if err == nil {
			out.NamingMaster = srv.GetAttributeValue("dNSHostName")
		} else if code, ok := ldapCode(err); !ok || code != ldap.LDAPResultNoSuchObject {
			return out, err
		}
	}
	return out, nil
}

func optionalFeaturesDN(n *namingContexts) string {
	return "CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services," + n.config
}

// EnableOptionalFeature enables a forest-wide optional feature the way AD
// does it: the rootDSE enableOptionalFeature modify ([MS-ADTS] 3.1.1.3.3.28)
// with the value "<CN=Partitions DN>:<feature GUID>", sent to the domain
// naming master (any other DC answers unwillingToPerform). It checks the
// forest functional level first (ErrFunctionalLevel) and reads the result
// back from the naming master. Already enabled: no write. A feature, once
// enabled, cannot be disabled ([MS-ADTS] 3.1.1.9).
// Cost: 3 searches (home DC) + 1 modify + 1 search (naming master).
func (c *Client) EnableOptionalFeature(ctx context.Context, name string) (OptionalFeatureState, error) {
	n, err := c.naming(ctx)
	if err != nil {
		return OptionalFeatureState{}, err
	}
	st, err := c.OptionalFeature(ctx, name)
	if err != nil || st.Enabled {
		return st, err
	}
	if st.ForestLevel < st.RequiredForestLevel {
		return st, fmt.Errorf("%w: %s needs forest functional level %d or higher; the forest is at %d",
			ErrFunctionalLevel, st.Name, st.RequiredForestLevel, st.ForestLevel)
	}
	if st.NamingMaster == "" {
		return st, fmt.Errorf("%w: the domain naming master of the forest is unknown (fSMORoleOwner on CN=Partitions names no DC); it alone enables forest-wide features", transport.ErrNotFound)
	}
	partitions := "CN=Partitions," + n.config
	err = c.do(ctx, st.NamingMaster, "enable optional feature "+st.Name+" on "+st.NamingMaster, nil, func(ctx context.Context, s *session) error {
		req := ldap.NewModifyRequest("", nil)
		req.Add("enableOptionalFeature", []string{partitions + ":" + st.GUID})
		if err := s.modify(req); err != nil {
			// attributeOrValueExists: enabled meanwhile, or by a retry of a
			// write whose answer was lost. The read-back decides.
			if code, ok := ldapCode(err); !ok || code != ldap.LDAPResultAttributeOrValueExists {
				return err
			}
		}
		back, err := s.optionalFeature(n, st.Name)
		if err != nil {
			return err
		}
		if !back.Enabled {
			return fmt.Errorf("after enableOptionalFeature, msDS-EnabledFeature on %s does not list %s", partitions, st.DN)
		}
		st = back
		return nil
	})
	return st, err
}
