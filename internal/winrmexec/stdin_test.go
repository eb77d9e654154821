package winrmexec

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

func TestASCIIJSON(t *testing.T) {
	cases := map[string]string{
		"ascii":     `{"a":"plain \"q\" \\u0000 text"}`,
		"cyrillic":  `{"a":"Привет"}`,
		"cjk":       `{"a":"漢字かな"}`,
		"emoji":     `{"a":"🔐🧪"}`,
		"combining": `{"a":"e\u0301 n\u0303 Å"}`,
	}
	for name, in := range cases {
		var want any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(want)
		out, err := asciiJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range out {
			if c >= 0x80 {
				t.Fatalf("%s: non-ASCII byte in %s", name, out)
			}
		}
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g, _ := json.Marshal(got); string(g) != string(b) {
			t.Errorf("%s: %s, want %s", name, g, b)
		}
	}
	b, _ := json.Marshal(map[string]string{"a": "x\x00y"})
	if _, err := asciiJSON(b); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("NUL: %v", err)
	}
}

// Text in every script survives the lab console, which decodes stdin as
// code page 437 the way powershell.exe reads it on a server.
func TestNonASCIIInputEndToEnd(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	for _, v := range []string{"Привет, мир", "漢字とかな", "🔐 emoji 🧪", "e\u0301 a\u0308 n\u0303 (combining marks)", "mixed: Zoë — Ωμέγα"} {
		var got echoResult
		if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, echoInput{Value: v}, &got); err != nil {
			t.Fatal(err)
		}
		if got.Input.Value != v {
			t.Errorf("sent %q, the script saw %q", v, got.Input.Value)
		}
	}
	err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, echoInput{Value: "a\x00b"}, nil)
	if !errors.Is(err, ErrInvalidInput) {
		t.Errorf("NUL: %v", err)
	}
	if n := f.srv.Stats(model.App1).Commands; n != 5 {
		t.Errorf("%d commands, want 5: the NUL input must not start one", n)
	}
}
