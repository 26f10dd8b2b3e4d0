#!/usr/bin/env bash
# demo.sh - the README's `make demo`: runs the order pipeline of
# topology/examples/ecommerce.yaml and its PostgreSQL sinks
# (topology/examples/ecommerce_sinks.yaml) on the local stack (which `make
# demo` has brought up) and shows what happened. It applies both topologies
# (topics, changelogs, DLQs, one Kafka user per processor and pg_sink for the
# sinks, each with its ACLs), migrates the sinks' database, starts one
# `rill run` of the pipeline and one of the sinks, produces orders with `rill
# generate` as the order_generator user, waits until every order has been
# decided, shipped or cancelled and notified, prints `rill inspect`'s summary
# and stops the pipeline with SIGTERM; then waits until the sinks have
# written everything (their positions in rill_offsets at the topics' end
# offsets), stops them with SIGTERM and prints, with psql, the row count of
# every table and what the views answer.
# Topics, state and the database persist between runs, so the totals add up
# over runs (the sinks resume from rill_offsets; the migration is a no-op once
# applied).
# Knobs: DEMO_ORDERS (default 10000), DEMO_RATE orders/s (default 2000),
# DEMO_SINK_WAIT seconds the sinks may take to catch up (default 300),
# DEMO_KEEP=1 to leave the pipeline and the sinks running at the end (the web
# view, /metrics and rill inspect then show them live; the pids in
# $DEMO/pids).
# The first run reserves about 80% of the orders; later runs draw on the
# stock the earlier ones left.
set -euo pipefail
cd "$(dirname "$0")/../.."
STACK=${RILL_STACK_DIR:-$PWD/.stack}
# shellcheck source=/dev/null
. "$STACK/kafka.env"
ORDERS=${DEMO_ORDERS:-10000}
RATE=${DEMO_RATE:-2000}
SINK_WAIT=${DEMO_SINK_WAIT:-300}
KEEP=${DEMO_KEEP:-0}
DEMO=$STACK/demo
mkdir -p "$DEMO"
# Two rill runs on one machine: each its own state dir (the instance lock).
export KAFKA_BOOTSTRAP RILL_STATE_DIR="$DEMO/state" RILL_SINK_STATE_DIR="$DEMO/sink-state"
# The topologies read the passwords and the DSN from ../../.stack/secrets;
# point a copy at this stack's secrets when the stack lives elsewhere.
topology() {
    local yaml=topology/examples/$1
    if [ "$(readlink -f "$SECRETS_DIR")" != "$(readlink -f .stack/secrets 2>/dev/null || true)" ]; then
        sed "s#\${file:../../.stack/secrets/#\${file:$SECRETS_DIR/#" "$yaml" >"$DEMO/$1"
        yaml=$DEMO/$1
    fi
    echo "$yaml"
}
YAML=$(topology ecommerce.yaml)
SINKS=$(topology ecommerce_sinks.yaml)
ADMIN=$SECRETS_DIR/admin.client.conf
APP=${RILL_APP_ID:-orders}
# The inputs of each sink, as in ecommerce_sinks.yaml; its group is
# <application.id>.<name>.
declare -A SINK_INPUTS=(
    [orders_db]="order_placed payment_result inventory_result order_shipped order_status"
    [olap]="order_placed order_shipped order_status"
)

step() { printf '\n== %s\n' "$*"; }

# psql on the sinks' database (the DSN of pg.dsn). The password goes to psql
# in PGPASSWORD, never on a command line, and nothing here prints it.
PSQL=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1 || true)
PSQL=${PSQL:-$(command -v psql || true)}
[ -n "$PSQL" ] || { echo "demo.sh: psql not found (make deps)" >&2; exit 1; }
PG_CONNINFO=$(head -n 1 "$SECRETS_DIR/pg.dsn")
PG_PASSWORD=
if [[ $PG_CONNINFO =~ ^(postgres(ql)?://[^:@/]*):([^@/]*)@(.*)$ ]]; then
    # URI: user:password@ (percent-encoded)
    enc=${BASH_REMATCH[3]}
    PG_PASSWORD=$(printf '%b' "${enc//%/\\x}")
    PG_CONNINFO="${BASH_REMATCH[1]}@${BASH_REMATCH[4]}"
    unset enc
elif [[ $PG_CONNINFO =~ ^(.*)(^|[[:space:]])password[[:space:]]*=[[:space:]]*(\'([^\']*)\'|([^[:space:]\']*))(.*)$ ]]; then
    # keywords: password=value or password='value'
    PG_PASSWORD=${BASH_REMATCH[4]}${BASH_REMATCH[5]}
    PG_CONNINFO="${BASH_REMATCH[1]}${BASH_REMATCH[2]}${BASH_REMATCH[6]}"
fi
pg() {
    PGPASSWORD=$PG_PASSWORD PGAPPNAME=rill-demo "$PSQL" -X -q -v ON_ERROR_STOP=1 -P pager=off \
        -d "$PG_CONNINFO" "$@"
}
pg1() { pg -At -c "$1"; }

# The sum of topic $1's end offsets (what a sink's positions must reach);
# fails unless every partition answered.
end_offsets() {
    local out n p args=()
    out=$(kcat -q -F "$ADMIN" -L -t "$1") || return 1
    n=$(grep -c '^ *partition [0-9]*,' <<<"$out") || return 1
    for ((p = 0; p < n; p++)); do args+=(-t "$1:$p:-1"); done
    out=$(kcat -q -F "$ADMIN" -Q "${args[@]}") || return 1
    [ "$(grep -c "^$1 \[[0-9]*\] offset [0-9]*\$" <<<"$out")" = "$n" ] || return 1
    awk '{ s += $NF } END { print s }' <<<"$out"
}

# How far the sinks are behind: the end offsets minus the positions in
# rill_offsets, summed over every sink and input topic.
sinks_lag() {
    local sink t end ends=""
    for sink in "${!SINK_INPUTS[@]}"; do
        for t in ${SINK_INPUTS[$sink]}; do
            end=$(end_offsets "$t") || { echo "no end offsets for $t" >&2; return 1; }
            ends+="${ends:+, }('$APP.$sink', '$t', $end)"
        done
    done
    pg1 "SELECT coalesce(sum(greatest(e.end_offset - coalesce(
                 (SELECT sum(o.next_offset) FROM rill_offsets o
                   WHERE o.group_id = e.group_id AND o.topic = e.topic), 0), 0)), 0)
               FROM (VALUES $ends) AS e (group_id, topic, end_offset)"
}

step "rill apply $YAML (topics and least-privilege ACLs, as admin)"
./rill apply "$YAML" -F "$ADMIN"

step "rill apply $SINKS (pg_sink's reads and consumer groups, as admin)"
./rill apply "$SINKS" -F "$ADMIN"

step "rill migrate -c $SINKS (the sinks' tables and views; nothing to do once applied)"
./rill migrate -c "$SINKS"

pid=
sinks_pid=
stop_all() {
    local p
    for p in $pid $sinks_pid; do
        kill -TERM "$p" 2>/dev/null && wait "$p" || true
    done
}
trap stop_all EXIT

step "rill run $YAML (log: $DEMO/rill.log)"
: >"$DEMO/rill.log"
./rill run "$YAML" 2>>"$DEMO/rill.log" &
pid=$!

step "rill run $SINKS (log: $DEMO/sinks.log)"
: >"$DEMO/sinks.log"
./rill run "$SINKS" 2>>"$DEMO/sinks.log" &
sinks_pid=$!

seed=$(( $(date +%s) % 100000 ))
step "rill generate: $ORDERS orders at $RATE/s, seed $seed, as order_generator"
./rill generate -F "$SECRETS_DIR/order_generator.client.conf" --orders "$ORDERS" \
    --rate "$RATE" --seed "$seed"

step "waiting for the pipeline to finish, then its summary (rill inspect)"
./rill inspect "$YAML" -F "$ADMIN" --wait-pipeline 180

step "the pipeline's web view, /readyz and /metrics (http://127.0.0.1:9464; the sinks' on 9465)"
echo "web view: http://127.0.0.1:9464/ answers $(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
    http://127.0.0.1:9464/ || true)"
curl -s --max-time 5 http://127.0.0.1:9464/readyz | head -c 300 && echo || echo "(not serving)"
curl -s --max-time 5 http://127.0.0.1:9464/metrics | grep -E '^rill_(records_(in|out)_total|transactions_total)' || true

if [ "$KEEP" != 1 ]; then
    step "stopping the pipeline (SIGTERM: drain, commit, exit 0)"
    kill -TERM "$pid"
    wait "$pid"
    pid=
    echo "stopped; what each processor's thread did (from the structured log):"
    grep 'msg="thread stopped"' "$DEMO/rill.log" || true
fi

step "waiting for the sinks to catch up (their rill_offsets at the topics' end offsets)"
deadline=$((SECONDS + SINK_WAIT))
last=
while :; do
    if ! kill -0 "$sinks_pid" 2>/dev/null; then
        echo "demo.sh: the sinks' rill run exited; the end of $DEMO/sinks.log:" >&2
        tail -20 "$DEMO/sinks.log" >&2
        exit 1
    fi
    # The stack is shared: a moment without an answer is waited out.
    if lag=$(sinks_lag 2>"$DEMO/lag.err"); then
        [ "$lag" = 0 ] && break
        [ "$lag" != "$last" ] && echo "  $lag offsets to go"
    else
        lag="unknown: no answer"
    fi
    if [ $SECONDS -ge $deadline ]; then
        echo "demo.sh: the sinks have not caught up after ${SINK_WAIT}s (offsets behind: $lag);" \
            "see $DEMO/sinks.log" >&2
        cat "$DEMO/lag.err" >&2
        exit 1
    fi
    last=$lag
    sleep 1
done
echo "caught up: every record of their inputs is in PostgreSQL"

curl -s --max-time 5 http://127.0.0.1:9465/metrics | grep -E '^rill_sink_(records|batches)_total' || true

if [ "$KEEP" != 1 ]; then
    step "stopping the sinks (SIGTERM: write the batch in hand, exit 0)"
    kill -TERM "$sinks_pid"
    wait "$sinks_pid"
    sinks_pid=
    echo "stopped; what each sink did (from the structured log):"
    grep 'msg="stopped" sink=' "$DEMO/sinks.log" || true
fi
trap - EXIT

step "PostgreSQL: rows per table"
pg -c "
SELECT t.name AS \"table\", t.n AS rows FROM (
          SELECT 1 AS k, 'orders' AS name, count(*) AS n FROM orders
UNION ALL SELECT 2, 'order_items', count(*) FROM order_items
UNION ALL SELECT 3, 'order_status_history', count(*) FROM order_status_history
UNION ALL SELECT 4, 'fact_sales', count(*) FROM fact_sales
UNION ALL SELECT 5, 'dim_customer', count(*) FROM dim_customer
UNION ALL SELECT 6, 'dim_product', count(*) FROM dim_product
UNION ALL SELECT 7, 'dim_store', count(*) FROM dim_store
UNION ALL SELECT 8, 'dim_date', count(*) FROM dim_date
UNION ALL SELECT 9, 'rill_offsets', count(*) FROM rill_offsets
UNION ALL SELECT 10, 'rill_dead_letters', count(*) FROM rill_dead_letters) AS t
ORDER BY t.k"

step "v_orders_by_status: orders by their current status"
pg -c "SELECT * FROM v_orders_by_status"

step "v_daily_revenue: the last 7 days with sales"
pg -c "SELECT * FROM (SELECT * FROM v_daily_revenue ORDER BY date DESC, currency LIMIT 7) d
       ORDER BY date, currency"

step "v_sales_by_category: the top 10"
pg -c "SELECT * FROM v_sales_by_category LIMIT 10"

step "v_top_customers: the top 5"
pg -c "SELECT * FROM v_top_customers LIMIT 5"

step "watching a running pipeline"
if [ "$KEEP" = 1 ]; then
    echo "the pipeline (pid $pid) and the sinks (pid $sinks_pid) keep running:"
    echo "$pid $sinks_pid" >"$DEMO/pids"
    echo "  web view       http://127.0.0.1:9464/   (the sinks': http://127.0.0.1:9465/)"
    echo "  metrics        http://127.0.0.1:9464/metrics   (Prometheus: infra/monitoring/)"
    echo "  graph, tasks   http://127.0.0.1:9464/topology   readiness: /readyz, health: /healthz"
    echo "  topics, lag    ./rill inspect groups $YAML -F $ADMIN"
    echo "stop them with: kill -TERM \$(cat $DEMO/pids)"
else
    echo "rill run served, while it ran (it is stopped now):"
    echo "  web view       http://127.0.0.1:9464/   (the sinks': http://127.0.0.1:9465/)"
    echo "  metrics        http://127.0.0.1:9464/metrics, the graph at /topology, a store lookup"
    echo "                 at /state/STORE/KEY, readiness at /readyz"
    echo "DEMO_KEEP=1 make demo leaves the pipeline and the sinks running to look at them."
fi
