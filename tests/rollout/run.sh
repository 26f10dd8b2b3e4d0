#!/usr/bin/env bash
# The real run of the Ansible rollout (issue 13): the playbooks of ansible/
# against this machine (local connection, service_manager: local, every host's
# files under $ROLLOUT_DIR), with a real 3-node KRaft quorum on loopback ports
# 19092-19294 and, once the apps roles exist, PostgreSQL and rill. Stages:
#   1 site.yml
#   2 every broker is a voter of the quorum and answers the admin; an
#     unauthenticated (TLS without SASL) and a wrong-password client are refused
#   3 site.yml again: changed=0 for every host of the PLAY RECAP
#   4 verify.yml while `rill generate` feeds orders      (when ansible/verify.yml exists)
#   5 kafka_restart.yml while `rill generate -n N -s S` feeds orders; the topic
#     then holds exactly the records the producer had acknowledged
#   6 build/release/tests/pipeline_check on the outputs  (when it and verify.yml exist)
# Every process it started is stopped on exit (trap) and the folder removed
# (kept with ROLLOUT_KEEP=1). The shared local stack (29092-29094, 25432) is
# never touched. Runs as root (the playbooks write under $ROLLOUT_DIR only).
#
# Environment: ROLLOUT_DIR (default: a new /tmp/rill-rollout.XXXXXX),
# ROLLOUT_KEEP=1, ROLLOUT_ORDERS (N, default 30000), ROLLOUT_SEED (S, default 7),
# ROLLOUT_RATE (orders/s, default 100), ROLLOUT_ORDERS_TOPIC (default: order_placed
# with the apps roles, else rollout_orders, created here), ROLLOUT_ORDERS_FORMAT
# (json on rollout_orders, else avro), ROLLOUT_PG_DSN (passed to pipeline_check).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
T0=$SECONDS

log() { printf 'rollout: %s\n' "$*"; }
die() { printf 'rollout: FAILED: %s\n' "$*" >&2; exit 1; }

if [ -z "${ROLLOUT_DIR:-}" ]; then
    ROLLOUT_DIR=$(mktemp -d /tmp/rill-rollout.XXXXXX)
fi
# 755: PostgreSQL's server runs as its own user and must reach its folder
# below; the secrets in it are written under umask 077.
mkdir -p "$ROLLOUT_DIR" && chmod 755 "$ROLLOUT_DIR"
ROLLOUT_DIR=$(cd "$ROLLOUT_DIR" && pwd)
export ROLLOUT_DIR
case $ROLLOUT_DIR in /|/tmp|"$REPO"|"$REPO"/*) die "ROLLOUT_DIR must be a folder of its own outside the repository" ;; esac

# The feed must outlast stage 4 and the whole rolling restart (about 35 s and
# 135-175 s here), so that the last broker comes back under load: 30,000
# orders at 100/s is 300 s of it. Stage 5 fails when the feed ended first.
N=${ROLLOUT_ORDERS:-30000}
S=${ROLLOUT_SEED:-7}
RATE=${ROLLOUT_RATE:-100}
RILL=$REPO/build/release/rill
CHECKER=$REPO/build/release/tests/pipeline_check
SECRETS=$ROLLOUT_DIR/secrets
VARS=$ROLLOUT_DIR/vars.yml
CP_FILE=$ROLLOUT_DIR/classpath.txt
INV=$REPO/tests/rollout/inventory/
HAVE_APPS=0
[ -f ansible/verify.yml ] && HAVE_APPS=1
if [ $HAVE_APPS = 1 ]; then TOPIC=${ROLLOUT_ORDERS_TOPIC:-order_placed}; else TOPIC=${ROLLOUT_ORDERS_TOPIC:-rollout_orders}; fi
if [ "$TOPIC" = rollout_orders ]; then FORMAT=${ROLLOUT_ORDERS_FORMAT:-json}; else FORMAT=${ROLLOUT_ORDERS_FORMAT:-avro}; fi
KAFKA_PORTS="19092 19093 19094 19192 19193 19194 19292 19293 19294"
ALL_PORTS="$KAFKA_PORTS 19432 19180 19181"
CLIENT_PORTS="19092 19192 19292"
GEN_PID=
declare -a RESULTS=()

# Stop what the run started: the producer, then every process whose pid file
# lies under $ROLLOUT_DIR (the service role's *.pid, PostgreSQL's
# postmaster.pid: first line is the pid), SIGTERM first, SIGKILL after 60 s.
cleanup() {
    local rc=$? f pid pids=() deadline
    set +e
    if [ -n "$GEN_PID" ] && kill -0 "$GEN_PID" 2>/dev/null; then kill "$GEN_PID"; wait "$GEN_PID" 2>/dev/null; fi
    while IFS= read -r -d '' f; do
        pid=$(head -1 "$f" 2>/dev/null | tr -dc 0-9)
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { kill -TERM "$pid"; pids+=("$pid"); }
    done < <(find "$ROLLOUT_DIR" \( -name '*.pid' -o -name postmaster.pid \) -type f -print0 2>/dev/null)
    deadline=$((SECONDS + 60))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    done
    [ ${#pids[@]} -gt 0 ] && log "stopped ${#pids[@]} process(es): ${pids[*]}"
    printf '%s\n' "${RESULTS[@]}" | sed 's/^/rollout: /'
    log "wall time $((SECONDS - T0)) s"
    if [ "${ROLLOUT_KEEP:-0}" = 1 ]; then log "kept $ROLLOUT_DIR"; else rm -rf "$ROLLOUT_DIR"; fi
    [ $rc = 0 ] && log "PASSED" || log "FAILED (exit $rc)"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stage_time() { printf '%3d s' $((SECONDS - $1)); }
passed() { RESULTS+=("stage $1 passed ($(stage_time "$2")): $3"); log "stage $1 passed: $3"; }
skipped() { RESULTS+=("stage $1 skipped: not present ($2)"); log "stage $1 skipped: not present ($2)"; }

# ---- preparation ----------------------------------------------------------
[ "$(id -u)" = 0 ] || die "run as root (the real run writes only under \$ROLLOUT_DIR, but installs as root)"
for tool in java kcat openssl mvn ss; do command -v $tool >/dev/null || die "$tool is missing"; done
[ -x "$RILL" ] || die "$RILL is missing (make release)"
# The apps' ports matter only once their playbooks are there.
PORTS=$KAFKA_PORTS
[ $HAVE_APPS = 1 ] && PORTS=$ALL_PORTS
for p in $PORTS; do
    [ -z "$(ss -Hltn "sport = :$p")" ] || die "port $p is in use; the rollout test needs $PORTS"
done
ANSIBLE_BIN=$(infra/local/tools.sh ansible)
export PATH=$ANSIBLE_BIN:$PATH
export ANSIBLE_CONFIG=$REPO/ansible/ansible.cfg ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
mvn -q -B -f infra/local/pom.xml dependency:build-classpath -Dmdep.outputFile="$CP_FILE" \
    >"$ROLLOUT_DIR/mvn.log" 2>&1 || { tail -20 "$ROLLOUT_DIR/mvn.log" >&2; die "cannot resolve the Kafka jars"; }
CP=$(cat "$CP_FILE")

# The binary the playbooks install: a copy taken now, so that a rebuild
# during the run does not look like a change to the second site.yml.
mkdir -p "$ROLLOUT_DIR/dist" && cp "$RILL" "$ROLLOUT_DIR/dist/rill" && RILL=$ROLLOUT_DIR/dist/rill

# The vault variables of the contract, random, for this run only.
pw() { openssl rand -hex 16; }
(
    umask 077
    {
        echo "# Generated by tests/rollout/run.sh for one run; removed with \$ROLLOUT_DIR."
        echo "rill_secrets_dir: $SECRETS"
        echo "kafka_classpath_file: $CP_FILE"
        echo "rill_binary_src: $ROLLOUT_DIR/dist/rill"
        echo "vault_kafka_passwords:"
        for u in admin order_generator payment_processor inventory_manager shipping_handler \
                 notification_handler pg_sink; do
            echo "  $u: $(pw)"
        done
        echo "vault_kafka_controller_password: $(pw)"
        echo "vault_kafka_keystore_password: $(pw)"
        echo "vault_pg_admin_password: $(pw)"
        echo "vault_pg_app_password: $(pw)"
    } >"$VARS"
)

playbook() {  # playbook NAME LOG: run ansible/NAME, output in LOG (and its recap on stdout)
    local rc=0
    ansible-playbook -i "$INV" -e @"$VARS" "ansible/$1" >"$2" 2>&1 || rc=$?
    sed -n '/^PLAY RECAP/,$p' "$2"
    if [ $rc != 0 ]; then
        grep -E -B2 -A12 '^fatal:|FAILED!' "$2" | tail -60 >&2
        return $rc
    fi
}

java_tool() {  # java_tool MAINCLASS ARGS...: an admin tool against the quorum
    local main=$1; shift
    java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$ROLLOUT_DIR/kafka1/etc/kafka/tools-log4j.properties" \
        -cp "$CP" "$main" --bootstrap-server 127.0.0.1:19092,127.0.0.1:19192,127.0.0.1:19292 \
        --command-config "$SECRETS/admin.properties" "$@"
}

# ---- stage 1: site.yml ----------------------------------------------------
t=$SECONDS
log "stage 1: site.yml (into $ROLLOUT_DIR)"
playbook site.yml "$ROLLOUT_DIR/site-1.log" || die "stage 1: site.yml failed (log: $ROLLOUT_DIR/site-1.log)"
passed 1 $t "site.yml"

# ---- stage 2: quorum membership, refusals ---------------------------------
t=$SECONDS
log "stage 2: quorum and authentication"
CONF=$SECRETS/admin.client.conf
CA=$SECRETS/kafka-ca.pem
quorum=$(java_tool org.apache.kafka.tools.MetadataQuorumCommand describe --replication) ||
    die "stage 2: kafka-metadata-quorum describe failed"
printf '%s\n' "$quorum" | sed 's/^/    /'
voters=$(printf '%s\n' "$quorum" | awk '$NF == "Leader" || $NF == "Follower" { print $1 }' | sort -n | tr '\n' ' ')
[ "$voters" = "1 2 3 " ] || die "stage 2: the voters are '$voters', not 1 2 3"
[ "$(printf '%s\n' "$quorum" | awk '$NF == "Leader"' | wc -l)" = 1 ] || die "stage 2: not exactly one leader"
for p in $CLIENT_PORTS; do
    md=$(kcat -F "$CONF" -b "127.0.0.1:$p" -L -m 15 2>&1) || die "stage 2: the admin gets no metadata from 127.0.0.1:$p"
    printf '%s\n' "$md" | grep -q ' 3 brokers:' || die "stage 2: 127.0.0.1:$p does not list 3 brokers"
    if out=$(kcat -F /dev/null -b "127.0.0.1:$p" -X security.protocol=SSL -X ssl.ca.location="$CA" -L -m 5 2>&1); then
        die "stage 2: a client without SASL got metadata from 127.0.0.1:$p"
    fi
    if out=$(kcat -F /dev/null -b "127.0.0.1:$p" -X security.protocol=SASL_SSL -X ssl.ca.location="$CA" \
            -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=admin -X sasl.password="wrong-$(pw)" -L -m 5 2>&1); then
        die "stage 2: a client with a wrong password got metadata from 127.0.0.1:$p"
    fi
    printf '%s\n' "$out" | grep -qi 'authentication' ||
        die "stage 2: the wrong-password client on 127.0.0.1:$p failed, but not on authentication: $out"
    if out=$(kcat -F /dev/null -b "127.0.0.1:$p" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-512 \
            -X sasl.username=admin -X sasl.password=x -L -m 5 2>&1); then
        die "stage 2: a client without TLS got metadata from 127.0.0.1:$p"
    fi
done
passed 2 $t "voters 1 2 3 (one leader); each broker lists 3 brokers to the admin; no-SASL, wrong-password and no-TLS clients refused on all 3"

# ---- stage 3: second site.yml changes nothing ------------------------------
t=$SECONDS
log "stage 3: site.yml again"
playbook site.yml "$ROLLOUT_DIR/site-2.log" || die "stage 3: the second site.yml failed"
recap=$(sed -n '/^PLAY RECAP/,$p' "$ROLLOUT_DIR/site-2.log" | grep -E '^[^ ].* : ok=')
[ -n "$recap" ] || die "stage 3: no PLAY RECAP"
bad=$(printf '%s\n' "$recap" | grep -Ev ' changed=0 .*failed=0 ' || true)
[ -z "$bad" ] || { grep -E -B1 '^changed:' "$ROLLOUT_DIR/site-2.log" | head -40 >&2; die "stage 3: changes on the second run: $bad"; }
passed 3 $t "changed=0 on $(printf '%s\n' "$recap" | wc -l) host(s)"

# ---- the order feed for stages 4-6 ----------------------------------------
if [ "$TOPIC" = rollout_orders ]; then
    "$ROLLOUT_DIR/kafka1/usr/local/sbin/kafka-admin" topics --create --if-not-exists --topic "$TOPIC" \
        --partitions 3 --replication-factor 3 --config min.insync.replicas=2 >/dev/null ||
        die "cannot create topic $TOPIC"
fi
log "feeding $N orders (seed $S, $RATE/s, $FORMAT) into $TOPIC"
"$RILL" generate -F "$CONF" -t "$TOPIC" -n "$N" -s "$S" -r "$RATE" --format "$FORMAT" \
    >"$ROLLOUT_DIR/generate.log" 2>&1 &
GEN_PID=$!

# ---- stage 4: verify.yml ----------------------------------------------------
if [ $HAVE_APPS = 1 ]; then
    t=$SECONDS
    log "stage 4: verify.yml while orders flow"
    playbook verify.yml "$ROLLOUT_DIR/verify.log" || die "stage 4: verify.yml failed"
    passed 4 $t "verify.yml"
else
    skipped 4 "ansible/verify.yml"
fi

# ---- stage 5: rolling restart under load -----------------------------------
t=$SECONDS
kill -0 "$GEN_PID" 2>/dev/null || die "stage 5: the producer ended before the restart: $(cat "$ROLLOUT_DIR/generate.log")"
log "stage 5: kafka_restart.yml while the producer writes"
playbook kafka_restart.yml "$ROLLOUT_DIR/restart.log" || die "stage 5: kafka_restart.yml failed"
restart_s=$((SECONDS - t))
kill -0 "$GEN_PID" 2>/dev/null || die "stage 5: the producer ended before the last broker was back: $(cat "$ROLLOUT_DIR/generate.log")"
log "restart done in $restart_s s, the producer still writing; waiting for it"
gen_rc=0
wait "$GEN_PID" || gen_rc=$?
GEN_PID=
cat "$ROLLOUT_DIR/generate.log"
[ $gen_rc = 0 ] || die "stage 5: the producer failed (exit $gen_rc)"
acked=$(sed -n 's/.* \([0-9][0-9]*\) orders delivered to .*/\1/p' "$ROLLOUT_DIR/generate.log")
[ "$acked" = "$N" ] || die "stage 5: the producer acknowledged '$acked' of $N orders"
consume() {
    kcat -F "$CONF" -C -t "$TOPIC" -o beginning -e -q -X isolation.level=read_committed "$@"
}
if [ "$FORMAT" = json ]; then
    consume -f '%s\n' >"$ROLLOUT_DIR/records.txt" || die "stage 5: cannot read $TOPIC"
    committed=$(wc -l <"$ROLLOUT_DIR/records.txt")
    distinct=$(sort -u "$ROLLOUT_DIR/records.txt" | wc -l)
else
    committed=$(consume -f '%o\n' | wc -l) || die "stage 5: cannot read $TOPIC"
    distinct=$committed
fi
rm -f "$ROLLOUT_DIR/records.txt"
[ "$committed" = "$acked" ] || die "stage 5: $TOPIC holds $committed records, the producer acknowledged $acked"
[ "$distinct" = "$acked" ] || die "stage 5: $TOPIC holds $distinct distinct records of $acked"
passed 5 $t "rolling restart of 3 brokers in $restart_s s under load; $acked acknowledged = $committed committed ($distinct distinct) in $TOPIC"

# ---- stage 6: the pipeline's reference check --------------------------------
if [ $HAVE_APPS = 1 ] && [ -x "$CHECKER" ]; then
    t=$SECONDS
    log "stage 6: pipeline_check"
    # --undecided-ok: two rill instances share the partitions, so which of two
    # orders racing for a product's last units wins is not the reference's to
    # say; each order must still have exactly one outcome.
    # the deadline only bounds a failing run: reading and auditing every topic
    # of 45,000 orders took about 300 s in CI
    args=(-F "$CONF" --orders "$N" --seed "$S" --timeout-ms 900000 --undecided-ok)
    if [ -n "${ROLLOUT_PG_DSN:-}" ]; then args+=(--dsn "$ROLLOUT_PG_DSN")
    else args+=(--dsn-file "$ROLLOUT_DIR/rill1/etc/rill/secrets/pg.dsn"); fi
    "$CHECKER" "${args[@]}" || die "stage 6: pipeline_check failed"
    passed 6 $t "pipeline_check: nothing lost, nothing duplicated"
else
    skipped 6 "ansible/verify.yml and build/release/tests/pipeline_check"
fi
