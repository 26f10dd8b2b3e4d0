#!/usr/bin/env bash
# test_check_layers.sh - proves check_layers.sh refuses what it must: on a
# scratch copy of the tree's sources it passes, then each deliberately upward
# include (state/ -> engine, processors/ -> cli, base -> state, a plugin ->
# the registry, model -> engine, model -> the registry, the node -> the
# model) makes it exit 1 and name the file, line and header. Exits 0 when
# every case behaves, 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "  check-layers: $1 ... passed"; }
ko() { echo "  check-layers: $1 ... FAILED"; fails=$((fails + 1)); }

copy_tree() {
    rm -rf "$tmp/t" && mkdir -p "$tmp/t"
    (cd "$src" && find topology state schemas processors -name '*.[ch]' -print0 |
        xargs -0 cp --parents -t "$tmp/t")
}

copy_tree
if out=$("$here/check_layers.sh" "$tmp/t" 2>&1); then ok "the tree as it is"; else ko "the tree as it is: $out"; fi

# case FILE INCLUDE: a new file FILE whose third line includes INCLUDE must be refused.
refuse() {
    copy_tree
    mkdir -p "$tmp/t/$(dirname "$1")"
    printf '/* a deliberately wrong include */\n#include <stddef.h>\n#include "%s"\n' "$2" >"$tmp/t/$1"
    out=$("$here/check_layers.sh" "$tmp/t" 2>&1)
    rc=$?
    if [ $rc = 1 ] && grep -qF "$1:3:" <<<"$out" && grep -qF "'$2'" <<<"$out"; then
        ok "$1 including $2 is refused"
    else
        ko "$1 including $2 (exit $rc): $out"
    fi
}
refuse state/upward.c topology/engine/engine.h
refuse schemas/upward.c topology/admin/apply.h
refuse processors/upward.c topology/cli/cli.h
refuse topology/base/upward.c state/store.h
refuse topology/model/upward.c topology/engine/engine.h
refuse topology/model/upward.c processors/registry.h
refuse topology/engine/upward.c topology/cli/cli.h
refuse topology/engine/node_upward.c topology/model/config.h
refuse processors/examples/upward.c processors/registry.h

# An include added to an existing header is seen as well.
copy_tree
sed -i '0,\|#include "topology/rill.h"|s||#include "topology/rill.h"\n#include "topology/driver/driver.h"|' "$tmp/t/state/store.h"
out=$("$here/check_layers.sh" "$tmp/t" 2>&1)
if [ $? = 1 ] && grep -qF "state/store.h:" <<<"$out"; then ok "an upward include in state/store.h is refused"
else ko "an upward include in state/store.h: $out"; fi

[ $fails = 0 ] && echo "check-layers: every case behaved" || echo "check-layers: $fails case(s) misbehaved"
exit $((fails > 0))
