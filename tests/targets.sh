#!/usr/bin/env bash
# targets.sh - every target under build/ builds from a clean tree by itself
# (make test-targets, part of make test): each target `make list-targets`
# names is built alone into its own empty build folder, so a rule that
# reads a file it does not list as a prerequisite fails here instead of on
# someone's clean checkout.  ccache (masquerading as each compiler) makes
# the repeated compiles cheap; the links are real.  Run from the repository
# root; writes only into a fresh folder under /tmp, which it removes.
set -u

. "$(dirname "$0")/cli_lib.bash"
cli_start targets targets relative
[ -f mk/build.mk ] || { echo "targets: run me from the repository root"; exit 2; }
command -v ccache >/dev/null || { bad "ccache is missing (make deps-test installs it)"; cli_finish; exit 1; }

# Every compiler the rules call, through ccache.
mkdir -p "$SCRATCH/ccbin"
for c in cc gcc g++ clang clang++ clang-19; do ln -s "$(command -v ccache)" "$SCRATCH/ccbin/$c"; done
export PATH="$SCRATCH/ccbin:$PATH" CCACHE_DIR="$SCRATCH/ccache" CCACHE_NOHASHDIR=1 CCACHE_BASEDIR="$SCRATCH"
export OMPI_CC=gcc
# What is checked is each rule's prerequisites, not the code: -O0 (and no
# -g) compiles in a third of -O2's time (61 s against 170 s for the whole
# list on the 2-core VM at load 9), which keeps this step far inside its
# watchdog limit on a busy machine.  The -O2 build of make test still
# holds every warning under -Werror.
export OPT=-O0
# ... and -O0 knows less about value ranges than -O2, so gcc may warn
# where the -O2 build does not (format-truncation): here a warning is not
# the question, so it does not fail the target.
export EXTRA_CFLAGS=-Wno-error

mapfile -t targets < <(make -s --no-print-directory BUILD=@BUILD@ list-targets)
check "make list-targets names targets (${#targets[@]})" test "${#targets[@]}" -ge 50
check "  and makes no folder named after its BUILD" test ! -e @BUILD@
i=0
for t in "${targets[@]}"; do
    i=$((i + 1))
    b="$SCRATCH/b$i"
    rel=${t#@BUILD@/}
    if make -s --no-print-directory -j2 BUILD="$b" "$b/$rel" >"$SCRATCH/log" 2>&1 && [ -e "$b/$rel" ]; then
        ok
    else
        bad "build/$rel does not build from a clean tree by itself:"
        sed 's/^/  /' "$SCRATCH/log" | tail -n 15
    fi
    rm -rf "$b"
done
cli_finish
