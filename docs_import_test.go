package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/bastion-pam/terraform-provider-bastion/internal/provider"
)

// TestDocsShowImportBlocks: every resource's page shows an import block for
// that resource, after a comment giving its ID format (issue 12 item 4).
func TestDocsShowImportBlocks(t *testing.T) {
	resources := provider.New("test")().Resources(context.Background())
	if len(resources) == 0 {
		t.Fatal("the provider lists no resources")
	}
	block := regexp.MustCompile(`(?s)# [^\n]*\n(?:#[^\n]*\n)*import \{\n  to = (bastion_[a-z_]+)\.[a-z0-9_]+\n  id = "[^"\n]+"\n\}`)
	for _, f := range resources {
		var meta resource.MetadataResponse
		f().Metadata(context.Background(), resource.MetadataRequest{ProviderTypeName: "bastion"}, &meta)
		name := strings.TrimPrefix(meta.TypeName, "bastion_")
		b, err := os.ReadFile("docs/resources/" + name + ".md")
		if err != nil {
			t.Errorf("%s: no page: %v", meta.TypeName, err)
			continue
		}
		m := block.FindStringSubmatch(string(b))
		if m == nil {
			t.Errorf("docs/resources/%s.md shows no import block after a comment giving the ID format", name)
			continue
		}
		if m[1] != meta.TypeName {
			t.Errorf("docs/resources/%s.md: the import block imports %s, want %s", name, m[1], meta.TypeName)
		}
	}
}
