package topology

import (
	"fmt"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// recoveryOrder writes rule 8's runbook from the Recovery sections of seed
// 000 and the restore advice of *Back up and restore Active Directory*. Steps for parts the topology does
// not describe (no SQL Server, no MIM Service) are left out.
func (m *model) recoveryOrder() []RecoveryStep {
	var steps []RecoveryStep
	add := func(s RecoveryStep) {
		s.Order = len(steps) + 1
		steps = append(steps, s)
	}
	domain := m.domainName()

	dcs := m.writableDCHosts()
	if len(dcs) == 0 {
		dcs = m.dcHosts()
	}
	add(RecoveryStep{
		Action: fmt.Sprintf("Bring at least one domain controller of %s online before restarting any other server", domain),
		Hosts:  dcs,
		Reason: "Microsoft's HA and disaster recovery considerations, Bastion environment Active Directory, Recovery: \"After an outage, ensure that at least one domain controller is available in the bastion environment before restarting other servers.\" *Back up and restore Active Directory*: while a domain controller works, replace a lost one with a new replica rather than a restore.",
	})

	var holders []string
	for _, d := range m.t.DomainControllers {
		if len(d.FSMORoles) > 0 {
			holders = append(holders, d.Host)
		}
	}
	if len(holders) == 0 {
		holders = m.dcHosts()
	}
	add(RecoveryStep{
		Action:  "If a domain controller will not return to production, check which FSMO roles it held and transfer them to a working domain controller (seize them only if it is gone for good, and never bring it back then)",
		Hosts:   uniqueHosts(holders),
		Command: "netdom query fsmo",
		Reason:  "Microsoft's HA and disaster recovery considerations: \"After determining that a domain controller will not be returned to production, be sure to check whether any roles were assigned to that domain controller and reassign them as necessary.\"",
	})

	var dnsHosts []string
	dnsHosts = append(dnsHosts, m.servers...)
	dnsHosts = append(dnsHosts, m.dnsKeys()...)
	add(RecoveryStep{
		Action: "Check the DNS settings of the bastion's computers and of the CORP domain controllers trusting the bastion: none may point only at the lost domain controller's address",
		Hosts:  uniqueHosts(dnsHosts),
		Reason: "Microsoft's HA and disaster recovery considerations: \"check DNS settings of computers joined to the bastion environment, as well as the domain controllers in CORP domains which have a trust relationship to that domain controller, to ensure none are hard coded with a dependency on that domain controller computer's IP address.\"",
	})

	if s := m.t.SQL; s != nil {
		action := fmt.Sprintf("Bring SQL Server %s online", orUnnamed(s.NetworkName, "(unnamed)"))
		if s.Clustered {
			action += " (the failover cluster instance on any one of its nodes)"
		}
		add(RecoveryStep{
			Action: action,
			Hosts:  m.sqlHosts(),
			Reason: "Microsoft's HA and disaster recovery considerations, MIM Service, Recovery: \"ensure that at least one Active Directory domain controller and SQL Server are available in the bastion environment prior to restarting MIM Service.\"",
		})
	}

	for _, h := range m.mimHosts() {
		add(RecoveryStep{
			Action:  "Restart the MIM Service (FIMService) on " + h,
			Hosts:   []string{h},
			Command: "Restart-Service FIMService",
			Reason:  "Microsoft's HA and disaster recovery considerations, SQL Server, Recovery: \"after SQL Server has been restored, it is recommended to restart each MIM Service. This will ensure that MIM Service re-establishes its connection to SQL Server.\"",
		})
	}

	pam := m.pamHosts()
	if len(pam) == 0 {
		pam = m.mimHosts()
	}
	if len(pam) == 0 {
		return steps
	}
	add(RecoveryStep{
		Action:  "Start the PAM Monitoring service (PamMonitoringService) on at least one server where the MIM Service is running",
		Hosts:   pam,
		Command: `net start "PAM Monitoring service"`,
		Reason:  "Microsoft's HA and disaster recovery considerations, MIM PAM components, Recovery: \"ensure that the MIM Service is running on at least one server. Then ensure that the MIM PAM monitoring service is also running on that server\".",
	})
	// Microsoft's document says "was not at Windows Server 2012 R2"; domain-facts (and
	// MIM's own rule that AD expires memberships from level 2016) say below
	// 2016. We follow domain-facts: level 6 (2012 R2) also needs the service.
	if m.level < adnames.ModernForestLevel {
		add(RecoveryStep{
			Action:  fmt.Sprintf("Start the PAM Component service (PrivilegeManagementComponentService) on that same server: the forest functional level is %d (%s), below 7 (Windows Server 2016)", m.level, adnames.LevelName(m.level)),
			Hosts:   pam,
			Command: `net start "PAM Component service"`,
			Reason:  "Microsoft's HA and disaster recovery considerations, MIM PAM components, Recovery: \"If the bastion environment forest functional level was not at Windows Server 2012 R2, ensure that the MIM PAM component service is also running on that server\"; domain-facts reads this as below Windows Server 2016, the level from which AD expires PAM memberships itself.",
		})
	}
	return steps
}
