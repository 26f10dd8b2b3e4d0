#!/usr/bin/env bash
# check_layers.sh [ROOT] - refuses an #include "..." that points up the
# layers of DESIGN.md section 1, in the C sources under ROOT (default: the
# clone). Each folder may include the folders listed for it, and nothing else
# of rill; tests/ and bench/ may include anything. Prints one line per
# offending include ("file:line: folder may not include 'header'") and exits
# 1 when there is one, 0 otherwise. Not a compiler: it reads include lines
# only, so an include hidden behind a macro is not seen.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"

BASE="topology/rill.h topology/base/"
LOW="$BASE state/ schemas/"
# The layer of a file: the longest matching prefix wins.
allowed() {
    case "$1" in
    topology/rill.h | topology/base/*) echo "$BASE" ;;
    state/*) echo "$BASE state/" ;;
    schemas/*) echo "$BASE schemas/" ;;
    processors/examples/*) echo "topology/rill.h processors/processor.h state/store.h" ;;
    processors/*) echo "$LOW processors/" ;;
    topology/model/*) echo "$BASE topology/model/ processors/processor.h processors/sink.h" ;;
    topology/admin/*) echo "$BASE topology/model/ topology/admin/" ;;
    # The node runs a processor from what the engine hands it (struct
    # rill_node_spec): it knows no YAML, so no model header.
    topology/engine/node* | topology/engine/record.c) echo "$LOW processors/ topology/engine/" ;;
    topology/engine/*) echo "$LOW processors/ topology/model/ topology/engine/" ;;
    topology/driver/*) echo "$LOW processors/ topology/model/ topology/engine/ topology/driver/" ;;
    topology/cli/*) echo "$LOW processors/ topology/" ;;
    *) echo "" ;;
    esac
}
label() {
    case "$1" in
    topology/rill.h) echo "topology/base/" ;;
    processors/examples/*) echo "processors/examples/" ;;
    topology/*/*) echo "${1%%/*}/$(echo "$1" | cut -d/ -f2)/" ;;
    *) echo "${1%%/*}/" ;;
    esac
}

bad=0
files=$(find topology state schemas processors -name '*.[ch]' 2>/dev/null | sort)
for f in $files; do
    ok=$(allowed "$f")
    [ -n "$ok" ] || { echo "$f: in no layer of check_layers.sh"; bad=1; continue; }
    while IFS=: read -r line inc; do
        inc=${inc#*\"}; inc=${inc%%\"*}
        pass=0
        for p in $ok; do
            case "$inc" in "$p"*) pass=1; break ;; esac
        done
        if [ $pass = 0 ]; then
            echo "$f:$line: $(label "$f") may not include '$inc'"
            bad=1
        fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" || true)
done
exit $bad
