package winrmsim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// labCase is a handler test's default lab and the seed it was built from.
type labCase struct {
	env  *model.Env
	seed model.Seed
}

func newLabCase() labCase {
	env, seed := model.NewDefault(model.Seed{})
	return labCase{env: env, seed: seed}
}

type adCase struct{ labCase }

func newADCase(t *testing.T) *adCase {
	t.Helper()
	return &adCase{newLabCase()}
}

// asMIMService is in with the MIM Service account's credential: a domain
// user outside Domain Admins.
func (c *adCase) asMIMService(in map[string]any) map[string]any {
	in["admin_username"] = model.MIMSvcUser
	in["admin_password"] = c.seed.MIMSvcPassword
	return in
}

func (c *adCase) run(t *testing.T, h Handler, host string, input any) (map[string]any, error) {
	t.Helper()
	return runHandler(t, c.env, h, host, input)
}

// runHandler runs h on host with input as its JSON stdin and returns what
// the provider receives: the JSON of the result, as a map.
func runHandler(t *testing.T, env *model.Env, h Handler, host string, input any) (map[string]any, error) {
	t.Helper()
	raw, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	err = env.Do(func(e *model.Env) error {
		var herr error
		out, herr = h(e, e.Host(host), raw)
		return herr
	})
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(out)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m, nil
}

// absent, as edited's value, removes the field.
var absent = new(struct{ absent bool })

// edited is in with field k set to v, or removed when v is absent.
func edited(in map[string]any, k string, v any) map[string]any {
	if v == absent {
		delete(in, k)
	} else {
		in[k] = v
	}
	return in
}

// refusal is an input a handler refuses, with the error type and message
// Windows gives.
type refusal struct {
	in       map[string]any
	typ, msg string
}

// refuses wants h to refuse each input on spare1, with its error and no
// password in it.
func (c *adCase) refuses(t *testing.T, h Handler, cases map[string]refusal) {
	t.Helper()
	for name, tc := range cases {
		_, err := c.run(t, h, model.Spare1, tc.in)
		wantScriptError(t, name, err, tc.typ, tc.msg)
		if err != nil && strings.Contains(err.Error(), c.seed.AdminPassword) {
			t.Errorf("%s: a password in the error", name)
		}
	}
}

func (c *adCase) promoteInput() map[string]any {
	return map[string]any{
		"domain_name": model.DomainDNS, "admin_username": model.AdminUser, "admin_password": c.seed.AdminPassword,
		"safe_mode_password": "Dsrm!Passw0rd", "site_name": "", "install_dns": nil, "global_catalog": true,
		"database_path": "", "log_path": "", "sysvol_path": "", "installation_media_path": "", "replication_source_dc": "",
	}
}

const labLocalPassword = "Local!Passw0rd"

func (c *adCase) demoteInput() map[string]any {
	return map[string]any{"admin_username": model.AdminUser, "admin_password": c.seed.AdminPassword, "local_admin_password": labLocalPassword}
}

// localAdmin is the local Administrator password the lab recorded for host.
func (c *adCase) localAdmin(host string) (string, bool) {
	var pw string
	var ok bool
	_ = c.env.Do(func(e *model.Env) error { pw, ok = e.Credentials[LocalAdministrator(host)]; return nil })
	return pw, ok
}

func (c *adCase) isDC(host string) bool {
	ok := false
	_ = c.env.Do(func(e *model.Env) error { _, dc := e.DirectoryOf(host); ok = dc != nil; return nil })
	return ok
}

func wantScriptError(t *testing.T, what string, err error, typ, msg string) {
	t.Helper()
	var se *ScriptError
	if !errors.As(err, &se) || (typ != "" && se.Type != typ) || !strings.Contains(se.Message, msg) {
		t.Errorf("%s: got %#v, want %s containing %q", what, err, typ, msg)
	}
}

func TestADPromoteDemote(t *testing.T) {
	c := newADCase(t)
	out, err := c.run(t, adInstallDC, model.Spare1, c.promoteInput())
	if err != nil {
		t.Fatal(err)
	}
	if out["status"] != "Success" || out["feature_installed"] != true || out["reboot_required"] != true {
		t.Fatalf("result = %v", out)
	}
	if !c.isDC(model.Spare1) {
		t.Fatal("spare1 is not a DC after the promotion")
	}
	_, err = c.run(t, adInstallDC, model.Spare1, c.promoteInput())
	wantScriptError(t, "promoting a DC again", err, "Microsoft.DirectoryServices.Deployment.DCPromoExecutionException", "already a domain controller")

	filesBefore := 0
	_ = c.env.Do(func(e *model.Env) error { filesBefore = len(e.Host(model.Spare1).Files); return nil })
	out, err = c.run(t, adUninstallDC, model.Spare1, c.demoteInput())
	if err != nil || out["status"] != "Success" || out["reboot_required"] != true {
		t.Fatalf("demote: %v %v", out, err)
	}
	if c.isDC(model.Spare1) {
		t.Fatal("spare1 is still a DC after the demotion")
	}
	if pw, ok := c.localAdmin(model.Spare1); !ok || pw != labLocalPassword {
		t.Fatalf("local Administrator password of spare1 = %q (set %t), want the one passed", pw, ok)
	}
	_ = c.env.Do(func(e *model.Env) error {
		if n := len(e.Host(model.Spare1).Files); n != filesBefore {
			t.Errorf("the demotion wrote files on spare1 (%d -> %d)", filesBefore, n)
		}
		return nil
	})
	_, err = c.run(t, adUninstallDC, model.Spare1, c.demoteInput())
	wantScriptError(t, "demoting a member server", err, "Microsoft.DirectoryServices.Deployment.DCPromoExecutionException", "not a domain controller")
}

// The demotion checks its -Credential and -LocalAdministratorPassword as
// Windows does, before anything changes.
func TestADDemoteChecksParameters(t *testing.T) {
	c := newADCase(t)
	if _, err := c.run(t, adInstallDC, model.Spare1, c.promoteInput()); err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) map[string]any { return edited(c.demoteInput(), k, v) }
	const adds = "Microsoft.DirectoryServices.Deployment.DCPromoExecutionException"
	c.refuses(t, adUninstallDC, map[string]refusal{
		"missing local password": {with("local_admin_password", absent), "System.Management.Automation.PropertyNotFoundException", "'local_admin_password' cannot be found"},
		"missing user":           {with("admin_username", absent), "System.Management.Automation.PropertyNotFoundException", "'admin_username' cannot be found"},
		"wrong password":         {with("admin_password", "nope"), adds, "user name or password is incorrect"},
		"empty credential":       {with("admin_username", ""), adds, "user name or password is incorrect"},
		"not domain admin":       {c.asMIMService(c.demoteInput()), adds, "Domain Admins"},
		"weak local password":    {with("local_admin_password", "short"), adds, "LocalAdministratorPassword"},
		"empty local password":   {with("local_admin_password", ""), adds, "LocalAdministratorPassword"},
		"two classes only":       {with("local_admin_password", "alllowercase123"), adds, "LocalAdministratorPassword"},
	})
	if !c.isDC(model.Spare1) {
		t.Fatal("a refused demotion demoted spare1")
	}
	if _, ok := c.localAdmin(model.Spare1); ok {
		t.Fatal("a refused demotion set the local Administrator password")
	}
}

func TestADPromoteChecksParameters(t *testing.T) {
	c := newADCase(t)
	_ = c.env.Do(func(e *model.Env) error {
		e.Host(model.Spare1).WriteFile(`D:\IFM\Active Directory\ntds.dit`, []byte("ifm"))
		return nil
	})
	with := func(k string, v any) map[string]any { return edited(c.promoteInput(), k, v) }
	const adds = "Microsoft.DirectoryServices.Deployment.DCPromoExecutionException"
	c.refuses(t, adInstallDC, map[string]refusal{
		"missing field":    {with("sysvol_path", absent), "System.Management.Automation.PropertyNotFoundException", "'sysvol_path' cannot be found"},
		"unknown domain":   {with("domain_name", "nowhere.test"), adds, "could not be contacted"},
		"netbios domain":   {with("domain_name", "PRIV"), adds, "could not be contacted"},
		"other forest":     {with("domain_name", model.CorpDomainDNS), adds, "is a member of the domain priv.contoso.test"},
		"wrong password":   {with("admin_password", "nope"), adds, "user name or password is incorrect"},
		"not domain admin": {c.asMIMService(c.promoteInput()), adds, "Domain Admins"},
		"weak dsrm":        {with("safe_mode_password", "password"), adds, "SafeModeAdministratorPassword"},
		"unknown site":     {with("site_name", "Nowhere"), adds, `site "Nowhere" could not be found`},
		"unc database":     {with("database_path", `\\fs\ntds`), adds, "local fixed disk"},
		"no ifm":           {with("installation_media_path", `D:\Nothing`), adds, "installation media"},
		"source not a dc":  {with("replication_source_dc", model.App1), adds, "not a writable domain controller"},
	})
	if c.isDC(model.Spare1) {
		t.Fatal("a failed promotion made spare1 a DC")
	}
	in := c.promoteInput()
	in["installation_media_path"] = `D:\IFM`
	in["replication_source_dc"] = model.DC2
	in["site_name"] = "default-first-site-name"
	in["global_catalog"] = false
	if _, err := c.run(t, adInstallDC, model.Spare1, in); err != nil {
		t.Fatal(err)
	}
	_ = c.env.Do(func(e *model.Env) error {
		dc := e.Domain.DC(model.Spare1)
		if dc.GlobalCatalog || dc.Site != model.DefaultSite {
			t.Errorf("promoted DC = %+v, want no GC in %s", dc, model.DefaultSite)
		}
		return nil
	})
}

func TestADDemoteRefusals(t *testing.T) {
	c := newADCase(t)
	_, err := c.run(t, adUninstallDC, model.DC1, c.demoteInput())
	wantScriptError(t, "FSMO holder", err, "", "-DemoteOperationMasterRole")
	if !strings.Contains(err.Error(), "PDCEmulator") {
		t.Errorf("the error does not name the roles: %v", err)
	}
	if _, err := c.run(t, adUninstallDC, model.DC2, c.demoteInput()); err != nil {
		t.Fatal(err)
	}
	// DC1 is now the last DC (and still the holder): the last-DC check comes first, as on Windows.
	_, err = c.run(t, adUninstallDC, model.DC1, c.demoteInput())
	wantScriptError(t, "last DC", err, "", "-LastDomainControllerInDomain")
	if !c.isDC(model.DC1) {
		t.Fatal("a refused demotion demoted priv-dc1")
	}
	_, err = c.run(t, adUninstallDC, model.App1, c.demoteInput())
	wantScriptError(t, "member server", err, "", "not a domain controller")
}

type fakeDCBackend struct{ promoted, demoted []string }

func (f *fakeDCBackend) PromoteDC(host string, p model.PromoteParams) error {
	f.promoted = append(f.promoted, host+" "+p.DomainName+" "+p.SiteName)
	return nil
}
func (f *fakeDCBackend) DemoteDC(host string) error { f.demoted = append(f.demoted, host); return nil }

func TestADPromotionGoesToTheBackend(t *testing.T) {
	c := newADCase(t)
	b := &fakeDCBackend{}
	c.env.DCBackend = b
	if _, err := c.run(t, adInstallDC, model.Spare1, c.promoteInput()); err != nil {
		t.Fatal(err)
	}
	if c.isDC(model.Spare1) {
		t.Fatal("with a DCBackend, the model's directory changed")
	}
	if len(b.promoted) != 1 || b.promoted[0] != model.Spare1+" "+model.DomainDNS+" "+model.DefaultSite {
		t.Fatalf("backend promotions = %v", b.promoted)
	}
	// The credential is checked before the backend is asked, as Windows checks it before demoting.
	bad := c.demoteInput()
	bad["admin_password"] = "nope"
	_, err := c.run(t, adUninstallDC, model.Spare1, bad)
	wantScriptError(t, "wrong password with a backend", err, "", "user name or password is incorrect")
	if len(b.demoted) != 0 {
		t.Fatalf("a refused demotion reached the backend: %v", b.demoted)
	}
	if _, err := c.run(t, adUninstallDC, model.Spare1, c.demoteInput()); err != nil {
		t.Fatal(err)
	}
	if len(b.demoted) != 1 || b.demoted[0] != model.Spare1 {
		t.Fatalf("backend demotions = %v", b.demoted)
	}
}
