package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// caseInsensitiveStringType is a string compared without regard to case.
// MIM stores servicePartitionName upper case; with this type a configuration
// that writes it in lower case is not a perpetual diff.
type caseInsensitiveStringType struct{ basetypes.StringType }

var (
	_ basetypes.StringTypable                    = caseInsensitiveStringType{}
	_ basetypes.StringValuableWithSemanticEquals = caseInsensitiveString{}
)

func (t caseInsensitiveStringType) Equal(o attr.Type) bool {
	_, ok := o.(caseInsensitiveStringType)
	return ok
}

func (t caseInsensitiveStringType) String() string { return "caseInsensitiveStringType" }

func (t caseInsensitiveStringType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return caseInsensitiveString{StringValue: in}, nil
}

func (t caseInsensitiveStringType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return caseInsensitiveString{StringValue: s}, nil
}

func (t caseInsensitiveStringType) ValueType(context.Context) attr.Value {
	return caseInsensitiveString{}
}

type caseInsensitiveString struct{ basetypes.StringValue }

func (v caseInsensitiveString) Type(context.Context) attr.Type { return caseInsensitiveStringType{} }

func (v caseInsensitiveString) Equal(o attr.Value) bool {
	other, ok := o.(caseInsensitiveString)
	return ok && v.StringValue.Equal(other.StringValue)
}

func (v caseInsensitiveString) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	nv, ok := newValuable.(caseInsensitiveString)
	if !ok {
		diags.AddError("Semantic Equality Check Error", fmt.Sprintf("expected caseInsensitiveString, got %T", newValuable))
		return false, diags
	}
	return strings.EqualFold(v.ValueString(), nv.ValueString()), diags
}

func newCaseInsensitiveString(s string) caseInsensitiveString {
	return caseInsensitiveString{StringValue: basetypes.NewStringValue(s)}
}
