// Package tdssimtest starts the lab's TDS server for a test, as httptest
// starts an HTTP server: a fresh lab CA, the server over the caller's
// model, closed when the test ends.
package tdssimtest

import (
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim"
)

// Start serves env's SQL Server instances over TDS until the test ends and
// returns the CA that signed their certificates with the server.
func Start(t testing.TB, env *model.Env, opts tdssim.Options) (*labca.CA, *tdssim.Server) {
	t.Helper()
	ca, err := labca.New()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tdssim.Start(env, ca, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return ca, srv
}
