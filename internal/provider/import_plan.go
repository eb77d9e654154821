package provider

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// What import cannot fill. An attribute Windows never shows back (an
// installer's path, a setup setting) is optional in the schema, so that the
// configuration `terraform plan -generate-config-out` writes for an imported
// object plans without a change; it is required when the provider needs it,
// which these plan-time checks enforce.

// versionAfterImportDoc ends the description of a write-only secret's
// version trigger: an import cannot know the version, and setting it is a change.
const versionAfterImportDoc = " An import leaves it null: keep it out of the configuration that `terraform plan -generate-config-out` writes " +
	"(fill in only the secret) until the next rotation, since setting it is a change the next apply carries out."

// neededAttribute is one attribute a plan needs, and why.
type neededAttribute struct {
	name  string
	value attr.Value
	why   string
}

// requireAttributes reports each null attribute in need at its path, at plan
// time (an unknown value passes: it comes from another resource's apply).
func requireAttributes(diags *diag.Diagnostics, resourceType string, need ...neededAttribute) {
	for _, a := range need {
		if !a.value.IsNull() {
			continue
		}
		diags.AddAttributeError(path.Root(a.name), "Missing Required Attribute",
			fmt.Sprintf("%s needs `%s` %s. Only an imported %s may leave it out: Windows does not show it back, so import cannot fill it in, "+
				"and nothing that needs it runs until the configuration sets it.", resourceType, a.name, a.why, resourceType))
	}
}

// importBlockFor is the exact import block that brings the object id under
// Terraform as a resource of resourceType.
func importBlockFor(resourceType, id string) string {
	return fmt.Sprintf("import {\n  to = %s.<name>\n  id = %s\n}", resourceType, hclString(id))
}

// hclString quotes s as an HCL string literal.
func hclString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// alreadyExists is the error of a create that finds its object already
// there: nothing was changed, and the import block that adopts it instead.
func alreadyExists(diags *diag.Diagnostics, at path.Path, summary, what, resourceType, id string) {
	diags.AddAttributeError(at, summary,
		fmt.Sprintf("%s, so nothing was changed. Bring it under Terraform instead of creating it: add this import block "+
			"(with the resource's own name in `to`), then run `terraform plan` (optionally with `-generate-config-out=generated.tf`) and `terraform apply`:\n\n%s\n\n"+
			"or run `terraform import %s.<name> %s`.", what, importBlockFor(resourceType, id), resourceType, shellQuote(id)))
}

// shellQuote quotes s for a POSIX shell when it holds more than plain characters.
func shellQuote(s string) string {
	if plainShellWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var plainShellWord = regexp.MustCompile(`^[A-Za-z0-9._/:@-]+$`)
