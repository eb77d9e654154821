package ad

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/fakerunner"
)

// fakeSetter records each password reset; failAt fails the nth (1-based).
type fakeSetter struct {
	resets []string // dc|account|password
	failAt int
}

func (f *fakeSetter) SetAccountPassword(_ context.Context, dc, account, password string) error {
	f.resets = append(f.resets, dc+"|"+account+"|"+password)
	if len(f.resets) == f.failAt {
		return errors.New("constraint violation")
	}
	return nil
}

func TestRotateDSRM(t *testing.T) {
	ctx := context.Background()
	const host, account, pw = "priv-dc2.priv.test", "svc-dsrm", "New!Passw0rd"
	cases := []struct {
		name     string
		account  string
		failAt   int
		reply    string
		execErr  error
		wantErr  string
		scramble bool
		resets   int
		ran      bool
	}{
		{name: "rotates and scrambles", account: account, reply: `{"synchronized":true}`, resets: 2, ran: true},
		{name: "bad name refused before anything", account: `PRIV\svc-dsrm`, wantErr: "not a sAMAccountName"},
		{name: "reset refused: ntdsutil never runs", account: account, failAt: 1, wantErr: "setting the password of svc-dsrm", resets: 1},
		{name: "ntdsutil fails: no scramble", account: account, execErr: errors.New("ntdsutil did not synchronize"), wantErr: "running ntdsutil", resets: 1, ran: true},
		{name: "not synchronized", account: account, reply: `{"synchronized":false,"output":"?"}`, wantErr: "did not report", resets: 1, ran: true},
		{name: "scramble fails after the sync", account: account, failAt: 2, reply: `{"synchronized":true}`, scramble: true, resets: 2, ran: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := &fakeSetter{failAt: c.failAt}
			x := &fakerunner.Runner{Reply: c.reply, Err: c.execErr}
			err := RotateDSRM(ctx, dir, x, host, c.account, pw)
			var se *ScrambleError
			switch {
			case c.scramble:
				if !errors.As(err, &se) || se.Account != account {
					t.Fatalf("err = %v, want a ScrambleError", err)
				}
			case c.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if len(dir.resets) != c.resets {
				t.Fatalf("resets %v, want %d", dir.resets, c.resets)
			}
			if c.resets > 0 && dir.resets[0] != host+"|"+account+"|"+pw {
				t.Fatalf("first reset %q: the password goes to the account on the DC itself", dir.resets[0])
			}
			if c.resets > 1 && (strings.HasSuffix(dir.resets[1], "|"+pw) || !strings.HasPrefix(dir.resets[1], host+"|"+account+"|")) {
				t.Fatalf("second reset %q: a random password on the same DC", dir.resets[1])
			}
			if (x.Script != "") != c.ran {
				t.Fatalf("ntdsutil ran: %t, want %t", x.Script != "", c.ran)
			}
			if c.ran && (x.Script != "ad_sync_dsrm" || len(x.Input) != 1 || x.Input["account"] != account) {
				t.Fatalf("script %s input %v: only the account's name goes to the host", x.Script, x.Input)
			}
		})
	}
}
