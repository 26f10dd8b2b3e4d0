#!/usr/bin/env bash
# Installs, idempotently, the Debian packages rill needs to build, test and run
# its local stack: compilers, the C libraries (librdkafka, RocksDB, avro-c,
# libpq, OpenSSL, CUnit, libyaml, libmicrohttpd), kcat, PostgreSQL, a JDK and Maven.
# Only what is missing is installed; sudo is used when not root. Nothing is
# installed by hand: the Kafka broker jars come later, from Maven Central,
# through infra/local/kafka.sh.
set -euo pipefail

PKGS="build-essential pkg-config clang libclang-rt-14-dev valgrind openssl
librdkafka-dev librocksdb-dev libavro-dev libpq-dev libssl-dev libcunit1-dev libyaml-dev
libmicrohttpd-dev kcat postgresql postgresql-client default-jdk-headless maven"

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
echo "deps: done"
