// Package adnames is the one Active Directory vocabulary of the project:
// FSMO role names and the objects that carry them, naming contexts, DN
// building and parsing, which host name denotes which computer, functional
// levels, and the nTDSDSA and trust bits. The directory adapter, the
// topology rules, the domain packages and the lab's model all import it, so
// a role or a host compares the same way everywhere.
//
// It is plain Go with no protocol client: only DN syntax from go-ldap.
package adnames
