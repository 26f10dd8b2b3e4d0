#!/usr/bin/env bash
# The local PostgreSQL: a private cluster of Debian's PostgreSQL 15, initdb'd
# into the stack folder, listening on 127.0.0.1 only on its own port, with
# scram-sha-256 password auth, a superuser 'rill_admin' and an application
# database 'rill' owned by role 'rill'. Passwords live in
# $RILL_STACK_DIR/secrets; $SECRETS_DIR/pg.dsn holds the application's DSN.
# PostgreSQL refuses to run as root, so as root the cluster runs as the
# 'postgres' system user the Debian package creates.
#
# Usage: postgres.sh start|stop|status
set -euo pipefail
. "$(dirname "$0")/common.sh"

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PGDIR=$RILL_STACK_DIR/postgres

as_owner() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The data directory. As root it must be reachable by 'postgres'; when the
# stack folder is not (a checkout under /root), the cluster lives under
# /var/lib/rill-stack and the stack folder holds a link to it.
datadir() {
    if [ "$(id -u)" = 0 ] && [ ! -e "$PGDIR" ]; then
        mkdir -p "$RILL_STACK_DIR"
        if ! runuser -u postgres -- test -x "$RILL_STACK_DIR"; then
            local alt; alt=/var/lib/rill-stack/$(echo "$RILL_STACK_DIR" | md5sum | cut -c1-12)
            mkdir -p "$alt"
            ln -sfn "$alt" "$PGDIR"
        fi
    fi
    mkdir -p "$PGDIR"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$PGDIR/" && chmod 700 "$PGDIR/"; fi
    # The real path: 'postgres' must not have to walk through the link.
    echo "$(readlink -f "$PGDIR")/data"
}

ctl() { as_owner "$PGBIN/pg_ctl" -D "$(datadir)" "$@"; }

answers() {
    PGPASSWORD=$(secret pg_app.password) "$PGBIN/psql" -h 127.0.0.1 -p "$RILL_PG_PORT" \
        -U rill -d rill -qAtc 'select 1' >/dev/null 2>&1
}

init() {
    local data=$1
    [ -f "$data/PG_VERSION" ] && return 0
    local pwfile; pwfile=$(dirname "$data")/.initpw
    (umask 077; secret pg_admin.password >"$pwfile")
    [ "$(id -u)" = 0 ] && chown postgres: "$pwfile"
    info "initdb into $data"
    as_owner "$PGBIN/initdb" -D "$data" -U rill_admin --pwfile="$pwfile" \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 ||
        { rm -f "$pwfile"; cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
    cat >>"$data/postgresql.conf" <<EOF
# rill local stack
listen_addresses = '127.0.0.1'
port = $RILL_PG_PORT
unix_socket_directories = ''
max_connections = 200
max_prepared_transactions = 0
fsync = on
log_destination = 'stderr'
logging_collector = off
EOF
    printf '%s\n' "host all all 127.0.0.1/32 scram-sha-256" >"$data/pg_hba.conf"
}

provision() {
    local apppw; apppw=$(secret pg_app.password)
    PGPASSWORD=$(secret pg_admin.password) "$PGBIN/psql" -h 127.0.0.1 -p "$RILL_PG_PORT" \
        -U rill_admin -d postgres -v ON_ERROR_STOP=1 -q >/dev/null <<EOF
SELECT 'CREATE ROLE rill LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rill') \gexec
ALTER ROLE rill PASSWORD '$apppw';
SELECT 'CREATE DATABASE rill OWNER rill' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'rill') \gexec
EOF
    (umask 077; echo "host=127.0.0.1 port=$RILL_PG_PORT dbname=rill user=rill password=$apppw" \
        >"$SECRETS_DIR/pg.dsn")
}

start() {
    [ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (run 'make deps')"
    local data; data=$(datadir)
    init "$data"
    if ! ctl status >/dev/null 2>&1; then
        info "starting PostgreSQL on 127.0.0.1:$RILL_PG_PORT"
        ctl -l "$data/../postgres.log" -w -t "$RILL_START_TIMEOUT" start >/dev/null ||
            { tail -20 "$data/../postgres.log" >&2; die "PostgreSQL did not start"; }
    fi
    provision
    wait_until 30 answers || die "PostgreSQL does not accept the application login"
    info "ready (database 'rill' on 127.0.0.1:$RILL_PG_PORT)"
}

stop() {
    if [ -f "$(datadir)/PG_VERSION" ] && ctl status >/dev/null 2>&1; then
        ctl -m fast -w stop >/dev/null && info "stopped"
    else
        info "not running"
    fi
}

status() {
    if [ -f "$(datadir)/PG_VERSION" ] && ctl status >/dev/null 2>&1 && answers; then
        info "running on 127.0.0.1:$RILL_PG_PORT"
    else
        info "not running"; return 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
