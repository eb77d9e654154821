package provider

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The conversions between Terraform values and Go values that more than one
// resource, data source or the provider itself uses. A conversion that only
// one resource needs stays in that resource's _convert.go.

// source is what a request carries: its plan, prior state or configuration.
type source interface {
	Get(ctx context.Context, target any) diag.Diagnostics
}

// reading is one source read into a model.
type reading struct {
	src  source
	into any
}

func from(src source, into any) reading { return reading{src, into} }

// load reads each source into its model, the first step of every CRUD
// method; it reports whether the diagnostics are still free of errors.
func load(ctx context.Context, diags *diag.Diagnostics, rs ...reading) bool {
	for _, r := range rs {
		diags.Append(r.src.Get(ctx, r.into)...)
	}
	return !diags.HasError()
}

// known reports whether a value is set: neither null nor unknown.
func known(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

// collection is a list or a set.
type collection interface {
	attr.Value
	Elements() []attr.Value
}

// stringsOf returns the known strings of a list or set, in its order; nil
// when the collection is null or unknown.
func stringsOf(v collection, diags *diag.Diagnostics) []string {
	if !known(v) {
		return nil
	}
	out := make([]string, 0, len(v.Elements()))
	for _, el := range v.Elements() {
		s, ok := el.(types.String)
		if !ok {
			diags.AddError("Unexpected Element Type", fmt.Sprintf("Expected a string, got %T. This is a bug in the provider; please report it.", el))
			return nil
		}
		if known(s) {
			out = append(out, s.ValueString())
		}
	}
	return out
}

// stringList is a list of the strings xs, in their order (empty, not null,
// for none).
func stringList(xs []string) types.List {
	vals := make([]attr.Value, len(xs))
	for i, x := range xs {
		vals[i] = types.StringValue(x)
	}
	return types.ListValueMust(types.StringType, vals)
}

// stringOrNull is s, or null when s is empty.
func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// startTimeLayout is RFC 3339 in UTC with milliseconds: a MIM Service that
// restarts a moment after its SQL Server instance came online must still
// compare as later.
const startTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// timeValue is t in startTimeLayout, or null when t is zero (unknown, or a
// service that is not running).
func timeValue(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(startTimeLayout))
}

// Provider settings: the configured value, else the environment variable,
// else the default.

// str returns the configured value or the environment fallback.
func str(v types.String, env string) string {
	if known(v) {
		return v.ValueString()
	}
	return os.Getenv(env)
}

// strs returns the configured list or the environment fallback, a
// comma-separated list; blank entries are dropped.
func strs(v collection, env string, diags *diag.Diagnostics) []string {
	if known(v) {
		return stringsOf(v, diags)
	}
	var out []string
	for _, s := range strings.Split(os.Getenv(env), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func boolean(v types.Bool, env string, def bool) (bool, error) {
	if known(v) {
		return v.ValueBool(), nil
	}
	if s := os.Getenv(env); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, fmt.Errorf("%s=%q is not a boolean", env, s)
		}
		return b, nil
	}
	return def, nil
}

func integer(v types.Int64, env string, def int) (int, error) {
	if known(v) {
		return int(v.ValueInt64()), nil
	}
	if s := os.Getenv(env); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("%s=%q is not a whole number", env, s)
		}
		return n, nil
	}
	return def, nil
}

// settings reads the attributes of one provider block (ldap, sql, winrm)
// that can be malformed, reporting a bad value on the attribute it came
// from; kind names the block in the summary ("Invalid LDAP Setting").
type settings struct {
	at    path.Path
	kind  string
	diags *diag.Diagnostics
}

func (s settings) boolean(v types.Bool, name, env string, def bool) bool {
	b, err := boolean(v, env, def)
	if err != nil {
		s.diags.AddAttributeError(s.at.AtName(name), "Invalid "+s.kind+" Setting", err.Error())
	}
	return b
}

func (s settings) integer(v types.Int64, name, env string, def int) int {
	n, err := integer(v, env, def)
	if err != nil {
		s.diags.AddAttributeError(s.at.AtName(name), "Invalid "+s.kind+" Setting", err.Error())
	}
	return n
}

// insecure reads an insecure transport opt-in (false by default): when it
// is set, the practitioner is warned under summary.
func (s settings) insecure(v types.Bool, name, env, summary, detail string) bool {
	on := s.boolean(v, name, env, false)
	if on {
		s.diags.AddAttributeWarning(s.at.AtName(name), summary, detail)
	}
	return on
}

// caFile reads the PEM file the block's ca_file (or env) names.
func (s settings) caFile(v types.String, env string) []byte {
	pem, err := readPEM(str(v, env))
	if err != nil {
		s.diags.AddAttributeError(s.at.AtName("ca_file"), "Invalid "+s.kind+" CA File", err.Error())
	}
	return pem
}
