package validators

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// CheckNetBIOSDomainName reports why s is not a domain's NetBIOS name.
func CheckNetBIOSDomainName(s string) error {
	if strings.Contains(s, ".") {
		return fmt.Errorf("%s has a dot: give the domain's NetBIOS name, e.g. CORP, not its DNS name", Quote(s))
	}
	if !netbios.MatchString(s) {
		return fmt.Errorf("%s is not a NetBIOS name (1 to 15 characters, starting with a letter or digit)", Quote(s))
	}
	return nil
}

// NetBIOSDomainName validates a domain's NetBIOS (pre-Windows 2000) name.
func NetBIOSDomainName() validator.String {
	return stringCheck{desc: "value must be a domain's NetBIOS name such as `CORP`", check: CheckNetBIOSDomainName}
}
