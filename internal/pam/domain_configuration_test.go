package pam

import (
	"errors"
	"testing"
)

func TestConfigured(t *testing.T) {
	cases := []struct {
		output string
		want   bool
		err    bool
	}{
		{"True", true, false},
		{"true\r\n", true, false},
		{"False", false, false},
		{" FALSE ", false, false},
		{"", false, true},
		{"The domain is not configured", false, true},
		{"True\nFalse", false, true},
	}
	for _, tc := range cases {
		got, err := TestDomainConfigurationAnswer{Output: tc.output, OutputType: "System.String"}.Configured()
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%q: %v %v", tc.output, got, err)
		}
		if err != nil && !errors.Is(err, ErrUnexpectedAnswer) {
			t.Errorf("%q: %v is not ErrUnexpectedAnswer", tc.output, err)
		}
	}
}
