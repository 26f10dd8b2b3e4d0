#!/usr/bin/env bash
# check_exports.sh BINARY... - the plugin API's exports: every function
# declared in the headers a plugin sees (processors/processor.h, state/store.h,
# topology/rill.h) is in processors/plugin.exports, that list names nothing
# else, and each BINARY (rill, the unit tests) exports exactly the list's
# symbols (nm -D --defined-only), plus those of the lists in EXTRA_EXPORTS
# (a flavor's own, e.g. the TSan flavor's topology/base/tsan_threads.exports).
# Prints what differs and exits 1 when anything does.
set -euo pipefail
cd "$(dirname "$0")/../.."
list=processors/plugin.exports
headers="processors/processor.h state/store.h topology/rill.h"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the names a linker dynamic list holds (one "name;" a line, C comments)
symbols() { sed 's|/\*.*\*/||' "$@" | grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' | tr -d ' ;' | sort -u; }

# a declaration starts at the line's start: return type, then name(
grep -hoE '^[A-Za-z_][A-Za-z0-9_ ]*[ *](rill_[a-z0-9_]+)\(' $headers |
    grep -oE 'rill_[a-z0-9_]+\($' | tr -d '(' | sort -u >"$tmp/declared"
symbols "$list" >"$tmp/listed"
# shellcheck disable=SC2086
symbols "$list" ${EXTRA_EXPORTS:-} >"$tmp/allowed"
bad=0
if ! diff -u --label "declared in $headers" --label "$list" "$tmp/declared" "$tmp/listed"; then
    bad=1
fi
[ -s "$tmp/listed" ] || { echo "$list: no symbols"; bad=1; }
for bin in "$@"; do
    # A library's variable the binary holds a copy of (a copy relocation:
    # stderr, optarg, a sanitizer's option flag) is defined in it, but it is
    # the library's, not something the binary exports.
    readelf -rW "$bin" | awk '/R_[A-Z0-9_]*_COPY/ {sub(/@.*/, "", $5); print $5}' |
        sort -u >"$tmp/copies"
    nm -D --defined-only "$bin" | awk '{sub(/@.*/, "", $NF); print $NF}' | sort -u |
        comm -23 - "$tmp/copies" >"$tmp/exported"
    if ! diff -u --label "$list ${EXTRA_EXPORTS:-}" --label "exported by $bin" "$tmp/allowed" \
        "$tmp/exported"; then
        bad=1
    fi
done
[ $bad = 0 ] && echo "check-exports: $* export the $(wc -l <"$tmp/listed") symbols of $list${EXTRA_EXPORTS:+ (and $EXTRA_EXPORTS)}, nothing else"
exit $bad
