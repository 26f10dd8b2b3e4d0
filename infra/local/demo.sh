#!/usr/bin/env bash
# demo.sh - the README's `make demo`: runs the order pipeline of
# topology/examples/ecommerce.yaml on the local stack (which `make demo` has brought
# up) and shows what happened. It applies the topology (topics, changelogs,
# DLQs, one Kafka user per processor with its ACLs), starts `rill run`,
# produces orders with `rill generate` as the order_generator user, waits
# until every order has been decided, shipped or cancelled and notified, then
# prints `rill inspect`'s summary and stops the pipeline with SIGTERM.
# Topics and state persist between runs, so the totals add up over runs.
# Knobs: DEMO_ORDERS (default 10000), DEMO_RATE orders/s (default 2000).
# The first run reserves about 80% of the orders; later runs draw on the
# stock the earlier ones left.
set -euo pipefail
cd "$(dirname "$0")/../.."
STACK=${RILL_STACK_DIR:-$PWD/.stack}
# shellcheck source=/dev/null
. "$STACK/kafka.env"
ORDERS=${DEMO_ORDERS:-10000}
RATE=${DEMO_RATE:-2000}
DEMO=$STACK/demo
mkdir -p "$DEMO"
export KAFKA_BOOTSTRAP RILL_STATE_DIR="$DEMO/state"
# ecommerce.yaml reads the passwords from ../../.stack/secrets; point a copy at
# this stack's secrets when the stack lives elsewhere.
YAML=topology/examples/ecommerce.yaml
if [ "$(readlink -f "$SECRETS_DIR")" != "$(readlink -f .stack/secrets 2>/dev/null || true)" ]; then
    sed "s#\${file:../../.stack/secrets/#\${file:$SECRETS_DIR/#" "$YAML" >"$DEMO/ecommerce.yaml"
    YAML=$DEMO/ecommerce.yaml
fi
ADMIN=$SECRETS_DIR/admin.client.conf

step() { printf '\n== %s\n' "$*"; }

step "rill apply $YAML (topics and least-privilege ACLs, as admin)"
./rill apply "$YAML" -F "$ADMIN"

step "rill run $YAML (log: $DEMO/rill.log)"
: >"$DEMO/rill.log"
./rill run "$YAML" 2>>"$DEMO/rill.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null && wait $pid' EXIT

seed=$(( $(date +%s) % 100000 ))
step "rill generate: $ORDERS orders at $RATE/s, seed $seed, as order_generator"
./rill generate -F "$SECRETS_DIR/order_generator.client.conf" --orders "$ORDERS" \
    --rate "$RATE" --seed "$seed"

step "waiting for the pipeline to finish, then its summary (rill inspect)"
./rill inspect "$YAML" -F "$ADMIN" --wait-pipeline 180

step "stopping the pipeline (SIGTERM: drain, commit, exit 0)"
kill -TERM "$pid"
wait "$pid"
trap - EXIT
echo "stopped; what each processor's thread did (from the structured log):"
grep 'msg="thread stopped"' "$DEMO/rill.log" || true
