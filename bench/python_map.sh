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
# the default on unequal work (pareto, sorted).  The table goes to stdout
# and $BUILD/bench/python_map/summary.txt.
#
# Must never write outside one temporary folder (removed at exit) and
# $BUILD/bench/python_map.  Not part of make test: timings need an idle
# machine.
#
# env: BUILD (build), PYBENCH_RUNS (5), PYBENCH_JOBS (nproc),
#      PYBENCH_N1 (2000), PYBENCH_N2 (100000), PYBENCH_N3 (2000),
#      PYBENCH_STEPS (200000: ~10 s of work), PYBENCH_CHUNKS ("1 4 16 64 256"),
#      TMPDIR.  A sanity run: PYBENCH_RUNS=1 PYBENCH_N1=20 PYBENCH_N2=200
#      PYBENCH_N3=50 PYBENCH_STEPS=200 PYBENCH_CHUNKS="1 16" bench/python_map.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
RUNS=${PYBENCH_RUNS:-5}
JOBS=${PYBENCH_JOBS:-$(nproc)}
N1=${PYBENCH_N1:-2000}
N2=${PYBENCH_N2:-100000}
N3=${PYBENCH_N3:-2000}
STEPS=${PYBENCH_STEPS:-200000}
CHUNKS=${PYBENCH_CHUNKS:-1 4 16 64 256}
TASKS=$ROOT/bench/python_tasks.py
OUT=$ROOT/$BUILD/bench/python_map
PY=/usr/bin/python3 # Debian's: numpy and opencv are its packages

say() { printf '%s\n' "$*" >&2; }
die() { say "python_map bench: $*"; exit 2; }

export PYTHONPATH=$ROOT/$BUILD/python${PYTHONPATH:+:$PYTHONPATH}
"$PY" -c "import wsrun" 2>/dev/null || die "no wsrun package in $BUILD/python: make BUILD=$BUILD"
"$PY" -c "import numpy" 2>/dev/null || die "no numpy for $PY (apt-get install python3-numpy)"
if ! "$PY" -c "import cv2" 2>/dev/null; then
    say "python_map bench: no cv2 (apt-get install python3-opencv): ex1 uses tests/py/cv2_stub"
    export PYTHONPATH=$ROOT/tests/py/cv2_stub:$PYTHONPATH
fi
mkdir -p "$OUT" || die "cannot create $OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsrun-mapbench.XXXXXX") || die "cannot make a temporary folder"
trap 'rm -rf "$TMP"' EXIT

# median_of CMD...: runs CMD RUNS times in a fresh folder, prints the
# median wall time in seconds; a failing run fails the bench.
median_of() {
    local k t0 t1 times=()
    for ((k = 0; k < RUNS; k++)); do
        rm -rf "$TMP/run" && mkdir "$TMP/run" || exit 2
        t0=$(date +%s%N)
        (cd "$TMP/run" && "$@" >/dev/null 2>"$TMP/err") || { say "failed: $*"; cat "$TMP/err" >&2; exit 1; }
        t1=$(date +%s%N)
        times+=("$(( (t1 - t0) / 1000 ))")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.3f\n", m/1e6}'
}

# bench WORKLOAD N EXTRA: one row.
bench() {
    local w=$1 n=$2 extra=$3 tm td best bestc c t
    tm=$(median_of "$PY" "$TASKS" "$w" map "$JOBS" "$n" - $extra) || exit 1
    td=$(median_of "$PY" "$TASKS" "$w" pool "$JOBS" "$n" - $extra) || exit 1
    best=""
    for c in $CHUNKS; do
        t=$(median_of "$PY" "$TASKS" "$w" pool "$JOBS" "$n" "$c" $extra) || exit 1
        if [ -z "$best" ] || awk "BEGIN {exit !($t < $best)}"; then best=$t; bestc=$c; fi
    done
    awk -v w="$w" -v n="$n" -v tm="$tm" -v td="$td" -v tb="$best" -v c="$bestc" 'BEGIN {
        printf "| %s | %s | %s | %s | %s (chunksize %s) | %.2f | %.2f |\n", w, n, tm, td, tb, c,
               td / tm, tb / tm }'
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
} | tee "$OUT/summary.txt"
