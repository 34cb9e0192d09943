#!/usr/bin/env bash
# bench/python.sh - the python plugin against the Python peers (issue 25):
# whole-process wall times, medians of RUNS, side by side on one machine,
#   wsrun --plugin python        (-j JOBS)
#   Pool.map, default chunksize  and the best of a chunksize sweep
#   ProcessPoolExecutor.map      (chunksize 1, its default)
#   joblib Parallel              (if python3-joblib is installed)
# on bench/python_tasks.py's workloads: ex1 (the seed's Example 1 with
# cv2, N1 images), tiny (N2 tasks of ~20 us of numpy), pareto and sorted
# (N3 tasks of heavy-tailed cost, STEPS numpy steps in all, shuffled and
# heaviest first; Pareto(1.5), then again for each PYBENCH_ALPHAS, each
# with the bound of bench/python_tasks.py's model: how far behind a
# perfect balance Pool's default chunks are on that draw).  For ex1 it also counts distinct images per runner
# (forked Pool workers repeat numpy's random stream).  Then the behaviours
# table of bench/python_behaviours.py for the same five (an exception, a
# killed worker, Ctrl-C, distinct random streams; PYBENCH_HANG_S, 20 s,
# turns a hang into a cell).  The tables go to stdout and
# $BUILD/bench/python/summary.txt.
#
# Must never write outside one temporary folder (removed at exit) and
# $BUILD/bench/python.  Not part of make test: timings need an idle
# machine.
#
# env: BUILD (build; relative to the repository root, or absolute),
#      PYBENCH_QUICK (0; 1: a smoke run of a minute or two, the defaults
#      below in brackets), PYBENCH_RUNS (5 [1]), PYBENCH_JOBS (nproc),
#      PYBENCH_N1 (2000 [40]), PYBENCH_N2 (100000 [2000]), PYBENCH_N3 (2000
#      [100]), PYBENCH_STEPS (200000, ~10 s of work [2000]), PYBENCH_CHUNKS
#      ("1 4 16 64 256" ["1 16"]), PYBENCH_ALPHAS ("1.1"), PYBENCH_HANG_S
#      (20 [10]), TMPDIR.
#      make bench runs it through bench/run.sh (quick in make bench-quick).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
if [ "${PYBENCH_QUICK:-0}" = 1 ]; then
    RUNS=${PYBENCH_RUNS:-1} N1=${PYBENCH_N1:-40} N2=${PYBENCH_N2:-2000} N3=${PYBENCH_N3:-100}
    STEPS=${PYBENCH_STEPS:-2000} CHUNKS=${PYBENCH_CHUNKS:-1 16}
    export PYBENCH_HANG_S=${PYBENCH_HANG_S:-10}
    MODE="quick mode"
else
    RUNS=${PYBENCH_RUNS:-5} N1=${PYBENCH_N1:-2000} N2=${PYBENCH_N2:-100000} N3=${PYBENCH_N3:-2000}
    STEPS=${PYBENCH_STEPS:-200000} CHUNKS=${PYBENCH_CHUNKS:-1 4 16 64 256}
    MODE="full"
fi
JOBS=${PYBENCH_JOBS:-$(nproc)}
ALPHAS=${PYBENCH_ALPHAS:-1.1}
WSRUN=$BDIR/wsrun
TASKS=$ROOT/bench/python_tasks.py
OUT=$BDIR/bench/python
PY=/usr/bin/python3 # Debian's: numpy, opencv, joblib are its packages

# say, median_of (RUNS times in $TMP/run, the median in seconds)
. "$ROOT/bench/lib_python_bench.sh"
die() { say "python bench: $*"; exit 2; }

[ -x "$WSRUN" ] && [ -f "$BDIR/plugins/python.so" ] ||
    die "$WSRUN or the python plugin not built: make BUILD=$BUILD all"
"$PY" -c "import numpy" 2>/dev/null || die "no numpy for $PY (apt-get install python3-numpy)"
if ! "$PY" -c "import cv2" 2>/dev/null; then
    say "python bench: no cv2 (apt-get install python3-opencv): ex1 uses tests/py/cv2_stub"
    export PYTHONPATH=$ROOT/tests/py/cv2_stub${PYTHONPATH:+:$PYTHONPATH}
fi
HAVE_JOBLIB=0
"$PY" -c "import joblib" 2>/dev/null && HAVE_JOBLIB=1 ||
    say "python bench: no joblib (apt-get install python3-joblib): its column is skipped"
mkdir -p "$OUT" || die "cannot create $OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsrun-pybench.XXXXXX") || die "cannot make a temporary folder"
trap 'rm -rf "$TMP"' EXIT

distinct() { (cd "$TMP/run" && md5sum image_*.png 2>/dev/null | cut -d' ' -f1 | sort -u | wc -l); }

# bench WORKLOAD N EXTRA [LABEL]: one row.  The best chunksize of the last
# row is left in BESTC.
bench() {
    local w=$1 n=$2 extra=$3 fn=$1 wargs=() t best bestc c row
    [ "$w" = sorted ] && fn=sorted_heavy_first
    [ -n "$extra" ] && wargs=(-o args="$n $extra")
    row="| ${4:-$w} | $n"
    t=$(median_of "$WSRUN" --plugin python -o script="$TASKS" -o function=$fn "${wargs[@]}" \
        --count "$n" -j "$JOBS") || exit 1
    row+=" | $t"
    [ "$w" = ex1 ] && row+=" ($(distinct) distinct)"
    t=$(median_of "$PY" "$TASKS" "$w" pool "$JOBS" "$n" - $extra) || exit 1
    row+=" | $t"
    [ "$w" = ex1 ] && row+=" ($(distinct) distinct)"
    best=""
    for c in $CHUNKS; do
        t=$(median_of "$PY" "$TASKS" "$w" pool "$JOBS" "$n" "$c" $extra) || exit 1
        if [ -z "$best" ] || awk "BEGIN {exit !($t < $best)}"; then best=$t; bestc=$c; fi
    done
    row+=" | $best (chunksize $bestc)"
    BESTC=$bestc
    t=$(median_of "$PY" "$TASKS" "$w" ppe "$JOBS" "$n" - $extra) || exit 1
    row+=" | $t"
    [ "$w" = ex1 ] && row+=" ($(distinct) distinct)"
    if [ $HAVE_JOBLIB = 1 ]; then
        t=$(median_of "$PY" "$TASKS" "$w" joblib "$JOBS" "$n" - $extra) || exit 1
        row+=" | $t"
        [ "$w" = ex1 ] && row+=" ($(distinct) distinct)"
    else
        row+=" | -"
    fi
    echo "$row |"
}

{
    echo "python bench ($MODE): $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1 /proc/loadavg), -j $JOBS, medians of $RUNS, seconds"
    echo
    echo "| workload | tasks | wsrun | Pool.map default | Pool.map best | ProcessPoolExecutor | joblib |"
    echo "|---|---|---|---|---|---|---|"
    bench ex1 "$N1" ""
    bench tiny "$N2" ""
    TINY_BESTC=$BESTC
    bench pareto "$N3" "$STEPS"
    bench sorted "$N3" "$STEPS"
    for a in $ALPHAS; do
        bench pareto "$N3" "$STEPS $a" "pareto, alpha $a"
        bench sorted "$N3" "$STEPS $a" "sorted, alpha $a"
    done
    echo
    echo "The model's bound (costs only; no runner beats Pool's default by more):"
    for a in 1.5 $ALPHAS; do for w in pareto sorted; do
        echo "- alpha $a, $("$PY" "$TASKS" "$w" model "$JOBS" "$N3" - "$STEPS" "$a")"
    done; done
    echo
    echo "Behaviours (bench/python_behaviours.py, 200 tasks, -j 2 / 2 workers; Pool.map best: chunksize $TINY_BESTC, the tiny row's best):"
    echo
    "$PY" bench/python_behaviours.py "$WSRUN" "$TINY_BESTC" || exit 1
} | tee "$OUT/summary.txt"
