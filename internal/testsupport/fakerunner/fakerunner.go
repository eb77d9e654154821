// Package fakerunner is a winrmexec.Runner for the domain packages' table
// tests: it records the script and its JSON input and answers with a canned
// reply or error, so a test sees exactly what would travel to the host.
package fakerunner

import (
	"context"
	"encoding/json"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// Runner records the last run and answers with Reply (JSON) or Err.
type Runner struct {
	Script string             // name of the last script run
	Raw    string             // its input as JSON
	Input  map[string]any     // the same input, decoded
	Opts   int                // how many run options it was given
	Flags  winrmexec.RunFlags // those options, resolved
	Reply  string
	Err    error
	// First answers the first runs, one error each, before Reply or Err
	// (a host that refuses a few commands, then takes one).
	First []error
	Runs  int // how many runs it was asked for
}

var _ winrmexec.Runner = (*Runner)(nil)

func (f *Runner) Run(_ context.Context, _ string, s scripts.Script, in any, out any, opts ...winrmexec.RunOption) error {
	f.Script, f.Opts, f.Flags = s.Name, len(opts), winrmexec.Flags(opts...)
	f.Runs++
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	f.Raw = string(b)
	f.Input = map[string]any{}
	if err := json.Unmarshal(b, &f.Input); err != nil {
		return err
	}
	if f.Runs <= len(f.First) {
		return f.First[f.Runs-1]
	}
	if f.Err != nil {
		return f.Err
	}
	return json.Unmarshal([]byte(f.Reply), out)
}
