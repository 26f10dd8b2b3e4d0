#!/usr/bin/env bash
# check.sh [ROOT] - the offline checks of infra/terraform (`make check-infra`,
# part of `make test`):
#   1. checkov on infra/terraform (framework terraform, offline: no API key,
#      no mapping download): zero failed checks; every skip carries a reason
#      (inline #checkov:skip=ID:reason). Prints passed/failed/skipped.
#   2. the project policy tests/infra/policy.py (no ingress to 22 or
#      9092-9096 from 0.0.0.0/0 or ::/0): its self-test, then it must fail on
#      exactly the three bad resources of tests/infra/fixtures/bad_sg and pass
#      on infra/terraform.
#   3. with a terraform binary: fmt -check -recursive, and terraform test in
#      the provider-free layout module; without one, says so and skips.
#      The layout's inventory, rendered, must read in ansible-inventory
#      (infra/local/tools.sh ansible) with the rollout contract's groups.
#   4. with the AWS provider in a local plugin mirror (TF_PLUGIN_DIR, default
#      /opt/tf-plugins): init and validate of the root module in a copy, and
#      its mock-provider plan tests (infra/terraform/tests); otherwise says
#      that the root module cannot be initialised here and skips.
#   5. tests/infra/test_scripts.sh: scripts/deploy_all.sh and destroy_all.sh
#      against stand-ins of terraform and the aws CLI.
# checkov comes from infra/local/tools.sh (a pinned venv from PyPI). Prints
# which checks ran and which could not; exits 1 on the first failure.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
tf_dir=infra/terraform
layout=$tf_dir/modules/layout
fixture=tests/infra/fixtures/bad_sg
bad="aws_security_group.open_ssh,aws_security_group_rule.open_kafka_range,aws_vpc_security_group_ingress_rule.open_v6"
plugin_dir=${TF_PLUGIN_DIR:-/opt/tf-plugins}

ran=() skipped=()
fail() { echo "check-infra: FAILED: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# checkov offline: no platform key, no mapping or SCA download.
unset BC_API_KEY PRISMA_API_URL
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false

ck_bin=$(infra/local/tools.sh checkov) || fail "infra/local/tools.sh could not provide checkov"
checkov=$ck_bin/checkov
[ -x "$checkov" ] || fail "no checkov in $ck_bin"

# 1. checkov
"$checkov" -d "$tf_dir" --framework terraform --skip-download -o json \
    >"$tmp/checkov.json" 2>"$tmp/checkov.err" || true
python3 - "$tmp/checkov.json" <<'PY' || { tail -5 "$tmp/checkov.err"; fail "checkov on $tf_dir"; }
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit("checkov gave no JSON report")
reports = data if isinstance(data, list) else [data]
tf = [r for r in reports if r.get("check_type") == "terraform"]
if not tf:
    sys.exit("checkov report has no terraform results")
res, summ = tf[0]["results"], tf[0]["summary"]
print("checkov: %d passed, %d failed, %d skipped, %d parsing errors, %d resources"
      % (summ["passed"], summ["failed"], summ["skipped"], summ["parsing_errors"], summ["resource_count"]))
bad = 0
for c in res.get("failed_checks", []):
    print("checkov: FAILED %s %s (%s:%s) %s" % (c["check_id"], c["resource"], c["file_path"],
          c["file_line_range"][0], c["check_name"]))
    bad += 1
for c in res.get("skipped_checks", []):
    why = (c.get("check_result") or {}).get("suppress_comment") or ""
    if not why.strip() or why.strip() == "No comment provided":
        print("checkov: skip without a reason: %s %s" % (c["check_id"], c["resource"]))
        bad += 1
    else:
        print("checkov: skipped %s on %s: %s" % (c["check_id"], c["resource"], why))
if summ["parsing_errors"]:
    bad += 1
if summ["passed"] == 0:
    print("checkov: no check passed: nothing was scanned")
    bad += 1
sys.exit(1 if bad else 0)
PY
ran+=("checkov")

# 2. the project policy
python3 tests/infra/policy.py --self-test || fail "policy self-test"
python3 tests/infra/policy.py "$fixture" --checkov "$checkov" --expect-failures "$bad" ||
    fail "the policy does not fire on exactly the bad resources of $fixture"
python3 tests/infra/policy.py "$tf_dir" --checkov "$checkov" || fail "the policy on $tf_dir"
ran+=("policy (fixture fires, infra/terraform passes)")

# 3. terraform fmt and the layout module's tests
if command -v terraform >/dev/null; then
    export TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE=${TF_CLI_CONFIG_FILE:-/dev/null}
    terraform fmt -check -recursive "$tf_dir" >"$tmp/fmt.out" 2>&1 ||
        { cat "$tmp/fmt.out"; fail "terraform fmt -check -recursive $tf_dir (run terraform fmt -recursive $tf_dir)"; }
    terraform fmt -check -recursive "$fixture" >/dev/null 2>&1 || fail "terraform fmt -check $fixture"
    echo "terraform: fmt -check clean"
    ran+=("terraform fmt")
    export TF_DATA_DIR=$tmp/layout.tfdata
    terraform -chdir="$layout" init -backend=false -input=false -no-color >"$tmp/init.out" 2>&1 ||
        { cat "$tmp/init.out"; fail "terraform init of $layout"; }
    terraform -chdir="$layout" test -no-color >"$tmp/test.out" 2>&1 ||
        { cat "$tmp/test.out"; fail "terraform test in $layout"; }
    grep -E '^(Success|Failure)' "$tmp/test.out" | sed 's/^/terraform test (layout): /'
    ran+=("terraform test (layout)")

    # The inventory as ansible-inventory reads it: render it from the layout
    # module (no resource: apply only computes outputs, state in $tmp).
    terraform -chdir="$layout" apply -auto-approve -input=false -no-color -state="$tmp/layout.tfstate" \
        -var vpc_cidr=10.40.0.0/16 -var 'availability_zones=["a","b","c"]' -var region=eu-west-1 \
        -var 'instance_ids={kafka1="i-0123456789abcdef0"}' >"$tmp/apply.out" 2>&1 ||
        { cat "$tmp/apply.out"; fail "rendering the inventory from $layout"; }
    terraform -chdir="$layout" output -no-color -state="$tmp/layout.tfstate" -raw inventory_yaml >"$tmp/hosts.yml" 2>"$tmp/output.err" ||
        { cat "$tmp/output.err"; fail "terraform output of the rendered inventory"; }
    if ansible_bin=$(infra/local/tools.sh ansible 2>"$tmp/tools.err"); then
        "$ansible_bin/ansible-inventory" -i "$tmp/hosts.yml" --list >"$tmp/inv.json" 2>"$tmp/inv.err" ||
            { cat "$tmp/inv.err"; fail "ansible-inventory cannot read the generated inventory"; }
        python3 - "$tmp/inv.json" <<'PY' || fail "the generated inventory does not follow the rollout contract"
import json, sys
inv = json.load(open(sys.argv[1]))
hv = inv["_meta"]["hostvars"]
groups = {g: inv.get(g, {}).get("hosts", []) for g in ("kafka", "postgresql", "rill", "control_center")}
assert sorted(groups["kafka"]) == ["kafka1", "kafka2", "kafka3"], groups
assert groups["postgresql"] == ["postgresql1"] and groups["control_center"] == ["control_center1"], groups
assert sorted(groups["rill"]) == ["rill1", "rill2"], groups
assert "bastion" in inv["all"]["children"], inv["all"]
for i, h in enumerate(sorted(groups["kafka"]), 1):
    v = hv[h]
    assert v["kafka_node_id"] == i and v["kafka_advertised_host"] == v["private_ip"], v
    assert (v["kafka_client_port"], v["kafka_controller_port"], v["kafka_broker_port"]) == (9092, 9093, 9094), v
assert hv["kafka1"]["ansible_host"] == "i-0123456789abcdef0", hv["kafka1"]
assert all(v["deploy_root"] == "" and v["service_manager"] == "systemd" for v in hv.values())
print("ansible-inventory: the generated inventory has the contract's groups and host vars (%d hosts)" % len(hv))
PY
        ran+=("ansible-inventory on the generated inventory")
    else
        echo "ansible-inventory: infra/local/tools.sh ansible failed ($(tail -1 "$tmp/tools.err")), inventory check skipped"
        skipped+=("ansible-inventory on the generated inventory")
    fi
    unset TF_DATA_DIR

    # 4. the root module, when the AWS provider is in a local mirror
    if [ -d "$plugin_dir/registry.terraform.io/hashicorp/aws" ]; then
        cp -r "$tf_dir" "$tmp/root"
        rm -rf "$tmp/root/.terraform" "$tmp/root/.terraform.lock.hcl" "$tmp/root"/*.tfstate*
        terraform -chdir="$tmp/root" init -backend=false -input=false -no-color -plugin-dir="$plugin_dir" \
            >"$tmp/rinit.out" 2>&1 || { cat "$tmp/rinit.out"; fail "terraform init of $tf_dir from $plugin_dir"; }
        terraform -chdir="$tmp/root" validate -no-color >"$tmp/validate.out" 2>&1 ||
            { cat "$tmp/validate.out"; fail "terraform validate of $tf_dir"; }
        echo "terraform: validate of $tf_dir (aws provider from $plugin_dir): valid"
        ran+=("terraform validate (root)")
        if ls "$tmp/root/tests/"*.tftest.hcl >/dev/null 2>&1; then
            terraform -chdir="$tmp/root" test -no-color >"$tmp/rtest.out" 2>&1 ||
                { cat "$tmp/rtest.out"; fail "terraform test (mock provider) in $tf_dir"; }
            grep -E '^(Success|Failure)' "$tmp/rtest.out" | sed 's/^/terraform test (root, mock aws): /'
            ran+=("terraform test (root, mock aws provider)")
        fi
    else
        echo "terraform: the aws provider is not in $plugin_dir and cannot be downloaded here:" \
            "the root module cannot be initialised, validate and its plan tests skipped"
        skipped+=("terraform validate and plan tests of the root module (no aws provider)")
    fi
else
    echo "terraform: not on this machine, fmt and test skipped"
    skipped+=("terraform fmt" "terraform test (layout)" "ansible-inventory on the generated inventory" "terraform validate (root)")
fi
# 5. the deploy and destroy scripts against stand-in tools
tests/infra/test_scripts.sh || fail "scripts/deploy_all.sh or destroy_all.sh (tests/infra/test_scripts.sh)"
ran+=("deploy/destroy scripts against stand-in terraform and aws")

skipped+=("terraform plan/apply against AWS (needs credentials: scripts/deploy_all.sh)")

join() { local out=$1; shift; for x in "$@"; do out="$out; $x"; done; echo "$out"; }
echo "check-infra: ran: $(join "${ran[@]}")"
echo "check-infra: could not run: $(join "${skipped[@]}")"
echo "check-infra: passed"
