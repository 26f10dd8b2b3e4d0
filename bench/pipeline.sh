#!/usr/bin/env bash
# pipeline.sh - `make bench-pipeline`: the whole order pipeline
# (topology/examples/ecommerce.yaml: payment, inventory, shipping,
# notification, exactly-once at 100 ms) in one `rill run`, end to end, on
# the local stack. Per round: the topology with its topics renamed
# `<run>.<topic>` (fresh topics, nothing of earlier runs counted) and its
# own application.id and state folder; `rill apply`; BENCH_PIPELINE_ORDERS
# orders (default 100,000) written first by `rill generate` as fast as it
# can; then `rill run` starts (pinned to core 1, the broker's core 0 left to
# it) and the clock runs until `rill inspect --wait-pipeline` sees every
# order decided and notified (read_committed), so the figure holds the
# start-up (group join, transactions' init) and the last commit. Orders per
# second = orders / that time, the median of BENCH_RUNS rounds (default 3).
# With BENCH_PIPELINE_PROFILE=1 (the default) the first round runs under
# `perf record -e cpu-clock -g` (software clock: this machine's hardware
# counters are not exposed) and the top of `perf report` by symbol goes into
# the results. Writes bench/results/pipeline.md. Asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
STACK=${RILL_STACK_DIR:-$PWD/.stack}
# shellcheck source=/dev/null
. "$STACK/kafka.env"
N=${BENCH_PIPELINE_ORDERS:-100000}
RUNS=${BENCH_RUNS:-3}
PROFILE=${BENCH_PIPELINE_PROFILE:-1}
RILL=$REPO/build/release/rill
ADMIN=$SECRETS_DIR/admin.client.conf
OUT=bench/results/pipeline.md
WORK=$(mktemp -d /tmp/rill-bench-pipeline.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench-pipeline: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
command -v perf >/dev/null || PROFILE=0

now() { date +%s.%N; }
declare -a RATES=() SECS=() CPUS=()
for ((r = 1; r <= RUNS; r++)); do
    run=bp$$-$r
    yaml=$WORK/$run.yaml
    # fresh topics and group names; the secrets of this stack
    sed -e "s#^application.id: .*#application.id: $run#" \
        -e "s#^state.dir: .*#state.dir: $WORK/state-$r#" \
        -e "s#\${file:../../.stack/secrets/#\${file:$SECRETS_DIR/#" \
        -E -e "s#\b(order_placed|payment_result|inventory_result|order_shipped|order_status|stock_release|notifications)\b#$run.\1#g" \
        topology/examples/ecommerce.yaml >"$yaml"
    "$RILL" apply "$yaml" -F "$ADMIN" >"$WORK/apply-$r.log" 2>&1 ||
        { cat "$WORK/apply-$r.log" >&2; exit 1; }
    "$RILL" generate -F "$ADMIN" -t "$run.order_placed" -n "$N" -s 7 >"$WORK/gen-$r.log" 2>&1 ||
        { cat "$WORK/gen-$r.log" >&2; exit 1; }
    t0=$(now)
    if [ "$PROFILE" = 1 ] && [ "$r" = 1 ]; then
        taskset -c 1 perf record -q -e cpu-clock -F 999 -g -o "$WORK/perf.data" -- \
            "$RILL" run "$yaml" 2>"$WORK/run-$r.log" &
    else
        taskset -c 1 "$RILL" run "$yaml" 2>"$WORK/run-$r.log" &
    fi
    pid=$!
    "$RILL" inspect "$yaml" -F "$ADMIN" --wait-pipeline 600 >"$WORK/summary-$r.txt" 2>&1 ||
        { cat "$WORK/summary-$r.txt" >&2; tail -20 "$WORK/run-$r.log" >&2; exit 1; }
    t1=$(now)
    # user + system CPU of rill so far (round 1: of perf's child)
    rp=$pid
    [ "$PROFILE" = 1 ] && [ "$r" = 1 ] && rp=$(pgrep -P "$pid" -f "rill run" | head -1)
    tk=$(getconf CLK_TCK)
    cpu=$(awk -v tk="$tk" '{ print ($14 + $15) / tk }' "/proc/$rp/stat" 2>/dev/null || echo 0)
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    s=$(echo "$t1 - $t0" | bc -l)
    rate=$(echo "$N / $s" | bc -l)
    SECS+=("$s")
    CPUS+=("$(printf '%.1f' "$cpu")")
    RATES+=("$(printf '%.0f' "$rate")")
    printf 'bench-pipeline: round %d: %d orders in %.2f s: %.0f orders/s, %s CPU s\n' "$r" "$N" \
        "$s" "$rate" "$cpu"
done

median=$(printf '%s\n' "${RATES[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
lo=$(printf '%s\n' "${RATES[@]}" | sort -n | head -1)
hi=$(printf '%s\n' "${RATES[@]}" | sort -n | tail -1)
{
    echo "# The order pipeline end to end"
    echo
    echo "\`make bench-pipeline\` on $(date -u +%Y-%m-%d): topology/examples/ecommerce.yaml (payment,"
    echo "inventory, shipping, notification; exactly-once, 100 ms commits; 6 partitions) in"
    echo "one \`rill run\` pinned to core 1, the broker on core 0; $N orders written"
    echo "before the start; from \`rill run\`'s start (group join included) until \`rill"
    echo "inspect --wait-pipeline\` sees every order decided and notified (read_committed)."
    echo
    echo "| rounds | median orders/s | spread | seconds per round | rill's CPU seconds per round |"
    echo "| ---: | ---: | ---: | --- | --- |"
    echo "| $RUNS | $median | $lo..$hi | $(printf '%.1f ' "${SECS[@]}")| ${CPUS[*]} |"
    echo
    echo "rill's CPU over the wall time shows how busy its one core was (1.0: all of it)."
    echo
    echo "Target (issue 14): >= 10,000 orders/s on these 2 cores: $([ "$median" -ge 10000 ] && echo met || echo missed)."
    echo
    echo "What the last round's run did (its summary):"
    echo
    echo '```'
    grep -E 'orders|shipped|cancelled|notifications' "$WORK/summary-$RUNS.txt" | awk 'NR <= 20'
    echo '```'
    if [ -f "$WORK/perf.data" ]; then
        echo
        echo "Where round 1's CPU went (\`perf record -e cpu-clock -g\`, self time by symbol,"
        echo "every thread of the process; the top 25):"
        echo
        echo '```'
        perf report -i "$WORK/perf.data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null |
            grep -E '^ +[0-9]' | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/[[:space:]]+$//' | awk 'NR <= 25'
        echo '```'
    fi
} >"$OUT"
echo "bench-pipeline: median $median orders/s ($lo..$hi); wrote $OUT"
