#!/usr/bin/env bash
# layers.sh - runtime/'s folders are layers (issue 16; docs/design.md,
# "Layers"): scripts/check-layers passes on the tree, and fails, naming
# the file and the header, on a copy where a lower layer includes a
# header of a higher one or where a folder has no place in the layers,
# and, naming the file, line and function, where a lower layer declares
# a higher one's function by hand (issue 28: pool.c, standby.c and
# outfile.c once did so with weak externs into cmd/crash.c).
# Needs no build; writes only into its scratch folder under /tmp.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start layers layers relative
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

out=$(cd "$ROOT" && scripts/check-layers 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok; else bad "check-layers fails on the tree: $out"; fi

# copy_tree: runtime/, include/ and scripts/ into a fresh folder of the
# scratch one.
copy_tree() {
    rm -rf "$SCRATCH/t" && mkdir "$SCRATCH/t" &&
        cp -r "$ROOT/runtime" "$ROOT/include" "$ROOT/scripts" "$SCRATCH/t/"
}

# refused NAME MESSAGE: check-layers on the altered copy exits 1 and
# prints MESSAGE.
refused() {
    local out rc
    out=$(cd "$SCRATCH/t" && scripts/check-layers 2>&1); rc=$?
    check "$1 fails" test $rc -eq 1
    case $out in
    *"$2"*) ok ;;
    *) bad "$1's message: $out" ;;
    esac
}

# include_first FILE HEADER: FILE of the copy includes HEADER first.
include_first() {
    sed -i "0,/^#include \"/s//#include \"$2\"\n#include \"/" "$SCRATCH/t/$1"
}

# The scheduler including the session's header points upward.
copy_tree
include_first runtime/sched/deque.c session.h
refused "an upward include" "runtime/sched/deque.c: includes session.h (cmd), above or beside sched"

# The library's embed layer including a report header points sideways.
copy_tree
include_first runtime/embed/embed.c journal.h
refused "a sideways include" "runtime/embed/embed.c: includes journal.h (reports), above or beside embed"

# after_includes FILE LINE: LINE goes right after FILE's last #include
# (FILE has one); prints that #include's line number.
after_includes() {
    local n
    n=$(grep -n '^#include' "$SCRATCH/t/$1" | tail -1 | cut -d: -f1)
    sed -i "${n}a\\$2" "$SCRATCH/t/$1"
    echo "$n"
}

# The pool declaring the crash handler's function by hand, as a weak
# extern, reaches upward without an include.
copy_tree
n=$(after_includes runtime/sched/pool.c \
    'extern void wsrt_crash_thread_init(void) __attribute__((weak, visibility("hidden")));')
refused "an upward extern" \
    "runtime/sched/pool.c:$((n + 1)): declares wsrt_crash_thread_init (cmd), above or beside sched"

# A plain prototype in a header, of a function a higher layer defines.
copy_tree
n=$(after_includes runtime/plugin/loader.h 'void wsrt_registry_request_stop(void);')
refused "an upward prototype in a header" \
    "runtime/plugin/loader.h:$((n + 1)): declares wsrt_registry_request_stop (cmd), above or beside plugin"

# A new folder must be given its place.
copy_tree
mkdir "$SCRATCH/t/runtime/misc" && echo '#include "run.h"' >"$SCRATCH/t/runtime/misc/x.c"
refused "an unplaced folder" "runtime/misc/: a folder with no place in the layers"

cli_finish
