#!/usr/bin/env bash
# Proves that ansible/rollout.yml stops at the first host that fails and
# leaves the hosts after it untouched, against a running local-mode setup
# (service_manager: local, two or more rill hosts, every rill instance up):
#   1. a topology rill validate refuses (approve_rate 2) on the first rill
#      host: the rollout fails there before replacing anything; that host
#      keeps running its old topology, the second is not touched;
#   2. a topology that validates but cannot run (topics with a prefix that
#      was never applied) on the first host: it is restarted, never becomes
#      ready, the rollout fails on its /readyz wait, the second host is not
#      touched (same pid, same topology file, still ready);
#   3. a rollout of the good topology brings the first host back.
# The arguments are ansible-playbook's inventory and vars options, e.g.
#   broken_rollout.sh -i tests/rollout/inventory/apps.yml -e @vars.yml
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$("$repo/infra/local/tools.sh" ansible)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "broken_rollout: FAIL: $*" >&2; exit 1; }
say() { echo "broken_rollout: $*"; }

# The first two rill hosts, with their deploy_root and HTTP port.
hosts_info() {
    (cd "$repo/ansible" && "$bin/ansible" "$@" 'rill[0:1]' -o -m ansible.builtin.debug \
        -a 'msg="HOST {{ groups.rill.index(inventory_hostname) }} {{ inventory_hostname }} {{ deploy_root }} {{ rill_http_port }}"') |
        sed -n 's/.*"msg": "HOST \([0-9]*\) \([^ ]*\) \([^ ]*\) \([0-9]*\)".*/\1 \2 \3 \4/p' | sort -n | cut -d' ' -f2-
}
info=$(hosts_info "$@" | tr '\n' ' ')
read -r h1 root1 port1 h2 root2 port2 <<<"$info" || true
[ -n "${h2:-}" ] || fail "need two rill hosts in the inventory"
say "first host $h1 ($root1, :$port1), second host $h2 ($root2, :$port2)"

ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz")" = 200 ]; }
snapshot() {  # pid and topology checksum of a host
    echo "$(cat "$1/run/rill/rill.pid") $(sha256sum <"$1/etc/rill/topology.yaml" | cut -c1-16)"
}
rollout() {  # rollout.yml with a host var overlay for the first host; its log in $work/$1.log
    local name=$1; shift
    (cd "$repo/ansible" && "$bin/ansible-playbook" "$@" rollout.yml) >"$work/$name.log" 2>&1
}
recap() { sed -n '/PLAY RECAP/,$p' "$work/$1.log" | grep -E '^[a-z0-9]+ +:' || true; }
overlay() {  # an inventory overlay setting one host var on the first host
    printf 'all:\n  children:\n    rill:\n      hosts:\n        %s:\n          %s\n' "$h1" "$1" >"$work/overlay.yml"
}

ready "$port1" && ready "$port2" || fail "both rill instances must be ready before the test"
before1=$(snapshot "$root1"); before2=$(snapshot "$root2")

# 1. refused by rill validate
overlay "rill_approve_rate: 2"
if rollout refused "$@" -i "$work/overlay.yml"; then fail "the rollout with approve_rate 2 succeeded"; fi
recap refused
grep -q "^$h1 .*failed=1" <(recap refused) || fail "$h1 did not fail"
! grep -q "^$h2 " <(recap refused) || fail "$h2 was played"
grep -q "approve_rate" "$work/refused.log" || fail "the failure does not name approve_rate"
[ "$(snapshot "$root1")" = "$before1" ] || fail "$h1 was changed"
[ "$(snapshot "$root2")" = "$before2" ] || fail "$h2 was changed"
ready "$port1" && ready "$port2" || fail "an instance is not ready after the refused rollout"
say "1 passed: refused by rill validate on $h1, nothing replaced, $h2 not played"

# 2. validates, cannot run
overlay "rill_topic_prefix: never-applied-"
if rollout broken "$@" -i "$work/overlay.yml" -e rill_ready_retries=10; then
    fail "the rollout with unapplied topics succeeded"
fi
recap broken
grep -q "^$h1 .*failed=1" <(recap broken) || fail "$h1 did not fail"
! grep -q "^$h2 " <(recap broken) || fail "$h2 was played"
grep -q "Wait until /readyz answers 200" "$work/broken.log" || fail "the failure is not the /readyz wait"
[ "$(snapshot "$root1")" != "$before1" ] || fail "$h1 was not restarted with the new topology"
! ready "$port1" || fail "$h1 is ready with a topology that cannot run"
[ "$(snapshot "$root2")" = "$before2" ] || fail "$h2 was changed"
ready "$port2" || fail "$h2 is not ready"
tail -1 "$root1/var/log/rill/rill.log" | sed 's/^/broken_rollout: '"$h1"' says: /'
say "2 passed: $h1 restarted and never ready, rollout stopped there, $h2 untouched and ready"

# 3. the good topology again
rollout restore "$@" || { tail -20 "$work/restore.log"; fail "the good rollout failed"; }
recap restore
ready "$port1" && ready "$port2" || fail "not both ready after the good rollout"
[ "$(snapshot "$root2")" = "$before2" ] || fail "$h2 was restarted though nothing of it changed"
say "3 passed: the good rollout brought $h1 back; $h2 not restarted"
say "PASS"
