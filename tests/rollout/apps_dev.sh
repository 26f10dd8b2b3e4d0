#!/usr/bin/env bash
# The apps helper's real run against the shared local stack's broker (until
# the 3-node quorum of the kafka role is there): PostgreSQL on 19432 and two
# rill instances (19180, 19181) from ansible/postgresql.yml, topics_acls.yml
# and rill.yml, with the inventory tests/rollout/inventory/apps.yml, into
# $ROLLOUT_DIR (default /tmp/rill-apps-rollout). The Kafka passwords are the
# stack's (/work/main/.stack/secrets, or $RILL_STACK_DIR/secrets); the
# PostgreSQL ones are random, made once into $ROLLOUT_DIR/vars.yml (0600);
# the other settings go into $ROLLOUT_DIR/dev-inventory.yml.
# Topics and groups carry the prefix $APPS_PREFIX (default apps1-).
#
# Usage: apps_dev.sh up|verify|broken|feed N|down
#   up      the three playbooks (run it twice: the second must say changed=0)
#   verify  verify.yml while rill generate feeds orders
#   broken  tests/rollout/broken_rollout.sh against this setup
#   down    stop rill and PostgreSQL (the folder stays; rm -rf it after)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export ROLLOUT_DIR=${ROLLOUT_DIR:-/tmp/rill-apps-rollout}
stack=${RILL_STACK_DIR:-/work/main/.stack}
prefix=${APPS_PREFIX:-apps1-}
bin=$("$repo/infra/local/tools.sh" ansible)
vars=$ROLLOUT_DIR/vars.yml
inv=$here/inventory/apps.yml
devinv=$ROLLOUT_DIR/dev-inventory.yml

write_vars() {
    mkdir -p "$ROLLOUT_DIR"
    chmod 755 "$ROLLOUT_DIR"
    local s=$stack/secrets u g
    # The settings, as group vars of an inventory of their own (not extra
    # vars, so that a test can still override one per host).
    {
        echo "# apps_dev.sh: the shared stack's broker in place of the kafka role's quorum"
        echo "all:"
        echo "  children:"
        for g in rill postgresql control_center; do
            echo "    $g:"
            echo "      vars:"
            echo "        kafka_bootstrap_servers: \"$(. "$stack/kafka.env"; echo "$KAFKA_BOOTSTRAP_SSL")\""
            echo "        kafka_ca_file_local: \"$s/ca.pem\""
            echo "        kafka_ca_file: \"{{ deploy_root }}/etc/rill/kafka-ca.pem\""
            echo "        rill_topic_prefix: \"$prefix\""
            echo "        rill_application_id: \"${prefix}orders\""
            echo "        rill_verify_expected_brokers: 1"
        done
    } >"$devinv"
    [ -f "$vars" ] && return 0
    pw() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
    (
        umask 077
        {
            echo "# apps_dev.sh: the shared stack's Kafka passwords, random PostgreSQL ones"
            echo "vault_kafka_passwords:"
            for u in admin order_generator payment_processor inventory_manager shipping_handler \
                notification_handler pg_sink; do
                echo "  $u: \"$(tr -d '\n' <"$s/$u.password")\""
            done
            echo "vault_pg_admin_password: \"$(pw)\""
            echo "vault_pg_app_password: \"$(pw)\""
            echo "vault_confluent_license: \"\""
        } >"$vars"
    )
}

play() { (cd "$repo/ansible" && "$bin/ansible-playbook" -i "$inv" -i "$devinv" -e "@$vars" "$@"); }

# The order generator's client properties (SASL_SSL) for rill generate.
client_conf() {
    local f=$ROLLOUT_DIR/order_generator.client.conf
    (
        umask 077
        . "$stack/kafka.env"
        printf '%s\n' "bootstrap.servers=$KAFKA_BOOTSTRAP_SSL" security.protocol=SASL_SSL \
            sasl.mechanisms=SCRAM-SHA-512 sasl.username=order_generator \
            "sasl.password=$(tr -d '\n' <"$stack/secrets/order_generator.password")" \
            "ssl.ca.location=$stack/secrets/ca.pem" >"$f"
    )
    echo "$f"
}

case "${1:-}" in
    up)
        write_vars
        play postgresql.yml
        play topics_acls.yml
        play rill.yml
        ;;
    verify)
        write_vars
        conf=$(client_conf)
        "$repo/build/release/rill" generate -F "$conf" -t "${prefix}order_placed" \
            -n "${APPS_ORDERS:-200000}" -r "${APPS_RATE:-200}" -s "$RANDOM" \
            >"$ROLLOUT_DIR/generate.log" 2>&1 &
        gen=$!
        trap 'kill $gen 2>/dev/null || true; wait $gen 2>/dev/null || true' EXIT
        play verify.yml
        ;;
    broken)
        write_vars
        "$here/broken_rollout.sh" -i "$inv" -i "$devinv" -e "@$vars"
        ;;
    down)
        for h in rill1 rill2; do
            pidf=$ROLLOUT_DIR/$h/run/rill/rill.pid
            [ -f "$pidf" ] || continue
            pid=$(cat "$pidf")
            if kill -TERM "$pid" 2>/dev/null; then
                deadline=$((SECONDS + 60))
                while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
                echo "stopped $h (pid $pid)"
            fi
            rm -f "$pidf"
        done
        data=$ROLLOUT_DIR/pg1/var/lib/postgresql/15/main
        if [ -f "$data/PG_VERSION" ]; then
            (cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$data" -m fast -w stop) || true
        fi
        ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
