package model

// DCBackend, when set on an Env, carries domain controller promotions and
// demotions to a real directory (the Samba suite joins and demotes real Samba
// DCs) instead of changing the model's own directory. The WinRM handlers for
// the promotion and demotion scripts call it with the model lock held.
type DCBackend interface {
	// PromoteDC makes host a DC of the domain named in p.
	PromoteDC(host string, p PromoteParams) error
	// DemoteDC removes host as a DC.
	DemoteDC(host string) error
}

// PromoteParams are the Install-ADDSDomainController parameters a backend needs.
type PromoteParams struct {
	DomainName          string
	SiteName            string
	GlobalCatalog       bool
	InstallDNS          bool
	ReplicationSourceDC string
	ReadOnly            bool
}
