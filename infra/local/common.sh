# Shared settings for the local stack scripts (kafka.sh, postgres.sh, stack.sh).
# Sourced, never run. It fixes where the stack keeps its state, which loopback
# ports it listens on, and how secrets are generated and stored; it starts
# nothing. Every value can be overridden from the environment.

RILL_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RILL_STACK_DIR=${RILL_STACK_DIR:-$RILL_REPO/.stack}
RILL_KAFKA_PORT=${RILL_KAFKA_PORT:-29092}          # SASL_PLAINTEXT, SCRAM-SHA-512
RILL_KAFKA_SSL_PORT=${RILL_KAFKA_SSL_PORT:-29093}  # SASL_SSL, SCRAM-SHA-512
RILL_KAFKA_CTRL_PORT=${RILL_KAFKA_CTRL_PORT:-29094} # KRaft controller, SASL PLAIN
RILL_PG_PORT=${RILL_PG_PORT:-25432}
RILL_START_TIMEOUT=${RILL_START_TIMEOUT:-120}      # seconds a start may take

SECRETS_DIR=$RILL_STACK_DIR/secrets

# The Kafka users of the order pipeline: one per processor, one for the
# PostgreSQL sinks, and the admin (super user, also used between brokers).
RILL_KAFKA_USERS="admin order_generator payment_processor inventory_manager shipping_handler notification_handler pg_sink"

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
info() { echo "$(basename "$0"): $*"; }

# secret NAME: print the secret stored in $SECRETS_DIR/NAME, creating it first
# (32 random hex digits, mode 600) if it does not exist yet.
secret() {
    local f=$SECRETS_DIR/$1
    if [ ! -s "$f" ]; then
        mkdir -p "$SECRETS_DIR" && chmod 700 "$SECRETS_DIR"
        (umask 077; openssl rand -hex 16 >"$f") || die "cannot write secret '$f'"
    fi
    cat "$f"
}

# wait_until SECONDS CMD...: run CMD every half second until it succeeds or
# SECONDS have passed; returns CMD's last status.
wait_until() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.5
    done
}

# pid_alive FILE: the process whose pid FILE holds is running.
pid_alive() {
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}
