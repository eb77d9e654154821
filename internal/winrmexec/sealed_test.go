package winrmexec

import (
	"errors"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// NTLM on plain HTTP (5985) seals every message, so it works against a
// host that refuses unencrypted traffic (Windows' default), a DC included.
func TestNTLMSealedOverHTTP(t *testing.T) {
	f := setup(t)
	c := f.client(t, func(c *Config) { c.HTTPS = false; c.CACertPEM = nil })
	for _, host := range []string{model.DC1, model.App1} {
		for i := 0; i < 3; i++ {
			var got echoResult
			in := echoInput{Value: `sealed "ünïcode" Привет 漢字`}
			if err := c.Run(timeout(t, 10*time.Second), host, labTest, in, &got); err != nil {
				t.Fatalf("%s: %v", host, err)
			}
			if got.Input != in {
				t.Fatalf("%s: got %+v", host, got)
			}
		}
		st := f.srv.Stats(host)
		// One shell for 3 runs: 1 Create + 3 x (Command, Send, Receive).
		if st.Unsealed != 0 || st.Sealed != 10 {
			t.Errorf("%s: %+v, want 10 sealed messages and none in clear", host, st)
		}
		// One connection, one handshake (2 empty posts).
		if st.Requests != 12 || st.Connections != 1 {
			t.Errorf("%s: %+v, want 12 requests on one connection", host, st)
		}
	}
}

// A sealed message the host cannot unseal ends the run with an error: the
// client never resends it, or anything else, in clear text.
func TestSealedFailsClosed(t *testing.T) {
	f := setup(t)
	c := f.client(t, func(c *Config) { c.HTTPS = false; c.CACertPEM = nil })
	f.srv.FailSealed(model.DC1, 1)
	err := c.Run(timeout(t, 10*time.Second), model.DC1, labTest, echoInput{Value: "x"}, nil)
	if !errors.Is(err, ErrNotSealed) {
		t.Fatalf("want ErrNotSealed, got %v", err)
	}
	st := f.srv.Stats(model.DC1)
	if st.Unsealed != 0 || st.Commands != 0 || st.Shells != 0 {
		t.Errorf("%+v: something went through after the sealing failed", st)
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 0 {
		t.Errorf("the script ran %d times", n)
	}
	// A wrong password on HTTP is a plain 401, never a clear retry either.
	bad := f.client(t, func(c *Config) { c.HTTPS = false; c.CACertPEM = nil; c.Password = "wrong" })
	if err := bad.Run(timeout(t, 10*time.Second), model.DC1, labTest, nil, nil); err == nil || errors.Is(err, ErrNotSealed) {
		t.Errorf("wrong password: %v", err)
	}
	if st := f.srv.Stats(model.DC1); st.Unsealed != 0 {
		t.Errorf("%+v: a clear message reached the host", st)
	}
}
