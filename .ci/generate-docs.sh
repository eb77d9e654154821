#!/usr/bin/env bash
# Generates docs/ with tfplugindocs from the provider's own schema. The schema
# comes from the local terraform with a dev_overrides CLI config, and is handed
# to tfplugindocs with --providers-schema, so nothing is ever downloaded.
set -euo pipefail
export CHECKPOINT_DISABLE=1
root=$(cd "$(dirname "$0")/.." && pwd)
command -v terraform >/dev/null || { echo "terraform not found on PATH"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "bastion-pam/bastion" = "$root/bin"
  }
}
RC
cat >"$work/main.tf" <<'TF'
terraform {
  required_providers {
    bastion = { source = "bastion-pam/bastion" }
  }
}
TF
TF_CLI_CONFIG_FILE="$work/terraformrc" terraform -chdir="$work" providers schema -json >"$work/schema.json" 2>"$work/stderr" || { cat "$work/stderr"; exit 1; }
# tfplugindocs finds a provider's schema only under its short name.
sed -i 's#"registry.terraform.io/bastion-pam/bastion"#"bastion"#' "$work/schema.json"
cd "$root"
go tool tfplugindocs generate --provider-name bastion --rendered-provider-name "Bastion (MIM PAM)" \
  --providers-schema "$work/schema.json" --examples-dir examples --website-source-dir templates --rendered-website-dir docs
