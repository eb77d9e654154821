// Command acceptlist prints the sha256sum lines of every embedded PowerShell
// script (bootstrap included), the content of
// internal/lab/winrmsim/accepted_scripts.sha256:
//
//	go run ./internal/testsupport/pscheck/cmd/acceptlist > internal/lab/winrmsim/accepted_scripts.sha256
//
// Review the diff before committing it: the lab runs only what this list names.
package main

import (
	"fmt"

	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/pscheck"
)

func main() {
	for _, line := range pscheck.AcceptList() {
		fmt.Println(line)
	}
}
