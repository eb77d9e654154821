package pscheck

import (
	"sort"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
)

// AcceptList returns the lines of internal/lab/winrmsim/accepted_scripts.sha256
// for the embedded scripts, bootstrap included, sorted by file name and in
// sha256sum's format ("<hex>  <name>.ps1").
func AcceptList() []string {
	all := append([]scripts.Script{scripts.Bootstrap()}, scripts.All()...)
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	out := make([]string, 0, len(all))
	for _, s := range all {
		out = append(out, s.SHA256+"  "+s.Name+".ps1")
	}
	return out
}
