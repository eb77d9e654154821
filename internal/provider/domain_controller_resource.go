package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                     = &domainControllerResource{}
	_ resource.ResourceWithConfigure        = &domainControllerResource{}
	_ resource.ResourceWithImportState      = &domainControllerResource{}
	_ resource.ResourceWithConfigValidators = &domainControllerResource{}
	_ resource.ResourceWithModifyPlan       = &domainControllerResource{}
)

// NewDomainControllerResource is the bastion_domain_controller resource.
func NewDomainControllerResource() resource.Resource { return &domainControllerResource{} }

type domainControllerResource struct {
	configuredResource
}

type domainControllerResourceModel struct {
	ID                    types.String          `tfsdk:"id"`
	Host                  types.String          `tfsdk:"host"`
	DomainName            caseInsensitiveString `tfsdk:"domain_name"`
	SiteName              caseInsensitiveString `tfsdk:"site_name"`
	GlobalCatalog         types.Bool            `tfsdk:"global_catalog"`
	InstallDNS            types.Bool            `tfsdk:"install_dns"`
	DatabasePath          types.String          `tfsdk:"database_path"`
	LogPath               types.String          `tfsdk:"log_path"`
	SysvolPath            types.String          `tfsdk:"sysvol_path"`
	InstallationMediaPath types.String          `tfsdk:"installation_media_path"`
	ReplicationSourceDC   types.String          `tfsdk:"replication_source_dc"`
	AdminUsername         types.String          `tfsdk:"admin_username"`
	AdminPasswordWO       types.String          `tfsdk:"admin_password_wo"`
	SafeModePasswordWO    types.String          `tfsdk:"safe_mode_password_wo"`
	SafeModePasswordWOVer types.Int64           `tfsdk:"safe_mode_password_wo_version"`
	DSRMSyncAccount       types.String          `tfsdk:"dsrm_sync_account"`
	ServerDN              types.String          `tfsdk:"server_dn"`
	NTDSSettingsDN        types.String          `tfsdk:"ntds_settings_dn"`
	InvocationID          types.String          `tfsdk:"invocation_id"`
	FSMORoles             types.List            `tfsdk:"fsmo_roles"`
	FunctionalLevel       types.Int64           `tfsdk:"functional_level"`
	ReadOnly              types.Bool            `tfsdk:"read_only"`
	Timeouts              timeouts.Value        `tfsdk:"timeouts"`
}

func (r *domainControllerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_domain_controller"
}

const dcPromotionOnlyDoc = " Used when promoting; the provider cannot read it back over LDAP (it lives in the DC's registry), so after an import the configured value is recorded as it is."

// dcPromotedKey marks, in private state, a DC this resource promoted (not
// imported): its unset promotion-time paths are Windows' defaults.
const dcPromotedKey = "promoted"

func (r *domainControllerResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An additional (replica) domain controller of the PRIV domain. *Back up and restore Active Directory*: while any DC works, recover by adding a replica, not by restoring a backup; " +
			"and any HA function needs at least two DCs (rule HA-1).\n\n" +
			"Create promotes the server over WinRM with `Install-ADDSDomainController` (installing the AD-Domain-Services feature first when it is absent), " +
			"lets it reboot, and waits, within the create timeout, until the DC's NTDS Settings object (nTDSDSA) appears in the directory. " +
			"Read uses LDAP only, on the provider's pinned DC: no PowerShell runs on a refresh. A server found no longer a DC is removed from the state, so the next plan promotes it again. " +
			"Update flips the global catalog by changing only bit 0x1 of the DC's NTDS Settings `options` (the other bits are kept). " +
			"Delete demotes the DC with `Uninstall-ADDSDomainController` and waits until its nTDSDSA is gone.\n\n" +
			"Plan-time checks (asking the directory): the plan refuses to demote the last writable DC of the domain, a DC that holds FSMO roles " +
			"(move them first with `bastion_fsmo_roles` or `Move-ADDirectoryServerOperationMasterRole`), or the DC the provider's `ldap.pinned_dc` names (point it at a DC that stays first), " +
			"whatever takes the DC down: a destroy, an attribute that requires replacement, `terraform plan -replace`, or a tainted DC. Before promoting, Create refuses a host that is already a DC (import it instead). " +
			"If the create timeout ends after `Install-ADDSDomainController` started, the promotion may or may not have completed on the host: the DC is saved as tainted " +
			"with a warning, so the next plan replaces it; check the host first with `Get-ADDomainController` and `%SYSTEMROOT%\\debug\\dcpromo.log`, and `terraform untaint` it if the promotion completed.\n\n" +
			"**Credentials.** Promotion and demotion pass an explicit domain admin credential (`-Credential`): a WinRM session cannot make the second hop to a partner DC. " +
			"The provider's WinRM account (`winrm.username` and `winrm.password`) must therefore be a domain admin of the domain: Delete demotes with it, because Terraform gives a provider " +
			"no resource configuration when it destroys one, so write-only values cannot reach the demotion. Create uses it too, unless `admin_username` and `admin_password_wo` override it. " +
			"A provider whose WinRM signs in with only a Kerberos credential cache has no password to build that credential from: the plan refuses the promotion (without the override) and the demotion. " +
			"The provider writes nothing secret to the DC's disk, the Terraform state or the plan.\n\n" +
			"**Local Administrator after demotion.** `Uninstall-ADDSDomainController` sets a new password for the server's local Administrator. Delete generates a random one " +
			"(32 characters, upper and lower case letters, digits and symbols), passes it as data, and records it nowhere: manage the account with Windows LAPS, " +
			"or reset it from a domain account (the demoted server stays a member of the domain). Delete says so in a warning.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The DC's host FQDN.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"host": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "FQDN of the server to promote, e.g. `priv-dc3.priv.contoso.com`. Changing it builds a DC on the other server (replacement: the old one is demoted).",
				Validators:          []validator.String{validators.FQDN()},
				PlanModifiers:       []planmodifier.String{dcReplaceUnlessSameText("the DC lives on one server: another host is another DC")},
			},
			"domain_name": schema.StringAttribute{
				CustomType:          caseInsensitiveStringType{},
				Required:            true,
				MarkdownDescription: "DNS name of the domain to join as a DC (`-DomainName`), e.g. `priv.contoso.com`. Changing it replaces the DC: a DC belongs to one domain for life.",
				Validators:          []validator.String{validators.DNSDomainName()},
				PlanModifiers:       []planmodifier.String{dcReplaceUnlessSameText("a DC belongs to one domain for life")},
			},
			"site_name": schema.StringAttribute{
				CustomType: caseInsensitiveStringType{},
				Optional:   true, Computed: true,
				MarkdownDescription: "Active Directory site of the DC (`-SiteName`; the site must exist). Defaults to the site Windows picks from the server's subnet, read back from the server object's place under `CN=Sites`. " +
					"Changing it replaces the DC (demote, then promote in the new site): moving a DC between sites also needs its subnet, DNS records and replication topology reconsidered, " +
					"which this resource does not do. A DC moved to another site out of band shows as a replacement in the plan.",
				Validators: []validator.String{validators.SiteName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(),
					dcReplaceUnlessSameText("moving a DC between sites is not done by this resource")},
			},
			"global_catalog": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether the DC is a global catalog. Defaults to `true` (Windows' default; `false` promotes with `-NoGlobalCatalog`). " +
					"Changed in place by flipping only bit 0x1 (NTDSDSA_OPT_IS_GC) of the NTDS Settings `options`, as a compare-and-swap that keeps every other bit.",
			},
			"install_dns": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Install the DNS Server role with the DC (`-InstallDns`). Unset lets Windows decide (it installs DNS when the domain's zones are AD-integrated). " +
					"Used only when promoting; changing it later changes nothing on the DC (the DNS Server role is added or removed with `Install-WindowsFeature DNS` " +
					"or `Uninstall-WindowsFeature DNS`, which this resource does not run), and the provider cannot read it back over LDAP.",
			},
			"database_path": dcPathAttribute("Folder of the directory database (`-DatabasePath`), on a local fixed disk. Defaults to `%SYSTEMROOT%\\NTDS`."),
			"log_path":      dcPathAttribute("Folder of the directory's log files (`-LogPath`), on a local fixed disk. Defaults to `%SYSTEMROOT%\\NTDS`."),
			"sysvol_path":   dcPathAttribute("Folder of SYSVOL (`-SysvolPath`), on a local fixed disk. Defaults to `%SYSTEMROOT%\\SYSVOL`."),
			"installation_media_path": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Install-from-media folder (`-InstallationMediaPath`, made with `ntdsutil ifm`) so the first replication comes from disk. Used only when promoting; " +
					"changing it later changes nothing on the DC.",
				Validators: []validator.String{validators.WindowsPath()},
			},
			"replication_source_dc": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "FQDN of the writable DC the first replication comes from (`-ReplicationSourceDC`). Unset: the provider's pinned DC (`ldap.pinned_dc`), when set, " +
					"so the DC the provider reads is the one the promotion writes to first. The provider verifies the promotion there, then waits for replication to the DC it reads. " +
					"Used only when promoting; changing it later changes nothing on the DC.",
				Validators: []validator.String{validators.FQDN()},
			},
			"admin_username": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Domain admin account for the promotion (`Install-ADDSDomainController -Credential`), as `DOMAIN\\name`, set together with `admin_password_wo`. " +
					"Unset: the provider's WinRM account is used (it must be a domain admin). It overrides the promotion only: the demotion always uses the provider's WinRM account " +
					"(see above). Changing it later changes nothing on the DC.",
				Validators: []validator.String{validators.WindowsAccount()},
			},
			"admin_password_wo": schema.StringAttribute{
				Optional: true, WriteOnly: true, Sensitive: true, Validators: []validator.String{validators.Password()},
				MarkdownDescription: "Password of `admin_username`, set together with it. Write-only: sent to the host as data, never stored in the state or plan, masked in logs. " +
					"Used only when promoting, so there is no `admin_password_wo_version`: once the server is a DC nothing holds this password, and a rotation has nothing to re-apply.",
			},
			"safe_mode_password_wo": schema.StringAttribute{
				Required: true, WriteOnly: true, Sensitive: true, Validators: []validator.String{validators.Password()},
				MarkdownDescription: "Directory Services Restore Mode (DSRM) administrator password (`-SafeModeAdministratorPassword` at promotion); it must meet the domain's " +
					"complexity rules. Write-only: sent as data, never stored in the state or plan, masked in logs, never on a command line. To rotate it on a running DC, " +
					"change `safe_mode_password_wo_version` (with `dsrm_sync_account` set).",
			},
			"safe_mode_password_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Any number; changing it (or setting it after an import) makes apply give the running DC the current `safe_mode_password_wo` as its DSRM " +
					"administrator password, in place, through `dsrm_sync_account`: the provider resets that account's password to it over LDAP on this DC itself " +
					"(`unicodePwd`, over LDAPS, StartTLS or a sealed Kerberos bind only), runs `ntdsutil \"set dsrm password\" \"sync from domain account <name>\" q q` " +
					"on the DC over WinRM (Microsoft: *Set DSRM Password*, Ntdsutil; Windows Server 2008 with KB 961320 and later), then resets the account's password to " +
					"a random one. Only the account's name is on a command line. The promotion sets the password directly, so a new DC needs no rotation.",
			},
			"dsrm_sync_account": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "sAMAccountName (without the domain) of the PRIV domain user that carries the DSRM password to the DC during a rotation, e.g. `svc-dsrm`. " +
					"Create it once for this purpose alone: a plain user in no group (not even a privileged one: ntdsutil needs nothing from it but its password), " +
					"with \"password never expires\" and no logon rights anywhere. The provider's LDAP account needs the *Reset Password* right on it (domain admins " +
					"have it). Between rotations its password is random. Required with `safe_mode_password_wo_version`.",
				Validators: []validator.String{validators.SyncAccount()},
			},
			"server_dn": schema.StringAttribute{
				Computed: true, MarkdownDescription: "DN of the DC's server object under `CN=Sites,CN=Configuration`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"ntds_settings_dn": schema.StringAttribute{
				Computed: true, MarkdownDescription: "DN of the DC's NTDS Settings (nTDSDSA) object: what `fSMORoleOwner` values point at.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"invocation_id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The DSA's `invocationId` (a GUID). It changes when the DC's database is restored from a backup.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"fsmo_roles": schema.ListAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "FSMO roles the DC holds, by Microsoft's names (`SchemaMaster`, `DomainNamingMaster`, `PDCEmulator`, `RIDMaster`, `InfrastructureMaster`), in that order.",
			},
			"functional_level": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "The DC's functional level (`msDS-Behavior-Version` on its nTDSDSA): 7 is Windows Server 2016 and later.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"read_only": schema.BoolAttribute{
				Computed: true, MarkdownDescription: "Whether the DC is read-only (its NTDS Settings object is an nTDSDSARO). This resource promotes writable DCs.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

const (
	dcCreateTimeout = 90 * time.Minute
	dcReadTimeout   = 5 * time.Minute
	dcUpdateTimeout = 30 * time.Minute
	dcDeleteTimeout = 60 * time.Minute
)

func (r *domainControllerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config domainControllerResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.Config, &config)) {
		return
	}
	safeMode := config.SafeModePasswordWO.ValueString()
	admin, ok := dcPromotionCredential(r.data, &config, &resp.Diagnostics)
	if !ok {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Create, dcCreateTimeout, &resp.Diagnostics, admin.Password, safeMode)
	if !ok {
		return
	}
	defer cancel()
	host := plan.Host.ValueString()
	if r.data.refuseLost(path.Root("host"), host, "No domain controller can be promoted on it: choose another host, or remove it from lost_hosts if it is back.", &resp.Diagnostics) {
		return
	}
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	if isDC, err := r.data.dir.IsDomainController(ctx, host); err != nil {
		report(&resp.Diagnostics, failure{"Domain Controller Not Promoted", "", viaLDAP, "asking the directory whether " + host + " is already a domain controller (nothing was run on it)"}, err)
		return
	} else if isDC {
		alreadyExists(&resp.Diagnostics, path.Root("host"), "Already A Domain Controller", host+" is already a domain controller", "bastion_domain_controller", host)
		return
	}

	in := ad.PromoteSpec{
		DomainName: plan.DomainName.ValueString(), AdminUsername: admin.Username,
		AdminPassword: admin.Password, SafeModePassword: safeMode,
		GlobalCatalog: plan.GlobalCatalog.ValueBool(), DatabasePath: plan.DatabasePath.ValueString(),
		LogPath: plan.LogPath.ValueString(), SysvolPath: plan.SysvolPath.ValueString(),
		InstallationMediaPath: plan.InstallationMediaPath.ValueString(), ReplicationSourceDC: plan.ReplicationSourceDC.ValueString(),
	}
	if known(plan.SiteName.StringValue) {
		in.SiteName = plan.SiteName.ValueString()
	}
	if !plan.InstallDNS.IsNull() && !plan.InstallDNS.IsUnknown() {
		v := plan.InstallDNS.ValueBool()
		in.InstallDNS = &v
	}
	if in.ReplicationSourceDC == "" && r.data.dirConfig != nil {
		in.ReplicationSourceDC = r.data.dirConfig.PinnedDC
	}
	progress := func(msg string, fields map[string]any) { tflog.Info(ctx, msg, fields) }
	tflog.Info(ctx, "promoting the server; it restarts when the promotion completes", map[string]any{"host": host, "replication_source": in.ReplicationSourceDC})
	out, err := ad.Promote(ctx, r.data.winrm, r.data.restarts, host, in, progress)
	if err != nil {
		report(&resp.Diagnostics, failure{"Domain Controller Not Promoted", host, viaWinRM, "promoting the server with Install-ADDSDomainController"}, err)
		return
	}
	lost := ""
	// The promotion changes the DC list whatever its outcome: reads after it ask again.
	defer r.data.dir.Invalidate()
	if out.ConnectionLost != nil {
		// The server restarts as the promotion completes, usually before the
		// reply is sent: the directory tells whether the promotion happened.
		lost = fmt.Sprintf(" The WinRM connection was lost before the promotion's result arrived (%v).", out.ConnectionLost)
		tflog.Info(ctx, "the WinRM connection dropped (the server restarts after a promotion); verifying on the replication source", map[string]any{
			"host": host, "replication_source": in.ReplicationSourceDC, "error": out.ConnectionLost.Error()})
	} else {
		tflog.Info(ctx, "domain controller promoted; verifying on the replication source", map[string]any{
			"host": host, "status": out.Status, "feature_installed": out.FeatureInstalled, "reboot_required": out.RebootRequired})
	}
	if err := ad.WaitForDCOn(ctx, r.data.dir, in.ReplicationSourceDC, host, true, progress); err != nil {
		reportWith(&resp.Diagnostics, failure{"Domain Controller Not Promoted", in.ReplicationSourceDC, viaLDAP,
			fmt.Sprintf("waiting for %s to appear as a domain controller (an NTDS Settings object) on its replication source %s within the create timeout", host, dcOrHome(in.ReplicationSourceDC))},
			strings.TrimSpace(lost+" Check the promotion on the server (%SYSTEMROOT%\\debug\\dcpromo.log), then apply again."), err)
		r.keepUnverified(ctx, host, req.Plan, resp)
		return
	}
	// The new DC is done when it is back from its restart and answers as a DC itself.
	if err := ad.WaitForDCOn(ctx, r.data.dir, host, host, true, progress); err != nil {
		reportWith(&resp.Diagnostics, failure{"Domain Controller Not Promoted", host, viaLDAP,
			fmt.Sprintf("waiting for the new domain controller to answer as one after its restart, within the create timeout (it is a domain controller on its replication source %s)", dcOrHome(in.ReplicationSourceDC))},
			strings.TrimSpace(lost+" Check that the server came back from its restart, then apply again."), err)
		r.keepUnverified(ctx, host, req.Plan, resp)
		return
	}
	dc, err := ad.WaitForDC(ctx, r.data.dir, host, true, progress)
	if err != nil {
		reportWith(&resp.Diagnostics, failure{"Domain Controller Not Promoted", "", viaLDAP,
			fmt.Sprintf("waiting for %s to appear as a domain controller (an NTDS Settings object) on the pinned DC within the create timeout", host)},
			strings.TrimSpace(lost+" Check the promotion on the server (%SYSTEMROOT%\\debug\\dcpromo.log), then apply again; raise the create timeout if replication is just slow."), err)
		r.keepUnverified(ctx, host, req.Plan, resp)
		return
	}
	r.fromDirectory(ctx, dc, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, dcPromotedKey, []byte("true"))...)
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, dcObject{Host: host})...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// keepUnverified saves the planned DC after a promotion that ran but was not
// verified in time: the server may be a DC now, so the state must say so.
func (r *domainControllerResource) keepUnverified(ctx context.Context, host string, plan tfsdk.Plan, resp *resource.CreateResponse) {
	keepPlannedWarning(&resp.Diagnostics, "Domain Controller Saved Unverified", unverifiedPromotion(host))
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, dcPromotedKey, []byte("true"))...)
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, dcObject{Host: host})...)
	resp.Diagnostics.Append(keepPlanned(plan, &resp.State)...)
}

// unverifiedPromotion says what a promotion cut off by the create timeout
// left: the command started, its end is unknown. The logs are those of
// Microsoft's "Troubleshooting Domain Controller Deployment"
// (https://learn.microsoft.com/windows-server/identity/ad-ds/deploy/troubleshooting-domain-controller-deployment).
func unverifiedPromotion(host string) string {
	return fmt.Sprintf("The promotion of %s ran, but it was not verified within the create timeout. "+
		"Install-ADDSDomainController started on the host, so the promotion may or may not have run to completion there. "+
		"The next plan replaces the resource (the apply demotes the server, then promotes it again); if the refresh finds that the server is no domain controller, it plans the promotion again instead. "+
		"To check on the host first: Get-ADDomainController -Identity %s (run against the replication source) lists it once it is a domain controller, "+
		"and %%SYSTEMROOT%%\\debug\\dcpromo.log and dcpromoui.log say how the promotion ended (Microsoft's \"Troubleshooting Domain Controller Deployment\").", host, host)
}

func (r *domainControllerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state domainControllerResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Read, dcReadTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	host := state.Host.ValueString()
	if host == "" {
		host = state.ID.ValueString()
		state.Host = types.StringValue(host)
	}
	if r.data.skipLost(host, "Domain Controller Dropped From State",
		"Its domain controller is removed from the state without contacting it. Its metadata stays in the directory until it is cleaned up "+
			"(ntdsutil metadata cleanup, or deleting its server object in Active Directory Sites and Services), and any FSMO role it held must be seized (bastion_fsmo_roles with allow_seize).", &resp.Diagnostics) {
		resp.State.RemoveResource(ctx)
		return
	}
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	dc, found, err := dcLookup(ctx, r.data.dir, host)
	if err != nil {
		report(&resp.Diagnostics, failure{"Domain Controller Not Read", "", viaLDAP, "reading the domain controller " + host + " (the state is kept unchanged)"}, err)
		return
	}
	if !found {
		resp.Diagnostics.AddWarning("Domain Controller Not Found",
			fmt.Sprintf("%s is no longer a domain controller (no NTDS Settings object for it in the directory): it was demoted out of band. It is removed from the state; the next plan promotes it again.", host))
		resp.State.RemoveResource(ctx)
		return
	}
	r.fromDirectory(ctx, dc, &state, &resp.Diagnostics)
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, dcObject{Host: host})...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *domainControllerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state domainControllerResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Update, dcUpdateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	host := plan.Host.ValueString()
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	if dsrmRotationRequested(&plan, &state) {
		if !r.rotateDSRM(ctx, host, &plan, req.Config, &resp.Diagnostics) {
			return
		}
	}
	if !plan.GlobalCatalog.IsUnknown() && !plan.GlobalCatalog.Equal(state.GlobalCatalog) {
		if _, err := r.data.dir.SetGlobalCatalog(ctx, host, plan.GlobalCatalog.ValueBool()); err != nil {
			reportAt(&resp.Diagnostics, path.Root("global_catalog"), failure{"Global Catalog Not Changed", "", viaLDAP,
				fmt.Sprintf("setting bit 0x1 (global catalog) of the NTDS Settings options of %s to %t", host, plan.GlobalCatalog.ValueBool())}, "", err)
			return
		}
	}
	dc, found, err := ad.FindDC(ctx, r.data.dir, host)
	if err != nil || !found {
		if err == nil {
			err = fmt.Errorf("%w: no NTDS Settings object for %s", transport.ErrNotFound, host)
		}
		report(&resp.Diagnostics, failure{"Domain Controller Not Read", "", viaLDAP, "reading the domain controller " + host + " back after the update"}, err)
		return
	}
	r.fromDirectory(ctx, dc, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *domainControllerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state domainControllerResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Delete, dcDeleteTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	host := state.Host.ValueString()
	if r.data.skipLost(host, "Domain Controller Not Demoted", "Nothing was run; the DC is removed from the state. Clean up its metadata (ntdsutil metadata cleanup) and seize any role it held.", &resp.Diagnostics) {
		return
	}
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	// The plan checked the demotion; roles may have moved onto the DC since.
	if err := ad.CanDemote(ctx, r.data.dir, host); err != nil {
		if errors.Is(err, topology.ErrNotDomainController) {
			return // already demoted
		}
		report(&resp.Diagnostics, failure{"Demotion Not Checked", host, viaLDAP, "checking that a writable domain controller remains and that it holds no FSMO role before demoting it"}, err)
		return
	}
	if !dcHasDemotionCredential(r.data, host, &resp.Diagnostics) {
		return
	}
	// Windows sets the local Administrator password of the demoted server to
	// this value; it is masked in every log and kept nowhere.
	localAdmin, err := ad.RandomPassword()
	if err != nil {
		resp.Diagnostics.AddError("Domain Controller Not Demoted", fmt.Sprintf("Generating the local Administrator password for %s failed, so nothing was run: %v", host, err))
		return
	}
	ctx = r.data.logCtx(ctx, localAdmin)
	defer r.data.dir.Invalidate()
	in := ad.DemoteSpec{AdminUsername: r.data.winrmCredential.Username, AdminPassword: r.data.winrmCredential.Password, LocalAdminPassword: localAdmin}
	out, err := ad.Demote(ctx, r.data.winrm, r.data.restarts, host, in, func(msg string, fields map[string]any) { tflog.Info(ctx, msg, fields) })
	if err != nil {
		report(&resp.Diagnostics, failure{"Domain Controller Not Demoted", host, viaWinRM, "demoting the domain controller with Uninstall-ADDSDomainController"}, err)
		return
	}
	ran, lost := out.ConnectionLost == nil, ""
	if ran {
		tflog.Info(ctx, "domain controller demoted; waiting for it to leave the directory", map[string]any{"host": host, "status": out.Status})
	} else {
		// The directory tells whether the demotion happened.
		lost = fmt.Sprintf(" The WinRM connection was lost before the demotion's result arrived (%v).", out.ConnectionLost)
	}
	_, err = ad.WaitForDC(ctx, r.data.dir, host, false, func(msg string, fields map[string]any) { tflog.Info(ctx, msg, fields) })
	if ran || err == nil {
		resp.Diagnostics.AddWarning("Local Administrator Password Randomised",
			fmt.Sprintf("The demotion set the local Administrator password of %s to a random value that was not recorded anywhere (not in the state, the plan or the logs). "+
				"Manage the account with Windows LAPS, or reset its password from a domain account: the server stays a member of the domain.", host))
	}
	if err != nil {
		reportWith(&resp.Diagnostics, failure{"Domain Controller Not Demoted", "", viaLDAP,
			fmt.Sprintf("waiting for the NTDS Settings object of %s to leave the pinned DC after the demotion, within the delete timeout", host)},
			strings.TrimSpace(lost+" Check the demotion on the server (%SYSTEMROOT%\\debug\\dcpromo.log) and replication to the pinned DC, then destroy again."), err)
	}
}

// dcOrHome names the DC a directory read went to ("" is the provider's first reachable server).
func dcOrHome(dc string) string {
	if dc == "" {
		return "(the first reachable DC of ldap.servers)"
	}
	return dc
}

func (r *domainControllerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp, validators.CheckFQDN, "the domain controller's host FQDN, e.g. priv-dc2.priv.contoso.com", "host")
}

// readsOverLDAP is why most resources need the ldap settings.
const readsOverLDAP = "This needs the directory: the provider reads domain controllers, FSMO roles and backups over LDAP, never PowerShell."
