#!/usr/bin/env bash
# test_scripts.sh - runs scripts/deploy_all.sh and scripts/destroy_all.sh
# against stand-ins of terraform, aws, session-manager-plugin and
# ansible-playbook (shell stubs on PATH that log their arguments and answer
# like the real tools), in a copy of the scripts under a temporary root: no
# cloud, no credentials. Proves: deploy applies exactly the plan file it
# wrote, writes the inventory from the output, waits on SSM and runs
# site.yml with the arguments after --; destroy refuses without a
# confirmation (not a terminal, or a wrong name typed), lifts RDS deletion
# protection first, counts terminated instances and KMS keys pending
# deletion as gone, and exits 1 listing what remains tagged. Part of
# tests/infra/check.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_scripts: FAILED: $*"; [ -f "$tmp/log" ] && sed 's/^/  log: /' "$tmp/log"; exit 1; }

root=$tmp/root
mkdir -p "$root/scripts" "$root/infra/terraform" "$root/ansible" "$tmp/bin"
cp "$repo/scripts/deploy_all.sh" "$repo/scripts/destroy_all.sh" "$root/scripts/"
echo "- hosts: all" >"$root/ansible/site.yml"

cat >"$tmp/bin/terraform" <<'STUB'
#!/usr/bin/env bash
# stand-in terraform: logs, and answers init/plan/apply/output/state/destroy
set -eu
[ "${1#-chdir=}" != "$1" ] && shift
echo "terraform $*" >>"$STUB_LOG"
case $1 in
    plan) for a in "$@"; do case $a in -out=*) echo "PLAN-$$" >"${a#-out=}" ;; esac; done ;;
    apply) last=${*: -1}; if [ -f "$last" ]; then grep -q '^PLAN-' "$last" || exit 3; fi ;;
    output)
        case "${*: -1}" in
            ansible_inventory) printf 'all:\n  children:\n    kafka:\n      hosts:\n        kafka1:\n          ansible_host: i-1\n' ;;
            connection) printf ssm ;; region) printf eu-west-1 ;; project) printf rill ;;
            environment) printf dev ;; instance_ids) echo '{"kafka1": "i-1", "rill1": "i-2"}' ;;
        esac ;;
    state) cat "$STUB_STATE" ;;
esac
STUB
cat >"$tmp/bin/aws" <<'STUB'
#!/usr/bin/env bash
# stand-in aws CLI
set -eu
echo "aws $*" >>"$STUB_LOG"
case "$1 $2" in
    "sts get-caller-identity") echo 123456789012 ;;
    "ssm describe-instance-information") echo Online ;;
    "resourcegroupstaggingapi get-resources") tr '\n' '\t' <"$STUB_ARNS"; echo ;;
    "kms describe-key") echo PendingDeletion ;;
    "ec2 describe-instances") echo terminated ;;
    "iam list-roles") echo None ;;
esac
STUB
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/session-manager-plugin"
# shellcheck disable=SC2016  # expanded by the stub, not here
printf '#!/bin/sh\necho "ansible-playbook $*" >>"$STUB_LOG"\n' >"$tmp/bin/ansible-playbook"
chmod +x "$tmp/bin"/*
export PATH=$tmp/bin:$PATH STUB_LOG=$tmp/log STUB_STATE=$tmp/state STUB_ARNS=$tmp/arns
export DESTROY_CHECK_SECONDS=0
: >"$tmp/state"; : >"$tmp/arns"

# deploy: plan to a file, apply that file, inventory, SSM wait, site.yml
: >"$tmp/log"
"$root/scripts/deploy_all.sh" --yes -- -e @vault.yml </dev/null >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "deploy_all.sh --yes"; }
plan=$(sed -n 's/^terraform plan .*-out=\([^ ]*\).*/\1/p' "$tmp/log")
[ -n "$plan" ] || fail "deploy ran no plan -out"
grep -qx "terraform apply -input=false $plan" "$tmp/log" || fail "deploy did not apply the plan file it wrote"
grep -q "ansible_host: i-1" "$root/ansible/inventories/aws/hosts.yml" || fail "the inventory was not written"
grep -q "^aws ssm describe-instance-information .*i-2" "$tmp/log" || fail "deploy did not wait on SSM"
grep -qx "ansible-playbook -i $root/ansible/inventories/aws/hosts.yml site.yml -e @vault.yml" "$tmp/log" ||
    fail "deploy did not run site.yml on the inventory"
[ ! -e "$plan" ] || fail "the plan file was left behind"
echo "test_scripts: deploy_all.sh applies its own plan file, writes the inventory, waits on SSM, runs site.yml"

: >"$tmp/log"
if "$root/scripts/deploy_all.sh" </dev/null >"$tmp/out" 2>&1; then fail "deploy applied without --yes or a terminal"; fi
grep -q '^terraform apply' "$tmp/log" && fail "deploy applied without a confirmation"
echo "test_scripts: deploy_all.sh does not apply without a confirmation"

# destroy: refusals
: >"$tmp/log"
if "$root/scripts/destroy_all.sh" </dev/null >"$tmp/out" 2>&1; then fail "destroy ran without --yes or a terminal"; fi
grep -q '^terraform destroy' "$tmp/log" && fail "destroy destroyed without a confirmation"
if command -v script >/dev/null; then
    : >"$tmp/log"
    printf 'rill-prod\n' | script -qec "$root/scripts/destroy_all.sh" /dev/null >"$tmp/out" 2>&1 || true
    grep -q '^terraform destroy' "$tmp/log" && fail "destroy went on after a wrong name was typed"
    grep -q 'not confirmed' "$tmp/out" || { cat "$tmp/out"; fail "no refusal message after a wrong name"; }
    : >"$tmp/log"
    printf 'rill-dev\n' | script -qec "$root/scripts/destroy_all.sh" /dev/null >"$tmp/out" 2>&1 ||
        { cat "$tmp/out"; fail "destroy with the typed name"; }
    grep -q '^terraform destroy' "$tmp/log" || fail "destroy did not destroy after the right name was typed"
    echo "test_scripts: destroy_all.sh refuses without a confirmation or with a wrong name, goes on with the right one"
else
    echo "test_scripts: destroy_all.sh refuses without a confirmation (no script(1) here for the typed-name cases)"
fi

# destroy --yes with RDS in the state; only things on their way out remain
: >"$tmp/log"
echo 'module.database.aws_db_instance.this[0]' >"$tmp/state"
printf '%s\n' arn:aws:kms:eu-west-1:123456789012:key/0000 arn:aws:ec2:eu-west-1:123456789012:instance/i-1 >"$tmp/arns"
"$root/scripts/destroy_all.sh" --yes </dev/null >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "destroy --yes with only pending deletions left"; }
first_apply=$(grep -n '^terraform apply .*rds_deletion_protection=false' "$tmp/log" | cut -d: -f1)
first_destroy=$(grep -n '^terraform destroy' "$tmp/log" | cut -d: -f1)
if [ -z "$first_apply" ] || [ -z "$first_destroy" ] || [ "$first_apply" -ge "$first_destroy" ]; then
    fail "RDS deletion protection was not lifted before destroy"
fi
grep -q 'Key=Project,Values=rill Key=Environment,Values=dev' "$tmp/log" || fail "the tag check did not filter on the project"
grep -q 'nothing tagged Project=rill' "$tmp/out" || fail "destroy did not report a clean account"
echo "test_scripts: destroy_all.sh --yes lifts RDS protection first, counts pending deletions as gone, exits 0"

# something left: exit 1 and list it
: >"$tmp/log"; : >"$tmp/state"
echo arn:aws:logs:eu-west-1:123456789012:log-group:/rill-dev/vpc-flow-logs >"$tmp/arns"
if "$root/scripts/destroy_all.sh" --yes </dev/null >"$tmp/out" 2>&1; then fail "destroy exited 0 with a resource left"; fi
grep -q 'log-group:/rill-dev/vpc-flow-logs' "$tmp/out" || fail "destroy did not list what remains"
grep -q 'rds_deletion_protection' "$tmp/log" && fail "destroy touched RDS without one in the state"
echo "test_scripts: destroy_all.sh exits 1 and lists a resource still tagged"
echo "test_scripts: passed"
