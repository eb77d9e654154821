#!/usr/bin/env bash
# make demo: the provider's main job against the simulated bastion.
set -euo pipefail
export CHECKPOINT_DISABLE=1
root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/.demo"
rm -rf "$demo"
mkdir -p "$demo/lab" "$demo/work"
cp "$root"/examples/demo/*.tf "$demo/work/"

"$root/bin/bastion-lab" serve -dir "$demo/lab" >"$demo/lab.log" 2>&1 &
lab_pid=$!
cleanup() {
  if kill -0 "$lab_pid" 2>/dev/null; then
    kill "$lab_pid"
    wait "$lab_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  [ -f "$demo/lab/ready" ] && break
  kill -0 "$lab_pid" 2>/dev/null || { cat "$demo/lab.log"; echo "the lab did not start"; exit 1; }
  sleep 0.1
done
[ -f "$demo/lab/ready" ] || { cat "$demo/lab.log"; echo "the lab did not become ready"; exit 1; }
cat "$demo/lab.log"

# shellcheck disable=SC1091
source "$demo/lab/lab.env"
# dev_overrides serves the provider just built; terraform init still lists the
# provider's versions, so a local filesystem mirror answers that, and there is
# no "direct" installation method: nothing is ever fetched from a registry.
mirror="$demo/mirror/registry.terraform.io/bastion-pam/bastion/0.1.0/$(go env GOOS)_$(go env GOARCH)"
mkdir -p "$mirror"
cp "$root/bin/terraform-provider-bastion" "$mirror/terraform-provider-bastion_v0.1.0"
cat >"$demo/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "bastion-pam/bastion" = "$root/bin"
  }
  filesystem_mirror {
    path    = "$demo/mirror"
    include = ["bastion-pam/bastion"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$demo/terraformrc" TF_IN_AUTOMATION=1
tf() { terraform -chdir="$demo/work" "$@"; }

echo "== terraform init"
tf init -input=false -no-color >"$demo/init.txt" 2>&1 || { cat "$demo/init.txt"; echo "FAIL: terraform init"; exit 1; }
grep -E "Terraform has been successfully initialized|Installed bastion-pam/bastion" "$demo/init.txt" || true
echo "== terraform apply"
tf apply -input=false -auto-approve -no-color
echo "== the next plan must be empty"
set +e
tf plan -input=false -detailed-exitcode -no-color >"$demo/plan.txt" 2>&1
code=$?
set -e
if [ "$code" -ne 0 ]; then
  cat "$demo/plan.txt"
  echo "FAIL: the plan after apply is not empty (exit code $code)"
  exit 1
fi
grep -E "No changes" "$demo/plan.txt"
echo "== what the provider built"
tf output -no-color
"$root/bin/bastion-lab" status -dir "$demo/lab"
cleanup
trap - EXIT
if kill -0 "$lab_pid" 2>/dev/null; then echo "FAIL: the lab is still running"; exit 1; fi
echo "== demo finished: the lab has stopped"
