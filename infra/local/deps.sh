#!/usr/bin/env bash
# Installs, idempotently, the Debian packages rill needs to build, test and run
# its local stack: compilers, the C libraries (librdkafka, RocksDB, avro-c,
# libpq, OpenSSL, CUnit, libyaml, libmicrohttpd, libcurl; jansson for the JSON
# bench only), kcat, PostgreSQL, a JDK and Maven, promtool (from Debian's
# prometheus) with python3-yaml for the checks of infra/monitoring/, and
# Debian's chromium, which the web view's test drives headless.
# Only what is missing is installed; sudo is used when not root. Nothing is
# installed by hand: the Kafka broker jars come later, from Maven Central,
# through infra/local/kafka.sh.
set -euo pipefail

PKGS="build-essential pkg-config clang libclang-rt-14-dev valgrind openssl
librdkafka-dev librocksdb-dev libavro-dev libpq-dev libssl-dev libcunit1-dev libyaml-dev
libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev kcat postgresql postgresql-client default-jdk-headless maven
prometheus python3-yaml chromium"

missing=()
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Any JDK 17+ and any Maven on PATH will do, however they were installed.
if command -v java >/dev/null && java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then
    missing=("${missing[@]/default-jdk-headless}")
fi
command -v mvn >/dev/null && missing=("${missing[@]/maven}")
read -r -a missing <<<"${missing[*]:-}"
[ ${#missing[@]} -eq 0 ] && { echo "deps: all packages present"; exit 0; }

SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Debian's prometheus brings promtool, all rill uses, and the Prometheus
# server, which its package enables and starts (on :9090, every interface,
# scraping itself) wherever the init system lets it: under systemd, or
# without systemd when no policy-rc.d forbids it (containers usually have
# one, and then nothing starts). A server installed here is stopped and
# disabled, so that it holds no port (infra/monitoring/README.md runs one
# on demand) and no upgrade starts it again.
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    if [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/prometheus ]; then
        $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
        $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
    # A live one (a zombie waiting for its parent to reap it holds nothing).
    if ps -C prometheus -o stat= 2>/dev/null | grep -qv '^Z'; then
        echo "deps: a prometheus server still runs (ps -C prometheus); stop it if it is the package's"
    else
        echo "deps: the prometheus package's server is stopped and disabled (rill needs promtool only)"
    fi
fi
echo "deps: done"
