// Package topology holds the domain rules of the PAM bastion's high
// availability topology: the ten "HA topology rules" of domain-facts
// section 6, which functions survive the loss of one server, the recovery
// order, and a Mermaid picture of it all.
// It is plain Go: no Terraform, no protocol. Resources and validators build a
// Topology from their configuration and call Evaluate or one of the small
// Check helpers.
//
// The rules come from two Microsoft documents (the project's seeds):
// "High availability and disaster recovery considerations for the bastion
// environment" (MIM PAM, Microsoft's HA and disaster recovery considerations) and "Back up and restore Active
// Directory" (*Back up and restore Active Directory*).
//
// # Rule IDs
//
// RuleID is "HA-<n>", where n is the number of the rule in domain-facts
// section 6, so a diagnostic, a doc page and a test all point at the same
// line of that list. One rule may yield several violations (one per host or
// naming context). Rules returns the catalog with a title and Microsoft's
// wording for each:
//
//	HA-1  at least two (writable) DCs when any function is marked for HA
//	HA-2  two MIM Service computers and a clustered SQL Server for marked
//	      functions that use the MIM Service
//	HA-3  an FCI has two nodes or more, none of them a DC (a standalone
//	      SQL Server on a DC is a Warning)
//	HA-4  no MIM Service on a DC
//	HA-5  one servicePartitionName (upper-cased) with long-lived requests
//	HA-6  four servers, and FCI data and log directories on shared storage
//	HA-7  no computer's DNS server list depends on one DC
//	HA-8  the recovery runbook can run: MIM hosts have the PAM components
//	HA-9  every FSMO holder backed up within the tombstone lifetime
//	HA-10 marked ids are functions; a marked function that the readiness
//	      simulation shows failing, for a cause no other rule reported as
//	      an Error, is reported here
//
// # Rule 10 decides what applies
//
// Topology.HAFunctions lists the functions the operator wants to survive the
// loss of one server. A rule about redundancy (two DCs, two MIM Service
// computers, a clustered SQL Server, two FCI nodes, four servers, DNS not tied
// to one DC) is checked only for the marked functions that depend on the
// component it is about, and is then an Error. A rule about something that is
// wrong whatever the HA wishes (an FCI node or SQL Server on a DC, a local
// path for FCI storage, differing servicePartitionNames with long-lived
// requests, missing PAM components, stale backups) is an Error when a marked
// function depends on it and a Warning otherwise. HA-4 (no MIM Service on a
// DC) is always an Error: Microsoft's document gives attack surface, not availability, as
// its reason.
//
// # Partial data
//
// Evaluate treats what it is not given as unknown and checks nothing about
// it, except where Microsoft's document makes absence itself the fault (no SQL Server, or
// fewer than two MIM Service computers, while a function that uses the MIM
// Service is marked for HA):
//   - DNSServers: a host without an entry (or with an empty list) is not
//     checked by HA-7 and is assumed to resolve names in the readiness
//     simulation. Give DomainController.Addresses so IP entries can be
//     matched to DCs.
//   - Backups: an empty slice means "backup state unknown" and HA-9 is
//     skipped; once any backup is listed, every FSMO holder needs one.
//   - SQLInstance.DataDirectories / LogDirectories: empty means unknown.
//   - MIMNode.ServicePartitionName: empty falls back to ExternalHostName
//     (MIM's default); both empty leaves the node out of HA-5.
//   - Domain.ForestFunctionalLevel: 0 is Windows 2000 in msDS-Behavior-Version
//     and also the zero value; every level below 7 (2016) is handled the same
//     conservative way, so an unknown level errs on the safe side.
//   - Now: the zero time means time.Now().
//
// Resource validators that see only one attribute call the helpers directly:
// CheckFCINodes, CheckMIMPartitionNames, IsSharedStoragePath, CanDemote,
// NormalizePartitionName and SameHost.
package topology
