#!/usr/bin/env bash
# bench/python_map.sh - wsrun.map of the wsrun Python package (issue 26)
# against multiprocessing's Pool.map with its default chunksize and with
# the best of a chunksize sweep: whole-process wall times, medians of
# RUNS, on bench/python_tasks.py's workloads: ex1 (the seed's Example 1,
# N1 images), tiny (N2 tasks of ~20 us of numpy), noop (N2 tasks that
# return their index: each runner's own cost per index), pareto and
# sorted (N3 tasks of heavy-tailed cost, STEPS numpy steps in all,
# shuffled and heaviest first).  The issue's goals: no slower than the
# best chunksize on balanced work (tiny, ex1), at least 1.3x faster than
# the default on unequal work (pareto, sorted).  Then the seed's Examples
# 2 and 3 (bench/python_readfill.py) on N4 noise images: Example 2's
# Process slices + Manager().list() against wsrun.fill's images as a list
# and wsrun.read's rows, Example 3's Pool.map into a sharedctypes.RawArray
# against wsrun.fill (the issue's goal: at least 5x faster).  Every way
# is run once first and must print the same pixel sum.  The tables go to
# stdout and $BUILD/bench/python_map/summary.txt.
#
# Must never write outside one temporary folder (removed at exit) and
# $BUILD/bench/python_map.  Not part of make test: timings need an idle
# machine.
#
# env: BUILD (build), PYBENCH_RUNS (5), PYBENCH_JOBS (nproc),
#      PYBENCH_N1 (2000), PYBENCH_N2 (100000), PYBENCH_N3 (2000),
#      PYBENCH_STEPS (200000: ~10 s of work), PYBENCH_CHUNKS ("1 4 16 64 256"),
#      PYBENCH_ALPHAS ("1.1": pareto and sorted again, far more unequal),
#      PYBENCH_N4 (2000 rounded down to a multiple of the jobs: Example 2
#      cuts equal slices), TMPDIR.  PYBENCH_QUICK=1 (make bench-quick) makes the
#      unset ones small: RUNS 3, N1 200, N2 5000, N3 200, STEPS 5000,
#      CHUNKS "1 16" (N4 as above).  A sanity run: PYBENCH_RUNS=1 PYBENCH_N1=20
#      PYBENCH_N2=200 PYBENCH_N3=50 PYBENCH_STEPS=200 PYBENCH_CHUNKS="1 16"
#      PYBENCH_N4=200 bench/python_map.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
if [ "${PYBENCH_QUICK:-0}" = 1 ]; then
    RUNS=${PYBENCH_RUNS:-3} N1=${PYBENCH_N1:-200} N2=${PYBENCH_N2:-5000} N3=${PYBENCH_N3:-200}
    STEPS=${PYBENCH_STEPS:-5000} CHUNKS=${PYBENCH_CHUNKS:-1 16}
else
    RUNS=${PYBENCH_RUNS:-5} N1=${PYBENCH_N1:-2000} N2=${PYBENCH_N2:-100000} N3=${PYBENCH_N3:-2000}
    STEPS=${PYBENCH_STEPS:-200000} CHUNKS=${PYBENCH_CHUNKS:-1 4 16 64 256}
fi
JOBS=${PYBENCH_JOBS:-$(nproc)}
N4=${PYBENCH_N4:-$((2000 / JOBS * JOBS))} # Example 2 cuts equal slices
TASKS=$ROOT/bench/python_tasks.py
READFILL=$ROOT/bench/python_readfill.py
OUT=$BDIR/bench/python_map
PY=/usr/bin/python3 # Debian's: numpy and opencv are its packages

# say, median_of (RUNS times in $TMP/run, the median in seconds)
. "$ROOT/bench/lib_python_bench.sh"
die() { say "python_map bench: $*"; exit 2; }

export PYTHONPATH=$BDIR/python${PYTHONPATH:+:$PYTHONPATH}
"$PY" -c "import wsrun" 2>/dev/null || die "no wsrun package in $BUILD/python: make BUILD=$BUILD"
"$PY" -c "import numpy" 2>/dev/null || die "no numpy for $PY (apt-get install python3-numpy)"
CV2=cv2
if ! "$PY" -c "import cv2" 2>/dev/null; then
    say "python_map bench: no cv2 (apt-get install python3-opencv): ex1 and the seed's" \
        "Examples 2 and 3 use tests/py/cv2_stub (a pure-Python decoder: slower than cv2)"
    export PYTHONPATH=$ROOT/tests/py/cv2_stub:$PYTHONPATH
    CV2="the cv2 stand-in tests/py/cv2_stub"
fi
[ $((N4 % JOBS)) = 0 ] || die "PYBENCH_N4=$N4 must be a multiple of the jobs ($JOBS): Example 2 cuts equal slices"
[ -x "$BDIR/wsrun" ] || die "no $BUILD/wsrun: make BUILD=$BUILD"
mkdir -p "$OUT" || die "cannot create $OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsrun-mapbench.XXXXXX") || die "cannot make a temporary folder"
trap 'rm -rf "$TMP"' EXIT

# bench WORKLOAD N EXTRA [LABEL]: one row.
bench() {
    local w=$1 n=$2 extra=$3 label=${4:-$1} tm td best bestc c t
    tm=$(median_of "$PY" "$TASKS" "$w" map "$JOBS" "$n" - $extra) || exit 1
    td=$(median_of "$PY" "$TASKS" "$w" pool "$JOBS" "$n" - $extra) || exit 1
    best=""
    for c in $CHUNKS; do
        t=$(median_of "$PY" "$TASKS" "$w" pool "$JOBS" "$n" "$c" $extra) || exit 1
        if [ -z "$best" ] || awk "BEGIN {exit !($t < $best)}"; then best=$t; bestc=$c; fi
    done
    awk -v w="$label" -v n="$n" -v tm="$tm" -v td="$td" -v tb="$best" -v c="$bestc" 'BEGIN {
        printf "| %s | %s | %s | %s | %s (chunksize %s) | %.2f | %.2f |\n", w, n, tm, td, tb, c,
               td / tm, tb / tm }'
}

# Examples 2 and 3: the images once, written by the noise plugin (what
# cv2.imwrite of Example 1 writes: 8-bit gray, unfiltered).
IMG=$TMP/img
mkdir "$IMG" && (cd "$IMG" && "$BDIR/wsrun" --plugin noise --count "$N4" -q >/dev/null) ||
    die "cannot write $N4 noise images into $IMG"

# readfill_row EXAMPLE SEED_MODE WSRUN_MODE...: the checked outputs, then
# one row per wsrun way against the seed's.
readfill_row() {
    local ex=$1 seed=$2 m want got ts tw
    shift 2
    want=$(cd "$TMP" && "$PY" "$READFILL" "$seed" "$JOBS" "$IMG") || die "$seed failed"
    for m in "$@"; do
        got=$(cd "$TMP" && "$PY" "$READFILL" "$m" "$JOBS" "$IMG") || die "$m failed"
        case $m in
        ex2read) [ "$got" = "rows $N4" ] || die "$m printed '$got', not 'rows $N4'" ;;
        *) [ "$got" = "$want" ] || die "$m printed '$got' but $seed '$want'" ;;
        esac
    done
    ts=$(median_of "$PY" "$READFILL" "$seed" "$JOBS" "$IMG") || exit 1
    for m in "$@"; do
        tw=$(median_of "$PY" "$READFILL" "$m" "$JOBS" "$IMG") || exit 1
        awk -v e="$ex" -v m="$m" -v s="$seed" -v ts="$ts" -v tw="$tw" -v n="$N4" 'BEGIN {
            printf "| %s | %s | %s | %s | %s | %s | %.2f |\n", e, n, m, tw, s, ts, ts / tw }'
    done
}

{
    echo "python_map bench: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), jobs $JOBS, medians of $RUNS, seconds"
    echo
    echo "| workload | tasks | wsrun.map | Pool.map default | Pool.map best | default / map | best / map |"
    echo "|---|---|---|---|---|---|---|"
    bench ex1 "$N1" ""
    bench tiny "$N2" ""
    bench noop "$N2" ""
    bench pareto "$N3" "$STEPS"
    bench sorted "$N3" "$STEPS"
    for a in ${PYBENCH_ALPHAS:-1.1}; do
        bench pareto "$N3" "$STEPS $a" "pareto, alpha $a"
        bench sorted "$N3" "$STEPS $a" "sorted, alpha $a"
    done
    echo
    echo "The model's bound (costs only; no runner beats Pool's default by more):"
    for a in 1.5 ${PYBENCH_ALPHAS:-1.1}; do for w in pareto sorted; do
        echo "- alpha $a, $("$PY" "$TASKS" "$w" model "$JOBS" "$N3" - "$STEPS" "$a")"
    done; done
    echo
    echo "The seed's Examples 2 and 3, $N4 images of 100x100 written by the noise plugin;" \
        "the seed's ways decode with $CV2 (python_readfill.py modes):"
    echo
    echo "| example | images | wsrun way | seconds | seed's way | seconds | seed / wsrun |"
    echo "|---|---|---|---|---|---|---|"
    readfill_row "2 (a list)" ex2pool ex2fill ex2read
    readfill_row "3 (an array)" ex3pool ex3fill
} | tee "$OUT/summary.txt"
