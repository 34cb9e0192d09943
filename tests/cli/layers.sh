#!/usr/bin/env bash
# layers.sh - runtime/'s folders are layers (issue 16; docs/design.md,
# "Layers"): scripts/check-layers passes on the tree, and fails, naming
# the file and the header, on a copy where a lower layer includes a
# header of a higher one or where a folder has no place in the layers.
# Needs no build; writes only into its scratch folder under /tmp.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start layers layers relative
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

out=$(cd "$ROOT" && scripts/check-layers 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok; else bad "check-layers fails on the tree: $out"; fi

# copy_tree: runtime/ and include/ into a fresh folder of the scratch one.
copy_tree() {
    rm -rf "$SCRATCH/t" && mkdir "$SCRATCH/t" &&
        cp -r "$ROOT/runtime" "$ROOT/include" "$ROOT/scripts" "$SCRATCH/t/"
}

# The scheduler including the session's header points upward.
copy_tree
sed -i '0,/^#include "/s//#include "session.h"\n#include "/' "$SCRATCH/t/runtime/sched/deque.c"
out=$(cd "$SCRATCH/t" && scripts/check-layers 2>&1); rc=$?
check "an upward include fails" test $rc -eq 1
case $out in
*"runtime/sched/deque.c: includes session.h (cmd), above or beside sched"*) ok ;;
*) bad "the upward include's message: $out" ;;
esac

# The library's embed layer including a report header points sideways.
copy_tree
sed -i '0,/^#include "/s//#include "journal.h"\n#include "/' "$SCRATCH/t/runtime/embed/embed.c"
out=$(cd "$SCRATCH/t" && scripts/check-layers 2>&1); rc=$?
check "a sideways include fails" test $rc -eq 1
case $out in
*"runtime/embed/embed.c: includes journal.h (reports), above or beside embed"*) ok ;;
*) bad "the sideways include's message: $out" ;;
esac

# A new folder must be given its place.
copy_tree
mkdir "$SCRATCH/t/runtime/misc" && echo '#include "run.h"' >"$SCRATCH/t/runtime/misc/x.c"
out=$(cd "$SCRATCH/t" && scripts/check-layers 2>&1); rc=$?
check "an unplaced folder fails" test $rc -eq 1
case $out in
*"runtime/misc/: a folder with no place in the layers"*) ok ;;
*) bad "the unplaced folder's message: $out" ;;
esac

cli_finish
