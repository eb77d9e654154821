package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/bastion-pam/terraform-provider-bastion/internal/provider"
)

// TestChangelogFormat holds CHANGELOG.md to the Terraform Registry's
// changelog shape (HashiCorp's providers): "## X.Y.Z (date or Unreleased)",
// sections FEATURES / ENHANCEMENTS / BUG FIXES (and NOTES, BREAKING CHANGES),
// one "* " entry a line, each prefixed with what it changes; and it wants a
// "New Resource" or "New Data Source" entry for everything the provider serves.
func TestChangelogFormat(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`^## \d+\.\d+\.\d+ \((Unreleased|[A-Z][a-z]+ \d{1,2}, \d{4})\)$`)
	section := regexp.MustCompile(`^(BREAKING CHANGES|NOTES|FEATURES|ENHANCEMENTS|BUG FIXES):$`)
	entry := regexp.MustCompile("^\\* (\\*\\*New (Resource|Data Source):\\*\\* `bastion_[a-z_]+`|((resource|data-source)/bastion_[a-z_]+(, )?)+|provider|lab|make [a-z]+): \\S")
	// prev is the kind of the last non-blank line; blank whether a blank line followed it.
	var inSection, blank bool
	prev, seenVersion := "", false
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		n := i + 1
		switch {
		case version.MatchString(line):
			seenVersion, inSection, prev = true, false, "version"
		case section.MatchString(line):
			if !seenVersion {
				t.Errorf("line %d: section before any version heading", n)
			}
			inSection, prev = true, "section"
		case line == "":
			blank = true
			continue
		case strings.HasPrefix(line, "* "):
			if !inSection {
				t.Errorf("line %d: entry outside a FEATURES / ENHANCEMENTS / BUG FIXES section", n)
			}
			if blank && prev == "entry" {
				t.Errorf("line %d: a blank line splits a section's entries", n)
			}
			prev = "entry"
			if !entry.MatchString(line) {
				t.Errorf("line %d: entry not prefixed the registry's way (resource/bastion_x:, data-source/bastion_x:, **New Resource:** `bastion_x`, provider:): %.80s", n, line)
			}
		default:
			t.Errorf("line %d: neither a version, a section, an entry nor blank: %.80s", n, line)
		}
		blank = false
	}

	ctx := context.Background()
	p := provider.New("test")()
	var names []string
	for _, f := range p.Resources(ctx) {
		var r resource.MetadataResponse
		f().Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "bastion"}, &r)
		names = append(names, "**New Resource:** `"+r.TypeName+"`")
	}
	for _, f := range p.DataSources(ctx) {
		var r datasource.MetadataResponse
		f().Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "bastion"}, &r)
		names = append(names, "**New Data Source:** `"+r.TypeName+"`")
	}
	for _, n := range names {
		if !strings.Contains(string(b), "* "+n+":") {
			t.Errorf("CHANGELOG.md has no entry %q", n)
		}
	}
}
