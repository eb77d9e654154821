#!/usr/bin/env bash
# make demo: the provider's main job against the simulated bastion. Every long
# step says what it does before it starts. The demo fails when Terraform
# prints a warning or a failed check: a demo that warns is a broken demo.
set -euo pipefail
export CHECKPOINT_DISABLE=1
root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/.demo"
# The configuration the demo applies: a whole bastion built from member
# servers (examples/bastion). The lab starts with what that configuration
# builds on (-topology, named after the configuration's directory); any other
# configuration gets the default lab (two DCs and the SQL FCI already there).
config="${DEMO_CONFIG:-$root/examples/bastion}"
topology=""
case "$(basename "$config")" in
bastion | bastion-multi-site) topology="$(basename "$config")" ;;
esac

step() { printf '\n== %s\n' "$*"; }

step "building the provider and the lab (bin/terraform-provider-bastion, bin/bastion-lab)"
echo "   The first build compiles every dependency: several minutes on a 2-core machine;"
echo "   each package is listed below as it compiles. Later builds take seconds."
(cd "$root" && go build -v -trimpath -o bin/terraform-provider-bastion . && go build -v -trimpath -o bin/bastion-lab ./internal/lab/cmd/bastion-lab) 2>&1 | sed 's/^/   compiled /'

rm -rf "$demo"
mkdir -p "$demo/lab" "$demo/work"
cp "$config"/*.tf "$demo/work/"

if [ -n "$topology" ]; then
  step "starting the lab ($topology): the forest's first DC, member servers, the Windows failover cluster and a CORP forest, on 127.0.0.1"
else
  step "starting the lab: two domain controllers, the SQL Server failover cluster instance, the MIM hosts and a CORP forest, on 127.0.0.1"
fi
"$root/bin/bastion-lab" serve -dir "$demo/lab" ${topology:+-topology "$topology"} >"$demo/lab.log" 2>&1 &
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
  kill -0 "$lab_pid" 2>/dev/null || { cat "$demo/lab.log"; echo "FAIL: the lab did not start"; exit 1; }
  sleep 0.1
done
[ -f "$demo/lab/ready" ] || { cat "$demo/lab.log"; echo "FAIL: the lab did not become ready"; exit 1; }
sed 's/^/   /' "$demo/lab.log"
lab() { "$root/bin/bastion-lab" "$@" -dir "$demo/lab" | sed 's/^/   /'; }

# shellcheck disable=SC1091
source "$demo/lab/lab.env"
# terraform init installs the provider just built from a local filesystem
# mirror; there is no "direct" installation method, so nothing is ever fetched
# from a registry (and no development override, which Terraform warns about).
mirror="$demo/mirror/registry.terraform.io/bastion-pam/bastion/0.1.0/$(go env GOOS)_$(go env GOARCH)"
mkdir -p "$mirror"
cp "$root/bin/terraform-provider-bastion" "$mirror/terraform-provider-bastion_v0.1.0"
cat >"$demo/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$demo/mirror"
    include = ["bastion-pam/bastion"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$demo/terraformrc" TF_IN_AUTOMATION=1

# tf runs terraform in the demo's directory, shows its output and keeps it in
# $demo/terraform.log, which the demo checks at the end.
tf() {
  set -o pipefail
  terraform -chdir="$demo/work" "$@" -no-color 2>&1 | tee -a "$demo/terraform.log" | sed 's/^/   /'
}

# empty_plan FILE WHEN: a plan into $demo/FILE (and terraform.log) must
# show no changes after WHEN; -detailed-exitcode makes a change exit 2.
empty_plan() {
  local out="$demo/$1" code=0
  terraform -chdir="$demo/work" plan -input=false -detailed-exitcode -no-color >"$out" 2>&1 || code=$?
  cat "$out" >>"$demo/terraform.log"
  if [ "$code" -ne 0 ]; then
    cat "$out"
    echo "FAIL: the plan after $2 is not empty (exit code $code)"
    exit 1
  fi
  grep -E "No changes" "$out" | sed 's/^/   /'
}

step "terraform init (the provider comes from the local mirror of what was just built)"
terraform -chdir="$demo/work" init -input=false -no-color >"$demo/init.txt" 2>&1 || { cat "$demo/init.txt"; echo "FAIL: terraform init"; exit 1; }
grep -E "Installed bastion-pam/bastion|Terraform has been successfully initialized" "$demo/init.txt" | sed 's/^/   /'

if [ -z "$topology" ]; then
  # Microsoft's Back up and restore Active Directory asks for a backup of every
  # FSMO role holder; the default lab starts with the latest backup taken on priv-dc2.
  step "backing up priv-dc1, the FSMO role holder, as Back up and restore Active Directory asks (the lab's latest backup is priv-dc2's)"
  lab backup -host priv-dc1.priv.contoso.test -age 10m
  step "terraform apply: the SQL login for the MIM Service account, the MIM Service with PAM on both application servers, and the HA judgement (seconds in the lab)"
else
  step "terraform apply: the second DC, the SQL Server failover cluster instance, the MIM Service with PAM on both application servers, the PAM trust to CORP and PAM's configuration there, and the HA judgement (seconds in the lab)"
fi
tf apply -input=false -auto-approve

step "terraform plan: after an apply, the next plan must be empty"
empty_plan plan.txt apply

# The bastion examples: lose a server that is both a MIM Service node and a
# node of the SQL FCI, and rebuild it on the spare server in one apply, as
# the guide "Recovering a lost MIM Service node" says.
if [ -n "$topology" ]; then
  lost=priv-app2.priv.contoso.test spare=priv-app3.priv.contoso.test
  step "losing $lost (MIM Service node PRIV-APP2 and SQL FCI node): bastion-lab down; a MIM request it accepted is pending"
  lab request -host "$lost" -id demo-request-1
  lab down -host "$lost"
  step "the guide's change: $lost goes into lost_hosts (BASTION_LOST_HOSTS), and its name in the configuration becomes $spare"
  sed -i "s/\"$lost\"/\"$spare\"/" "$demo/work/main.tf"
  grep -n "$spare" "$demo/work/main.tf" | sed 's/^/   main.tf:/'
  export BASTION_LOST_HOSTS="$lost"
  # The rebuild's refresh warns about the lost server (dropped from the state,
  # its cluster node down): expected, so its output goes to its own log, which
  # may hold only those warnings, and the demo shows them as expected notes.
  step "terraform apply: one apply evicts $lost from the cluster, adds $spare to the SQL FCI and builds MIM Service node PRIV-APP2 there with the lost node's names"
  terraform -chdir="$demo/work" apply -input=false -auto-approve -no-color 2>&1 | tee "$demo/rebuild.log" |
    sed -E 's/^Warning: (MIM Service Node Dropped From State|Failover Cluster Node Not Up)$/Expected for the lost server: \1/; s/^/   /'
  unexpected=$(grep -E "^(Warning|Error):|assertion failed" "$demo/rebuild.log" | grep -vE "Warning: (MIM Service Node Dropped From State|Failover Cluster Node Not Up)$" || true)
  if [ -n "$unexpected" ]; then
    echo "$unexpected"
    echo "FAIL: the rebuild warned or failed beyond the lost server's expected warnings (output in $demo/rebuild.log)"
    exit 1
  fi
  step "terraform plan: after the rebuild, the next plan must be empty"
  empty_plan plan-rebuild.txt "the rebuild"
  step "the rebuilt node completes the request the lost node accepted (same partition and service name)"
  lab complete -host "$spare"
fi

step "what the lab answered (bastion-lab status)"
lab status

cleanup
trap - EXIT
if kill -0 "$lab_pid" 2>/dev/null; then echo "FAIL: the lab is still running"; exit 1; fi

# No warning and no failed check: the demo's bastion is healthy.
if grep -nE "Warning:|Error:|assertion failed" "$demo/terraform.log"; then
  echo "FAIL: Terraform warned or a check failed (above; full output in $demo/terraform.log)"
  exit 1
fi

step "demo finished: the lab has stopped"
cat <<'NEXT'
   Next: run the lab yourself and try every example, inject faults and latency,
   lose a server and rebuild it: docs/guides/lab.md. In short:
     bin/bastion-lab serve &            # then: source .bastion-lab/lab.env
     bin/bastion-lab help               # every command and flag
NEXT
