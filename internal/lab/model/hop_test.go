package model

import (
	"errors"
	"strings"
	"testing"
)

func TestReach(t *testing.T) {
	e, s := NewDefault(Seed{WithSQL: true})
	network := e.NTLMCandidates(App3, DomainNB, "Administrator")[0].Identity
	batch, err := e.BatchLogon(App3, AdminUser, s.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	explicit := Identity{Account: "priv\\administrator", Kind: AccountDomain, Logon: LogonExplicit}
	localBatch, err := e.BatchLogon(App3, "Administrator", s.LocalAdminPassword)
	if err != nil || localBatch.Kind != AccountLocal {
		t.Fatalf("local batch logon: %+v %v", localBatch, err)
	}
	cases := []struct {
		name string
		from string
		who  Identity
		to   Hop
		msg  string // "" = allowed
		code int
	}{
		{"sql from a network logon", App3, network, Hop{Kind: HopSQL, Target: SQLNetwork}, `Login failed for user 'NT AUTHORITY\ANONYMOUS LOGON'.`, 18456},
		{"sql from a batch logon", App3, batch, Hop{Kind: HopSQL, Target: SQLNetwork}, "", 0},
		{"sql on the owner node itself", App1, network, Hop{Kind: HopSQL, Target: SQLNetwork}, "", 0},
		{"sql from a local account's batch logon", App3, localBatch, Hop{Kind: HopSQL, Target: SQLNetwork}, `Login failed for user 'priv-app3\administrator'.`, 18456},
		{"directory on a DC from a member", App3, network, Hop{Kind: HopDirectory, Target: DC1}, "An operations error occurred.", 8224},
		{"directory on the DC itself", DC1, network, Hop{Kind: HopDirectory, Target: DC1}, "", 0},
		{"directory with an explicit credential", App3, explicit, Hop{Kind: HopDirectory, Target: DC1}, "", 0},
		{"adws from a network logon", App3, network, Hop{Kind: HopADWS, Target: DC2}, "Unable to contact the server. This may be because this server does not exist, it is currently down, or it does not have the Active Directory Web Services running.", 0},
		{"cluster from a network logon", App3, network, Hop{Kind: HopCluster, Target: App1}, "The WMI service is not running on the cluster node.", CodeClusterWMI},
		{"cluster from a batch logon", App3, batch, Hop{Kind: HopCluster, Target: App1}, "", 0},
		{"share from a network logon", App3, network, Hop{Kind: HopShare, Path: `\\priv-app1\media\mim.msi`}, `Access to the path '\\priv-app1\media\mim.msi' is denied.`, 5},
		{"share on an unknown server", App3, batch, Hop{Kind: HopShare, Path: `\\nowhere\media\mim.msi`}, "The network path was not found.", 53},
		// LSA RPC to the CORP PDC (pam_trust_settings): the WinRM session's
		// network logon reaches it as ANONYMOUS LOGON; a NEW_CREDENTIALS
		// logon for the CORP account is an explicit credential.
		{"lsa to CORP's PDC from a network logon", App1, network, Hop{Kind: HopLSA, Target: CorpDC1}, "Access is denied.", 5},
		{"lsa to CORP's PDC with NEW_CREDENTIALS", App1, NewCredentials(CorpAdminUser), Hop{Kind: HopLSA, Target: CorpDC1}, "", 0},
	}
	_ = e.Do(func(e *Env) error {
		for _, tc := range cases {
			err := e.Reach(e.Host(tc.from), tc.who, tc.to)
			if tc.msg == "" {
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
				continue
			}
			var he *HopError
			if !errors.As(err, &he) || he.Message != tc.msg || he.Code != tc.code {
				t.Errorf("%s: got %#v, want %q (%d)", tc.name, err, tc.msg, tc.code)
			}
		}
		return nil
	})
}

func TestReachDelegation(t *testing.T) {
	e, _ := NewDefault(Seed{WithSQL: true})
	network := e.NTLMCandidates(App3, DomainNB, "Administrator")[0].Identity
	reach := func() error {
		var err error
		_ = e.Do(func(e *Env) error {
			err = e.Reach(e.Host(App3), network, Hop{Kind: HopDirectory, Target: DC1})
			return nil
		})
		return err
	}
	if reach() == nil {
		t.Fatal("network logon reached DC1 without delegation")
	}
	e.AllowDelegation(DC2, App3) // another target: no help
	if reach() == nil {
		t.Fatal("delegation to DC2 let the hop reach DC1")
	}
	e.AllowDelegation(DC1, App3)
	if err := reach(); err != nil {
		t.Fatalf("RBCD on DC1 from App3: %v", err)
	}
}

func TestBatchLogon(t *testing.T) {
	e, s := NewDefault(Seed{})
	if _, err := e.BatchLogon(App3, AdminUser, "wrong"); !errors.Is(err, ErrLogonFailure) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := e.BatchLogon(DC1, "Administrator", s.LocalAdminPassword); !errors.Is(err, ErrLogonFailure) {
		t.Errorf("local account on a DC: %v", err)
	}
	id, err := e.BatchLogon(DC1, AdminUser, s.AdminPassword)
	if err != nil || id.Logon != LogonBatch || id.Kind != AccountDomain {
		t.Errorf("domain admin on DC1: %+v %v", id, err)
	}
}

func TestReadPath(t *testing.T) {
	e, s := NewDefault(Seed{})
	network := e.NTLMCandidates(App3, DomainNB, "Administrator")[0].Identity
	batch, _ := e.BatchLogon(App3, AdminUser, s.AdminPassword)
	const unc = `\\priv-app1\media\mim.msi`
	_ = e.Do(func(e *Env) error {
		e.Host(App1).WriteFile(unc, []byte("msi"))
		if _, err := e.ReadPath(e.Host(App3), network, unc); err == nil {
			t.Error("network logon read a UNC path")
		}
		if b, err := e.ReadPath(e.Host(App3), batch, unc); err != nil || string(b) != "msi" {
			t.Errorf("batch logon: %q %v", b, err)
		}
		if _, err := e.ReadPath(e.Host(App3), batch, `\\priv-app1\media\other.msi`); !IsFileNotFound(err) {
			t.Errorf("missing file: %v", err)
		}
		return nil
	})
}

// The file server's share holds every topology's installation media; a step
// reaches it only with a logon that can hop, and the MIM installer opens a
// package there once the step got through.
func TestInstallShare(t *testing.T) {
	for _, topology := range []string{"", TopologyBastion, TopologyBastionMultiSite} {
		e, s := NewDefault(Seed{WithSQL: true, Topology: topology})
		network := e.NTLMCandidates(App1, DomainNB, "Administrator")[0].Identity
		batch, err := e.BatchLogon(App1, AdminUser, s.AdminPassword)
		if err != nil {
			t.Fatal(err)
		}
		_ = e.Do(func(e *Env) error {
			app1 := e.Host(App1)
			if _, err := e.ReadPath(app1, network, ShareMIMMSIPath); err == nil {
				t.Errorf("%q: network logon read %s", topology, ShareMIMMSIPath)
			}
			for path, want := range map[string]string{
				ShareMIMMSIPath:             "simulated MSI",
				ShareSQL2019 + `\setup.exe`: string(SQLMedia(SQL2019Version)),
				ShareSQL2022 + `\setup.exe`: string(SQLMedia(SQL2022Version)),
			} {
				if b, err := e.ReadPath(app1, batch, path); err != nil || string(b) != want {
					t.Errorf("%q: batch logon read %s: %q, %v", topology, path, b, err)
				}
			}
			if _, reason, _ := e.RunMIMInstaller(app1, ShareMIMMSIPath, nil); strings.Contains(reason, "could not be opened") {
				t.Errorf("%q: the installer did not open the package on the share: %s", topology, reason)
			}
			if _, reason, _ := e.RunMIMInstaller(app1, InstallShare+`\MIM\missing.msi`, nil); !strings.Contains(reason, "could not be opened") {
				t.Errorf("%q: a package missing from the share: %q", topology, reason)
			}
			return nil
		})
	}
}

func TestIsDomainAdmin(t *testing.T) {
	e, _ := NewDefault(Seed{})
	d := e.Domain
	if !d.IsDomainAdmin("administrator") || d.IsDomainAdmin("dc-builder") {
		t.Fatal("the seeded domain's only domain admin is Administrator")
	}
	d.Groups = map[string][]string{DomainAdminsGroup: {"dc-builder"}, "SQL Admins": {"svc-sql"}}
	if !d.IsDomainAdmin("DC-Builder") || d.IsDomainAdmin("svc-sql") {
		t.Error("Domain Admins members: want dc-builder only")
	}
}
