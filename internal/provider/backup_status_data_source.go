package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

var (
	_ datasource.DataSource              = &backupStatusDataSource{}
	_ datasource.DataSourceWithConfigure = &backupStatusDataSource{}
)

// NewBackupStatusDataSource is the bastion_backup_status data source.
func NewBackupStatusDataSource() datasource.DataSource { return &backupStatusDataSource{} }

type backupStatusDataSource struct {
	configuredDataSource
}

type backupStatusDataSourceModel struct {
	MaxAgeDays            types.Int64 `tfsdk:"max_age_days"`
	TombstoneLifetimeDays types.Int64 `tfsdk:"tombstone_lifetime_days"`
	TombstoneLifetimeSet  types.Bool  `tfsdk:"tombstone_lifetime_set"`
	ThresholdDays         types.Int64 `tfsdk:"threshold_days"`
	Backups               types.List  `tfsdk:"backups"`
	StampsFound           types.Bool  `tfsdk:"backup_stamps_found"`
	Warnings              types.List  `tfsdk:"warnings"`
	OK                    types.Bool  `tfsdk:"ok"`
}

var backupAttrTypes = map[string]attr.Type{
	"dc":                        types.StringType,
	"naming_context":            types.StringType,
	"dn":                        types.StringType,
	"backed_up":                 types.BoolType,
	"last_backup":               types.StringType,
	"age_hours":                 types.Int64Type,
	"age_days":                  types.Int64Type,
	"backed_up_dc":              types.StringType,
	"originating_invocation_id": types.StringType,
	"stale":                     types.BoolType,
}

func (d *backupStatusDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup_status"
}

func (d *backupStatusDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "How fresh the Active Directory backups are (*Back up and restore Active Directory*): a backup older than the tombstone lifetime cannot be restored, and every DC holding FSMO roles must be backed up. " +
			"A backup writes `dSASignature` on each naming context head as an originating change of the DC backed up; its replication metadata (parsed from `replPropertyMetaData`, " +
			"which Samba has too) gives the time and the DC, as `repadmin /showbackup` and PingCastle's A-BackupMetadata read them. The stamp replicates, so the directory keeps " +
			"**only the latest backup of each naming context**, whichever DC it was taken on.\n\n" +
			"**Where the stamp comes from.** Microsoft's schema reference defines `dSASignature` (DSA-Signature) as the `invocationId` of the directory that last " +
			"modified it; a system state backup of a DC writes it on every naming context head the DC holds, through the Active Directory VSS writer: Windows Server Backup " +
			"(`wbadmin start systemstatebackup`) and backup products that use that writer. A copy of the DC's disk taken without it (a hypervisor snapshot without " +
			"application-consistent backup, a file copy of `ntds.dit`) leaves no stamp, and neither does Samba's `samba-tool domain backup`: a Samba domain backed up that " +
			"way still reads as never backed up. When no naming context carries a stamp at all, `backup_stamps_found` is `false` and a single warning says so " +
			"plainly instead of one per naming context.\n\n" +
			"LDAP only: the tombstone lifetime, the FSMO holders and, on the pinned DC (each DC when none is pinned), the stamp of every naming context it holds. " +
			"Each problem is in `warnings` and raised as a warning diagnostic: a naming context whose last backup is stale, and an FSMO holder with no recorded backup " +
			"younger than the threshold.",
		Attributes: map[string]schema.Attribute{
			"max_age_days": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "A stricter limit than the tombstone lifetime, in days, e.g. `7` (PingCastle warns after 7 days). " +
					"A backup this old or older is stale. Unset: the tombstone lifetime is the limit.",
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"tombstone_lifetime_days": schema.Int64Attribute{Computed: true, MarkdownDescription: "`tombstoneLifetime` on `CN=Directory Service`, or 60 when it is unset (Microsoft's default for old forests; forests created since Windows Server 2003 SP1 get 180)."},
			"tombstone_lifetime_set":  schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether `tombstoneLifetime` is set (`false`: the 60-day default applies)."},
			"threshold_days":          schema.Int64Attribute{Computed: true, MarkdownDescription: "The limit `stale` uses: `max_age_days` when set and smaller, else the tombstone lifetime."},
			"backups": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "One entry per DC read and naming context it holds (Domain, Configuration, Schema, DomainDnsZones, ForestDnsZones).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"dc":                        schema.StringAttribute{Computed: true, MarkdownDescription: "The DC whose replica was read."},
					"naming_context":            schema.StringAttribute{Computed: true, MarkdownDescription: "`Domain`, `Configuration`, `Schema`, `DomainDnsZones` or `ForestDnsZones`."},
					"dn":                        schema.StringAttribute{Computed: true, MarkdownDescription: "DN of the naming context head."},
					"backed_up":                 schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether any backup of it is recorded."},
					"last_backup":               schema.StringAttribute{Computed: true, MarkdownDescription: "Time of the last backup (RFC 3339, UTC, 1-second resolution); null when never backed up."},
					"age_hours":                 schema.Int64Attribute{Computed: true, MarkdownDescription: "Whole hours since the last backup; null when never backed up."},
					"age_days":                  schema.Int64Attribute{Computed: true, MarkdownDescription: "Whole days since the last backup; null when never backed up."},
					"backed_up_dc":              schema.StringAttribute{Computed: true, MarkdownDescription: "The DC that was backed up (the stamp's originating DSA); empty when that DSA is no longer a DC."},
					"originating_invocation_id": schema.StringAttribute{Computed: true, MarkdownDescription: "`invocationId` of the DSA that was backed up."},
					"stale":                     schema.BoolAttribute{Computed: true, MarkdownDescription: "Never backed up, or the last backup is `threshold_days` old or older."},
				}},
			},
			"backup_stamps_found": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether any naming context on any DC read carries a backup stamp (`dSASignature` in its " +
				"replication metadata). `false`: the directory records no backup of any kind, either because none was ever taken or because the backups in use do not " +
				"write the stamp (see above); backups this data source cannot see may still exist."},
			"warnings": schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Every problem found, one sentence each; empty when all is well."},
			"ok":       schema.BoolAttribute{Computed: true, MarkdownDescription: "`true` when `warnings` is empty: use it in a `check` block or a precondition."},
		},
	}
}

func (d *backupStatusDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m backupStatusDataSourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Config, &m)) || d.data == nil || !d.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	ctx = d.data.logCtx(ctx)
	inv, err := d.data.dir.Inventory(ctx)
	roles := inv.Roles
	if err != nil {
		report(&resp.Diagnostics, failure{"Backup Status Not Read", "", viaLDAP, "reading the FSMO role holders"}, err)
		return
	}
	backups, err := d.data.dir.BackupStatus(ctx)
	if err != nil {
		report(&resp.Diagnostics, failure{"Backup Status Not Read", "", viaLDAP, "reading the backup metadata (dSASignature)"}, err)
		return
	}
	// The backup read brings the tombstone lifetime along; only when its
	// DC could not give it is it read apart.
	tomb := backups.Tombstone
	if !backups.TombstoneRead {
		if tomb, err = d.data.dir.TombstoneLifetime(ctx); err != nil {
			report(&resp.Diagnostics, failure{"Backup Status Not Read", "", viaLDAP, "reading the tombstone lifetime"}, err)
			return
		}
	}
	maxAge := 0
	if !m.MaxAgeDays.IsNull() && !m.MaxAgeDays.IsUnknown() {
		maxAge = int(m.MaxAgeDays.ValueInt64())
	}
	judged := judgeBackups(backups, tomb, roles, maxAge, time.Now().UTC())

	m.TombstoneLifetimeDays = types.Int64Value(int64(tomb.Days))
	m.TombstoneLifetimeSet = types.BoolValue(tomb.Set)
	m.ThresholdDays = types.Int64Value(int64(judged.thresholdDays))
	var items []attr.Value
	for _, b := range judged.backups {
		v := map[string]attr.Value{
			"dc": types.StringValue(b.DC), "naming_context": types.StringValue(b.NamingContext), "dn": types.StringValue(b.DN),
			"backed_up": types.BoolValue(b.Backed), "backed_up_dc": types.StringValue(b.OriginatingDC),
			"originating_invocation_id": types.StringValue(b.OriginatingInvocationID), "stale": types.BoolValue(b.stale),
			"last_backup": types.StringNull(), "age_hours": types.Int64Null(), "age_days": types.Int64Null(),
		}
		if b.Backed {
			v["last_backup"] = types.StringValue(b.LastBackup.UTC().Format(time.RFC3339))
			v["age_hours"] = types.Int64Value(int64(b.age.Hours()))
			v["age_days"] = types.Int64Value(int64(b.age.Hours() / 24))
		}
		obj, diags := types.ObjectValue(backupAttrTypes, v)
		resp.Diagnostics.Append(diags...)
		items = append(items, obj)
	}
	list, diags := types.ListValue(types.ObjectType{AttrTypes: backupAttrTypes}, items)
	resp.Diagnostics.Append(diags...)
	m.Backups = list
	m.StampsFound = types.BoolValue(judged.stampsFound)
	var warnings []attr.Value
	for _, w := range judged.warnings {
		warnings = append(warnings, types.StringValue(w.text))
		resp.Diagnostics.AddWarning(w.summary, w.text)
	}
	m.Warnings, diags = types.ListValue(types.StringType, warnings)
	resp.Diagnostics.Append(diags...)
	m.OK = types.BoolValue(len(warnings) == 0)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// judgedBackup is one NC stamp with its age and verdict.
type judgedBackup struct {
	directory.NCBackup
	age   time.Duration
	stale bool
}

type backupWarning struct{ summary, text string }

type backupJudgement struct {
	thresholdDays int
	backups       []judgedBackup
	warnings      []backupWarning
	// stampsFound: some naming context on some DC read carries a stamp.
	stampsFound bool
}

// judgeBackups ages every stamp against the threshold (the tombstone
// lifetime, or maxAgeDays when set and smaller) and lists the problems:
// unreadable DCs, naming contexts whose latest backup is stale, and FSMO
// holders with no recorded backup younger than the threshold (*Back up and restore Active Directory*:
// "make sure all the ones holding the FSMO roles are backed up").
func judgeBackups(report *directory.BackupReport, tomb directory.TombstoneLifetime, roles directory.FSMORoles, maxAgeDays int, now time.Time) backupJudgement {
	j := backupJudgement{thresholdDays: tomb.Days}
	limitName := fmt.Sprintf("the tombstone lifetime of %d days", tomb.Days)
	if !tomb.Set {
		limitName = fmt.Sprintf("the tombstone lifetime of %d days (tombstoneLifetime is unset: the default)", tomb.Days)
	}
	if maxAgeDays > 0 && maxAgeDays < tomb.Days {
		j.thresholdDays = maxAgeDays
		limitName = fmt.Sprintf("max_age_days (%d days)", maxAgeDays)
	}
	limit := time.Duration(j.thresholdDays) * 24 * time.Hour
	for _, b := range report.Backups {
		jb := judgedBackup{NCBackup: b, stale: !b.Backed}
		if b.Backed {
			jb.age = now.Sub(b.LastBackup)
			jb.stale = jb.age >= limit
		}
		j.backups = append(j.backups, jb)
		j.stampsFound = j.stampsFound || b.Backed
	}
	for _, dc := range slices.Sorted(maps.Keys(report.Unreadable)) {
		j.warnings = append(j.warnings, backupWarning{"Backup Metadata Not Read",
			fmt.Sprintf("The backup metadata of %s could not be read over LDAP: %v.", dc, report.Unreadable[dc])})
	}
	if !j.stampsFound && len(report.Backups) > 0 {
		j.warnings = append(j.warnings, noStampsWarning(report, roles))
		return j
	}
	latest := report.Latest()
	for _, nc := range []string{adnames.NCDomain, adnames.NCConfiguration, adnames.NCSchema, adnames.NCDomainDNSZones, adnames.NCForestDNSZones} {
		b, ok := latest[nc]
		switch {
		case !ok:
		case !b.Backed:
			j.warnings = append(j.warnings, backupWarning{"Active Directory Never Backed Up",
				fmt.Sprintf("The %s naming context (%s) has never been backed up on any DC: back up a DC's system state (*Back up and restore Active Directory*: back up at least one DC, and every FSMO holder).", nc, b.DN)})
		case now.Sub(b.LastBackup) >= limit:
			j.warnings = append(j.warnings, backupWarning{"Active Directory Backup Too Old",
				fmt.Sprintf("The last backup of the %s naming context (%s) was taken on %s at %s, %d days ago: not younger than %s. "+
					"A backup older than the tombstone lifetime cannot be restored; back up a DC's system state now.",
					nc, b.DN, orUnknownDC(b.OriginatingDC), b.LastBackup.UTC().Format(time.RFC3339), int(now.Sub(b.LastBackup).Hours()/24), limitName)})
		}
	}
	held := map[string][]string{}
	var holders []string
	for _, role := range adnames.FSMORoles() {
		h := roles[role].Host
		if h == "" {
			continue
		}
		if _, seen := held[adnames.HostKey(h)]; !seen {
			holders = append(holders, h)
		}
		held[adnames.HostKey(h)] = append(held[adnames.HostKey(h)], role)
	}
	for _, h := range holders {
		fresh := false
		for _, b := range j.backups {
			fresh = fresh || (b.Backed && !b.stale && adnames.HostKey(b.OriginatingDC) == adnames.HostKey(h))
		}
		if fresh {
			continue
		}
		var newest []string
		for _, nc := range slices.Sorted(maps.Keys(latest)) {
			if b := latest[nc]; b.Backed {
				newest = append(newest, fmt.Sprintf("%s on %s at %s", nc, orUnknownDC(b.OriginatingDC), b.LastBackup.UTC().Format(time.RFC3339)))
			}
		}
		recorded := "no backup at all is recorded"
		if len(newest) > 0 {
			recorded = "the latest backups recorded are " + strings.Join(newest, ", ")
		}
		j.warnings = append(j.warnings, backupWarning{"FSMO Role Holder Without Recent Backup",
			fmt.Sprintf("%s holds the FSMO roles %s, but the directory records no backup of it younger than %s (%s). *Back up and restore Active Directory*: \"make sure all the ones holding the FSMO roles are backed up\". "+
				"The directory keeps only the latest backup of each naming context, whichever DC it was taken on, so back up %s now (or last).",
				h, strings.Join(held[adnames.HostKey(h)], ", "), limitName, recorded, h)})
	}
	return j
}

// noStampsWarning says in one warning that the directory records no backup at
// all, rather than one "never backed up" per naming context and FSMO holder.
func noStampsWarning(report *directory.BackupReport, roles directory.FSMORoles) backupWarning {
	var dcs, ncs []string
	seenDC, seenNC := map[string]bool{}, map[string]bool{}
	for _, b := range report.Backups {
		if !seenDC[adnames.HostKey(b.DC)] {
			seenDC[adnames.HostKey(b.DC)] = true
			dcs = append(dcs, b.DC)
		}
		if !seenNC[b.NamingContext] {
			seenNC[b.NamingContext] = true
			ncs = append(ncs, b.NamingContext)
		}
	}
	var holders []string
	seen := map[string]bool{}
	for _, role := range adnames.FSMORoles() {
		if h := roles[role].Host; h != "" && !seen[adnames.HostKey(h)] {
			seen[adnames.HostKey(h)] = true
			holders = append(holders, h)
		}
	}
	backUp := "a DC's system state"
	if len(holders) > 0 {
		backUp = "the system state of every FSMO role holder (" + strings.Join(holders, ", ") + ")"
	}
	return backupWarning{"No Backup Recorded In The Directory",
		fmt.Sprintf("No naming context (%s) on %s carries a backup stamp (dSASignature in its replication metadata): the directory records no backup at all. "+
			"A system state backup through the Active Directory VSS writer (Windows Server Backup, wbadmin start systemstatebackup, or a backup product using that writer) writes the stamp; "+
			"disk snapshots without that writer and Samba's samba-tool domain backup do not, so backups taken that way, if any, are invisible here and cannot be judged. "+
			"Back up %s (*Back up and restore Active Directory*).",
			strings.Join(ncs, ", "), strings.Join(dcs, ", "), backUp)}
}

func orUnknownDC(h string) string {
	if h == "" {
		return "a DC that is no longer in the directory"
	}
	return h
}
