package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// configRule is a cross-attribute rule of a resource's configuration as
// the framework's resource.ConfigValidator: its description, plain text
// that is also its Markdown, and the check.
type configRule struct {
	description string
	check       func(context.Context, resource.ValidateConfigRequest, *resource.ValidateConfigResponse)
}

var _ resource.ConfigValidator = configRule{}

func (r configRule) Description(context.Context) string { return r.description }

func (r configRule) MarkdownDescription(context.Context) string { return r.description }

func (r configRule) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	r.check(ctx, req, resp)
}
