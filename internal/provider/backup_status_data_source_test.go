package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

func backupHCL(maxAge int) string {
	if maxAge == 0 {
		return "data \"bastion_backup_status\" \"b\" {}\n"
	}
	return fmt.Sprintf("data \"bastion_backup_status\" \"b\" {\n  max_age_days = %d\n}\n", maxAge)
}

// backupsOf is the data source's backups list from the state.
func backupsOf(s *terraform.State) []map[string]string {
	a := s.RootModule().Resources["data.bastion_backup_status.b"].Primary.Attributes
	var out []map[string]string
	for i := 0; ; i++ {
		p := fmt.Sprintf("backups.%d.", i)
		if _, ok := a[p+"naming_context"]; !ok {
			return out
		}
		m := map[string]string{}
		for k, v := range a {
			if strings.HasPrefix(k, p) {
				m[strings.TrimPrefix(k, p)] = v
			}
		}
		out = append(out, m)
	}
}

func TestAccBackupStatusDataSource(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	ds := "data.bastion_backup_status.b"
	now := time.Now().UTC().Truncate(time.Second)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{ // the seeded lab: priv-dc2 was backed up last, so the holder priv-dc1 has no recorded backup
				Config: l.ProviderHCL() + backupHCL(0),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("tombstone_lifetime_days"), knownvalue.Int64Exact(model.SeedTombstoneLifetimeDays)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("tombstone_lifetime_set"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("threshold_days"), knownvalue.Int64Exact(model.SeedTombstoneLifetimeDays)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups"), knownvalue.ListSizeExact(5)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("ok"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("warnings"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringRegexp(regexp.MustCompile(`^priv-dc1\.priv\.contoso\.test holds the FSMO roles SchemaMaster, DomainNamingMaster, PDCEmulator, RIDMaster, InfrastructureMaster, but the directory records no backup of it younger than the tombstone lifetime of 180 days`)),
					})),
				},
				Check: func(s *terraform.State) error {
					var want time.Time
					_ = l.Env.Do(func(e *model.Env) error { _, want, _, _ = e.Domain.LastBackup(adnames.NCDomain); return nil })
					for _, b := range backupsOf(s) {
						if b["dc"] != model.DC1 || b["backed_up"] != "true" || b["backed_up_dc"] != model.DC2 || b["stale"] != "false" ||
							b["last_backup"] != want.Format(time.RFC3339) || b["age_hours"] != "2" || b["age_days"] != "0" {
							return fmt.Errorf("backup entry %v, want read on %s, backed up on %s at %s, 2 hours old", b, model.DC1, model.DC2, want.Format(time.RFC3339))
						}
					}
					return nil
				},
			},
			{ // back up the FSMO holder: all is well
				PreConfig: func() {
					if err := l.Env.RecordBackup(model.DC1, now.Add(-30*time.Minute)); err != nil {
						t.Fatal(err)
					}
				},
				Config: l.ProviderHCL() + backupHCL(0),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("ok"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("warnings"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups").AtSliceIndex(0).AtMapKey("backed_up_dc"), knownvalue.StringExact(model.DC1)),
				},
			},
			{ // tombstoneLifetime unset (60 days) and the only backup 70 days old: stale, and the holder is not covered
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { e.Domain.TombstoneLifetimeDays = 0; return nil })
					for _, h := range []string{model.DC1, model.DC2} {
						if err := l.Env.ClearBackups(h); err != nil {
							t.Fatal(err)
						}
					}
					if err := l.Env.RecordBackup(model.DC1, now.Add(-70*24*time.Hour)); err != nil {
						t.Fatal(err)
					}
				},
				Config: l.ProviderHCL() + backupHCL(0),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("tombstone_lifetime_days"), knownvalue.Int64Exact(directory.DefaultTombstoneLifetimeDays)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("tombstone_lifetime_set"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups").AtSliceIndex(0).AtMapKey("stale"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups").AtSliceIndex(0).AtMapKey("age_days"), knownvalue.Int64Exact(70)),
					// Five naming contexts too old, and the holder.
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("warnings"), knownvalue.ListSizeExact(6)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("warnings").AtSliceIndex(0),
						knownvalue.StringRegexp(regexp.MustCompile(`^The last backup of the Domain naming context \(DC=priv,DC=contoso,DC=test\) was taken on priv-dc1\.priv\.contoso\.test .* 70 days ago: not younger than the tombstone lifetime of 60 days \(tombstoneLifetime is unset: the default\)`))),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("warnings").AtSliceIndex(5),
						knownvalue.StringRegexp(regexp.MustCompile(`^priv-dc1\.priv\.contoso\.test holds the FSMO roles .* no backup of it younger than the tombstone lifetime of 60 days`))),
				},
			},
			{ // a 10-day-old backup is fresh for the tombstone lifetime but stale for max_age_days = 7
				PreConfig: func() {
					if err := l.Env.RecordBackup(model.DC1, now.Add(-10*24*time.Hour)); err != nil {
						t.Fatal(err)
					}
				},
				Config: l.ProviderHCL() + backupHCL(7),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("threshold_days"), knownvalue.Int64Exact(7)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups").AtSliceIndex(0).AtMapKey("stale"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("warnings").AtSliceIndex(0), knownvalue.StringRegexp(regexp.MustCompile(`10 days ago: not younger than max_age_days \(7 days\)`))),
				},
			},
			{
				Config: l.ProviderHCL() + backupHCL(0),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("ok"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backup_stamps_found"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups").AtSliceIndex(0).AtMapKey("stale"), knownvalue.Bool(false)),
				},
			},
			{ // never backed up
				PreConfig: func() {
					for _, h := range []string{model.DC1, model.DC2} {
						if err := l.Env.ClearBackups(h); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config: l.ProviderHCL() + backupHCL(0),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups").AtSliceIndex(0).AtMapKey("backed_up"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups").AtSliceIndex(0).AtMapKey("last_backup"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backups").AtSliceIndex(0).AtMapKey("stale"), knownvalue.Bool(true)),
					// One plain warning, not one per naming context and holder.
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("backup_stamps_found"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("warnings"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringRegexp(regexp.MustCompile(`^No naming context \(Domain, Configuration, Schema, DomainDnsZones, ForestDnsZones\) on .* carries a backup stamp .*: the directory records no backup at all\. .*samba-tool domain backup do not.* Back up the system state of every FSMO role holder \(`)),
					})),
				},
			},
		},
	})
}

func TestJudgeBackups(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	holder := func(h string) directory.FSMOHolder { return directory.FSMOHolder{Host: h} }
	roles := directory.FSMORoles{
		adnames.SchemaMaster: holder("dc1.x.test"), adnames.DomainNamingMaster: holder("dc1.x.test"),
		adnames.PDCEmulator: holder("DC2.x.test"), adnames.RIDMaster: holder("dc2.x.test"),
		adnames.InfrastructureMaster: {NTDSSettingsDN: "CN=NTDS Settings\\0ADEL:...,CN=gone"},
	}
	stamp := func(dc, nc, by string, age time.Duration) directory.NCBackup {
		return directory.NCBackup{DC: dc, NamingContext: nc, DN: nc + "-dn", Backed: true, LastBackup: now.Add(-age), OriginatingDC: by}
	}
	report := &directory.BackupReport{
		Backups: []directory.NCBackup{
			stamp("dc1.x.test", adnames.NCDomain, "dc2.x.test", 3*time.Hour),
			stamp("dc1.x.test", adnames.NCConfiguration, "dc1.x.test", 59*24*time.Hour),
			{DC: "dc1.x.test", NamingContext: adnames.NCSchema, DN: "schema-dn"},
		},
		Unreadable: map[string]error{"dc3.x.test": fmt.Errorf("connection refused")},
	}
	tomb := directory.TombstoneLifetime{Days: 60}
	j := judgeBackups(report, tomb, roles, 0, now)
	if j.thresholdDays != 60 {
		t.Fatalf("threshold %d", j.thresholdDays)
	}
	var stale []bool
	for _, b := range j.backups {
		stale = append(stale, b.stale)
	}
	if fmt.Sprint(stale) != "[false false true]" {
		t.Fatalf("stale = %v", stale)
	}
	var summaries []string
	for _, w := range j.warnings {
		summaries = append(summaries, w.summary)
	}
	// dc3 unreadable; Schema never backed up; holders dc1 (59 days < 60) and DC2 (3 hours) covered.
	if got := strings.Join(summaries, "|"); got != "Backup Metadata Not Read|Active Directory Never Backed Up" {
		t.Fatalf("warnings = %s", got)
	}

	if !j.stampsFound {
		t.Fatal("stampsFound false with two stamps")
	}

	// No stamp anywhere: one warning naming it plainly, instead of one per naming context and holder.
	bare := &directory.BackupReport{Backups: []directory.NCBackup{
		{DC: "dc1.x.test", NamingContext: adnames.NCDomain, DN: "d"}, {DC: "dc1.x.test", NamingContext: adnames.NCSchema, DN: "s"},
		{DC: "DC2.x.test", NamingContext: adnames.NCDomain, DN: "d"},
	}}
	nj := judgeBackups(bare, tomb, roles, 0, now)
	if nj.stampsFound || len(nj.warnings) != 1 || nj.warnings[0].summary != "No Backup Recorded In The Directory" {
		t.Fatalf("no stamps: found %t, warnings %+v", nj.stampsFound, nj.warnings)
	}
	if w := nj.warnings[0].text; !strings.Contains(w, "No naming context (Domain, Schema) on dc1.x.test, DC2.x.test carries") ||
		!strings.Contains(w, "every FSMO role holder (dc1.x.test, DC2.x.test)") {
		t.Fatalf("no stamps: %s", w)
	}
	// No naming context read at all (every DC unreadable) is not "no stamps".
	if ej := judgeBackups(&directory.BackupReport{Unreadable: report.Unreadable}, tomb, roles, 0, now); len(ej.warnings) == 0 || ej.warnings[0].summary != "Backup Metadata Not Read" {
		t.Fatalf("unreadable only: %+v", ej.warnings)
	}

	// With max_age_days = 30, dc1's 59-day-old backup is stale and dc1 is no longer covered.
	j = judgeBackups(report, tomb, roles, 30, now)
	if j.thresholdDays != 30 || !j.backups[1].stale {
		t.Fatalf("threshold %d, configuration stale %t", j.thresholdDays, j.backups[1].stale)
	}
	last := j.warnings[len(j.warnings)-1]
	if last.summary != "FSMO Role Holder Without Recent Backup" || !strings.HasPrefix(last.text, "dc1.x.test holds the FSMO roles SchemaMaster, DomainNamingMaster, but") ||
		!strings.Contains(last.text, "max_age_days (30 days)") {
		t.Fatalf("last warning = %+v", last)
	}
	// max_age_days above the tombstone lifetime does not loosen it.
	if j = judgeBackups(report, tomb, roles, 90, now); j.thresholdDays != 60 {
		t.Fatalf("threshold %d with max_age_days 90", j.thresholdDays)
	}
}
