#!/usr/bin/env bash
# check.sh [ROOT] - checks the monitoring assets of infra/monitoring/ under
# ROOT (default: the clone); `make check-monitoring`, part of `make
# test-unit`. promtool (Debian's prometheus package) checks the scrape config
# and the rules and runs the rules' unit tests; check_assets.py checks the
# Grafana dashboard (JSON, its variables and rows, only rill's metrics and
# bounded labels in its queries, which promtool then parses) and the rules'
# metrics, labels and annotations. Then it proves the checks bite: broken
# copies of the dashboard and rules, and rules with a guard or threshold
# undone, must fail. Prints one line per step; on a failure, the step's
# output and "check-monitoring: FAILED: ...", and exits 1.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
mon=infra/monitoring
checker=tests/monitoring/check_assets.py

fail() { echo "check-monitoring: FAILED: $*"; exit 1; }

command -v promtool >/dev/null ||
    fail "promtool not found (Debian's prometheus package; \`make deps\` installs it)"
# Debian's python3 has python3-yaml (infra/local/deps.sh); another python3
# first on PATH may not.
PY=python3
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import yaml' 2>/dev/null; then PY=$p; break; fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# step NAME CMD...: runs CMD, prints NAME and promtool's last line, or the
# whole output and fails.
step() {
    local name=$1; shift
    if "$@" >"$tmp/out" 2>&1; then
        local said
        said=$(grep -E 'SUCCESS' "$tmp/out" | sed -E 's/^ *SUCCESS:? *//' | grep . | paste -sd ';' |
            sed 's/;/; /g') || true
        echo "check-monitoring: $name: ok${said:+ ($said)}"
    else
        cat "$tmp/out"
        fail "$name"
    fi
}
# refuses NAME PATTERN CMD...: CMD must fail (a check refusing a broken
# asset), saying PATTERN (an extended regex), so that it fails for the
# reason the self-test means.
refuses() {
    local name=$1 pattern=$2; shift 2
    if "$@" >"$tmp/out" 2>&1; then
        cat "$tmp/out"
        fail "self-test: $name passed, and should not"
    fi
    grep -qE "$pattern" "$tmp/out" || {
        cat "$tmp/out"
        fail "self-test: $name failed, but without saying /$pattern/"
    }
}
# mutate FILE OUT SED-EXPR: OUT is FILE edited, and the edit must change it
# (else the self-test no longer tests what it says).
mutate() {
    sed "$3" "$1" >"$2"
    ! cmp -s "$1" "$2" || fail "self-test: '$3' no longer changes $1; update tests/monitoring/check.sh"
}

step "promtool check config $mon/prometheus.yml" promtool check config "$mon/prometheus.yml"
step "promtool check rules $mon/rill.rules.yml" promtool check rules "$mon/rill.rules.yml"
step "promtool test rules $mon/rill.rules.test.yml" promtool test rules "$mon/rill.rules.test.yml"
step "rules name rill's metrics and bounded labels" "$PY" "$checker" rules "$mon/rill.rules.yml"
step "dashboard $mon/grafana/rill.json" "$PY" "$checker" dashboard "$mon/grafana/rill.json" "$tmp/dashboard.rules.json"
step "promtool parses the dashboard's queries" promtool check rules "$tmp/dashboard.rules.json"

# The checks refuse broken assets.
d=$mon/grafana/rill.json
mutate "$d" "$tmp/d1.json" 's/rill_records_in_total/rill_records_inn_total/'
refuses "a dashboard querying an unknown metric" "metric .rill_records_inn_total. is not one rill exposes" "$PY" "$checker" dashboard "$tmp/d1.json"
mutate "$d" "$tmp/d2.json" 's/"name": "datasource"/"name": "ds"/'
refuses "a dashboard without the datasource variable" "no .datasource. variable" "$PY" "$checker" dashboard "$tmp/d2.json"
mutate "$d" "$tmp/d3.json" '0,/"panels": \[/s//"panels": [,/'
refuses "a dashboard that is not JSON" "not valid JSON" "$PY" "$checker" dashboard "$tmp/d3.json"
mutate "$d" "$tmp/d4.json" '0,/sum by (processor)/s//sum by (processor, key)/'
refuses "a dashboard grouping by a label that grows with the data" "groups by .key." "$PY" "$checker" dashboard "$tmp/d4.json"
mutate "$d" "$tmp/d5.json" 's/"uid": "${datasource}"/"uid": "P1809F7CD0C75ACF3"/g'
refuses "a dashboard with a fixed datasource" "datasource is not" "$PY" "$checker" dashboard "$tmp/d5.json"
r=$mon/rill.rules.yml
mutate "$r" "$tmp/r1.yml" '0,/^        for: /{/^        for: /d}'
refuses "an alert without for:" "RillDown: no .for:." "$PY" "$checker" rules "$tmp/r1.yml"
mutate "$r" "$tmp/r2.yml" 's/max by (job, group) (rill_consumer_lag_seconds)/max by (job, group, offset) (rill_consumer_lag_seconds)/'
refuses "a rule grouping by a label that grows with the data" "groups by .offset." "$PY" "$checker" rules "$tmp/r2.yml"
printf '# TYPE rill_ready gauge\nrill_ready 1\nrill_records_in_total{processor="p"} 3\n' >"$tmp/m1.txt"
refuses "a /metrics answer missing a label" "rill_records_in_total has labels" "$PY" "$checker" metrics "$tmp/m1.txt"
printf '# TYPE rill_ready gauge\nrill_ready 1\nrill_records_per_key{key="k1"} 3\n' >"$tmp/m2.txt"
refuses "a /metrics answer with an unknown metric" "unknown metric rill_records_per_key" "$PY" "$checker" metrics "$tmp/m2.txt"
echo "check-monitoring: the checks refuse a broken dashboard (5 ways), broken rules (2 ways) and broken /metrics answers (2 ways)"

# The unit tests catch a rule with its guard or threshold undone.
cp "$mon/rill.rules.test.yml" "$tmp/"
unguarded() {
    mutate "$r" "$tmp/rill.rules.yml" "$1"
    refuses "the rules' unit tests with $2" "FAILED" promtool test rules "$tmp/rill.rules.test.yml"
}
unguarded 's|/ (job_processor:rill_records_in:rate5m > 0)|/ job_processor:rill_records_in:rate5m|' \
    "the error rate's division by zero unguarded"
unguarded 's/rill_consumer_lag_seconds:max > 60/rill_consumer_lag_seconds:max >= 60/' "the lag threshold at >= 60 s"
unguarded 's/up{job="rill"} == 0/up == 0/' "RillDown on every job"
unguarded 's/rill_sink_circuit_open == 1/rill_sink_circuit_open >= 0/' "RillSinkCircuitOpen always true"
unguarded 's/increase(rill_rebalances_total\[15m\])) >= 6/increase(rill_rebalances_total[15m])) > 5/' \
    "the rebalance storm at > 5"
echo "check-monitoring: the rules' unit tests fail on 5 broken rules"
echo "check-monitoring: passed"
