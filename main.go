// Command terraform-provider-bastion serves the bastion provider over
// Terraform's plugin protocol 6.
package main

import (
	"context"
	"flag"
	"log"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/bastion-pam/terraform-provider-bastion/internal/provider"
)

// version is set by the release build (goreleaser ldflags).
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         "registry.terraform.io/bastion-pam/bastion",
		Debug:           debug,
		ProtocolVersion: 6,
	})
	// Terraform has stopped the provider: delete the WinRM shells kept for
	// reuse, within the grace Terraform gives a plugin before it kills it.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	provider.Shutdown(ctx)
	cancel()
	if err != nil {
		log.Fatal(err.Error())
	}
}
