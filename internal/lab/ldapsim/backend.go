package ldapsim

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// backend is the gldap server of one DC. It speaks plain LDAP on a private
// loopback port; the DC's public listeners (see proxy.go) put TLS, faults
// and counters in front of it.
type backend struct {
	s    *Server
	host string
	srv  *gldap.Server
	addr string
	done chan struct{}

	mu    sync.Mutex
	bound map[int]string // gldap connection ID -> account ("" = anonymous)
}

func startBackend(s *Server, host string) (*backend, error) {
	b := &backend{s: s, host: host, bound: map[int]string{}, done: make(chan struct{})}
	srv, err := gldap.NewServer(
		gldap.WithLogger(hclog.New(&hclog.LoggerOptions{Name: "ldapsim", Level: hclog.Off})),
		gldap.WithOnClose(func(id int) {
			b.mu.Lock()
			delete(b.bound, id)
			b.mu.Unlock()
		}),
	)
	if err != nil {
		return nil, err
	}
	mux, err := gldap.NewMux()
	if err != nil {
		return nil, err
	}
	for _, e := range []error{
		mux.Bind(b.bind),
		mux.Search(b.search),
		mux.Modify(b.modify),
		mux.Add(b.add),
		mux.Delete(b.del),
		mux.DefaultRoute(b.unwilling(gldap.ApplicationExtendedResponse, "operation not supported by the lab")),
		srv.Router(mux),
	} {
		if e != nil {
			return nil, e
		}
	}
	b.srv = srv
	// gldap listens by address only and does not report the port it got, so
	// take a free port, release it and hand it to gldap. Each backend uses its
	// own random loopback address: labs running in parallel (tests) could
	// otherwise be handed the same released port, and one lab's relay would
	// talk to another lab's directory.
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		ln, err := net.Listen("tcp", randomLoopback()+":0")
		if err != nil {
			return nil, err
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		errc := make(chan error, 1)
		stopped := make(chan struct{})
		go func() { errc <- srv.Run(addr); close(stopped) }()
		if lastErr = waitListening(srv, addr, errc); lastErr == nil {
			b.addr = addr
			b.done = stopped
			return b, nil
		}
	}
	return nil, fmt.Errorf("ldapsim: backend for %s could not listen: %w", host, lastErr)
}

// randomLoopback returns a random address in 127.0.0.0/8 other than 127.0.0.1.
func randomLoopback() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	if b[2] == 0 || b[2] == 255 {
		b[2] = 7
	}
	return fmt.Sprintf("127.%d.%d.%d", b[0], b[1], b[2])
}

// waitListening waits until gldap has tried to listen (Ready), then until it
// accepts connections on addr, or Run fails; nil means listening.
func waitListening(srv *gldap.Server, addr string, errc chan error) error {
	deadline := time.Now().Add(5 * time.Second)
	for !srv.Ready() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for time.Now().Before(deadline) {
		select {
		case err := <-errc:
			if err == nil {
				err = errors.New("the server stopped before it listened")
			}
			return fmt.Errorf("%s: %w", addr, err)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s: not accepting connections after 5s", addr)
}

// stop stops gldap and waits for its Run to return.
func (b *backend) stop() {
	_ = b.srv.Stop()
	<-b.done
}

func (b *backend) account(id int) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.bound[id]
	return a, ok && a != ""
}

func (b *backend) unwilling(app int, msg string) gldap.HandlerFunc {
	return func(w *gldap.ResponseWriter, r *gldap.Request) {
		_ = w.Write(r.NewResponse(gldap.WithApplicationCode(app), gldap.WithResponseCode(gldap.ResultUnwillingToPerform), gldap.WithDiagnosticMessage(msg)))
	}
}

// bind checks a simple bind against the model's credentials. Anonymous binds
// succeed and leave the connection anonymous, as on AD.
func (b *backend) bind(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewBindResponse(gldap.WithResponseCode(gldap.ResultInvalidCredentials))
	defer func() { _ = w.Write(resp) }()
	m, err := r.GetSimpleBindMessage()
	if err != nil {
		resp.SetResultCode(gldap.ResultProtocolError)
		return
	}
	id := r.ConnectionID()
	if m.Password == "" {
		b.mu.Lock()
		b.bound[id] = ""
		b.mu.Unlock()
		resp.SetResultCode(gldap.ResultSuccess)
		return
	}
	var account string
	_ = b.s.env.Do(func(e *model.Env) error {
		account = checkCredentials(e, b.host, m.UserName, string(m.Password))
		return nil
	})
	if account == "" {
		b.mu.Lock()
		delete(b.bound, id)
		b.mu.Unlock()
		resp.SetDiagnosticMessage(diagInvalidCreds)
		return
	}
	b.mu.Lock()
	b.bound[id] = account
	b.mu.Unlock()
	resp.SetResultCode(gldap.ResultSuccess)
}

// checkCredentials accepts DOMAIN\user, user@dns.name and the user's DN
// (CN=user,CN=Users,<domain>) for accounts of the DC's own domain. It
// returns the account as DOMAIN\user, or "" when refused. Callers hold the lock.
func checkCredentials(e *model.Env, host, name, password string) string {
	d, _ := e.DirectoryOf(host)
	if d == nil {
		return ""
	}
	var nb, user string
	switch {
	case strings.Contains(name, `\`):
		nb, user, _ = strings.Cut(name, `\`)
	case strings.Contains(name, "="):
		p, err := ldap.ParseDN(name)
		if err != nil || len(p.RDNs) < 2 || len(p.RDNs[0].Attributes) != 1 {
			return ""
		}
		user = p.RDNs[0].Attributes[0].Value
		if adnames.NormDN(adnames.ParentDN(name)) != adnames.NormDN("CN=Users,"+adnames.DomainDN(d.DNSName)) {
			return ""
		}
		nb = d.NetBIOSName
	case strings.Contains(name, "@"):
		var dns string
		user, dns, _ = strings.Cut(name, "@")
		if dd := e.DirectoryByName(dns); dd != nil {
			nb = dd.NetBIOSName
		}
	default:
		return ""
	}
	if !strings.EqualFold(nb, d.NetBIOSName) || user == "" {
		return ""
	}
	key := strings.ToLower(nb + `\` + user)
	want, ok := e.Credentials[key]
	if !ok || want != password {
		return ""
	}
	return d.NetBIOSName + `\` + user
}

func isAdmin(account string) bool {
	_, user, _ := strings.Cut(account, `\`)
	return strings.EqualFold(user, "Administrator")
}

func (b *backend) search(w *gldap.ResponseWriter, r *gldap.Request) {
	done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	defer func() { _ = w.Write(done) }()
	m, err := r.GetSearchMessage()
	if err != nil {
		done.SetResultCode(gldap.ResultProtocolError)
		return
	}
	rootDSE := adnames.NormDN(m.BaseDN) == "" && m.Scope == gldap.BaseObject
	if _, ok := b.account(r.ConnectionID()); !ok && !rootDSE {
		done.SetResultCode(gldap.ResultOperationsError)
		done.SetDiagnosticMessage(diagNeedBind)
		return
	}
	var v *view
	_ = b.s.env.Do(func(e *model.Env) error {
		v = buildStampedView(e, b.host, b.s.stamps)
		return nil
	})
	if v == nil {
		done.SetResultCode(gldap.ResultUnavailable)
		done.SetDiagnosticMessage("not a domain controller any more")
		return
	}
	res := v.search(m.BaseDN, m.Scope, m.Filter)
	entries := res.entries
	var paging *gldap.ControlPaging
	for _, c := range m.Controls {
		if p, ok := c.(*gldap.ControlPaging); ok {
			paging = p
		}
	}
	var next []byte
	code := res.code
	if paging != nil {
		// A page never exceeds MaxPageSize, whatever the client asks ([MS-ADTS] 3.1.1.3.4.6).
		entries, next = page(entries, min(paging.PagingSize, MaxPageSize), paging.Cookie)
	} else if len(entries) > MaxPageSize {
		// Without paging, AD returns MaxPageSize entries, then sizeLimitExceeded.
		entries = entries[:MaxPageSize]
		code = gldap.ResultSizeLimitExceeded
	}
	if m.SizeLimit > 0 && int64(len(entries)) > m.SizeLimit {
		entries = entries[:m.SizeLimit]
		code = gldap.ResultSizeLimitExceeded
	}
	for _, en := range entries {
		_ = w.Write(r.NewSearchResponseEntry(en.dn, gldap.WithAttributes(selectAttributes(en, m.Attributes, m.TypesOnly))))
	}
	done.SetResultCode(code)
	done.SetDiagnosticMessage(res.diag)
	done.SetMatchedDN(res.matched)
	if paging != nil {
		done.SetControls(&gldap.ControlPaging{Cookie: next})
	}
}

// update answers one add, delete or modify request with a response of kind
// app: a request that does not decode is a protocol error, one on an
// unbound connection an operations error; otherwise do gives the result.
func update[M any](b *backend, w *gldap.ResponseWriter, r *gldap.Request, app int, decode func() (M, error), do func(account string, m M) (int, string)) {
	code, diag := gldap.ResultSuccess, ""
	defer func() {
		_ = w.Write(r.NewResponse(gldap.WithApplicationCode(app), gldap.WithResponseCode(code), gldap.WithDiagnosticMessage(diag)))
	}()
	m, err := decode()
	if err != nil {
		code, diag = gldap.ResultProtocolError, err.Error()
		return
	}
	account, ok := b.account(r.ConnectionID())
	if !ok {
		code, diag = gldap.ResultOperationsError, diagNeedBind
		return
	}
	code, diag = do(account, m)
}

func (b *backend) modify(w *gldap.ResponseWriter, r *gldap.Request) {
	update(b, w, r, gldap.ApplicationModifyResponse, r.GetModifyMessage, func(account string, m *gldap.ModifyMessage) (code int, diag string) {
		changes := make([]change, 0, len(m.Changes))
		for _, c := range m.Changes {
			vals, err := modValues(c.Modification.Vals)
			if err != nil {
				return gldap.ResultProtocolError, err.Error()
			}
			changes = append(changes, change{op: c.Operation, attr: c.Modification.Type, vals: vals})
		}
		if hook := b.s.opts.BeforeModify; hook != nil {
			hook(b.host, m.DN)
		}
		_ = b.s.env.Do(func(e *model.Env) error {
			code, diag = applyModify(e, b.host, account, m.DN, changes)
			return nil
		})
		if code == gldap.ResultSuccess && adnames.NormDN(m.DN) != "" {
			b.s.stamps.wrote(m.DN)
		}
		return code, diag
	})
}

// change is one modification with its values decoded.
type change struct {
	op   int64
	attr string
	vals []string
}

// modValues decodes modification values. gldap hands over the raw encoded
// SET OF values as one string; split it into the octet strings it holds.
func modValues(raw []string) ([]string, error) {
	var out []string
	for _, s := range raw {
		buf := []byte(s)
		for len(buf) > 0 {
			p, err := ber.DecodePacketErr(buf)
			if err != nil {
				return nil, fmt.Errorf("modification value: %w", err)
			}
			out = append(out, p.Data.String())
			n := len(p.Bytes())
			if n == 0 || n > len(buf) {
				return nil, errors.New("modification value: bad length")
			}
			buf = buf[n:]
		}
	}
	return out, nil
}

var becomeRoles = map[string]string{
	"becomeschemamaster":         adnames.SchemaMaster,
	"becomedomainmaster":         adnames.DomainNamingMaster,
	"becomeridmaster":            adnames.RIDMaster,
	"becomeinfrastructuremaster": adnames.InfrastructureMaster,
	"becomepdc":                  adnames.PDCEmulator,
}

// applyModify applies one modify request to the model as DC host would.
// Callers hold the lock.
func applyModify(e *model.Env, host, account, dn string, changes []change) (int, string) {
	v := buildView(e, host)
	if v == nil {
		return gldap.ResultUnavailable, "not a domain controller any more"
	}
	d, self := v.dom, v.self
	key := adnames.NormDN(dn)
	if key == "" {
		return rootDSEModify(e, v, account, changes)
	}
	en := v.byKey[key]
	if en == nil {
		return gldap.ResultNoSuchObject, diagNoObject(v.bestMatch(dn))
	}
	if self.ReadOnly {
		// An RODC refers every write to a writable DC ([MS-ADTS] 3.1.1.1.9).
		return gldap.ResultReferral, diagReferral(writableDC(d))
	}
	if !isAdmin(account) {
		return gldap.ResultInsufficientAccessRights, diagInsuffAccess
	}
	if z, node, _ := v.dnsNodeAt(dn); node != nil {
		return modifyDNSNode(e, v, z, node, changes)
	}
	for _, dc := range d.SortedDCs() {
		if adnames.NormDN(v.ntdsDN(dc)) == key {
			return modifyOptions(e, d, dc, changes)
		}
	}
	roleObjects := map[string]string{
		adnames.NormDN(v.schema):                              adnames.SchemaMaster,
		adnames.NormDN("CN=Partitions," + v.config):           adnames.DomainNamingMaster,
		adnames.NormDN(v.base):                                adnames.PDCEmulator,
		adnames.NormDN("CN=RID Manager$,CN=System," + v.base): adnames.RIDMaster,
		adnames.NormDN("CN=Infrastructure," + v.base):         adnames.InfrastructureMaster,
	}
	if role, ok := roleObjects[key]; ok {
		return seize(e, v, role, changes)
	}
	for _, c := range en.values("objectClass") {
		if strings.EqualFold(c, "user") && len(en.values("sAMAccountName")) == 1 {
			return resetPassword(e, d, en.values("sAMAccountName")[0], changes)
		}
		if strings.EqualFold(c, "trustedDomain") {
			return gldap.ResultUnwillingToPerform, "LSA objectclasses cannot be created or changed over LDAP; use LSA RPC (netdom, New-PAMTrust)"
		}
	}
	return gldap.ResultUnwillingToPerform, "the lab changes only NTDS Settings options, fSMORoleOwner, dnsNode records, user passwords and rootDSE operations"
}

func writableDC(d *model.Domain) string {
	for _, dc := range d.SortedDCs() {
		if !dc.ReadOnly {
			return dc.Host
		}
	}
	return ""
}

// modifyOptions applies changes to options atomically: a delete of a value
// that is not the stored one fails the whole request with noSuchAttribute,
// which is what lets a client detect a concurrent change.
func modifyOptions(e *model.Env, d *model.Domain, dc *model.DomainController, changes []change) (int, string) {
	cur := dc.NTDSOptions()
	present := cur != 0
	for _, c := range changes {
		if !strings.EqualFold(c.attr, "options") {
			return gldap.ResultUnwillingToPerform, "the lab changes only options on NTDS Settings"
		}
		var vals []uint32
		for _, s := range c.vals {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return gldap.ResultInvalidAttributeSyntax, "options: not an integer: " + s
			}
			vals = append(vals, uint32(n))
		}
		switch c.op {
		case gldap.DeleteAttribute:
			if len(vals) == 0 {
				if !present {
					return gldap.ResultNoSuchAttribute, diagNoAttr("options")
				}
				present, cur = false, 0
				continue
			}
			if !present || len(vals) != 1 || vals[0] != cur {
				return gldap.ResultNoSuchAttribute, diagNoAttr("options")
			}
			present, cur = false, 0
		case gldap.AddAttribute:
			if len(vals) != 1 {
				return gldap.ResultConstraintViolation, "options is single-valued"
			}
			if present {
				return gldap.ResultAttributeOrValueExists, diagAttrExists("options")
			}
			present, cur = true, vals[0]
		case gldap.ReplaceAttribute:
			switch len(vals) {
			case 0:
				present, cur = false, 0
			case 1:
				present, cur = true, vals[0]
			default:
				return gldap.ResultConstraintViolation, "options is single-valued"
			}
		default:
			return gldap.ResultUnwillingToPerform, diagWillNotModify
		}
	}
	old := dc.NTDSOptions()
	dc.SetNTDSOptions(cur)
	d.NextUSN()
	e.Record(dc.Host, "ntds-options", fmt.Sprintf("options 0x%x -> 0x%x", old, cur))
	return gldap.ResultSuccess, ""
}

// seize writes fSMORoleOwner on a role object. AD lets a DC set it only to
// its own NTDS Settings: that is how a role is seized on the new holder.
func seize(e *model.Env, v *view, role string, changes []change) (int, string) {
	var final string
	for _, c := range changes {
		if !strings.EqualFold(c.attr, "fSMORoleOwner") {
			return gldap.ResultUnwillingToPerform, "the lab changes only fSMORoleOwner on role objects"
		}
		switch c.op {
		case gldap.ReplaceAttribute, gldap.AddAttribute:
			if len(c.vals) != 1 {
				return gldap.ResultConstraintViolation, "fSMORoleOwner is single-valued"
			}
			final = c.vals[0]
		case gldap.DeleteAttribute:
			final = ""
		default:
			return gldap.ResultUnwillingToPerform, diagWillNotModify
		}
	}
	if adnames.NormDN(final) != adnames.NormDN(v.ntdsDN(v.self)) {
		return gldap.ResultUnwillingToPerform, "00000057: fSMORoleOwner can only be set to the NTDS Settings of the DC performing the change (" + v.ntdsDN(v.self) + ")"
	}
	old := v.dom.FSMO[role]
	v.dom.FSMO[role] = v.self.Host
	v.dom.NextUSN()
	e.Record(v.self.Host, "fsmo-seize", fmt.Sprintf("%s seized from %s", role, old))
	return gldap.ResultSuccess, ""
}

// rootDSEModify performs the become* operations: the DC asks the current
// holder for the role, so the holder must be up ([MS-ADTS] 3.1.1.3.3).
func rootDSEModify(e *model.Env, v *view, account string, changes []change) (int, string) {
	if !isAdmin(account) {
		return gldap.ResultInsufficientAccessRights, diagInsuffAccess
	}
	for _, c := range changes {
		if strings.EqualFold(c.attr, "enableOptionalFeature") {
			if code, diag := enableOptionalFeature(e, v, c); code != gldap.ResultSuccess {
				return code, diag
			}
			continue
		}
		role, ok := becomeRoles[strings.ToLower(c.attr)]
		if !ok {
			return gldap.ResultUnwillingToPerform, "rootdse_modify: unknown attribute to change: " + c.attr
		}
		if c.op != gldap.AddAttribute && c.op != gldap.ReplaceAttribute {
			return gldap.ResultUnwillingToPerform, diagWillNotModify
		}
		if v.self.ReadOnly {
			return gldap.ResultUnwillingToPerform, diagWillNotModify + " (a read-only domain controller cannot hold an operations master role)"
		}
		if role == adnames.PDCEmulator {
			sid, _ := sidBytes(v.dom.SID)
			if len(c.vals) != 1 || c.vals[0] != string(sid) {
				return gldap.ResultUnwillingToPerform, "becomePdc: the value must be the domain's objectSid"
			}
		}
		cur := v.dom.FSMO[role]
		if cur == v.self.Host {
			continue
		}
		if h := e.Host(cur); v.dom.DC(cur) == nil || (h != nil && !h.Reachable) {
			return gldap.ResultUnavailable, diagOwnerDown
		}
		v.dom.FSMO[role] = v.self.Host
		v.dom.NextUSN()
		e.Record(v.self.Host, "fsmo-transfer", fmt.Sprintf("%s transferred from %s", role, cur))
	}
	return gldap.ResultSuccess, ""
}

// Windows' answers to a refused enableOptionalFeature ([MS-ADTS]
// 3.1.1.3.3.28): ERROR_INVALID_PARAMETER (0x57) and ERROR_DS_NOT_SUPPORTED
// (0x2040) in AD's diagnostic format.
const (
	diagFeatureParam       = "00000057: LdapErr: DSID-0C090F3E, comment: Error in attribute conversion operation, data 0, v4563"
	diagFeatureUnsupported = "00002040: SvcErr: DSID-03152D2C, problem 5003 (WILL_NOT_PERFORM), data 0"
)

// enableOptionalFeature is the rootDSE modify of [MS-ADTS] 3.1.1.3.3.28:
// the value is "<scope DN>:<feature GUID>"; the forest-wide scope is
// CN=Partitions and only the domain naming master accepts it; an enabled
// feature answers attributeOrValueExists. The forest must be at the
// feature's msDS-RequiredForestBehaviorVersion ([MS-ADTS] 3.1.1.9); the spec
// names no error for that case, so the lab refuses it as unsupported.
func enableOptionalFeature(e *model.Env, v *view, c change) (int, string) {
	if c.op != gldap.AddAttribute && c.op != gldap.ReplaceAttribute {
		return gldap.ResultUnwillingToPerform, diagWillNotModify
	}
	if len(c.vals) != 1 {
		return gldap.ResultOperationsError, diagFeatureParam
	}
	i := strings.LastIndex(c.vals[0], ":")
	if i < 0 {
		return gldap.ResultOperationsError, diagFeatureParam
	}
	scope, id := c.vals[0][:i], strings.ToLower(strings.TrimSpace(c.vals[0][i+1:]))
	feature := ""
	for f, g := range featureGUIDs {
		if g == id {
			feature = f
		}
	}
	if feature == "" {
		return gldap.ResultOperationsError, diagFeatureParam
	}
	if v.byKey[adnames.NormDN(scope)] == nil {
		return gldap.ResultOperationsError, diagFeatureParam
	}
	if adnames.NormDN(scope) != adnames.NormDN("CN=Partitions,"+v.config) {
		// An existing object that is not a scope this forest's features use.
		return gldap.ResultUnwillingToPerform, diagFeatureUnsupported
	}
	if v.dom.FSMO[adnames.DomainNamingMaster] != v.self.Host {
		return gldap.ResultUnwillingToPerform, diagFeatureUnsupported
	}
	if v.dom.ForestFunctionalLevel < featureLevel[feature] {
		return gldap.ResultUnwillingToPerform, diagFeatureUnsupported
	}
	if v.dom.OptionalFeatures[feature] {
		return gldap.ResultAttributeOrValueExists, diagAttrExists("enableOptionalFeature")
	}
	v.dom.OptionalFeatures[feature] = true
	v.dom.NextUSN()
	e.Record(v.self.Host, "optional-feature", "enabled "+feature)
	return gldap.ResultSuccess, ""
}
